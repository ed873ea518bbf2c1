/**
 * `npm run ml:data`: builds the classifier's labelled data set, offline and reproducibly,
 * into .ml/samples.jsonl (gitignored: it holds generated key-shaped values). See ml/DATA.md.
 *
 * Every sample is a candidate the engine produced, so features are computed exactly as at
 * scan time: the text around it (a window of the document), its path, the rule that fired.
 * - Positives: each rule's example generator, with fresh seeds, placed in context templates.
 * - Hard negatives: the same keys in test files and fixtures, test-mode keys, documentation
 *   keys, placeholders, wrong-checksum and truncated keys, words and hashes in key-like names.
 * - Mined negatives: every candidate in real third-party text (a pinned list of npm packages
 *   and Debian documentation, ml/sources.json).
 * Candidates are collected with the real catalogue ("strict") and with a relaxed copy that
 * has no entropy floors or validators (near misses, used for training only: the held-out
 * metrics count strict candidates only, the ones a scan can meet).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { compileCatalogue, scanText, type Match } from "../src/detect/engine.ts";
import { createExampleGen } from "../src/detect/example-gen.ts";
import type { ExampleGen, Rule } from "../src/detect/rule.ts";
import { BUILTIN_RULES } from "../src/detect/rules/index.ts";
import { apiDocPlacement, assignment, placement, variableName, type Placement } from "./ml-templates.ts";

const ROOT = join(import.meta.dirname, "..");
const OUT_DIR = join(ROOT, ".ml");
/** Positive variants per rule example, and test-fixture variants. */
const VARIANTS = 5;
const FIXTURE_VARIANTS = 2;
const MAX_FILE = 1024 * 1024;
const WINDOW = 600;
const MAX_NEAR_MISSES_PER_DOC = 20;

export type Split = "train" | "val" | "test";

/** One candidate with its label and enough text around it to compute its features. */
export interface Sample {
  readonly doc: string;
  readonly source: string;
  readonly split: Split;
  readonly label: 0 | 1;
  /** Found by the real catalogue (a scan can meet it), not only by the relaxed one. */
  readonly strict: boolean;
  readonly rule: string;
  readonly path: string;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly matchStart: number;
  readonly matchEnd: number;
  readonly entropy: number;
}

/**
 * The split of a document: a hash of its id, so every candidate of a document (and every
 * run) lands in the same split: 70% train, 15% validation, 15% test.
 *
 * @example
 *   splitOf("npm:fastify@5.12.8/README.md") // "train"
 */
export function splitOf(doc: string): Split {
  const h = createHash("sha256").update(doc).digest().readUInt32BE(0) % 100;
  return h < 70 ? "train" : h < 85 ? "val" : "test";
}

const strictCatalogue = compileCatalogue(BUILTIN_RULES);
const relaxedCatalogue = compileCatalogue(
  BUILTIN_RULES.map((r): Rule => {
    const { validate: _v, ...rest } = r;
    return { ...rest, entropy: 0 };
  }),
);

const samples: Sample[] = [];
const counts = new Map<string, { pos: number; neg: number }>();

function windowed(
  doc: string,
  source: string,
  label: 0 | 1,
  strict: boolean,
  path: string,
  text: string,
  m: Match,
): void {
  const ws = Math.max(0, m.matchStart - WINDOW, m.start - WINDOW);
  const we = Math.min(text.length, Math.max(m.matchEnd, m.end) + WINDOW);
  samples.push({
    doc,
    source,
    split: splitOf(doc),
    label,
    strict,
    rule: m.rule.id,
    path,
    text: text.slice(ws, we),
    start: m.start - ws,
    end: m.end - ws,
    matchStart: m.matchStart - ws,
    matchEnd: m.matchEnd - ws,
    entropy: m.entropy,
  });
  const c = counts.get(source) ?? { pos: 0, neg: 0 };
  if (label === 1) c.pos++;
  else c.neg++;
  counts.set(source, c);
}

const key = (m: Match): string => `${m.rule.id}\0${m.start}\0${m.end}`;

