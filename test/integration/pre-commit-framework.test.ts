/**
 * The pre-commit framework (Debian's `pre-commit`) running the hook this repository ships in
 * .pre-commit-hooks.yaml, for real: a temporary repository whose .pre-commit-config.yaml
 * points at this checkout at a commit, `pre-commit install`, then `git commit`.
 *
 * `keywarden` is "installed" as `npm install -g` would: a `keywarden` link to the built CLI in a
 * bin folder on PATH. The hook repository and pre-commit's home (its clone of that repository)
 * are made once per test run, in a temporary folder, and shared by the tests.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test, type TestContext } from "node:test";
import { formatToken } from "../../src/core/token-format.ts";
import { BIN, ROOT } from "../helpers/cli.ts";
import { gitIn, initRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";

/** The files that make the hook: taken from the working tree, so uncommitted edits are tested. */
const HOOK_FILES = [".pre-commit-hooks.yaml", "scripts/pre-commit-hook.sh"] as const;

const hasPreCommit = spawnSync("pre-commit", ["--version"], { encoding: "utf8" }).status === 0;
/** Skipped on a machine without pre-commit; never in CI, whose .ci/run installs it. */
const SKIP =
  hasPreCommit || process.env.CI === "true"
    ? false
    : "pre-commit is not installed (apt-get install pre-commit)";

/**
 * This checkout as a hook repository at a commit: a shared clone of HEAD with the working
 * tree's hook files committed over it when they differ (in CI they are HEAD's own).
 */
function makeHookRepo(root: string): { path: string; rev: string } {
  const path = join(root, "keywarden");
  gitIn(root, ["clone", "-q", "--shared", "--no-checkout", ROOT, path]);
  gitIn(path, ["read-tree", "HEAD"]);
  for (const f of HOOK_FILES) {
    mkdirSync(dirname(join(path, f)), { recursive: true });
    copyFileSync(join(ROOT, f), join(path, f));
    gitIn(path, ["update-index", "--add", "--chmod=" + (f.endsWith(".sh") ? "+x" : "-x"), f]);
  }
  if (gitIn(path, ["diff", "--cached", "--name-only", "HEAD"]).trim() !== "")
    gitIn(path, ["commit", "-qm", "hook files from the working tree"]);
  return { path, rev: gitIn(path, ["rev-parse", "HEAD"]).trim() };
}

let shared: { hooks: { path: string; rev: string }; preCommitHome: string } | undefined;
let sharedRoot: string | undefined;
// At the top level, so it runs once after every test of this file.
after(() => {
  if (sharedRoot !== undefined) rmSync(sharedRoot, { recursive: true, force: true });
});
function sharedState(): NonNullable<typeof shared> {
  if (shared === undefined) {
    sharedRoot = mkdtempSync(join(tmpdir(), "kw-pre-commit-shared-"));
    shared = { hooks: makeHookRepo(sharedRoot), preCommitHome: join(sharedRoot, "pre-commit-home") };
  }
  return shared;
}

interface Setup {
  readonly repo: string;
  readonly env: Record<string, string>;
  commit(message: string): { code: number; output: string };
}

/** Answers the version probe like Node 20 and fails on anything else. */
const OLD_NODE = `#!/bin/sh\ncase "$*" in *process.versions*) echo 20 ;; *) echo "old node" >&2; exit 9 ;; esac\n`;

/**
 * A repository with the framework's hook installed and `keywarden` on PATH, in a global bin
 * folder as `npm install -g` leaves it: with the Node running the tests beside it unless
 * `nodeBeside` is false. `oldNodeFirst` puts a Node-20-like `node` and `nodejs` before it.
 */
