/**
 * History scan throughput: `keywarden scan --git` over a real history nobody here wrote,
 * against ripgrep searching the same unique content for the catalogue's keywords.
 *
 * - The history: successive published releases of one npm package, one release per commit,
 *   so the blobs are real code with real churn. No public git remote is reachable from
 *   here; the npm registry is. Built once into .bench/history and reused.
 * - The measure is unique blob content: the sum of the sizes of the distinct blobs
 *   (`git cat-file --batch-all-objects --batch-check`), which is what a deduplicating
 *   history scanner must read at least once.
 * - ripgrep is the raw read-and-match lower bound: the same distinct blobs written out once
 *   as files (page cache warm), searched case-insensitively for the catalogue's keywords as
 *   fixed strings. Both tools use every core.
 */
import { spawn, spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { builtinCatalogue } from "../src/detect/catalogue.ts";
import type { BenchPart } from "./bench-part.ts";
import { canaryAwsEnv, keywardenCli, runKeywardenScan, type KeywardenJsonReport } from "./keywarden-build.ts";
import { BENCH_DIR, fixed, MB, table, TMP_DIR } from "./measure.ts";

/**
 * The first RELEASES stable releases of this package, oldest first (3.0.0 .. 3.477.0). Each
 * release regenerates much of the client, so 300 of them hold about 183 MB of unique blob
 * content (typescript's releases would be 20-50 MB each, several GB for 100): the bench
 * runs in minutes on two cores, and the one-off build (~100 MB of tarballs) in a few more.
 */
const PACKAGE = "@aws-sdk/client-s3";
const RELEASES = 300;
/** Only versions up to this one are considered, so the list never changes. */
const NEWEST_ALLOWED = "3.1175.0";

const TARGET_MBPS = 50;
const RUNS = 3;
const TARGET_RG_RATIO = 5;

const HISTORY_DIR = join(BENCH_DIR, "history");
const TARBALLS = join(HISTORY_DIR, "tarballs");
const REPO = join(HISTORY_DIR, "repo");
const BLOBS = join(HISTORY_DIR, "blobs");
const REPO_STAMP = join(HISTORY_DIR, "repo.json");
const BLOBS_STAMP = join(HISTORY_DIR, "blobs.json");

/** Fixed identity, dates and no user or system config: the same commits on every machine. */
function gitEnv(i: number): NodeJS.ProcessEnv {
  const date = new Date(Date.UTC(2021, 0, 1) + i * 3_600_000).toISOString();
  return {
    PATH: process.env.PATH ?? "",
    HOME: HISTORY_DIR,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: "npm registry",
    GIT_AUTHOR_EMAIL: "releases@registry.invalid",
    GIT_COMMITTER_NAME: "keywarden bench",
    GIT_COMMITTER_EMAIL: "bench@keywarden.invalid",
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
}

function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  const r = spawnSync(cmd, args, { ...opts, encoding: "utf8", maxBuffer: 256 * MB });
  if (r.error !== undefined) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.slice(0, 2).join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

const semverKey = (v: string): number[] => v.split(".").map(Number);
function compareSemver(a: string, b: string): number {
  const [x, y] = [semverKey(a), semverKey(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** The pinned release list: stable versions up to NEWEST_ALLOWED, oldest first. */
function releases(): string[] {
  const all = JSON.parse(run("npm", ["view", PACKAGE, "versions", "--json"])) as string[];
  return all
    .filter((v) => /^\d+\.\d+\.\d+$/.test(v) && compareSemver(v, NEWEST_ALLOWED) <= 0)
    .sort(compareSemver)
    .slice(0, RELEASES);
}

/** What `npm pack` names the tarball of a version. */
const tarballName = (version: string): string =>
  `${PACKAGE.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;

/** Downloads the missing tarballs with `npm pack`, in a few parallel npm processes. */
async function fetchTarballs(versions: readonly string[]): Promise<void> {
  mkdirSync(TARBALLS, { recursive: true });
  const missing = versions.filter((v) => !existsSync(join(TARBALLS, tarballName(v))));
  if (missing.length === 0) return;
  console.log(`fetching ${missing.length} tarballs of ${PACKAGE} with npm pack...`);
  const lanes = 4;
  await Promise.all(
    Array.from({ length: lanes }, (_, lane) => {
      const specs = missing.filter((_, i) => i % lanes === lane).map((v) => `${PACKAGE}@${v}`);
      if (specs.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const child = spawn("npm", ["pack", "--silent", "--pack-destination", TARBALLS, ...specs], {
          stdio: ["ignore", "ignore", "inherit"],
        });
        child.on("error", reject);
        child.on("close", (code) => {
          if (code === 0) resolve();
          else reject(new Error(`npm pack exited ${code ?? "by a signal"}`));
        });
      });
    }),
  );
}

/** Builds the history repository unless the stamp says it holds exactly these releases. */
async function ensureHistory(): Promise<readonly string[]> {
  if (existsSync(REPO_STAMP) && existsSync(REPO)) {
    const stamp = JSON.parse(readFileSync(REPO_STAMP, "utf8")) as { package: string; versions: string[] };
    if (stamp.package === PACKAGE && stamp.versions.length === RELEASES) return stamp.versions;
  }
  const versions = releases();
  await fetchTarballs(versions);
  console.log(`building ${REPO}: ${versions.length} releases of ${PACKAGE}, one commit each...`);
  rmSync(REPO, { recursive: true, force: true });
  rmSync(REPO_STAMP, { force: true });
  rmSync(BLOBS_STAMP, { force: true });
  mkdirSync(REPO, { recursive: true });
  run("git", ["init", "-q", "-b", "main", REPO], { env: gitEnv(0) });
  run("git", ["-C", REPO, "config", "gc.auto", "0"], { env: gitEnv(0) });
  const started = performance.now();
  versions.forEach((v, i) => {
    for (const e of readdirSync(REPO))
      if (e !== ".git") rmSync(join(REPO, e), { recursive: true, force: true });
    run("tar", ["-xzf", join(TARBALLS, tarballName(v)), "--strip-components=1", "-C", REPO]);
    // npm tarballs give every file the same mtime, and same-size edits (a version string) would
    // look unchanged to git's stat check: a fresh index makes git hash every file.
    rmSync(join(REPO, ".git", "index"), { force: true });
    const env = gitEnv(i);
    run("git", ["-C", REPO, "add", "-A"], { env });
    run("git", ["-C", REPO, "commit", "-q", "--allow-empty", "-m", `${PACKAGE} ${v}`], { env });
    if ((i + 1) % 50 === 0) console.log(`  ${i + 1}/${versions.length} commits`);
  });
  // A clone arrives packed; scan what users scan.
  run("git", ["-C", REPO, "gc", "-q"], { env: gitEnv(0) });
  console.log(`built in ${fixed((performance.now() - started) / 1000)} s`);
  writeFileSync(REPO_STAMP, JSON.stringify({ package: PACKAGE, versions }));
  return versions;
}

interface BlobStats {
  readonly ids: readonly string[];
  readonly count: number;
  readonly bytes: number;
}

function uniqueBlobs(): BlobStats {
  const out = run("git", ["-C", REPO, "cat-file", "--batch-all-objects", "--batch-check"]);
  const ids: string[] = [];
  let bytes = 0;
  for (const line of out.split("\n")) {
    const [id, type, size] = line.split(" ");
    if (type !== "blob" || id === undefined) continue;
    ids.push(id);
    bytes += Number(size);
  }
  return { ids, count: ids.length, bytes };
}

/** Writes each distinct blob once as .bench/history/blobs/<id[0..2]>/<id>, for ripgrep. */
async function ensureBlobFiles(blobs: BlobStats): Promise<void> {
  const wanted = JSON.stringify({ count: blobs.count, bytes: blobs.bytes });
  if (existsSync(BLOBS_STAMP) && readFileSync(BLOBS_STAMP, "utf8") === wanted) return;
  console.log(`writing ${blobs.count} blobs as files into ${BLOBS} for ripgrep...`);
  rmSync(BLOBS, { recursive: true, force: true });
  const child = spawn("git", ["-C", REPO, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin.end(blobs.ids.join("\n") + "\n");
  const closed = new Promise<number>((resolve) =>
    child.on("close", (code) => {
      resolve(code ?? -1);
    }),
  );
  let buf: Buffer = Buffer.alloc(0);
  let index = 0;
  for await (const data of child.stdout as AsyncIterable<Buffer>) {
    buf = buf.length === 0 ? data : Buffer.concat([buf, data]);
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const size = Number(buf.subarray(0, nl).toString("latin1").split(" ")[2]);
      if (buf.length < nl + 1 + size + 1) break;
      const id = blobs.ids[index++]!;
      const dir = join(BLOBS, id.slice(0, 2));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, id), buf.subarray(nl + 1, nl + 1 + size));
      buf = buf.subarray(nl + 1 + size + 1);
    }
  }
  if ((await closed) !== 0 || index !== blobs.count)
    throw new Error(`cat-file wrote ${index} of ${blobs.count} blobs`);
  writeFileSync(BLOBS_STAMP, wanted);
}

interface Timed {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssBytes: number;
}

/** ripgrep over the blob files: every keyword, case-insensitive, fixed strings, all cores. */
function runRipgrep(patterns: string, prefix: readonly string[] = []): Timed & { matchingFiles: number } {
  const args = ["--no-config", "-i", "-F", "-f", patterns, "--count-matches", "--no-ignore", "--hidden", "."];
  // GNU time (Debian `time`) adds ripgrep's CPU time and peak RSS when it is installed.
  const timed = existsSync("/usr/bin/time");
  const command = [...prefix, ...(timed ? ["/usr/bin/time", "-f", "%U %S %M"] : []), "rg", ...args];
  const [cmd, cmdArgs] = [command[0]!, command.slice(1)];
  const started = performance.now();
  const r = spawnSync(cmd, cmdArgs, {
    cwd: BLOBS,
    encoding: "utf8",
    maxBuffer: 256 * MB,
  });
  const wallMs = performance.now() - started;
  if (r.error !== undefined) throw new Error(`rg: ${r.error.message}`);
  if (r.status !== 0 && r.status !== 1) throw new Error(`rg exited ${r.status}: ${r.stderr.trim()}`);
  const [user, sys, rssKb] = timed ? (r.stderr.trim().split("\n").pop() ?? "").split(" ").map(Number) : [];
  return {
    wallMs,
    cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000,
    maxRssBytes: (rssKb ?? NaN) * 1024,
    matchingFiles: r.stdout.split("\n").filter((l) => l !== "").length,
  };
}

function runKeywarden(
  bin: string,
  repo: string,
  work: string,
  prefix: readonly string[] = [],
): Timed & { report: KeywardenJsonReport } {
  return runKeywardenScan(bin, ["--git", repo], { cwd: work, work, pin: false, prefix });
}

/**
 * Proves the history scan really scans: a generated AWS key committed, then deleted, must be
 * found with its commit.
 */
function canaryCheck(bin: string, work: string): void {
  const dir = join(work, "canary");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = gitEnv(0);
  run("git", ["init", "-q", "-b", "main", dir], { env });
  writeFileSync(join(dir, "config.env"), canaryAwsEnv());
  run("git", ["-C", dir, "add", "."], { env });
  run("git", ["-C", dir, "commit", "-qm", "add config"], { env });
  const leak = run("git", ["-C", dir, "rev-parse", "HEAD"]).trim();
  rmSync(join(dir, "config.env"));
  run("git", ["-C", dir, "commit", "-qam", "remove config"], { env });
  const kw = runKeywarden(bin, dir, work);
  if (!kw.report.findings.some((f) => f.commit === leak))
    throw new Error(
      "keywarden --git did not find the canary key in its commit: the bench would measure nothing",
    );
  console.log(
    `canary: keywarden --git found ${kw.report.findings.length} findings in a deleted file, with its commit`,
  );
}

/** Which --jobs the scan ran with: the default (one worker per core) when the CLI has the flag. */
function jobsInUse(bin: string): string {
  const help = spawnSync(process.execPath, [bin, "scan", "--help"], { encoding: "utf8" }).stdout;
  return /--jobs\b/.test(help)
    ? `default (scan.jobs = 0: one worker thread per core, os.availableParallelism() = ${availableParallelism()})`
    : "n/a (this build has no --jobs: detection in the main thread)";
}

const verdict = (ok: boolean): string => (ok ? "PASS" : "FAIL");

/**
 * Runs a command in a session of its own whose scheduling group is at nice -20, where that is
 * permitted (root). Linux shares the CPUs between sessions (autogroups) first, so on a machine
 * where other sessions are busy the tools then get the two cores nearly as on an idle one.
 */
const PRIORITY_PREFIX = ["setsid", "-w", "sh", "-c", 'echo -20 > /proc/self/autogroup && exec "$@"', "sh"];

function priorityPrefix(): readonly string[] {
  const r = spawnSync(PRIORITY_PREFIX[0]!, [...PRIORITY_PREFIX.slice(1), "cat", "/proc/self/autogroup"], {
    encoding: "utf8",
  });
  return r.status === 0 && /nice -20/.test(r.stdout) ? PRIORITY_PREFIX : [];
}

async function runHistoryBench(): Promise<void> {
  const versions = await ensureHistory();
  const commits = Number(run("git", ["-C", REPO, "rev-list", "--all", "--count"]).trim());
  // The same on every machine (fixed identities and dates): compare it to check the build.
  const head = run("git", ["-C", REPO, "rev-parse", "HEAD"]).trim();
  const blobs = uniqueBlobs();
  console.log(
    `history: ${REPO}: ${commits} commits (${PACKAGE} ${versions[0]} .. ${versions.at(-1)}), ` +
      `HEAD ${head.slice(0, 12)}, ${blobs.count} distinct blobs, ${fixed(blobs.bytes / MB)} MB of unique blob content`,
  );
  await ensureBlobFiles(blobs);

  const keywords = [...new Set(builtinCatalogue().automaton.keywords.map((k) => k.toLowerCase()))].sort();
  const work = join(TMP_DIR, "history");
  mkdirSync(work, { recursive: true });
  const patterns = join(work, "keywords.txt");
  writeFileSync(patterns, keywords.join("\n") + "\n");

  const bin = keywardenCli();
  console.log(`keywarden: ${bin}\njobs: ${jobsInUse(bin)}`);
  console.log(
    `ripgrep: ${run("rg", ["--version"]).split("\n")[0] ?? "?"}, ${keywords.length} keywords (-i -F) from the compiled catalogue`,
  );
  console.log(`cores: ${availableParallelism()}; neither tool is pinned`);
  canaryCheck(bin, work);

  console.log("warming the page cache (one unmeasured run of each tool)...");
  runRipgrep(patterns);
  runKeywarden(bin, REPO, work);
  const prefix = priorityPrefix();
  console.log(
    prefix.length > 0
      ? "priority: each measured run in its own session at autogroup nice -20 (other sessions on the machine count less)"
      : "priority: normal (raising it needs root): other work on the machine slows the figures down",
  );
  // Other work on the machine only ever slows a run down: the fastest of RUNS is the figure.
  console.log(
    `measuring: best of ${RUNS} runs each (load average now ${loadavg()[0]?.toFixed(1) ?? "?"})...`,
  );
  const fastest = <T extends Timed>(runs: T[]): T => runs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  // Alternated, so a burst of outside load hits both tools alike.
  const rgRuns: ReturnType<typeof runRipgrep>[] = [];
  const kwRuns: ReturnType<typeof runKeywarden>[] = [];
  for (let i = 0; i < RUNS; i++) {
    rgRuns.push(runRipgrep(patterns, prefix));
    kwRuns.push(runKeywarden(bin, REPO, work, prefix));
  }
  const rg = fastest(rgRuns);
  const kw = fastest(kwRuns);

  const mbps = (ms: number): number => blobs.bytes / MB / (ms / 1000);
  const row = (tool: string, m: Timed, result: string): string[] => [
    tool,
    fixed(blobs.bytes / MB),
    fixed(m.wallMs / 1000, 2),
    fixed(mbps(m.wallMs)),
    fixed(m.cpuMs / 1000, 2),
    fixed(mbps(m.cpuMs)),
    fixed(m.maxRssBytes / MB, 0),
    result,
  ];
  console.log("");
  console.log(
    table(
      ["tool", "unique MB", "wall s", "MB/s", "CPU s", "MB/CPU s", "peak RSS MB", "result"],
      [
        row("keywarden scan --git", kw, `${kw.report.findings.length} findings`),
        row("ripgrep (keywords)", rg, `${rg.matchingFiles} files match`),
      ],
    ),
  );
  console.log(
    `(MB = 10^6 bytes of distinct blobs; keywarden read ${kw.report.stats.files} text blobs and messages, ` +
      `${fixed(kw.report.stats.bytes / MB)} MB, skipped ${kw.report.skipped.length}; its CPU s counts every ` +
      `thread but not the git child)`,
  );
  const load = loadavg()[0] ?? 0;
  if (prefix.length === 0 && load > availableParallelism())
    console.log(
      `warning: load average ${fixed(load)} on ${availableParallelism()} cores: other work shares the CPUs, ` +
        "so wall times are inflated; the CPU-time figures are the steadier ones",
    );
  const ratio = kw.wallMs / rg.wallMs;
  console.log("");
  console.log(
    `keywarden ${fixed(kw.wallMs / 1000, 2)} s, ripgrep ${fixed(rg.wallMs / 1000, 2)} s: ` +
      `ratio ${fixed(ratio, 2)}x ripgrep's time (CPU time: ${fixed(kw.cpuMs / rg.cpuMs, 2)}x)`,
  );
  const rate = mbps(kw.wallMs);
  console.log(
    `target >= ${TARGET_MBPS} MB/s of unique blob content (all ${availableParallelism()} cores): ${fixed(rate)} MB/s  ${verdict(rate >= TARGET_MBPS)}`,
  );
  console.log(
    `target within ${TARGET_RG_RATIO}x ripgrep's time: ${fixed(ratio, 2)}x  ${verdict(ratio <= TARGET_RG_RATIO)}`,
  );
}

export const historyBench: BenchPart = {
  name: "history",
  description: `scan --git over ${RELEASES} releases of ${PACKAGE} (one commit each), MB/s of unique blobs, against ripgrep`,
  run: runHistoryBench,
};