/** Candidates of a text: the strict ones, then relaxed-only ones, each once per span. */
function candidates(text: string): { m: Match; strict: boolean }[] {
  const strict = scanText(text, strictCatalogue);
  const seen = new Set(strict.map(key));
  const spans = new Set(strict.map((m) => `${m.start}\0${m.end}`));
  const out = strict.map((m) => ({ m, strict: true }));
  for (const m of scanText(text, relaxedCatalogue)) {
    // A relaxed candidate on a span the real catalogue already reports adds nothing.
    if (seen.has(key(m)) || spans.has(`${m.start}\0${m.end}`)) continue;
    out.push({ m, strict: false });
  }
  return out;
}

/**
 * Places `snippet` (which holds `value` once) in a file and records the candidates that cover
 * the value. Returns whether the real catalogue found it.
 */
function plant(
  doc: string,
  source: string,
  label: 0 | 1,
  gen: ExampleGen,
  test: boolean,
  snippet: string,
  value: string,
  rename?: string,
  nearMissOnly = false,
  where?: Placement,
): boolean {
  const p = where ?? placement(gen, test);
  const body = rename === undefined ? snippet : assignment(gen, p.kind, rename, value);
  const encoded = p.encode(body);
  const at = encoded.indexOf(value);
  if (at < 0) return false;
  const text = p.before + encoded + p.after;
  const vs = p.before.length + at;
  const ve = vs + value.length;
  let found = false;
  for (const { m, strict } of candidates(text)) {
    if (m.start >= ve || m.end <= vs) continue;
    // A truncated or altered key the real catalogue still accepts has a valid shape: it is
    // indistinguishable from a real key, so it would only be label noise.
    if (nearMissOnly && strict) continue;
    windowed(doc, source, label, strict, p.path, text, m);
    found ||= strict;
  }
  return found;
}

const TEST_MODE_RULES = new Set(["stripe-test-key", "flutterwave-test-secret-key"]);

/** A value of the same shape with its random body replaced, keeping a recognisable prefix. */
function placeholderOf(gen: ExampleGen, value: string): string {
  const cut = Math.max(value.lastIndexOf("_", 12), value.lastIndexOf("-", 12)) + 1;
  const prefix = value.slice(0, cut);
  const n = value.length - cut;
  const body = gen.pick([
    () => "x".repeat(n),
    () => "X".repeat(n),
    () => "0".repeat(n),
    () => "1234567890abcdefghijklmnopqrstuvwxyz".repeat(8).slice(0, n),
    () => value.slice(cut, Math.max(cut, value.length - 7)).slice(0, n - 7) + "EXAMPLE",
    () => "your_api_key_here".padEnd(n, "_").slice(0, Math.max(n, 17)),
    () => "abcd".repeat(n).slice(0, n),
    () => "*".repeat(n),
  ])();
  return prefix + body;
}

function positivesAndHardNegatives(): void {
  for (const rule of BUILTIN_RULES) {
    const testMode = TEST_MODE_RULES.has(rule.id);
    for (let v = 0; v < VARIANTS + FIXTURE_VARIANTS; v++) {
      const gen = createExampleGen(`ml:${rule.id}:${v}`);
      const fixture = v >= VARIANTS;
      const examples = rule.examples.positives(gen);
      examples.forEach((ex, i) => {
        const doc = `syn:${rule.id}:${v}:${i}`;
        const source = testMode ? "hard:test-mode" : fixture ? "hard:fixture" : "synthetic:positive";
        const label = testMode || fixture ? 0 : 1;
        // Half the time the key goes in a fresh assignment; the rule's own line otherwise,
        // or when the rule needs context the assignment lacks.
        const rename =
          !ex.text.includes("\n") && gen.int(0, 1) === 1 ? variableName(gen, rule.provider) : undefined;
        if (!plant(doc, source, label, gen, fixture, ex.text, ex.secret, rename) && rename !== undefined) {
          plant(doc + ":own", source, label, gen, fixture, ex.text, ex.secret);
        }
        if (v === 0) {
          plant(
            `${doc}:api-doc`,
            "hard:api-doc",
            0,
            gen,
            false,
            ex.text,
            ex.secret,
            undefined,
            false,
            apiDocPlacement(gen),
          );
        }
        if (v >= 2) return;
        // Hard negatives from the same example, in a normal (non-test) file.
        const ph = placeholderOf(gen, ex.secret);
        if (ph !== ex.secret)
          plant(`${doc}:placeholder`, "hard:placeholder", 0, gen, false, ex.text.replace(ex.secret, ph), ph);
        const trunc = ex.secret.slice(0, Math.max(8, Math.floor(ex.secret.length * 0.7)));
        plant(
          `${doc}:truncated`,
          "hard:truncated",
          0,
          gen,
          false,
          ex.text.replace(ex.secret, trunc),
          trunc,
          undefined,
          true,
        );
        if (rule.validate !== undefined) {
          const last = ex.secret.at(-1)!;
          const wrong = ex.secret.slice(0, -1) + (last === "A" ? "B" : "A");
          plant(
            `${doc}:checksum`,
            "hard:checksum",
            0,
            gen,
            false,
            ex.text.replace(ex.secret, wrong),
            wrong,
            undefined,
            true,
          );
        }
        if (/live/.test(ex.secret)) {
          const tm = ex.secret.replace("live", "test");
          plant(`${doc}:test-mode`, "hard:test-mode", 0, gen, false, ex.text.replace(ex.secret, tm), tm);
        }
      });
    }
  }
}

