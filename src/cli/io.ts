import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";

/** What a command may touch of the outside world, injected so tests can run commands in process. */
export interface CliIO {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean; columns?: number };
  readonly stdin: Readable;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** The package version, read from package.json beside src/ or dist/. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Colours only on a terminal, and never when NO_COLOR is set or --no-color was given. */
export function useColor(stream: { isTTY?: boolean }, env: CliIO["env"], flag: boolean | undefined): boolean {
  if (flag === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== "")) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}
