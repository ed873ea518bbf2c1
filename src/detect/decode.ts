/**
 * Detection through encodings: the plain matches of `scanText`, plus the matches found in
 * the decoded form of base64, base64url and hex blobs, URL-encoded text and JSON or
 * backslash escapes, each pointing at the encoded span of the original text and naming the
 * decoder that revealed it. Pure, like the engine: the jobs worker runs it as it is.
 */
import { DECODER_NAMES, type DecoderName } from "./decoders/layer.ts";
import { blobLayers } from "./decoders/base64.ts";
import { escapeLayers, type KeywordProbe } from "./decoders/escapes.ts";
import { scanText, type Catalogue, type Match } from "./engine.ts";

export { DECODER_NAMES, type DecoderName } from "./decoders/layer.ts";

/**
 * Deepest nesting of encodings that is peeled (base64 inside a URL inside JSON is 3).
 *
 * @example
 *   detectInText(text, catalogue, { depth: MAX_DECODE_DEPTH, decoders: DECODER_NAMES });
 */
export const MAX_DECODE_DEPTH = 3;

/**
 * Which encodings are seen through, and how many layers deep. Plain data.
 *
 * @example
 *   const options: DecodeOptions = { depth: 1, decoders: ["base64", "url"] };
 */
export interface DecodeOptions {
  /** Layers of encoding peeled: 0 scans the plain text only; at most MAX_DECODE_DEPTH. */
  readonly depth: number;
  readonly decoders: readonly DecoderName[];
}

/**
 * One layer, every decoder: the config's defaults.
 *
 * @example
 *   detectInText(text, catalogue, DEFAULT_DECODE_OPTIONS);
 */
export const DEFAULT_DECODE_OPTIONS: DecodeOptions = Object.freeze({ depth: 1, decoders: DECODER_NAMES });

/**
 * A match of the engine. A match found in decoded text has `decoder` set, `secret` is the
 * decoded secret, and `start`/`end` (and `matchStart`/`matchEnd`) are the span of the
 * original text that encodes it (for base64, rounded out to whole 4-character groups).
 *
 * @example
 *   const m: DetectedMatch = detectInText(text, catalogue)[0]!; // m.decoder === "base64"
 */
export interface DetectedMatch extends Match {
  /** The decoders that revealed it, outermost first, joined by ">": "base64", "url>base64". */
  readonly decoder?: string;
}

type SpanMap = (start: number, end: number) => readonly [number, number];

interface PeelContext {
  readonly catalogue: Catalogue;
  readonly enabled: ReadonlySet<DecoderName>;
  readonly keywordChars: ReadonlySet<number>;
  readonly probe: KeywordProbe;
  readonly found: DetectedMatch[];
}

const PROBES = new WeakMap<Catalogue, KeywordProbe>();

/** Whether a keyword of the catalogue covers a character of a (small) decoded window. */
function probeOf(catalogue: Catalogue): KeywordProbe {
  let probe = PROBES.get(catalogue);
  if (probe === undefined) {
    const { automaton } = catalogue;
    const lengths = automaton.keywords.map((k) => k.length);
    probe = {
      reach: Math.max(1, ...lengths),
      covers(decoded, at) {
        let hit = false;
        automaton.scan(decoded, (k, start) => {
          if (start <= at && at < start + lengths[k]!) hit = true;
        });
        return hit;
      },
    };
    PROBES.set(catalogue, probe);
  }
  return probe;
}

const KEYWORD_CHARS = new WeakMap<Catalogue, ReadonlySet<number>>();

/** Character codes that occur in some keyword, in both cases: an escape to one may hide it. */
function keywordCharsOf(catalogue: Catalogue): ReadonlySet<number> {
  let chars = KEYWORD_CHARS.get(catalogue);
  if (chars === undefined) {
    const set = new Set<number>();
    for (const k of catalogue.automaton.keywords) {
      for (const ch of k) {
        set.add(ch.charCodeAt(0));
        set.add(ch.toUpperCase().charCodeAt(0));
      }
    }
    chars = set;
    KEYWORD_CHARS.set(catalogue, chars);
  }
  return chars;
}

const ENABLED = new WeakMap<DecodeOptions, ReadonlySet<DecoderName>>();

/** The decoder set of `options`, built once per options object (a scan passes the same one). */
function enabledOf(options: DecodeOptions): ReadonlySet<DecoderName> {
  let set = ENABLED.get(options);
  if (set === undefined) {
    set = new Set(options.decoders);
    ENABLED.set(options, set);
  }
  return set;
}

