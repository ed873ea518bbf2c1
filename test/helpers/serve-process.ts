/**
 * `keywarden serve` in a child process (from the sources through tsx, or the built CLI),
 * with its address read from stdout and a way to wait for a log line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { ROOT } from "./cli.ts";

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly url: URL;
  /** SHA-256 fingerprint printed for HTTPS; empty for plain HTTP. */
  readonly fingerprint: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves when stdout or stderr has matched `re`; rejects if the process exits first. */
  waitFor(re: RegExp): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/**
 * @example
 *   const s = await spawnServe(t, env, ["--insecure-http"]);
 *   await fetch(new URL("/readyz", s.url));
 */
export async function spawnServe(
  t: TestContext,
  env: Record<string, string>,
  args: readonly string[] = [],
  options: { built?: boolean } = {},
): Promise<ServeProcess> {
  const entry =
    options.built === true
      ? [join(ROOT, "dist/cli/bin.js")]
      : ["--import", "tsx", join(ROOT, "src/cli/bin.ts")];
  const child = spawn(process.execPath, [...entry, "serve", "--port", "0", "--log-level", "info", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: env.KEYWARDEN_HOME ?? "/tmp",
      KEYWARDEN_LOG_FORMAT: "json",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  let out = "";
  let err = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters])
      if (w.re.test(out) || w.re.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
  };
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    check();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    check();
  });
  const waitFor = (re: RegExp): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      waiters.push({ re, resolve });
      check();
      void exited.then(() => {
        reject(new Error(`serve exited before printing ${String(re)}: ${err}`));
      });
    });
  await waitFor(/listening on \S+\n/);
  const url = new URL(/listening on (\S+)\n/.exec(out)![1]!);
  const fingerprint = /certificate SHA-256 (\S+)/.exec(out)?.[1] ?? "";
  return {
    child,
    url,
    fingerprint,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    exited,
    stop: () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
