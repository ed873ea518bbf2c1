import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatToken } from "../../src/core/token-format.ts";
import { forTerminal } from "../../src/core/terminal.ts";
import { runCli } from "../helpers/cli.ts";
import { gitIn, initRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";

test("forTerminal shows controls and bidirectional overrides as escapes and leaves the rest", () => {
  assert.equal(forTerminal("a\x1b[2Kb\x07\x7f\x9b"), "a\\x1b[2Kb\\x07\\x7f\\x9b");
  assert.equal(forTerminal("invoice\u202egpj.exe"), "invoice\\u202egpj.exe");
  assert.equal(forTerminal("café/日本語 file.env\tx"), "café/日本語 file.env\\x09x");
});

test("the text report does not pass escape sequences from scanned names or commit authors to the terminal", (t) => {
  const dir = tempDir(t);
  initRepo(dir);
  // Erase the line, move up a line, set the window title: a name that would hide a finding.
  const name = "x\x1b[2K\x1b[1Ahidden\x1b]0;title\x07.env";
  writeFileSync(join(dir, name), `KEYWARDEN_TOKEN=${formatToken("svc")}\n`);
  gitIn(dir, ["add", "."]);
  gitIn(dir, ["commit", "-qm", "add"], { GIT_AUTHOR_NAME: "Mallory\x1b[8m" });
  for (const args of [["."], ["--git", "."]]) {
    const r = runCli(["scan", "--format", "text", "--no-color", ...args], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stdout), JSON.stringify(r.stdout));
    assert.ok(r.stdout.includes("x\\x1b[2K\\x1b[1Ahidden\\x1b]0;title\\x07.env"), r.stdout);
    if (args[0] === "--git") assert.ok(r.stdout.includes("Mallory\\x1b[8m <"), r.stdout);
  }
});

test("a user rule's texts from a repository's keywarden.toml reach the terminal escaped too", (t) => {
  const dir = tempDir(t);
  writeFileSync(
    join(dir, "keywarden.toml"),
    [
      "[[detect.rules]]",
      'id = "acme-key"',
      'regex = "acme_[a-z0-9]{16}"',
      'keywords = ["acme_"]',
      'description = "Acme key\\u001b]0;owned\\u0007"',
      'remediation = "rotate it\\u001b[1A\\u001b[2K"',
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "app.env"), "ACME=acme_k3j9x2m7q8w4z1p6\n");
  const scan = runCli(["scan", "--format", "text", "--no-color", "app.env"], { cwd: dir });
  assert.equal(scan.code, 1, scan.stderr);
  assert.ok(scan.stdout.includes("fix: rotate it\\x1b[1A\\x1b[2K"), scan.stdout);
  const rules = runCli(["rules", "list"], { cwd: dir });
  assert.equal(rules.code, 0, rules.stderr);
  assert.ok(rules.stdout.includes("Acme key\\x1b]0;owned\\x07"), rules.stdout);
  // eslint-disable-next-line no-control-regex
  for (const out of [scan.stdout, rules.stdout]) assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(out));
});