/** Documentation keys: AWS's published example pair and EXAMPLE-suffixed look-alikes. */
function documentationKeys(): void {
  const awsId = "AKIA" + "IOSFODNN7" + "EXAMPLE";
  // Built from parts so that this file holds nothing the scanner (rightly) reports.
  const awsSecret = ["wJalrXUtnFEMI", "K7MDENG", "bPxRfiCY"].join("/") + "EXAMPLEKEY";
  const awsIds = [awsId, "AKIAI44QH8DHB" + "EXAMPLE", "ASIAIOSFODNN7" + "EXAMPLE"];
  const awsSecrets = [awsSecret, ["je7MtGbClwBF", "2Zp9Utk", "h3yCo8nvb"].join("/") + "EXAMPLEKEY"];
  for (let v = 0; v < 40; v++) {
    const gen = createExampleGen(`ml:doc-keys:${v}`);
    const id = gen.pick(awsIds);
    const secret = gen.pick(awsSecrets);
    const snippet = gen.pick([
      `aws_access_key_id = ${id}\naws_secret_access_key = ${secret}`,
      `AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=${secret}`,
      `export AWS_ACCESS_KEY_ID="${id}"\nexport AWS_SECRET_ACCESS_KEY="${secret}"`,
    ]);
    plant(`doc-keys:${v}:id`, "hard:documentation-key", 0, gen, false, snippet, id);
    plant(`doc-keys:${v}:secret`, "hard:documentation-key", 0, gen, false, snippet, secret);
  }
}

const WORDS = [
  "correct",
  "horse",
  "battery",
  "staple",
  "Secret",
  "Token",
  "Dev",
  "Local",
  "Sample",
  "Default",
  "Session",
  "Cookie",
  "Name",
  "Header",
  "Value",
  "Config",
  "Internal",
  "Service",
];

/** Words, identifiers, hashes, UUIDs and integrity strings in key-like names. */
function keyLikeNegatives(): void {
  for (let v = 0; v < 600; v++) {
    const gen = createExampleGen(`ml:keylike:${v}`);
    const words = v % 2 === 0;
    // Words go in credential names (a weak or made-up value); hashes and ids only in names
    // that say what they are: a random hex string in `api_key` may well be a real key.
    const value = words
      ? gen.pick([
          () => `${gen.pick(WORDS)}${gen.pick(WORDS)}${gen.pick(WORDS)}`,
          () =>
            `${gen.pick(WORDS).toUpperCase()}_${gen.pick(WORDS).toUpperCase()}_${gen.pick(WORDS).toUpperCase()}`,
          () => `${gen.pick(WORDS).toLowerCase()}-${gen.pick(WORDS).toLowerCase()}-${gen.int(1, 99)}`,
          () =>
            `${gen.pick(WORDS).toLowerCase()}.${gen.pick(WORDS).toLowerCase()}.${gen.pick(WORDS).toLowerCase()}`,
        ])()
      : gen.pick([
          () => gen.uuid(),
          () => `sha512-${gen.base64Bytes(64)}`,
          () => `sha256:${gen.hex(64)}`,
          () => gen.hex(40),
        ])();
    const name = words
      ? gen.pick(["api_key", "client_secret", "password", "authToken", "secret_token", "SESSION_SECRET"])
      : gen.pick([
          "integrity",
          "commit_sha",
          "checksum",
          "etag",
          "requestId",
          "secretRef",
          "token_hash",
          "secret_id",
        ]);
    const p = placement(gen, false);
    plant(`keylike:${v}`, "hard:key-like", 0, gen, false, assignment(gen, p.kind, name, value), value);
  }
}

