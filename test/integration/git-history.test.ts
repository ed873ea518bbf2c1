import assert from "node:assert/strict";
import { existsSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatToken } from "../../src/core/token-format.ts";
import { runCli } from "../helpers/cli.ts";
import { gitIn, initRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";

interface JsonFinding {
  file: string;
  line: number;
  secret: string;
  commit?: string;
  author?: string;
  email?: string;
  date?: string;
}

function scanJson(args: string[], cwd: string): { code: number; findings: JsonFinding[]; stderr: string } {
  const r = runCli(["scan", "--format", "json", "--show-secrets", ...args], { cwd });
  return {
    code: r.code,
    findings: r.stdout === "" ? [] : (JSON.parse(r.stdout) as { findings: JsonFinding[] }).findings,
    stderr: r.stderr,
  };
}

test("scan --git finds a key that was committed and then deleted, with its commit, author and path", (t) => {
  const dir = tempDir(t);
  initRepo(dir);
  const leaked = formatToken("svc");
  writeFileSync(join(dir, "README.md"), "# app\n");
  gitIn(dir, ["add", "."]);
  gitIn(dir, ["commit", "-qm", "initial"]);
  writeFileSync(join(dir, "config.env"), `LOG=info\nKEYWARDEN_TOKEN=${leaked}\n`);
  gitIn(dir, ["add", "."]);
  gitIn(dir, ["commit", "-qm", "add config"], { GIT_AUTHOR_DATE: "2026-03-04T05:06:07Z" });
  const leakCommit = gitIn(dir, ["rev-parse", "HEAD"]).trim();
  // The same secret again in a modified blob must not be reported twice.
  writeFileSync(join(dir, "config.env"), `LOG=debug\nKEYWARDEN_TOKEN=${leaked}\n`);
  gitIn(dir, ["commit", "-qam", "debug logs"]);
  const debugCommit = gitIn(dir, ["rev-parse", "HEAD"]).trim();
  rmSync(join(dir, "config.env"));
  gitIn(dir, ["commit", "-qam", "remove config"]);
  // A secret in a commit message, on another branch.
  const inMessage = formatToken("usr");
  gitIn(dir, ["checkout", "-qb", "feature"]);
  gitIn(dir, ["commit", "-q", "--allow-empty", "-m", `wip\n\ntoken for staging: ${inMessage}`]);
  gitIn(dir, ["checkout", "-q", "main"]);

  assert.equal(scanJson(["."], dir).code, 0, "the work tree is clean now");
  const r = scanJson(["--git", "."], dir);
  assert.equal(r.code, 1, r.stderr);
  const byFile = new Map(r.findings.map((f) => [f.file, f]));
  assert.equal(r.findings.length, 2, JSON.stringify(r.findings, null, 2));
  const config = byFile.get("config.env")!;
  assert.equal(config.secret, leaked);
  assert.equal(config.line, 2);
  assert.equal(config.commit, leakCommit);
  assert.equal(config.author, "Ada Lovelace");
  assert.equal(config.email, "ada@example.test");
  assert.equal(config.date, "2026-03-04T05:06:07+00:00");
  const message = r.findings.find((f) => f.file.endsWith("(commit message)"))!;
  assert.equal(message.secret, inMessage);
  assert.equal(message.line, 3);

  // Narrowing: only main, or only commits after the leak, or only the newest commit.
  assert.deepEqual(
    scanJson(["--git", "--branch", "main", "."], dir).findings.map((f) => f.file),
    ["config.env"],
  );
  // After the leak, the modified blob still holds the secret: it is found with that commit.
  assert.deepEqual(
    scanJson(["--git", "--branch", "main", "--since", leakCommit, "."], dir).findings.map((f) => f.commit),
    [debugCommit],
  );
  assert.equal(scanJson(["--git", "--branch", "main", "--since", debugCommit, "."], dir).code, 0);
  assert.equal(scanJson(["--git", "--branch", "main", "--max-commits", "1", "."], dir).code, 0);

  // A branch that reads as an option (from a CI variable, say) is a revision git cannot find,
  // not an option: `--output=FILE` made git log write FILE and the scan report 0 findings.
  const out = join(tempDir(t), "written-by-git.txt");
  const injected = runCli(["scan", "--git", `--branch=--output=${out}`, "."], { cwd: dir });
  assert.equal(injected.code, 2, injected.stdout);
  assert.match(injected.stderr, /KW_ERR_GIT_FAILED: .*bad revision '--output=/);
  assert.equal(existsSync(out), false);
});

test("scan --git on a folder that is not a repository is a clear error", (t) => {
  const dir = tempDir(t);
  const r = runCli(["scan", "--git", "."], { cwd: dir, env: { GIT_CEILING_DIRECTORIES: join(dir, "..") } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /KW_ERR_GIT_FAILED/);
});

test("scan --staged sees only lines added in the index, at their line numbers", (t) => {
  const dir = tempDir(t);
  initRepo(dir);
  const old = formatToken("svc");
  writeFileSync(join(dir, "app.py"), `A = 1\nOLD = "${old}"\n`);
  gitIn(dir, ["add", "."]);
  gitIn(dir, ["commit", "-qm", "old secret already committed"]);
  const fresh = formatToken("svc");
  writeFileSync(join(dir, "app.py"), `A = 1\nOLD = "${old}"\nB = 2\nNEW = "${fresh}"\n`);
  writeFileSync(join(dir, "unstaged.py"), `X = "${formatToken("svc")}"\n`);
  gitIn(dir, ["add", "app.py"]);
  const r = scanJson(["--staged", "."], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(
    r.findings.map((f) => [f.file, f.line, f.secret]),
    [["app.py", 4, fresh]],
  );
});

test("UTF-16 files (which git diffs as binary) are scanned in history and when staged, only their new lines when staged", (t) => {
  const dir = tempDir(t);
  initRepo(dir);
  const utf16le = (text: string) => Buffer.from("\uFEFF" + text, "utf16le");
  const old = formatToken("svc");
  writeFileSync(join(dir, "settings.reg"), utf16le(`Windows Registry Editor\r\n"Token"="${old}"\r\n`));
  gitIn(dir, ["add", "."]);
  gitIn(dir, ["commit", "-qm", "export settings"]);
  const history = scanJson(["--git", "."], dir);
  assert.equal(history.code, 1, history.stderr);
  assert.deepEqual(
    history.findings.map((f) => [f.file, f.line, f.secret]),
    [["settings.reg", 2, old]],
  );

  const added = formatToken("usr");
  writeFileSync(
    join(dir, "settings.reg"),
    utf16le(`Windows Registry Editor\r\n"Token"="${old}"\r\n\r\n"Admin"="${added}"\r\n`),
  );
  // Binaries staged beside it are not read as text; a UTF-16 file removed from the work tree
  // after staging is read from the index.
  writeFileSync(
    join(dir, "icon.png"),
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d]), Buffer.from(formatToken("svc"))]),
  );
  const gone = formatToken("svc");
  writeFileSync(join(dir, "gone.txt"), utf16le(`token=${gone}\r\n`));
  // And one overwritten in the work tree by a binary after staging: the index's copy is
  // what is committed, so that is what is judged.
  const overwritten = formatToken("svc");
  writeFileSync(join(dir, "swap.txt"), utf16le(`token=${overwritten}\r\n`));
  // And one whose name is not UTF-8 (Latin-1 "café.reg"): git's bytes name it.
  const latin1Name = formatToken("svc");
  writeFileSync(
    Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xe9]), Buffer.from(".reg")]),
    utf16le(`"T"="${latin1Name}"\r\n`),
  );
  gitIn(dir, ["add", "."]);
  rmSync(join(dir, "gone.txt"));
  writeFileSync(join(dir, "swap.txt"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0, 0, 0, 0]));
  const staged = scanJson(["--staged"], dir);
  assert.equal(staged.code, 1, staged.stderr);
  assert.deepEqual(staged.findings.map((f) => [f.file, f.line, f.secret]).sort(), [
    ["caf\ufffd.reg", 1, latin1Name],
    ["gone.txt", 1, gone],
    ["settings.reg", 4, added],
    ["swap.txt", 1, overwritten],
  ]);
});
