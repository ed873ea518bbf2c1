/**
 * Base64, base64url and hex blobs: one pass over the text finds runs of token characters,
 * cheap tests reject most of them before anything is decoded, and only runs that decode to
 * printable text become layers.
 */
import { type DecodedLayer, type DecoderName } from "./layer.ts";
import { bytesToText, looksLikeTextStart } from "./text-check.ts";

/**
 * Shortest base64 run worth decoding: 15 bytes, about the shortest key with its name.
 *
 * @example
 *   blobLayers("x".repeat(MIN_BASE64 - 1), new Set(["base64"])) // []
 */
export const MIN_BASE64 = 20;
/**
 * Shortest hex run worth decoding: 16 bytes.
 *
 * @example
 *   blobLayers("41".repeat(MIN_HEX / 2 - 1), new Set(["hex"])) // []
 */
export const MIN_HEX = 32;
/**
 * Longest blob decoded. Larger base64 blobs in real trees are bundles, inline source maps
 * and media, which either decode to binary or repeat text that is scanned elsewhere.
 *
 * @example
 *   blobLayers("QUFB".repeat(MAX_BLOB), new Set(["base64"])) // [] (too long)
 */
export const MAX_BLOB = 256 * 1024;
/** How much of a large blob is decoded first to decide whether the rest is worth it. */
const PROBE = 512;

// Character classes of the run scanner, as bit flags.
const ALNUM = 1;
const STD = 2; // + and /, only in standard base64
const URL_SAFE = 4; // - and _, only in base64url
const NOT_HEX = 8;

// One entry per UTF-16 code unit: the hot loop reads it without a range check.
const CLASS = new Uint8Array(65536);
for (let c = 48; c <= 57; c++) CLASS[c] = ALNUM;
for (let c = 65; c <= 90; c++) CLASS[c] = ALNUM | (c <= 70 ? 0 : NOT_HEX);
for (let c = 97; c <= 122; c++) CLASS[c] = ALNUM | (c <= 102 ? 0 : NOT_HEX);
CLASS[43] = STD;
CLASS[47] = STD;
CLASS[45] = URL_SAFE;
CLASS[95] = URL_SAFE;

/** The 6-bit value of each base64 or base64url character; -1 for others. */
const SEXTET = new Int8Array(128).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  .split("")
  .forEach((ch, i) => (SEXTET[ch.charCodeAt(0)] = i));
SEXTET[45] = 62;
SEXTET[95] = 63;

/**
 * True when the groups of 4 characters look like base64 of ASCII text, where every byte is
 * below 0x80: the first character's value is below 32, the second has bit 3 clear and the
 * third bit 1 clear. Identifiers, hashes and random keys fail within a few groups, before
 * anything is decoded. A few misses are allowed for non-ASCII text.
 */
function groupsLookLikeAscii(text: string, start: number, end: number): boolean {
  let misses = 0;
  let groups = 0;
  for (let i = start; i + 4 <= end && groups < 32; i += 4, groups++) {
    const a = SEXTET[text.charCodeAt(i)]!;
    const b = SEXTET[text.charCodeAt(i + 1)]!;
    const c = SEXTET[text.charCodeAt(i + 2)]!;
    if (a >= 32 || (b & 8) !== 0 || (c & 2) !== 0) {
      misses++;
      if (misses * 8 > groups + 8) return false;
    }
  }
  return true;
}

function base64Layer(
  text: string,
  start: number,
  end: number,
  decoder: DecoderName,
): DecodedLayer | undefined {
  if (!groupsLookLikeAscii(text, start, end)) return undefined;
  const blob = text.slice(start, end);
  if (blob.length > PROBE && !looksLikeTextStart(Buffer.from(blob.slice(0, PROBE), "base64"), PROBE)) {
    return undefined;
  }
  const decoded = bytesToText(Buffer.from(blob, "base64"));
  if (decoded === undefined) return undefined;
  return {
    decoder,
    text: decoded,
    start,
    end,
    toInput: (s, e) => {
      const [bs, be] = byteSpan(decoded, s, e);
      // Each group of 4 characters encodes 3 bytes.
      return [start + Math.floor(bs / 3) * 4, Math.min(end, start + Math.ceil(be / 3) * 4)];
    },
  };
}

