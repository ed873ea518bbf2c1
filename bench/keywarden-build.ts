/** The built Keywarden CLI the bench runs: dist/ when it is fresh, else a private build in .bench/. */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, ROOT, runNode, type ChildRun } from "./measure.ts";

const PRIVATE_ROOT = join(BENCH_DIR, "kw");

function newestMtime(dir: string): number {
  let newest = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

const mtimeOf = (file: string): number => (existsSync(file) ? statSync(file).mtimeMs : -1);

/**
 * Returns the path of a bin.js built from the current src/. Uses dist/ when it is newer than
 * every source file; otherwise compiles into .bench/kw/dist, so the bench never rewrites dist/
 * under other people's feet. Type errors from work in progress are reported, not fatal: tsc
 * still emits.
 *
 * @example
 *   const bin = keywardenCli(); // .../dist/cli/bin.js
 */
export function keywardenCli(): string {
  const srcNewest = newestMtime(join(ROOT, "src"));
  const distBin = join(ROOT, "dist", "cli", "bin.js");
  if (mtimeOf(distBin) > srcNewest) return distBin;
  const privateBin = join(PRIVATE_ROOT, "dist", "cli", "bin.js");
  if (mtimeOf(privateBin) > srcNewest) return privateBin;

  console.log("dist/ is older than src/: building the CLI into .bench/kw/dist");
  mkdirSync(PRIVATE_ROOT, { recursive: true });
  // The CLI reads ../../package.json for its version; module resolution walks up to ROOT/node_modules.
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  writeFileSync(
    join(PRIVATE_ROOT, "package.json"),
    JSON.stringify({ name: pkg.name, version: pkg.version, type: "module", private: true }),
  );
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(
    process.execPath,
    [
      tsc,
      "-p",
      "tsconfig.build.json",
      "--outDir",
      join(PRIVATE_ROOT, "dist"),
      "--declaration",
      "false",
      "--sourceMap",
      "false",
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (r.status !== 0) {
    const first = (r.stdout + r.stderr)
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(0, 5);
    console.log(
      `warning: tsc reported errors (work in progress elsewhere?); using its output anyway:\n  ${first.join("\n  ")}`,
    );
  }
  if (mtimeOf(privateBin) <= srcNewest)
    throw new Error("building the CLI produced no .bench/kw/dist/cli/bin.js");
  return privateBin;
}

/** The parts of a `--format json` report the benches read. */
export interface KeywardenJsonReport {
  readonly findings: readonly { readonly commit?: string }[];
  readonly skipped: readonly unknown[];
  readonly stats: { readonly files: number; readonly bytes: number };
}

/**
 * Runs `keywarden scan <scanArgs> --format json --all` with an empty config (so no
 * keywarden.toml above `cwd` changes what is measured), and returns the timing and the report.
 *
 * @example
 *   const { wallMs, report } = runKeywardenScan(bin, [".", "--no-gitignore"], { cwd: dir, work });
 */
export function runKeywardenScan(
  bin: string,
  scanArgs: readonly string[],
  options: { cwd: string; work: string; pin?: boolean; prefix?: readonly string[] },
): ChildRun & { report: KeywardenJsonReport } {
  const out = join(options.work, "keywarden-report.json");
  const emptyConfig = join(options.work, "keywarden.toml");
  writeFileSync(emptyConfig, "");
  rmSync(out, { force: true });
  const r = runNode(
    bin,
    ["--config", emptyConfig, "scan", ...scanArgs, "--format", "json", "--all", "-o", out],
    options,
  );
  if (r.status !== 0 && r.status !== 1) throw new Error(`keywarden exited ${r.status}: ${r.stderr.trim()}`);
  return { ...r, report: JSON.parse(readFileSync(out, "utf8")) as KeywardenJsonReport };
}

/**
 * A `.env` text with an AWS key pair generated now (never a literal): the canary the benches
 * plant to prove a tool really scans.
 *
 * @example
 *   writeFileSync(join(dir, "config.env"), canaryAwsEnv());
 */
export function canaryAwsEnv(): string {
  const pick = (alphabet: string, n: number): string =>
    Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
  const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const id = "AKIA" + pick(upper + "234567", 16);
  const key = pick(upper + upper.toLowerCase() + "0123456789+/", 40);
  return `AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=${key}\n`;
}
