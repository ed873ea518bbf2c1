/**
 * Scan throughput: Keywarden against secretlint (recommended preset) in one run, on one core.
 *
 * - Keywarden (the built CLI, full catalogue, `--all`) scans the whole corpus (>= 200 MB).
 * - secretlint is far slower, so both tools also scan the same deterministic sample (every
 *   n-th text file, >= 20 MB) and the ratio is sample against sample.
 * - secretlint keeps a performance mark per file and rule and searches the list on each one,
 *   so its cost grows with the square of the file count of one process. It runs twice: once
 *   over the whole sample, as a user runs it (`secretlint "**\/*"`), and once in batches of
 *   BATCH_SIZE files, which keeps that from inflating the ratio in our favour (each batch
 *   pays its ~0.3 s start-up, as Keywarden pays its own once). The targets are judged
 *   against the batched run, the more conservative of the two.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchPart } from "./bench-part.ts";
import { buildSample, CORPUS_ROOT, corpusTextFiles, ensureCorpus } from "./corpus.ts";
import { keywardenCli } from "./keywarden-build.ts";
import { BENCH_DIR, canPin, fixed, MB, ROOT, runNode, table, TMP_DIR } from "./measure.ts";

const MIN_CORPUS = 200 * MB;
const MIN_SAMPLE = 20 * MB;
const BATCH_SIZE = 250;
const TARGET_MBPS = 30;
const TARGET_RATIO = 10;

const SECRETLINT_BIN = join(ROOT, "node_modules", "secretlint", "bin", "secretlint.js");
const SECRETLINT_RC = { rules: [{ id: "@secretlint/secretlint-rule-preset-recommend" }] };

interface Measured {
  readonly tool: string;
  readonly on: string;
  readonly processes: number;
  readonly files: number;
  readonly bytes: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssBytes: number;
  readonly findings: number;
}

interface KeywardenReport {
  readonly findings: readonly unknown[];
  readonly skipped: readonly unknown[];
  readonly stats: { readonly files: number; readonly bytes: number };
}

interface SecretlintResult {
  readonly filePath: string;
  readonly messages: readonly unknown[];
}

function runKeywarden(bin: string, dir: string, on: string, work: string): Measured & { skipped: number } {
  const out = join(work, "keywarden.json");
  const emptyConfig = join(work, "keywarden.toml");
  writeFileSync(emptyConfig, "");
  rmSync(out, { force: true });
  const r = runNode(
    bin,
    ["--config", emptyConfig, "scan", ".", "--no-gitignore", "--format", "json", "--all", "-o", out],
    { cwd: dir },
  );
  if (r.status !== 0 && r.status !== 1) throw new Error(`keywarden exited ${r.status}: ${r.stderr.trim()}`);
  const report = JSON.parse(readFileSync(out, "utf8")) as KeywardenReport;
  return {
    tool: "keywarden",
    on,
    processes: 1,
    files: report.stats.files,
    bytes: report.stats.bytes,
    wallMs: r.wallMs,
    cpuMs: r.cpuMs,
    maxRssBytes: r.maxRssBytes,
    findings: report.findings.length,
    skipped: report.skipped.length,
  };
}

function runSecretlint(batches: readonly string[], bytes: number, on: string, work: string): Measured {
  const rc = join(work, "secretlintrc.json");
  writeFileSync(rc, JSON.stringify(SECRETLINT_RC));
  const out = join(work, "secretlint.json");
  let files = 0;
  let findings = 0;
  let wallMs = 0;
  let cpuMs = 0;
  let maxRssBytes = 0;
  for (const batch of batches) {
    rmSync(out, { force: true });
    const r = runNode(
      SECRETLINT_BIN,
      ["**/*", "--secretlintrc", rc, "--format", "json", "--no-color", "--output", out],
      { cwd: batch },
    );
    if (r.status !== 0) throw new Error(`secretlint exited ${r.status} in ${batch}: ${r.stderr.trim()}`);
    const results = JSON.parse(readFileSync(out, "utf8")) as SecretlintResult[];
    files += results.length;
    findings += results.reduce((n, res) => n + res.messages.length, 0);
    wallMs += r.wallMs;
    cpuMs += r.cpuMs;
    maxRssBytes = Math.max(maxRssBytes, r.maxRssBytes);
  }
  return {
    tool: "secretlint",
    on,
    processes: batches.length,
    files,
    bytes,
    wallMs,
    cpuMs,
    maxRssBytes,
    findings,
  };
}

/**
 * Proves both tools really scan: a file with an AWS key pair generated now (never a literal)
 * must give each at least one finding.
 */
function canaryCheck(bin: string, work: string): void {
  const dir = join(work, "canary");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const pick = (alphabet: string, n: number): string =>
    Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join("");
  const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const id = "AKIA" + pick(upper + "234567", 16);
  const key = pick(upper + upper.toLowerCase() + "0123456789+/", 40);
  writeFileSync(join(dir, "config.env"), `AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=${key}\n`);
  const kw = runKeywarden(bin, dir, "canary", work);
  const sl = runSecretlint([dir], 0, "canary", work);
  if (kw.findings === 0)
    throw new Error("keywarden found nothing in the canary file: the bench would measure nothing");
  if (sl.files !== 1 || sl.findings === 0)
    throw new Error("secretlint found nothing in the canary file: it is not scanning");
  console.log(
    `canary: keywarden ${kw.findings} findings, secretlint ${sl.findings} findings (both tools scan)`,
  );
}

