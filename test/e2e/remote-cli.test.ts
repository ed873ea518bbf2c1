/**
 * The CLI against a real `keywarden serve` (HTTPS, self-signed certificate pinned by its
 * fingerprint), through the built CLI: login with the token on stdin, the vault commands
 * remotely with the local output and exit codes, a token without the policy refused, the
 * KEYWARDEN_ADDR/KEYWARDEN_TOKEN override for CI, the token file 0600 holding the token
 * only, and logout.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CHEAP_ARGON2_ENV, type CliRun, runCli } from "../helpers/cli.ts";
import { spawnServe } from "../helpers/serve-process.ts";
import { tempDir } from "../helpers/tmp.ts";

test("the CLI against a server", async (t) => {
  const dir = tempDir(t);
  const serverEnv = {
    KEYWARDEN_HOME: join(dir, "server"),
    KEYWARDEN_PASSPHRASE: "e2e remote passphrase, not a real one",
    ...CHEAP_ARGON2_ENV,
  };
  const clientHome = join(dir, "client");
  const clientEnv = { KEYWARDEN_HOME: clientHome };
  const kw = (args: string[], env: Record<string, string>, input = ""): CliRun =>
    runCli(args, { cwd: dir, env, input });
  const ok = (args: string[], env: Record<string, string>, input = ""): string => {
    const r = kw(args, env, input);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };

  // The operator's side: a machine identity with a policy on app/dev, another on other/dev.
  ok(["init"], serverEnv);
  ok(["policy", "put", "app-rw", "--allow", "app/dev/*:read,write,list,audit"], serverEnv);
  ok(["policy", "put", "other-read", "--allow", "other/dev/*:read,list"], serverEnv);
  ok(["role", "put", "app", "--policy", "app-rw"], serverEnv);
  ok(["role", "put", "other", "--policy", "other-read"], serverEnv);
  ok(["machine", "add", "app-ci", "--role", "app"], serverEnv);
  ok(["machine", "add", "other-ci", "--role", "other"], serverEnv);
  const token = ok(["token", "create", "--identity", "app-ci", "--policy", "app-rw"], serverEnv).trim();
  const otherToken = ok(
    ["token", "create", "--identity", "other-ci", "--policy", "other-read"],
    serverEnv,
  ).trim();

  const server = await spawnServe(t, serverEnv, [], { built: true });
  assert.equal(server.url.protocol, "https:");
  const url = server.url.origin;
  const leaks = (r: CliRun): void => {
    for (const secret of [token, otherToken])
      assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), "a token in the output");
  };

  // An unpinned self-signed certificate is refused, with the fingerprint to compare.
  const untrusted = kw(["login", "--server", url, "--token-stdin"], clientEnv, token);
  assert.equal(untrusted.code, 2);
  assert.match(untrusted.stderr, /KW_ERR_REMOTE_UNTRUSTED/);
  assert.ok(untrusted.stderr.includes(server.fingerprint), untrusted.stderr);
  leaks(untrusted);
  // A token on the command line is not accepted.
  const argv = kw(["login", "--server", url, "--fingerprint", server.fingerprint, token], clientEnv);
  assert.equal(argv.code, 2);
  assert.equal(existsSync(join(clientHome, "remote-token")), false);
  // A token that the server does not know is not stored.
  const wrong = kw(
    ["login", "--server", url, "--fingerprint", server.fingerprint, "--token-stdin"],
    clientEnv,
    "kw_svc_nope",
  );
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /KW_ERR_AUTH_MALFORMED/);
  assert.equal(existsSync(join(clientHome, "remote-token")), false);

  const login = kw(
    [
      "login",
      "--server",
      url,
      "--fingerprint",
      server.fingerprint.replaceAll(":", "").toLowerCase(),
      "--token-stdin",
    ],
    clientEnv,
    `${token}\n`,
  );
  assert.equal(login.code, 0, login.stderr);
  assert.match(
    login.stdout,
    /logged in to https:\/\/127\.0\.0\.1:\d+ as app-ci \(machine\).*policies app-rw/,
  );
  leaks(login);
  const tokenFile = join(clientHome, "remote-token");
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  assert.equal(readFileSync(tokenFile, "utf8"), `${token}\n`, "the token file holds the token alone");
  const stored = readFileSync(join(clientHome, "remote.json"), "utf8");
  assert.ok(!stored.includes(token) && !stored.includes("kw_"), "no token beside the address");

  // Remote commands, with the local output and exit codes.
  const value = `pg://app:${randomBytes(12).toString("hex")}@db/app`;
  const set = kw(["secrets", "set", "app/dev/DB_URL"], clientEnv, `${value}\n`);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.stdout, "stored app/dev/DB_URL version 1\n");
  assert.equal(ok(["secrets", "get", "app/dev/DB_URL"], clientEnv), value);
  ok(["secrets", "set", "app/dev/API_MODE", "--custom-metadata", "source=ci"], clientEnv, "live");
  const listed = JSON.parse(ok(["secrets", "list", "app/dev/", "--format", "json"], clientEnv)) as {
    path: string;
    currentVersion: number;
  }[];
  assert.deepEqual(listed.map((s) => s.path).sort(), ["app/dev/API_MODE", "app/dev/DB_URL"]);
  assert.match(ok(["secrets", "history", "app/dev/DB_URL"], clientEnv), /^VERSION.*\nv1 \* /);
  // Custom metadata pairs through the server (what Vault clients see as custom_metadata).
  const labelled = JSON.parse(
    ok(["secrets", "meta", "app/dev/API_MODE", "--custom-metadata", "team=app"], clientEnv),
  ) as { customMetadata: unknown };
  assert.deepEqual(labelled.customMetadata, { source: "ci", team: "app" }, "set with the value, then merged");
  const cas = kw(["secrets", "set", "app/dev/DB_URL", "--cas", "0"], clientEnv, "other");
  assert.equal(cas.code, 1, "a check-and-set conflict exits 1, as locally");
  assert.match(cas.stderr, /^keywarden: error KW_ERR_VAULT_CAS_CONFLICT: /);
  // Token commands too, as the logged-in token: its own identity's, not another's.
  const made = kw(
    ["token", "create", "--identity", "app-ci", "--policy", "app-rw", "--ttl", "1h"],
    clientEnv,
  );
  assert.equal(made.code, 0, made.stderr);
  const madeToken = made.stdout.trim();
  assert.match(madeToken, /^kw_svc_/);
  const madeId = /token (tok_[0-9A-Z]{26}) for app-ci/.exec(made.stderr)?.[1];
  assert.ok(madeId !== undefined, made.stderr);
  const own = JSON.parse(ok(["token", "list", "--active", "--format", "json"], clientEnv)) as {
    id: string;
  }[];
  assert.ok(own.some((x) => x.id === madeId));
  assert.ok(!JSON.stringify(own).includes(madeToken), "a list never shows a token");
  assert.match(ok(["token", "revoke", madeId], clientEnv), new RegExp(`^revoked ${madeId}\n$`));
  const theirs = kw(["token", "create", "--identity", "other-ci", "--policy", "other-read"], clientEnv);
  assert.equal(theirs.code, 2);
  assert.match(theirs.stderr, /KW_ERR_ACCESS_DENIED/);
  const missing = kw(["secrets", "get", "app/dev/NOPE"], clientEnv);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /KW_ERR_VAULT_NOT_FOUND: no secret at app\/dev\/NOPE/);

  const run = kw(
    [
      "run",
      "--env",
      "app/dev",
      "--",
      process.execPath,
      "-e",
      "process.stdout.write(process.env.DB_URL ?? '')",
    ],
    clientEnv,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, value);
  const exitCode = kw(
    ["run", "--env", "app/dev", "--", process.execPath, "-e", "process.exit(7)"],
    clientEnv,
  );
  assert.equal(exitCode.code, 7);

  // The same export locally (the server's own home) and remotely.
  const remoteExport = ok(["export", "app/dev"], clientEnv);
  assert.equal(remoteExport, `API_MODE="live"\nDB_URL="${value}"\n`);
  assert.equal(ok(["export", "app/dev"], serverEnv), remoteExport);

  const audit = ok(["audit", "log", "--path", "app/dev/DB_URL"], clientEnv);
  assert.match(audit, /mid_\w+ {2}secret\.write app\/dev\/DB_URL@v1 {2}ok/);
  assert.match(audit, /secret\.read app\/dev\/DB_URL@v1 {2}ok \(api\)/);

  // A token without the policy gets the 403 message, and the attempt is in the audit log.
  const ci = { KEYWARDEN_ADDR: url, KEYWARDEN_FINGERPRINT: server.fingerprint };
  const denied = kw(["secrets", "get", "app/dev/DB_URL"], {
    KEYWARDEN_HOME: join(dir, "ci"),
    ...ci,
    KEYWARDEN_TOKEN: otherToken,
  });
  assert.equal(denied.code, 2);
  assert.match(
    denied.stderr,
    /^keywarden: error KW_ERR_ACCESS_DENIED: mid_\w+ may not read app\/dev\/DB_URL /,
  );
  leaks(denied);
  assert.match(ok(["audit", "log", "--path", "app/dev/DB_URL"], clientEnv), /denied/);

  // KEYWARDEN_ADDR and KEYWARDEN_TOKEN work with no login; the child never sees the token.
  const ciEnv = { KEYWARDEN_HOME: join(dir, "ci"), ...ci, KEYWARDEN_TOKEN: token };
  assert.equal(ok(["secrets", "get", "app/dev/API_MODE"], ciEnv), "live");
  const child = kw(
    [
      "run",
      "--env",
      "app/dev",
      "--",
      process.execPath,
      "-e",
      "process.stdout.write(String(process.env.KEYWARDEN_TOKEN) + ' ' + process.env.API_MODE)",
    ],
    ciEnv,
  );
  assert.equal(child.stdout, "undefined live");
  const noAddr = kw(["secrets", "get", "app/dev/API_MODE"], {
    KEYWARDEN_HOME: join(dir, "ci"),
    KEYWARDEN_TOKEN: token,
  });
  assert.equal(noAddr.code, 2);
  assert.match(noAddr.stderr, /KW_ERR_REMOTE_CONFIG.*KEYWARDEN_ADDR/);
  leaks(noAddr);

  // --ca-file trusts the server's own certificate.
  const caHome = { KEYWARDEN_HOME: join(dir, "ca") };
  const caFile = join(serverEnv.KEYWARDEN_HOME, "server-cert.pem");
  ok(["login", "--server", url, "--ca-file", caFile, "--token-stdin"], caHome, token);
  assert.equal(ok(["secrets", "get", "app/dev/API_MODE"], caHome), "live");

  // --insecure-skip-verify works, loudly.
  const insecureHome = { KEYWARDEN_HOME: join(dir, "insecure") };
  const insecure = kw(
    ["login", "--server", url, "--insecure-skip-verify", "--token-stdin"],
    insecureHome,
    token,
  );
  assert.equal(insecure.code, 0, insecure.stderr);
  assert.match(insecure.stderr, /^WARNING: --insecure-skip-verify/);
  const insecureGet = kw(["secrets", "get", "app/dev/API_MODE"], insecureHome);
  assert.equal(insecureGet.stdout, "live");
  assert.match(insecureGet.stderr, /WARNING: the certificate .* is not verified/);

  // A person logs in with a password instead: the server issues a token of that user.
  const userHome = { KEYWARDEN_HOME: join(dir, "user-client") };
  const password = `pw ${randomBytes(8).toString("hex")}`;
  writeFileSync(join(dir, "alice-pw"), `${password}\n`, { mode: 0o600 });
  ok(["user", "add", "alice", "--password-file", "alice-pw"], serverEnv);
  ok(["role", "bind", "app", "alice"], serverEnv);
  const pinned = ["--server", url, "--fingerprint", server.fingerprint];
  const asAlice = kw(["login", ...pinned, "--user", "alice", "--password-stdin"], userHome, `${password}\n`);
  assert.equal(asAlice.code, 0, asAlice.stderr);
  assert.match(
    asAlice.stdout,
    /logged in to https:\/\/127\.0\.0\.1:\d+ as alice \(user\), token expires \S+, policies app-rw/,
  );
  assert.ok(!`${asAlice.stdout}${asAlice.stderr}`.includes(password));
  assert.equal(ok(["secrets", "get", "app/dev/API_MODE"], userHome), "live");
  const wrongPassword = kw(["login", ...pinned, "--user", "alice", "--password-stdin"], userHome, "not it");
  assert.equal(wrongPassword.code, 2);
  assert.match(wrongPassword.stderr, /KW_ERR_AUTH_BAD_CREDENTIALS/);
  assert.match(wrongPassword.stderr, /note: if alice enrolled a one-time code \(TOTP\), give it with --totp/);
  const mixed = kw(["login", ...pinned, "--totp", "123456", "--token-stdin"], userHome, token);
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /--password-stdin and --totp go with --user/);

  // Logout forgets the token; commands are local again (and there is no local vault).
  assert.match(ok(["logout"], clientEnv), /logged out of https:\/\/127\.0\.0\.1:\d+/);
  assert.equal(existsSync(tokenFile), false);
  assert.equal(existsSync(join(clientHome, "remote.json")), false);
  const local = kw(["secrets", "get", "app/dev/DB_URL"], clientEnv);
  assert.equal(local.code, 2);
  assert.match(local.stderr, /KW_ERR_VAULT_NOT_INITIALIZED/);
  assert.equal(ok(["logout"], clientEnv), "not logged in\n");

  assert.equal(await server.stop(), 0);
  assert.ok(
    !server.stderr().includes(token) &&
      !server.stderr().includes(value) &&
      !server.stderr().includes(password),
    "the server logs no secret",
  );
});