function hexLayer(text: string, start: number, end: number): DecodedLayer | undefined {
  // In ASCII text a byte's high digit is 2-7, or 0 for tab, LF and CR: hashes and ids fail
  // within a few bytes. A few misses are allowed for UTF-8.
  let misses = 0;
  for (let i = start, bytes = 0; i < end && bytes < 32; i += 2, bytes++) {
    const hi = text.charCodeAt(i);
    if (hi < 50 || hi > 55) {
      const lo = text.charCodeAt(i + 1) | 0x20;
      const whitespace = hi === 48 && (lo === 57 || lo === 97 || lo === 100);
      if (!whitespace && ++misses * 8 > bytes + 8) return undefined;
    }
  }
  const decoded = bytesToText(Buffer.from(text.slice(start, end), "hex"));
  if (decoded === undefined) return undefined;
  return {
    decoder: "hex",
    text: decoded,
    start,
    end,
    toInput: (s, e) => {
      const [bs, be] = byteSpan(decoded, s, e);
      return [start + bs * 2, start + be * 2];
    },
  };
}

/** UTF-8 byte offsets of a character span of `text`. */
function byteSpan(text: string, s: number, e: number): readonly [number, number] {
  let bytes = 0;
  let bs = 0;
  for (let i = 0; i < e; i++) {
    if (i === s) bs = bytes;
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    // A surrogate pair is 4 bytes, 2 per UTF-16 unit.
    else if (c >= 0xd800 && c <= 0xdfff) bytes += 2;
    else bytes += 3;
  }
  return [s >= e ? bytes : bs, bytes];
}

function allHex(text: string, start: number, end: number): boolean {
  for (let j = start; j < end; j++) if ((CLASS[text.charCodeAt(j)]! & ~ALNUM) !== 0) return false;
  return true;
}

// What a run of token characters may be, from cheap tests; only these are decoded.
const NOT_BLOB = 0;
const HEX_RUN = 1;
const BASE64_RUN = 2;
const BASE64URL_RUN = 3;

/** What run [start, end) may be (HEX_RUN, BASE64_RUN...), reading a few of its characters. */
function runKind(text: string, start: number, end: number, std: boolean, url: boolean, hex: boolean): number {
  const len = end - start;
  // Most runs are identifiers or hashes: the group test rejects them reading a few characters.
  if (!groupsLookLikeAscii(text, start, end)) {
    return hex && len >= MIN_HEX && len % 2 === 0 && allHex(text, start, end) ? HEX_RUN : NOT_BLOB;
  }
  let flags = 0;
  for (let j = start; j < end; j++) flags |= CLASS[text.charCodeAt(j)]!;
  if (flags === ALNUM) {
    // Only hex digits: a hash, an id or hex-encoded text; never tried as base64.
    return hex && len >= MIN_HEX && len % 2 === 0 ? HEX_RUN : NOT_BLOB;
  }
  // Both alphabets in one run: a path or an identifier, not base64.
  if ((flags & STD) !== 0 && (flags & URL_SAFE) !== 0) return NOT_BLOB;
  // Letters and digits alone are valid in both alphabets: standard base64 names them.
  if ((flags & URL_SAFE) !== 0 || !std) return url ? BASE64URL_RUN : NOT_BLOB;
  return BASE64_RUN;
}

/** The layer of run [start, end) of kind `kind`, if it decodes to text. */
function runLayer(text: string, start: number, end: number, kind: number): DecodedLayer | undefined {
  if (kind === HEX_RUN) return hexLayer(text, start, end);
  let padded = end;
  while (padded < text.length && padded - end < 2 && text.charCodeAt(padded) === 61) padded++;
  return base64Layer(text, start, padded, kind === BASE64_RUN ? "base64" : "base64url");
}

