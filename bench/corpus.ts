/**
 * The scan bench corpus: real third-party source text (a node_modules tree nobody here wrote,
 * full of hashes, base64 and key-like names), installed once into .bench/corpus and reused.
 */
import { spawnSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { BENCH_DIR, MB } from "./measure.ts";

/** Large, text-heavy packages at exact versions: about 400 MB of text. */
const CORPUS_PACKAGES = [
  "typescript@5.9.3",
  "aws-sdk@2.1693.0",
  "googleapis@188.0.0",
  "@aws-sdk/client-s3@3.1175.0",
  "rxjs@7.8.2",
  "lodash@4.18.1",
  "moment@2.31.0",
  "core-js@3.51.0",
] as const;
/** Transitive dependencies resolve as of this date, so the tree is the same on every machine. */
const NPM_BEFORE = "2026-11-27T00:00:00Z";

export const CORPUS_DIR = join(BENCH_DIR, "corpus");
export const CORPUS_ROOT = join(CORPUS_DIR, "node_modules");
const STAMP = join(CORPUS_DIR, "bench-corpus.json");

/** Same test as Keywarden's file source: a NUL byte in the first 8000 bytes means binary. */
const BINARY_SNIFF = 8000;
/** Folders neither tool enters. */
const SKIPPED_DIRS = new Set([".git", ".hg", ".svn"]);

export interface CorpusFile {
  /** Path relative to CORPUS_ROOT, with "/" separators. */
  readonly rel: string;
  readonly abs: string;
  readonly size: number;
}

/** Installs the corpus unless the stamp says it is already there with the same package list. */
export function ensureCorpus(): void {
  const wanted = JSON.stringify({ packages: CORPUS_PACKAGES, before: NPM_BEFORE });
  if (existsSync(CORPUS_ROOT) && existsSync(STAMP) && readFileSync(STAMP, "utf8") === wanted) return;
  console.log(
    `building the corpus in ${CORPUS_DIR} (npm install of ${CORPUS_PACKAGES.length} pinned packages)...`,
  );
  rmSync(CORPUS_DIR, { recursive: true, force: true });
  mkdirSync(CORPUS_DIR, { recursive: true });
  writeFileSync(
    join(CORPUS_DIR, "package.json"),
    JSON.stringify({ name: "keywarden-bench-corpus", private: true }),
  );
  const r = spawnSync(
    "npm",
    [
      "install",
      "--prefix",
      CORPUS_DIR,
      "--no-save",
      "--no-package-lock",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      `--before=${NPM_BEFORE}`,
      ...CORPUS_PACKAGES,
    ],
    { cwd: CORPUS_DIR, stdio: "inherit" },
  );
  if (r.error !== undefined || r.status !== 0)
    throw new Error(`npm install of the corpus failed (exit ${r.status ?? "none"})`);
  writeFileSync(STAMP, wanted);
}

function isText(abs: string): boolean {
  const head = Buffer.alloc(BINARY_SNIFF);
  const fd = openSync(abs, "r");
  try {
    const n = readSync(fd, head, 0, BINARY_SNIFF, 0);
    return !head.subarray(0, n).includes(0);
  } finally {
    closeSync(fd);
  }
}

/** Every regular text file of the corpus (no symbolic links, no binaries), sorted by path. */
export function corpusTextFiles(): CorpusFile[] {
  const out: CorpusFile[] = [];
  const stack: [string, string][] = [[CORPUS_ROOT, ""]];
  while (stack.length > 0) {
    const [dir, rel] = stack.pop()!;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) stack.push([abs, r]);
      } else if (e.isFile() && isText(abs)) {
        out.push({ rel: r, abs, size: readSize(abs) });
      }
    }
  }
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

function readSize(abs: string): number {
  // statSync would do; reading warms the page cache so neither tool pays for the first read.
  return readFileSync(abs).length;
}

/** Files whose presence changes what one tool scans: ignore and config files of either tool. */
function changesScope(rel: string): boolean {
  const name = rel.slice(rel.lastIndexOf("/") + 1);
  return (
    name === ".keywardenignore" ||
    name === "keywarden.toml" ||
    name.startsWith(".secretlintrc") ||
    name.startsWith(".secretlintignore")
  );
}

export interface Sample {
  readonly dir: string;
  /** Subfolders of `dir`, each holding at most `batchSize` files. */
  readonly batches: readonly string[];
  readonly files: number;
  readonly bytes: number;
  /** Every `step`-th text file of the corpus in sorted order. */
  readonly step: number;
}

/**
 * A deterministic sample of the corpus, at least `minBytes`, hard-linked into `dir` in batches.
 * "node_modules" path segments are renamed, since secretlint never enters node_modules.
 *
 * @example
 *   const sample = buildSample(files, { dir, minBytes: 20 * MB, batchSize: 250 });
 */
export function buildSample(
  files: readonly CorpusFile[],
  options: { dir: string; minBytes: number; batchSize: number },
): Sample {
  const eligible = files.filter((f) => !changesScope(f.rel));
  let step = 10;
  let picked = eligible.filter((_, i) => i % step === 0);
  while (step > 1 && picked.reduce((s, f) => s + f.size, 0) < options.minBytes) {
    step--;
    picked = eligible.filter((_, i) => i % step === 0);
  }
  rmSync(options.dir, { recursive: true, force: true });
  const batches: string[] = [];
  picked.forEach((f, i) => {
    const batch = `b${String(Math.floor(i / options.batchSize)).padStart(3, "0")}`;
    if (i % options.batchSize === 0) batches.push(join(options.dir, batch));
    const target = join(
      options.dir,
      batch,
      ...f.rel.split("/").map((s) => (s === "node_modules" ? "_nm" : s)),
    );
    mkdirSync(dirname(target), { recursive: true });
    try {
      linkSync(f.abs, target);
    } catch {
      copyFileSync(f.abs, target);
    }
  });
  const bytes = picked.reduce((s, f) => s + f.size, 0);
  if (bytes < options.minBytes) console.log(`warning: the sample is only ${(bytes / MB).toFixed(1)} MB`);
  return { dir: options.dir, batches, files: picked.length, bytes, step };
}
