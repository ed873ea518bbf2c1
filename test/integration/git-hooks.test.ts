import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatToken } from "../../src/core/token-format.ts";
import { BIN, runCli } from "../helpers/cli.ts";
import { gitIn, initRepo } from "../helpers/git.ts";
import { tempDir } from "../helpers/tmp.ts";

function tryCommit(dir: string, message: string): { code: number; stderr: string } {
  const r = spawnSync("git", ["commit", "-qm", message], {
    cwd: dir,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      GIT_AUTHOR_NAME: "A",
      GIT_AUTHOR_EMAIL: "a@example.test",
      GIT_COMMITTER_NAME: "A",
      GIT_COMMITTER_EMAIL: "a@example.test",
    },
  });
  return { code: r.status ?? -1, stderr: r.stdout + r.stderr };
}

test("the installed pre-commit hook refuses a commit adding a key, passes a clean one, honours keywarden:allow, and keeps an existing hook", (t) => {
  const dir = tempDir(t);
  initRepo(dir);
  const hooks = join(dir, ".git", "hooks");
  writeFileSync(
    join(hooks, "pre-commit"),
    `#!/bin/sh\necho ran-old-hook >> "${join(dir, ".git", "old-hook.log")}"\n`,
  );
  chmodSync(join(hooks, "pre-commit"), 0o755);
  const installed = runCli(["hook", "install"], { cwd: dir });
  assert.equal(installed.code, 0, installed.stderr);

  writeFileSync(join(dir, "app.js"), "const level = 'info';\n");
  gitIn(dir, ["add", "."]);
  assert.equal(tryCommit(dir, "clean").code, 0);

  writeFileSync(join(dir, "deploy.sh"), `echo start\nexport KEYWARDEN_TOKEN=${formatToken("svc")}\n`);
  gitIn(dir, ["add", "deploy.sh"]);
  const refused = tryCommit(dir, "leak");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /deploy\.sh/);
  assert.match(refused.stderr, /2:\d+/);
  assert.match(refused.stderr, /keywarden-api-token/);
  assert.match(refused.stderr, /fix:.*[Rr]evoke/);
  assert.match(refused.stderr, /commit refused/);

  writeFileSync(
    join(dir, "deploy.sh"),
    `echo start\nexport KEYWARDEN_TOKEN=${formatToken("svc")} # keywarden:allow\n`,
  );
  gitIn(dir, ["add", "deploy.sh"]);
  assert.equal(tryCommit(dir, "allowed").code, 0);
  assert.equal(
    readFileSync(join(dir, ".git", "old-hook.log"), "utf8"),
    "ran-old-hook\nran-old-hook\nran-old-hook\n",
  );
});

test("a pre-receive hook refuses a push that brings a key, and accepts a clean one", (t) => {
  const root = tempDir(t);
  const bare = join(root, "server.git");
  const work = join(root, "work");
  gitIn(root, ["init", "-q", "--bare", "-b", "main", bare]);
  writeFileSync(
    join(bare, "hooks", "pre-receive"),
    `#!/bin/sh\nexec "${process.execPath}" "${BIN}" scan --git --pre-receive --no-color .\n`,
  );
  chmodSync(join(bare, "hooks", "pre-receive"), 0o755);
  gitIn(root, ["clone", "-q", bare, work]);
  writeFileSync(join(work, "README.md"), "# service\n");
  gitIn(work, ["add", "."]);
  gitIn(work, ["commit", "-qm", "initial"]);
  gitIn(work, ["push", "-q", "origin", "HEAD:main"]);

  writeFileSync(join(work, "settings.py"), `API_TOKEN = "${formatToken("svc")}"\n`);
  gitIn(work, ["add", "."]);
  gitIn(work, ["commit", "-qm", "add settings"]);
  writeFileSync(join(work, "settings.py"), "API_TOKEN = os.environ['API_TOKEN']\n");
  gitIn(work, ["commit", "-qam", "fix: read from env"]);
  const push = spawnSync("git", ["push", "origin", "HEAD:main"], {
    cwd: work,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: work },
  });
  assert.notEqual(push.status, 0, "the push must be refused: the key is in the history being pushed");
  assert.match(push.stderr, /settings\.py/);
  assert.match(push.stderr, /pre-receive hook declined/);

  // Rewrite history without the key: the push goes through.
  gitIn(work, ["reset", "-q", "--hard", "origin/main"]);
  writeFileSync(join(work, "settings.py"), "API_TOKEN = os.environ['API_TOKEN']\n");
  gitIn(work, ["add", "."]);
  gitIn(work, ["commit", "-qm", "settings from env"]);
  const ok = spawnSync("git", ["push", "origin", "HEAD:main"], {
    cwd: work,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: work },
  });
  assert.equal(ok.status, 0, ok.stderr);
});