/** End of the run that `nextRun` found last: the hot loop returns one number. */
let runEnd = 0;

/**
 * Start of the first run of MIN_BASE64 or more token characters that begins at or after
 * `from` (where a run may begin: text[from - 1] is not a token character), or -1; its end
 * is left in `runEnd`. Any run of MIN_BASE64 token characters covers a probe: probes step
 * MIN_BASE64 apart past each non-token character, so most of a text is never read here.
 * Kept apart from the decoding so that this loop, the hot one, stays small for the JIT.
 */
function nextRun(text: string, from: number): number {
  const n = text.length;
  const half = MIN_BASE64 >> 1;
  let lo = from;
  let p = from + MIN_BASE64 - 1;
  while (p < n) {
    if (CLASS[text.charCodeAt(p)] === 0) {
      lo = p + 1;
      p += MIN_BASE64;
      continue;
    }
    // A run through p as long as MIN_BASE64 covers [p - half, p] or [p, p + half] whole: one
    // or two more reads reject most short runs without reading them.
    const q = p + half;
    const right = q < n && CLASS[text.charCodeAt(q)] !== 0;
    const left = p - half >= lo && CLASS[text.charCodeAt(p - half)] !== 0;
    if (!right && (!left || CLASS[text.charCodeAt(p - (half >> 1))] === 0)) {
      lo = q + 1;
      p = q + MIN_BASE64;
      continue;
    }
    if (!left) {
      const mid = p + (half >> 1);
      if (CLASS[text.charCodeAt(mid)] === 0) {
        lo = mid + 1;
        p = mid + MIN_BASE64;
        continue;
      }
    }
    let start = p;
    while (start > lo && CLASS[text.charCodeAt(start - 1)] !== 0) start--;
    // The run is long enough only if [start, start + MIN_BASE64) is all token characters.
    // Reading that from its far end stops at the last break in it, and the next probe goes
    // past that break: most runs here are short identifiers, never read to their end.
    const need = start + MIN_BASE64 - 1;
    if (need >= n) return -1;
    let brk = need;
    while (brk > p && CLASS[text.charCodeAt(brk)] !== 0) brk--;
    if (brk > p) {
      lo = brk + 1;
      p = brk + MIN_BASE64;
      continue;
    }
    let i = need + 1;
    while (i < n && CLASS[text.charCodeAt(i)] !== 0) i++;
    runEnd = i;
    return start;
  }
  return -1;
}

/**
 * Finds the base64, base64url and hex blobs of `text` that decode to printable text.
 *
 * @example
 *   blobLayers("data: dXNlcjpwYXNzd29yZC0xMjM0NQ==", new Set(["base64"]))[0]?.text // "user:password-12345"
 */
export function blobLayers(text: string, enabled: ReadonlySet<DecoderName>): DecodedLayer[] {
  const out: DecodedLayer[] = [];
  const std = enabled.has("base64");
  const url = enabled.has("base64url");
  const hex = enabled.has("hex");
  if (!std && !url && !hex) return out;
  // Candidates first, decoded after: the loop over a text's runs stays free of decoding
  // (Buffer, TextDecoder), which would make it slow for V8 to optimise and re-optimise.
  const candidates: number[] = [];
  for (let start = nextRun(text, 0); start >= 0; start = nextRun(text, runEnd + 1)) {
    if (runEnd - start > MAX_BLOB) continue;
    const kind = runKind(text, start, runEnd, std, url, hex);
    if (kind !== NOT_BLOB) candidates.push(start, runEnd, kind);
  }
  for (let c = 0; c < candidates.length; c += 3) {
    const layer = runLayer(text, candidates[c]!, candidates[c + 1]!, candidates[c + 2]!);
    if (layer !== undefined) out.push(layer);
  }
  return out;
}
