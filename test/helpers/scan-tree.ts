/**
 * A realistic tree for comparing scans run with different `--jobs`: many small source files
 * holding every built-in rule's positive examples (generated at run time), a few large files,
 * one file larger than the 8 MiB chunk size with keys on both sides of the chunk boundary,
 * plus things a scan skips or suppresses (binary, allowlisted path, inline marker, a custom
 * rule's token). Deterministic: the same tree on every run.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createExampleGen } from "../../src/detect/example-gen.ts";
import { BUILTIN_RULES } from "../../src/detect/rules/index.ts";
import { gitIn, initRepo } from "./git.ts";

const MiB = 1024 * 1024;

/** A token only the test's custom rule `[[detect.rules]] id = "acme-internal"` finds. */
export function acmeToken(seed: string): string {
  return "acme_live_" + createExampleGen(seed).alnum(28);
}

/** A custom rule for keywarden.toml that finds `acmeToken`s. */
export const ACME_RULE_TOML = `
[[detect.rules]]
id = "acme-internal"
description = "ACME internal service token"
regex = '''acme_live_[A-Za-z0-9]{28}'''
keywords = ["acme_live_"]
entropy = 3
`;

/** Source-like filler: keywords that trigger the prefilter, hashes and URLs that must not match. */
function fillerLines(seed: string, count: number): string[] {
  const g = createExampleGen(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 8) {
      case 0:
        lines.push(`export function handler${i}(event, context) {`);
        break;
      case 1:
        lines.push(`  const token = process.env.API_TOKEN_${i} ?? "";`);
        break;
      case 2:
        lines.push(`  // sha256: ${g.hex(64)}`);
        break;
      case 3:
        lines.push(`  const url = "https://api.example.com/v1/items/${g.alnum(12)}?page=${i}";`);
        break;
      case 4:
        lines.push(`  if (!token) throw new Error("missing secret key for request ${i}");`);
        break;
      case 5:
        lines.push(`  const integrity = "sha512-${g.base64(86)}==";`);
        break;
      case 6:
        lines.push(`  return fetch(url, { headers: { authorization: \`Bearer \${token}\` } });`);
        break;
      default:
        lines.push("}");
    }
  }
  return lines;
}

/** Every built-in rule's positive example lines, in catalogue order. */
function exampleLines(): string[] {
  const out: string[] = [];
  for (const rule of BUILTIN_RULES)
    for (const p of rule.examples.positives(createExampleGen(`jobs-${rule.id}`))) out.push(p.text);
  return out;
}

/** Writes `lines` of filler to about `bytes`, with `secrets` spread evenly and one at `near` bytes. */
function largeFile(
  path: string,
  seed: string,
  bytes: number,
  secrets: readonly string[],
  near?: number,
): void {
  // Bundles are mostly plain code: one line in eight of the keyword-laden filler.
  const filler =
    fillerLines(seed, 500)
      .flatMap((l, i) => [
        l,
        ...Array.from({ length: 7 }, (_, k) => `  const v${i}_${k} = compute(${i}, items[${k}]);`),
      ])
      .join("\n") + "\n";
  // With `near`, the first key goes on the line that straddles that byte offset.
  const spread = near === undefined ? secrets : secrets.slice(1);
  const parts: string[] = [];
  let size = 0;
  let s = 0;
  const add = (text: string): void => {
    parts.push(text);
    size += Buffer.byteLength(text);
  };
  const every = Math.max(1, Math.floor(bytes / filler.length / (spread.length + 1)));
  for (let block = 0; size < bytes; block++) {
    if (near !== undefined && size < near && size + filler.length >= near) {
      const cut = filler.lastIndexOf("\n", near - size - 20) + 1;
      add(filler.slice(0, cut));
      add(`${" ".repeat(near - size - 10)}${secrets[0]!}\n`);
      add(filler.slice(cut));
      continue;
    }
    add(filler);
    if (block % every === every - 1 && s < spread.length) add(`${spread[s++]!}\n`);
  }
  while (s < spread.length) add(`${spread[s++]!}\n`);
  writeFileSync(path, parts.join(""));
}

/**
 * Builds the tree in `dir` and returns its size in bytes. About 14 MB: 900 small files,
 * three 0.5-2 MiB files, one 9 MB file that file-source reads in two chunks.
 *
 * @example
 *   buildScanTree(dir); // then scan `dir` with --jobs 1 and --jobs 2
 */
