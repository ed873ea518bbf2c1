import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { test } from "node:test";
import { formatToken } from "../../src/core/token-format.ts";
import { BIN, ROOT, runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

test("--help lists every command with a description and examples", () => {
  const r = runCli(["--help"]);
  assert.equal(r.code, 0);
  for (const cmd of ["scan", "baseline", "rules", "config"])
    assert.match(r.stdout, new RegExp(`\\n  ${cmd}\\b.*\\S`));
  assert.match(r.stdout, /Examples:/);
});

test("--version prints the package version", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const r = runCli(["--version"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), pkg.version);
});

/** A `node` older than 22 on PATH (the machine's own, say), or undefined. */
function olderNode(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const node = join(dir, "node");
    if (dir === "" || !existsSync(node)) continue;
    const v = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout;
    const major = Number(/^v(\d+)\./.exec(v)?.[1]);
    if (major > 0 && major < 22) return node;
  }
  return undefined;
}

test("on a Node.js older than 22, the CLI says which version it needs instead of a SyntaxError", (t) => {
  const node = olderNode();
  if (node === undefined) {
    t.skip("no Node.js older than 22 on PATH");
    return;
  }
  const r = spawnSync(node, [BIN, "scan", "."], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^keywarden: needs Node\.js 22 or later .* is v\d+\./);
  assert.doesNotMatch(r.stderr, /SyntaxError/);
  assert.equal(r.stdout, "");
});

test("an unknown command or flag is a one-line error and exit code 2", () => {
  for (const args of [["nope"], ["scan", "--nope"], ["--nope"], ["scan", "--format", "yaml"]]) {
    const r = runCli(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^keywarden: /);
  }
});

test("scan exits 1 on a finding, masks it, and 0 on a clean tree", (t) => {
  const dir = tempDir(t);
  const token = formatToken("svc");
  writeFileSync(join(dir, "deploy.sh"), `#!/bin/sh\nexport KEYWARDEN_TOKEN=${token}\n`);
  const r = runCli(["scan", "--format", "json", "."], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.ok(!r.stdout.includes(token), "the secret must be masked");
  const report = JSON.parse(r.stdout) as {
    version: number;
    findings: { rule: string; file: string; line: number; column: number; secret: string }[];
  };
  assert.equal(report.version, 1);
  assert.deepEqual(
    report.findings.map((f) => [f.rule, f.file, f.line, f.column, f.secret]),
    [["keywarden-api-token", "deploy.sh", 2, 24, `${token.slice(0, 4)}****${token.slice(-2)}`]],
  );
  const shown = runCli(["scan", "--format", "json", "--show-secrets", "."], { cwd: dir });
  assert.ok(shown.stdout.includes(token));
  // Written to a file, a report with the secrets in it is 0600, even over a readable file.
  const out = join(tempDir(t), "report.json");
  writeFileSync(out, "old", { mode: 0o644 });
  chmodSync(out, 0o644);
  assert.equal(runCli(["scan", "--format", "json", "--show-secrets", "-o", out, "."], { cwd: dir }).code, 1);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.ok(readFileSync(out, "utf8").includes(token));

  writeFileSync(join(dir, "deploy.sh"), "#!/bin/sh\nexport KEYWARDEN_TOKEN=$(cat /run/secrets/token)\n");
  const clean = runCli(["scan", "."], { cwd: dir });
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /0 findings/);
});

test("scan - reads stdin", () => {
  const token = formatToken("usr");
  const r = runCli(["scan", "-", "--format", "csv"], {
    input: `chat message: use ${token} for the deploy\n`,
  });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^rule,provider,severity,file,line/);
  assert.match(r.stdout, /keywarden-api-token,Keywarden,critical,-,1,19,/);
});

test("scan of a missing path reports it as skipped, and a bad config is exit 2 with the file and line", (t) => {
  const dir = tempDir(t);
  const r = runCli(["scan", "--format", "json", "missing-folder"], { cwd: dir });
  assert.equal(r.code, 0);
  assert.deepEqual((JSON.parse(r.stdout) as { skipped: unknown[] }).skipped, [
    { path: "missing-folder", reason: "not found" },
  ]);
  writeFileSync(join(dir, "keywarden.toml"), "[scan]\nmaxFileSize = -5\n");
  const bad = runCli(["scan"], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /KW_ERR_CONFIG_INVALID.*scan\.maxFileSize.*keywarden\.toml:2/);
});

test("baseline create then scan --baseline reports only new findings", (t) => {
  const dir = tempDir(t);
  const old = formatToken("svc");
  writeFileSync(join(dir, "a.env"), `TOKEN=${old}\n`);
  const created = runCli(["baseline", "create"], { cwd: dir });
  assert.equal(created.code, 0, created.stderr);
  const baseline = readFileSync(join(dir, ".keywarden-baseline.json"), "utf8");
  assert.ok(!baseline.includes(old));
  assert.equal(runCli(["scan", "--baseline", ".keywarden-baseline.json"], { cwd: dir }).code, 0);
  writeFileSync(join(dir, "b.env"), `TOKEN=${formatToken("svc")}\n`);
  const r = runCli(["scan", "--format", "json", "--baseline", ".keywarden-baseline.json"], { cwd: dir });
  assert.equal(r.code, 1);
  assert.deepEqual(
    (JSON.parse(r.stdout) as { findings: { file: string }[] }).findings.map((f) => f.file),
    ["b.env"],
  );
});

test("config show prints each value with its source and masks secrets", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "keywarden.toml"), '[log]\nlevel = "info"\n');
  const r = runCli(["config", "show"], {
    cwd: dir,
    env: { KEYWARDEN_STORAGE_URL: "postgres://u:pw-very-secret@h/db" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /log\.level = "info" +# .*keywarden\.toml:2/);
  assert.match(r.stdout, /storage\.url = "postgres:\/\/u:\*\*\*\*@h\/db" +# env KEYWARDEN_STORAGE_URL/);
  assert.ok(!r.stdout.includes("pw-very-secret"));
});

test("inline keywarden:allow suppresses a finding", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "x.py"), `# keywarden:allow\nTOKEN = "${formatToken("svc")}"\n`);
  assert.equal(runCli(["scan"], { cwd: dir }).code, 0);
});

test("a file that does not parse (a .env given as a baseline) is refused without quoting it", (t) => {
  const dir = tempDir(t);
  const token = formatToken("svc");
  // V8's own message would quote the first ten characters: here, the token's.
  writeFileSync(join(dir, "app.env"), `${token}\n`);
  const r = runCli(["scan", "--baseline", "app.env", "."], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /KW_ERR_BASELINE_INVALID: invalid baseline file .*app\.env: not valid JSON/);
  assert.ok(!r.stderr.includes(token.slice(0, 10)), r.stderr);
});
