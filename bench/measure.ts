/** Shared by the bench parts: paths, measured child processes, tables. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { FastifyInstance } from "fastify";

export const ROOT = resolve(import.meta.dirname, "..");
/** Everything the bench builds or downloads lives here (gitignored). */
export const BENCH_DIR = join(ROOT, ".bench");
export const TMP_DIR = join(BENCH_DIR, "tmp");
/** Bench figures use decimal megabytes. */
export const MB = 1_000_000;

export interface ChildRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** User plus system CPU time of the child. */
  readonly cpuMs: number;
  readonly maxRssBytes: number;
}

// Preloaded into each measured Node child: its own peak RSS and CPU time, written on exit.
// Plain JS because the child runs without tsx.
const PROBE_SOURCE = `import { writeFileSync } from "node:fs";
const out = process.env.BENCH_RUSAGE_FILE;
process.on("exit", () => {
  if (!out) return;
  const u = process.resourceUsage();
  writeFileSync(out, JSON.stringify({ maxRSS: u.maxRSS, user: u.userCPUTime, system: u.systemCPUTime }));
});
`;

let probeUrl: string | undefined;
function probe(): string {
  if (probeUrl === undefined) {
    mkdirSync(TMP_DIR, { recursive: true });
    const file = join(TMP_DIR, "rusage-probe.mjs");
    writeFileSync(file, PROBE_SOURCE);
    probeUrl = pathToFileURL(file).href;
  }
  return probeUrl;
}

let tasksetOk: boolean | undefined;
/** True when children can be pinned to core 0 with taskset. */
export function canPin(): boolean {
  tasksetOk ??= spawnSync("taskset", ["-c", "0", "true"], { stdio: "ignore" }).status === 0;
  return tasksetOk;
}

/** The environment for measured children: no KEYWARDEN_* overrides, no inherited NODE_OPTIONS. */
function childEnv(rusageFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("KEYWARDEN_") || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  env.BENCH_RUSAGE_FILE = rusageFile;
  env.NO_COLOR = "1";
  return env;
}

/**
 * Runs `node script ...args` with the Node running the bench, pinned to core 0 when possible
 * (unless `pin: false`: a part measuring all cores), behind an optional command `prefix`, and
 * returns its wall time, CPU time and peak RSS.
 *
 * @example
 *   const r = runNode("dist/cli/bin.js", ["scan", "."], { cwd });
 */
export function runNode(
  script: string,
  args: readonly string[],
  options: { cwd: string; pin?: boolean; prefix?: readonly string[] },
): ChildRun {
  const rusageFile = join(TMP_DIR, `rusage-${process.pid}.json`);
  rmSync(rusageFile, { force: true });
  const nodeArgs = ["--import", probe(), script, ...args];
  const [cmd0, cmdArgs0] =
    options.pin !== false && canPin()
      ? ["taskset", ["-c", "0", process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
  const [cmd, cmdArgs] =
    options.prefix === undefined || options.prefix.length === 0
      ? [cmd0, cmdArgs0]
      : [options.prefix[0]!, [...options.prefix.slice(1), cmd0, ...cmdArgs0]];
  const started = performance.now();
  const r = spawnSync(cmd, cmdArgs, {
    cwd: options.cwd,
    env: childEnv(rusageFile),
    encoding: "utf8",
    maxBuffer: 64 * MB,
  });
  const wallMs = performance.now() - started;
  if (r.error !== undefined) throw r.error;
  let usage = { maxRSS: 0, user: 0, system: 0 };
  if (existsSync(rusageFile)) usage = JSON.parse(readFileSync(rusageFile, "utf8")) as typeof usage;
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    wallMs,
    cpuMs: (usage.user + usage.system) / 1000,
    maxRssBytes: usage.maxRSS * 1024,
  };
}

/** A plain text table: first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export const fixed = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

/** Serves `app` on 127.0.0.1 at a free port; returns the port. */
export async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  const a = app.server.address();
  return typeof a === "object" && a !== null ? a.port : 0;
}