export function buildScanTree(dir: string): number {
  const examples = exampleLines();
  let total = 0;
  const write = (rel: string, text: string): void => {
    const path = join(dir, rel);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
    total += Buffer.byteLength(text);
  };
  // Small files: one example each, amid filler; the same example again in a later file
  // (a duplicate across files), and some files with only filler.
  for (let i = 0; i < 900; i++) {
    const lines = fillerLines(`small-${i}`, 20 + (i % 40));
    if (i % 3 !== 2) {
      const example = examples[i % examples.length]!;
      lines.splice(i % lines.length, 0, example);
    }
    if (i % 97 === 0) lines.push(`const acme = "${acmeToken(`small-${i}`)}";`);
    if (i % 101 === 0) lines.push(`const ignored = "${acmeToken(`allow-${i}`)}"; // keywarden:allow`);
    // A key inside a base64 blob: found by the decoders, in whichever thread scans it.
    if (i % 41 === 0)
      lines.push(`const blob = "${Buffer.from(examples[(i * 7) % examples.length]!).toString("base64")}";`);
    write(`packages/pkg-${i % 23}/src/module-${i}.ts`, lines.join("\n") + "\n");
  }
  write("vendor/allowlisted/keys.env", examples.slice(0, 20).join("\n") + "\n");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "assets", "logo.bin"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2, 3]));

  const spread = (from: number, n: number): string[] =>
    Array.from({ length: n }, (_, k) => examples[(from + k * 7) % examples.length]!);
  mkdirSync(join(dir, "dist"), { recursive: true });
  const large: [string, number, string[], number?][] = [
    ["dist/bundle-a.js", MiB / 2, spread(0, 20)],
    ["dist/bundle-b.js", 1 * MiB, [...spread(5, 30), acmeToken("bundle-b")]],
    ["dist/bundle-c.js", 2 * MiB, spread(11, 40)],
    // file-source reads 8 MiB chunks: this file is two chunks, with a key near the boundary.
    ["dist/huge.js", 9 * MiB, [examples[3]!, ...spread(17, 60)], 8 * MiB],
  ];
  for (const [rel, bytes, secrets, near] of large) {
    largeFile(join(dir, rel), rel, bytes, secrets, near);
    total += bytes;
  }
  return total;
}

/**
 * A git history of 30 commits in `dir`: a first commit of 200 small files and a 2 MiB
 * bundle, then commits that edit files, add keys, delete files that held keys, rebuild the
 * bundle and put keys in commit messages. About 8 MB of distinct blobs.
 *
 * @example
 *   buildScanHistory(dir); // then scan --git with --jobs 1 and --jobs 2
 */
export function buildScanHistory(dir: string): void {
  initRepo(dir);
  const examples = exampleLines();
  const file = (i: number): string => join(dir, `src/mod-${i % 200}.js`);
  mkdirSync(join(dir, "src"), { recursive: true });
  for (let i = 0; i < 200; i++) {
    const lines = fillerLines(`hist-${i}`, 30 + (i % 20));
    if (i % 4 === 0) lines.splice(i % lines.length, 0, examples[i % examples.length]!);
    writeFileSync(file(i), lines.join("\n") + "\n");
  }
  largeFile(join(dir, "bundle.js"), "hist-bundle-0", 2 * MiB, [examples[1]!, examples[2]!]);
  gitIn(dir, ["add", "-A"]);
  gitIn(dir, ["commit", "-qm", "initial import"], { GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z" });
  for (let c = 1; c < 30; c++) {
    for (let k = 0; k < 12; k++) {
      const i = (c * 37 + k * 11) % 200;
      const lines = fillerLines(`hist-${i}-${c}`, 25 + k);
      lines.splice(k, 0, examples[(c * 12 + k) % examples.length]!);
      writeFileSync(file(i), lines.join("\n") + "\n");
    }
    if (c % 5 === 0) rmSync(file(c * 7), { force: true });
    if (c % 10 === 0) largeFile(join(dir, "bundle.js"), `hist-bundle-${c}`, 2 * MiB, [examples[c]!]);
    const message = c % 7 === 0 ? `deploy ${c}\n\nused ${acmeToken(`msg-${c}`)} for staging` : `change ${c}`;
    gitIn(dir, ["add", "-A"]);
    gitIn(dir, ["commit", "-qm", message], {
      GIT_AUTHOR_DATE: `2026-01-${String(c + 1).padStart(2, "0")}T00:00:00Z`,
    });
  }
}