interface Sources {
  readonly npm: readonly string[];
  readonly debian: readonly string[];
}

function* walk(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const abs = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === "node_modules" || e.name === ".git") continue;
      yield* walk(abs);
    } else if (e.isFile()) yield abs;
  }
}

function readText(abs: string): string | undefined {
  if (statSync(abs).size > MAX_FILE) return undefined;
  let buf = readFileSync(abs);
  if (abs.endsWith(".gz")) {
    try {
      buf = gunzipSync(buf);
    } catch {
      return undefined;
    }
    if (buf.length > MAX_FILE) return undefined;
  }
  if (buf.subarray(0, 8000).includes(0)) return undefined;
  return buf.toString("utf8");
}

function mine(docPrefix: string, source: string, root: string, pathPrefix: string): number {
  let bytes = 0;
  for (const abs of walk(root)) {
    const text = readText(abs);
    if (text === undefined) continue;
    bytes += text.length;
    const rel = relative(root, abs).split("\\").join("/").replace(/\.gz$/, "");
    const doc = `${docPrefix}/${rel}`;
    // A few documents (a generated API listing) hold thousands of near-identical near misses.
    let taken = 0;
    for (const { m, strict } of candidates(text)) {
      if (!strict && taken >= MAX_NEAR_MISSES_PER_DOC) continue;
      if (!strict) taken++;
      windowed(doc, source, 0, strict, `${pathPrefix}${rel}`, text, m);
    }
  }
  return bytes;
}

/** Mines the pinned real-text sources; returns a summary of what was present. */
function realText(sources: Sources): {
  npm: string[];
  missingNpm: string[];
  debian: string[];
  missingDebian: string[];
  bytes: number;
  licenses: Record<string, number>;
} {
  const present: string[] = [];
  const missing: string[] = [];
  const licenses: Record<string, number> = {};
  let bytes = 0;
  for (const spec of sources.npm) {
    const at = spec.lastIndexOf("@");
    const name = spec.slice(0, at);
    const version = spec.slice(at + 1);
    const dir = join(ROOT, "node_modules", name);
    const pj = join(dir, "package.json");
    const meta = existsSync(pj)
      ? (JSON.parse(readFileSync(pj, "utf8")) as { version?: string; license?: unknown })
      : undefined;
    if (meta?.version !== version) {
      missing.push(spec);
      continue;
    }
    present.push(spec);
    const lic = typeof meta.license === "string" ? meta.license : "unknown";
    licenses[lic] = (licenses[lic] ?? 0) + 1;
    bytes += mine(`npm:${spec}`, "mined:npm", dir, "");
  }
  const debPresent: string[] = [];
  const debMissing: string[] = [];
  for (const pkg of sources.debian) {
    const dir = join("/usr/share/doc", pkg);
    if (!existsSync(dir)) {
      debMissing.push(pkg);
      continue;
    }
    debPresent.push(pkg);
    bytes += mine(`deb:${pkg}`, "mined:debian", dir, "");
  }
  return {
    npm: present,
    missingNpm: missing,
    debian: debPresent,
    missingDebian: debMissing,
    bytes,
    licenses,
  };
}

function main(): void {
  const sources = JSON.parse(readFileSync(join(ROOT, "ml", "sources.json"), "utf8")) as Sources;
  positivesAndHardNegatives();
  documentationKeys();
  keyLikeNegatives();
  const real = realText(sources);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, "samples.jsonl"), samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
  const summary = {
    samples: samples.length,
    strict: samples.filter((s) => s.strict).length,
    bySource: Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : 1))),
    bySplit: Object.fromEntries(
      (["train", "val", "test"] as const).map((sp) => {
        const xs = samples.filter((s) => s.split === sp);
        return [
          sp,
          {
            samples: xs.length,
            positives: xs.filter((s) => s.label === 1).length,
            strict: xs.filter((s) => s.strict).length,
          },
        ];
      }),
    ),
    npmPackages: real.npm.length,
    npmMissing: real.missingNpm,
    npmLicenses: real.licenses,
    debianPackages: real.debian.length,
    debianMissing: real.missingDebian,
    realTextMB: Math.round(real.bytes / 1e5) / 10,
  };
  writeFileSync(join(OUT_DIR, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
  console.log(JSON.stringify(summary, null, 2));
}

main();
