import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import { commandContext } from "../context.ts";
import type { CliIO } from "../io.ts";

const MARKER = "# keywarden pre-commit hook";

function gitPath(cwd: string, args: string[]): string {
  const r = spawnSync("git", ["-C", cwd, ...args], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    throw new KeywardenError("KW_ERR_GIT_FAILED", {
      reason: (r.stderr || r.error?.message || "not a git repository").trim().split("\n")[0]!,
    });
  }
  return r.stdout.trim();
}

/**
 * The hook script: runs any hook that was there before, then `keywarden scan --staged`
 * with the Node and CLI that installed it (absolute paths, so it works without npx).
 */
function hookScript(node: string, bin: string): string {
  return `#!/bin/sh
${MARKER}: refuses a commit that adds a secret. Installed by \`keywarden hook install\`.
# A hook that was here before was kept as pre-commit.local and runs first.
hook_dir=$(dirname "$0")
if [ -x "$hook_dir/pre-commit.local" ]; then
  "$hook_dir/pre-commit.local" "$@" || exit $?
fi
"${node}" "${bin}" scan --staged --no-color
status=$?
if [ $status -eq 1 ]; then
  echo "" >&2
  echo "keywarden: commit refused: the staged changes add a secret (listed above)." >&2
  echo "  Remove it and load it from a vault or the environment instead; revoke it if it was ever pushed." >&2
  echo "  A false positive? Add a 'keywarden:allow' comment on that line." >&2
fi
exit $status
`;
}

/** `keywarden hook install` */
export function registerHook(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const hook = program.command("hook").description("git hooks that stop a secret before it is committed");
  hook
    .command("install")
    .description(
      "install a pre-commit hook running `keywarden scan --staged` (an existing hook is kept and runs first)",
    )
    .argument("[repo]", "the repository", ".")
    .addHelpText(
      "after",
      "\nExample:\n  keywarden hook install && git commit   # a commit adding a key is refused",
    )
    .action((repo: string, _flags: unknown, cmd: Command) => {
      commandContext(io, cmd);
      const root = resolve(io.cwd, repo);
      const hooksRel = gitPath(root, ["rev-parse", "--git-path", "hooks"]);
      const hooksDir = isAbsolute(hooksRel) ? hooksRel : join(root, hooksRel);
      mkdirSync(hooksDir, { recursive: true });
      const target = join(hooksDir, "pre-commit");
      if (existsSync(target)) {
        if (readFileSync(target, "utf8").includes(MARKER)) {
          io.stdout.write(`keywarden hook already installed at ${target}; updated\n`);
        } else {
          renameSync(target, join(hooksDir, "pre-commit.local"));
          io.stdout.write(`kept the existing hook as ${join(hooksDir, "pre-commit.local")}\n`);
        }
      }
      // The script that is running now: dist/cli/bin.js, wherever the package lives.
      const bin = realpathSync(process.argv[1] ?? "");
      writeFileSync(target, hookScript(process.execPath, bin));
      chmodSync(target, 0o755);
      io.stdout.write(`installed ${target}\n`);
      setExit(EXIT.OK);
    });
}