const identity: SpanMap = (start, end) => [start, end];

/**
 * Whether a span of `text` holds a keyword, from the keyword starts of the scan of `text`
 * (sorted here on first use); an empty list means none anywhere.
 */
function keywordTester(starts: readonly number[]): (start: number, end: number) => boolean {
  let sorted: Int32Array | undefined;
  return (start, end) => {
    if (starts.length === 0) return false;
    // Hits arrive in order of their ends; a typed array sorts numerically, natively.
    sorted ??= Int32Array.from(starts).sort();
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && sorted[lo]! < end;
  };
}

/** Decodes `text` one layer, scans each layer, and peels deeper while depth is left. */
function peel(
  text: string,
  keywordStarts: number[],
  toOriginal: SpanMap,
  chain: string,
  depthLeft: number,
  ctx: PeelContext,
): void {
  const blobs = blobLayers(text, ctx.enabled);
  // With a layer left to peel, an escaped region may hide a blob that hides a keyword: every
  // region is decoded then, which costs more (depth above 1 is opt-in).
  const worthDecoding = depthLeft > 1 ? () => true : keywordTester(keywordStarts);
  const escaped = escapeLayers(text, ctx.enabled, ctx.keywordChars, worthDecoding, ctx.probe);
  for (const layer of escaped.length === 0 ? blobs : blobs.concat(escaped)) {
    const name = chain === "" ? layer.decoder : `${chain}>${layer.decoder}`;
    const map: SpanMap = (s, e) => {
      const [a, b] = layer.toInput(s, e);
      return toOriginal(a, b);
    };
    const starts: number[] = [];
    for (const m of scanText(layer.text, ctx.catalogue, depthLeft > 1 ? starts : undefined)) {
      const [start, end] = map(m.start, m.end);
      const [matchStart, matchEnd] = map(m.matchStart, m.matchEnd);
      ctx.found.push({ ...m, start, end, matchStart, matchEnd, decoder: name });
    }
    if (depthLeft > 1) peel(layer.text, starts, map, name, depthLeft - 1, ctx);
  }
}

const overlaps = (a: Match, b: Match): boolean => a.start < b.end && b.start < a.end;

/**
 * Whether decoded match `d` repeats one already kept: the same rule and secret on an
 * overlapping span, or a span inside a kept match's secret (unless only a generic rule
 * covers it and `d` is a provider rule's), or a generic match overlapping a provider one.
 */
function repeats(d: DetectedMatch, kept: readonly DetectedMatch[]): boolean {
  for (const k of kept) {
    if (!overlaps(k, d)) continue;
    if (k.rule.id === d.rule.id && k.secret === d.secret) return true;
    const kGeneric = k.rule.generic === true;
    const dGeneric = d.rule.generic === true;
    if (k.start <= d.start && d.end <= k.end && (!kGeneric || dGeneric)) return true;
    if (dGeneric && !kGeneric) return true;
  }
  return false;
}

/**
 * Finds every secret in `text`, plain or behind up to `options.depth` layers of encoding.
 * A secret found both plain and decoded on one span is reported once, plain.
 *
 * @example
 *   const text = "data:\n  credentials: " + Buffer.from("aws_access_key_id = AKIA...").toString("base64");
 *   detectInText(text, catalogue, { depth: 1, decoders: ["base64"] })[0]?.decoder // "base64"
 */
export function detectInText(
  text: string,
  catalogue: Catalogue,
  options: DecodeOptions = DEFAULT_DECODE_OPTIONS,
): DetectedMatch[] {
  const depth = Math.min(options.depth, MAX_DECODE_DEPTH);
  if (depth <= 0 || options.decoders.length === 0) return scanText(text, catalogue);
  const keywordStarts: number[] = [];
  const plain: DetectedMatch[] = scanText(text, catalogue, keywordStarts);
  const ctx: PeelContext = {
    catalogue,
    enabled: enabledOf(options),
    keywordChars: keywordCharsOf(catalogue),
    probe: probeOf(catalogue),
    found: [],
  };
  peel(text, keywordStarts, identity, "", depth, ctx);
  if (ctx.found.length === 0) return plain;
  const kept = [...plain];
  for (const d of ctx.found) if (!repeats(d, kept)) kept.push(d);
  return kept.sort((a, b) => a.start - b.start || b.end - a.end);
}
