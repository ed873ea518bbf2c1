import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { PassThrough } from "node:stream";

export const ROOT = join(import.meta.dirname, "../..");
export const BIN = join(ROOT, "dist/cli/bin.js");

/** Argon2 settings for a key file made in a test: cheap, since only the code path is tested. */
export const CHEAP_ARGON2_ENV = {
  KEYWARDEN_KMS_LOCAL_ARGON2_MEMORY_KI_B: "64",
  KEYWARDEN_KMS_LOCAL_ARGON2_ITERATIONS: "1",
  KEYWARDEN_KMS_LOCAL_ARGON2_PARALLELISM: "1",
} as const;

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI as a user would, on the same Node as the tests. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; input?: string | Buffer; env?: Record<string, string> } = {},
): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.input,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...options.env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the CLI from the sources inside this process (main.ts's `run`), with `env` as its
 * whole environment and KEYWARDEN_HOME as its working folder. A command it spawns (`run`)
 * writes to the real stdout, not to the result.
 *
 * @example
 *   const r = await runCliInProcess({ KEYWARDEN_HOME: home }, ["secrets", "list"]);
 */
export async function runCliInProcess(
  env: Record<string, string>,
  args: readonly string[],
  input = "",
): Promise<CliRun> {
  const { run } = await import("../../src/cli/main.ts");
  let stdout = "";
  let stderr = "";
  const out = new PassThrough().on("data", (d: Buffer) => (stdout += d.toString()));
  const err = new PassThrough().on("data", (d: Buffer) => (stderr += d.toString()));
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await run(args, { stdout: out, stderr: err, stdin, env, cwd: env.KEYWARDEN_HOME ?? ROOT });
  return { code, stdout, stderr };
}