const mbps = (m: Measured, ms: number): number => m.bytes / MB / (ms / 1000);

function row(m: Measured): string[] {
  const label =
    m.tool === "secretlint" ? `${m.tool} (${m.processes} ${m.processes === 1 ? "proc" : "procs"})` : m.tool;
  return [
    label,
    m.on,
    String(m.files),
    fixed(m.bytes / MB),
    fixed(m.wallMs / 1000, 2),
    fixed(mbps(m, m.wallMs)),
    fixed(m.cpuMs / 1000, 2),
    fixed(mbps(m, m.cpuMs)),
    fixed(m.maxRssBytes / MB, 0),
    String(m.findings),
  ];
}

const verdict = (ok: boolean): string => (ok ? "PASS" : "FAIL");

function runScanBench(): void {
  ensureCorpus();
  const files = corpusTextFiles();
  const corpusBytes = files.reduce((s, f) => s + f.size, 0);
  console.log(`corpus: ${files.length} text files, ${fixed(corpusBytes / MB)} MB of text in ${CORPUS_ROOT}`);
  if (corpusBytes < MIN_CORPUS) console.log(`warning: the corpus is below ${MIN_CORPUS / MB} MB`);

  const bin = keywardenCli();
  const work = join(TMP_DIR, "scan");
  mkdirSync(work, { recursive: true });
  console.log(`keywarden: ${bin}\nsecretlint: ${SECRETLINT_BIN} (preset-recommend)`);
  console.log(
    canPin()
      ? "each tool is pinned to core 0 (taskset -c 0)"
      : "warning: taskset not available: tools are not pinned to one core",
  );
  canaryCheck(bin, work);

  const sample = buildSample(files, {
    dir: join(BENCH_DIR, "sample"),
    minBytes: MIN_SAMPLE,
    batchSize: BATCH_SIZE,
  });
  console.log(
    `sample: every ${sample.step}th text file: ${sample.files} files, ${fixed(sample.bytes / MB)} MB in ${sample.dir}`,
  );

  console.log("running keywarden on the sample...");
  const kwSample = runKeywarden(bin, sample.dir, "sample", work);
  console.log("running secretlint on the sample in one process...");
  const slOne = runSecretlint([sample.dir], sample.bytes, "sample", work);
  console.log(
    `running secretlint on the sample in ${sample.batches.length} batches of up to ${BATCH_SIZE} files...`,
  );
  const slSample = runSecretlint(sample.batches, sample.bytes, "sample", work);
  console.log("running keywarden on the full corpus...");
  const kwFull = runKeywarden(bin, CORPUS_ROOT, "corpus", work);

  for (const m of [kwSample, slOne, slSample]) {
    if (m.files !== sample.files)
      console.log(`warning: ${m.tool} scanned ${m.files} of the ${sample.files} sample files`);
  }
  if (kwSample.bytes !== sample.bytes)
    console.log(`warning: keywarden scanned ${kwSample.bytes} bytes of the sample's ${sample.bytes}`);

  console.log("");
  console.log(
    table(
      ["tool", "on", "files", "MB", "wall s", "MB/s", "CPU s", "MB/CPU s", "peak RSS MB", "findings"],
      [kwSample, slOne, slSample, kwFull].map(row),
    ),
  );
  console.log(
    `(MB = 10^6 bytes; keywarden skipped ${kwFull.skipped} items of the corpus, see its JSON report for reasons)`,
  );

  const ratio = (peer: Measured, cpu: boolean): number =>
    cpu
      ? mbps(kwSample, kwSample.cpuMs) / mbps(peer, peer.cpuMs)
      : mbps(kwSample, kwSample.wallMs) / mbps(peer, peer.wallMs);
  const ratioWall = ratio(slSample, false);
  const fullMbps = mbps(kwFull, kwFull.wallMs);
  console.log("");
  console.log(
    `ratio keywarden/secretlint, sample, batched:     ${fixed(ratioWall)}x wall, ${fixed(ratio(slSample, true))}x CPU time`,
  );
  console.log(
    `ratio keywarden/secretlint, sample, one process: ${fixed(ratio(slOne, false))}x wall, ${fixed(ratio(slOne, true))}x CPU time`,
  );
  console.log(
    `target keywarden >= ${TARGET_MBPS} MB/s on one core (full corpus, wall):      ${fixed(fullMbps)} MB/s  ${verdict(fullMbps >= TARGET_MBPS)}`,
  );
  console.log(
    `target keywarden >= ${TARGET_RATIO}x secretlint (sample, batched, wall): ${fixed(ratioWall)}x  ${verdict(ratioWall >= TARGET_RATIO)}`,
  );
}

export const scanBench: BenchPart = {
  name: "scan",
  description:
    "scan throughput and peak memory, Keywarden against secretlint, on >= 200 MB of node_modules text",
  run: runScanBench,
};