function setup(t: TestContext, options: { nodeBeside?: boolean; oldNodeFirst?: boolean } = {}): Setup {
  const root = tempDir(t, "kw-pre-commit-");
  const globalBin = join(root, "global", "bin");
  const oldBin = join(root, "old", "bin");
  mkdirSync(globalBin, { recursive: true });
  mkdirSync(oldBin, { recursive: true });
  symlinkSync(BIN, join(globalBin, "keywarden"));
  if (options.nodeBeside !== false) symlinkSync(process.execPath, join(globalBin, "node"));
  for (const name of ["node", "nodejs"]) {
    writeFileSync(join(oldBin, name), OLD_NODE);
    chmodSync(join(oldBin, name), 0o755);
  }
  const path = [...(options.oldNodeFirst === true ? [oldBin] : []), globalBin, process.env.PATH ?? ""];
  const { hooks, preCommitHome } = sharedState();
  const env: Record<string, string> = {
    PATH: path.join(":"),
    HOME: root,
    PRE_COMMIT_HOME: preCommitHome,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_AUTHOR_NAME: "Ada Lovelace",
    GIT_AUTHOR_EMAIL: "ada@example.test",
    GIT_COMMITTER_NAME: "Ada Lovelace",
    GIT_COMMITTER_EMAIL: "ada@example.test",
  };
  const repo = join(root, "work");
  mkdirSync(repo);
  initRepo(repo);
  writeFileSync(
    join(repo, ".pre-commit-config.yaml"),
    `repos:\n  - repo: ${hooks.path}\n    rev: ${hooks.rev}\n    hooks:\n      - id: keywarden\n`,
  );
  const installed = spawnSync("pre-commit", ["install"], { cwd: repo, env, encoding: "utf8" });
  assert.equal(installed.status, 0, installed.stdout + installed.stderr);
  gitIn(repo, ["add", ".pre-commit-config.yaml"]);
  return {
    repo,
    env,
    commit(message) {
      const r = spawnSync("git", ["commit", "-qm", message], { cwd: repo, env, encoding: "utf8" });
      return { code: r.status ?? -1, output: r.stdout + r.stderr };
    },
  };
}

test(
  "the pre-commit framework runs the shipped hook: a key is refused with file, line and rule; clean and keywarden:allow pass",
  { skip: SKIP },
  (t) => {
    const s = setup(t);
    writeFileSync(join(s.repo, "app.js"), "const level = 'info';\n");
    gitIn(s.repo, ["add", "app.js"]);
    const clean = s.commit("clean");
    assert.equal(clean.code, 0, clean.output);
    assert.match(clean.output, /keywarden \(stop leaked API keys\).*Passed/);

    writeFileSync(join(s.repo, "deploy.sh"), `echo start\nexport KEYWARDEN_TOKEN=${formatToken("svc")}\n`);
    gitIn(s.repo, ["add", "deploy.sh"]);
    const refused = s.commit("leak");
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(refused.output, /keywarden \(stop leaked API keys\).*Failed/);
    // The text report: the file, then "line:column  severity  rule" under it.
    assert.match(refused.output, /^deploy\.sh\n\s+2:\d+\s+\w+\s+keywarden-api-token\b/m);
    assert.match(refused.output, /fix:.*[Rr]evoke/);
    assert.equal(
      gitIn(s.repo, ["rev-list", "--count", "HEAD"]).trim(),
      "1",
      "the leak must not be committed",
    );

    writeFileSync(
      join(s.repo, "deploy.sh"),
      `echo start\nexport KEYWARDEN_TOKEN=${formatToken("svc")} # keywarden:allow\n`,
    );
    gitIn(s.repo, ["add", "deploy.sh"]);
    const allowed = s.commit("allowed");
    assert.equal(allowed.code, 0, allowed.output);
    assert.match(readFileSync(join(s.repo, "deploy.sh"), "utf8"), /keywarden:allow/);
    assert.equal(gitIn(s.repo, ["rev-list", "--count", "HEAD"]).trim(), "2");
  },
);

test(
  "the hook runs keywarden on the Node >= 22 beside it when the node first on PATH is older",
  { skip: SKIP },
  (t) => {
    const s = setup(t, { oldNodeFirst: true });
    writeFileSync(join(s.repo, "app.js"), "const level = 'info';\n");
    gitIn(s.repo, ["add", "app.js"]);
    const ok = s.commit("clean");
    assert.equal(ok.code, 0, ok.output);
  },
);

test(
  "without a Node >= 22 the hook says what it found; KEYWARDEN_NODE points it at one",
  { skip: SKIP },
  (t) => {
    const s = setup(t, { nodeBeside: false, oldNodeFirst: true });
    writeFileSync(join(s.repo, "app.js"), "const level = 'info';\n");
    gitIn(s.repo, ["add", "app.js"]);

    const none = s.commit("no usable node");
    assert.notEqual(none.code, 0, none.output);
    assert.match(none.output, /needs Node\.js >= 22; found:.*node \(v20\)/);
    assert.equal(gitIn(s.repo, ["rev-list", "--all", "--count"]).trim(), "0");

    s.env.KEYWARDEN_NODE = process.execPath;
    const ok = s.commit("with KEYWARDEN_NODE");
    assert.equal(ok.code, 0, ok.output);
  },
);
