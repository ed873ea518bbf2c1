import { execFileSync } from "node:child_process";

/** Runs git in `cwd` with a fixed identity and no user config, returning stdout. */
export function gitIn(cwd: string, args: readonly string[], env: Record<string, string> = {}): string {
  return execFileSync("git", [...args], {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Ada Lovelace",
      GIT_AUTHOR_EMAIL: "ada@example.test",
      GIT_COMMITTER_NAME: "Ada Lovelace",
      GIT_COMMITTER_EMAIL: "ada@example.test",
      ...env,
    },
  });
}

/** A new repository with `main` as its first branch. */
export function initRepo(dir: string): void {
  gitIn(dir, ["init", "-q", "-b", "main"]);
}
