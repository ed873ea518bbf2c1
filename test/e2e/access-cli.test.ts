import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { CHEAP_ARGON2_ENV, type CliRun, runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

test("user, machine, policy, role and token commands through the built CLI", (t) => {
  const dir = tempDir(t);
  const home = join(dir, "home");
  const env = {
    KEYWARDEN_HOME: home,
    KEYWARDEN_PASSPHRASE: "e2e passphrase, not a real one",
    ...CHEAP_ARGON2_ENV,
  };
  const kw = (args: string[], input = ""): CliRun => runCli(args, { cwd: dir, input, env });
  const ok = (args: string[]): string => {
    const r = kw(args);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  ok(["init"]);

  assert.match(
    ok([
      "policy",
      "put",
      "pay-read",
      "--allow",
      "payments/prod/*:read,list",
      "--deny",
      "payments/prod/ROOT_*:read",
    ]),
    /allow payments\/prod\/\*\s+read,list\n {2}deny {2}payments\/prod\/ROOT_\*\s+read/,
  );
  writeFileSync(
    join(dir, "pay-write.toml"),
    '[[rules]]\npath = "payments/prod/*"\ncapabilities = ["write"]\n',
  );
  ok(["policy", "put", "pay-write", "--file", "pay-write.toml"]);
  const bad = kw(["policy", "put", "broken", "--allow", "payments/*:fly"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /KW_ERR_ACCESS_INVALID.*unknown capability "fly"/);
  assert.deepEqual(
    (JSON.parse(ok(["policy", "list", "--format", "json"])) as { name: string }[]).map((p) => p.name),
    ["pay-read", "pay-write"],
  );

  ok(["role", "put", "pay", "--policy", "pay-read", "--policy", "pay-write"]);
  ok(["machine", "add", "payments-api", "--role", "pay"]);
  writeFileSync(join(dir, "pw"), "a long enough password\n", { mode: 0o600 });
  ok(["user", "add", "alice", "--password-file", "pw"]);
  ok(["role", "bind", "pay", "alice"]);
  assert.match(ok(["user", "list"]), /alice\s+user\s+active\s+-\s+pay/);
  assert.match(ok(["machine", "list"]), /payments-api\s+machine\s+active\s+pay/);

  const created = kw([
    "token",
    "create",
    "--identity",
    "payments-api",
    "--policy",
    "pay-read",
    "--ttl",
    "7d",
    "--allow-ip",
    "10.0.0.0/8",
  ]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  assert.match(token, /^kw_svc_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}$/, "stdout is the token alone");
  assert.match(created.stderr, /not shown again/);
  const id = /token (tok_[0-9A-Z]{26})/.exec(created.stderr)![1]!;

  const denied = kw(["token", "create", "--identity", "payments-api", "--policy", "nope"]);
  assert.equal(denied.code, 2);
  assert.match(denied.stderr, /KW_ERR_ACCESS_DENIED/);

  const list = ok(["token", "list"]);
  assert.ok(list.includes(id) && !list.includes(token), "list shows ids, never tokens");
  assert.match(list, /active\s+\S+\s+pay-read ip=10\.0\.0\.0\/8/);
  assert.match(ok(["token", "revoke", id]), new RegExp(`revoked ${id}`));
  assert.match(ok(["token", "list"]), /revoked/);
  assert.match(ok(["token", "list", "--active"]), /no tokens/);

  // Keywarden's own scanner recognises the token it printed.
  writeFileSync(join(dir, "leak.env"), `KW_TOKEN=${token}\n`);
  const scan = kw(["scan", "leak.env", "--format", "json"]);
  assert.equal(scan.code, 1, scan.stderr);
  assert.match(scan.stdout, /keywarden/i);
  // A leaked token found that way is revoked by its text (on stdin, never an argument).
  const leaked = kw(["token", "create", "--identity", "payments-api", "--policy", "pay-read"]).stdout.trim();
  const leakedId = /^tok_\S+/.exec(ok(["token", "list", "--active"]).split("\n")[1] ?? "")?.[0];
  const byText = kw(["token", "revoke", "--stdin"], `${leaked}\n`);
  assert.equal(byText.code, 0, byText.stderr);
  assert.equal(byText.stdout, `revoked ${leakedId}\n`);
  assert.ok(!byText.stdout.includes(leaked) && !byText.stderr.includes(leaked));
  assert.match(ok(["token", "list", "--active"]), /no tokens/);
  const neither = kw(["token", "revoke"]);
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /give the token's id \(tok_\.\.\.\), or --stdin/);
  const unknownText = kw(["token", "revoke", "--stdin"], "kw_svc_not-a-token");
  assert.equal(unknownText.code, 2);
  assert.match(unknownText.stderr, /KW_ERR_AUTH_MALFORMED/);

  ok(["user", "disable", "alice"]);
  assert.match(ok(["user", "list"]), /alice\s+user\s+disabled/);
  ok(["policy", "rm", "pay-write"]);
  assert.match(ok(["role", "list"]), /pay\s+pay-read\n/);

  const db = new DatabaseSync(join(home, "keywarden.db"), { readOnly: true });
  const rows = db.prepare("select token_hash, revoked_at from tokens").all() as {
    token_hash: string;
    revoked_at: string | null;
  }[];
  db.close();
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.match(row.token_hash, /^[0-9a-f]{64}$/);
    assert.notEqual(row.revoked_at, null);
  }
});
