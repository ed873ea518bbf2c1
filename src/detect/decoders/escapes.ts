/**
 * URL encoding (%XX), JSON string escapes and backslash escapes (\xNN, octal, \n, \", ...):
 * decoded in regions around the escapes (see regions.ts), and only where the decoded region
 * can match differently from the plain text: it holds a keyword already, or an escape
 * decodes to a character that occurs in some keyword.
 */
import { type DecodedLayer, type DecoderName } from "./layer.ts";
import { escapeRegions, hexValue } from "./regions.ts";

/**
 * Reads the escape sequence at `text[i]` (the trigger character). Returns its length and
 * stores the decoded character code in `decoded.code`; returns 0 when there is none.
 */
type Reader = (text: string, i: number) => number;

const decoded = { code: 0 };

function readPercent(text: string, i: number): number {
  const hi = hexValue(text.charCodeAt(i + 1));
  const lo = hexValue(text.charCodeAt(i + 2));
  if (hi < 0 || lo < 0) return 0;
  decoded.code = hi * 16 + lo;
  return 3;
}

function readUnicode(text: string, i: number): number {
  let v = 0;
  for (let k = i + 2; k < i + 6; k++) {
    const h = hexValue(text.charCodeAt(k));
    if (h < 0) return 0;
    v = v * 16 + h;
  }
  decoded.code = v;
  return 6;
}

/** The character a one-letter JSON escape stands for, by the letter's code; 0 for none. */
const JSON_SIMPLE = new Uint8Array(128);
JSON_SIMPLE[0x22] = 0x22; // \"
JSON_SIMPLE[0x5c] = 0x5c; // \\
JSON_SIMPLE[0x2f] = 0x2f; // \/
JSON_SIMPLE[0x62] = 0x08; // \b
JSON_SIMPLE[0x66] = 0x0c; // \f
JSON_SIMPLE[0x6e] = 0x0a; // \n
JSON_SIMPLE[0x72] = 0x0d; // \r
JSON_SIMPLE[0x74] = 0x09; // \t

function readJson(text: string, i: number): number {
  const next = text.charCodeAt(i + 1);
  if (next === 0x75 /* u */) return readUnicode(text, i);
  const code = next < 128 ? JSON_SIMPLE[next]! : 0;
  if (code === 0) return 0;
  decoded.code = code;
  return 2;
}

/** One-letter C-style escapes: JSON's and these. */
const C_SIMPLE = Uint8Array.from(JSON_SIMPLE);
C_SIMPLE[0x27] = 0x27; // \'
C_SIMPLE[0x3f] = 0x3f; // \?
C_SIMPLE[0x61] = 0x07; // \a
C_SIMPLE[0x76] = 0x0b; // \v
C_SIMPLE[0x65] = 0x1b; // \e

function readBackslash(text: string, i: number): number {
  const next = text.charCodeAt(i + 1);
  if (next === 0x78 /* x */) {
    const hi = hexValue(text.charCodeAt(i + 2));
    const lo = hexValue(text.charCodeAt(i + 3));
    if (hi < 0 || lo < 0) return 0;
    decoded.code = hi * 16 + lo;
    return 4;
  }
  if (next >= 48 && next <= 55) {
    // Octal: up to three digits, at most \377.
    let v = 0;
    let k = i + 1;
    for (; k < i + 4; k++) {
      const d = text.charCodeAt(k);
      if (d < 48 || d > 55 || v * 8 + d - 48 > 255) break;
      v = v * 8 + d - 48;
    }
    decoded.code = v;
    return k - i;
  }
  if (next === 0x75 /* u */) return readUnicode(text, i);
  const code = next < 128 ? C_SIMPLE[next]! : 0;
  if (code === 0) return 0;
  decoded.code = code;
  return 2;
}

interface Codec {
  readonly name: DecoderName;
  readonly trigger: string;
  readonly read: Reader;
  /** Whether the escape just read at `i` (decoding to `code`) starts a region. */
  readonly counts: (text: string, i: number, code: number) => boolean;
  /** True when `counts` holds for every escape that can decode to a keyword character. */
  readonly countsEvery: boolean;
}

/**
 * Tells whether a keyword occurrence in `decoded` covers character `at`. `reach` is the
 * longest keyword's length: no occurrence covering `at` reaches further on either side.
 *
 * @example
 *   const probe: KeywordProbe = { reach: 8, covers: (decoded, at) => decoded.includes("token", at - 4) };
 */
export interface KeywordProbe {
  readonly reach: number;
  covers(decoded: string, at: number): boolean;
}

/** Longest input encoding of one decoded character (\uXXXX). */
const MAX_ESCAPE = 6;

/**
 * Whether decoding one of the hiding escapes of [rs, re) (from index `h` of `hiding`)
 * creates a keyword occurrence. A keyword found in the decoded region that covers no
 * decoded escape is plain text that the caller has already looked for, so only occurrences
 * over an escape matter, and those lie within `reach` decoded characters of it: a small
 * window around each escape is decoded instead of the whole region.
 */
function someEscapeReveals(
  text: string,
  rs: number,
  re: number,
  hiding: readonly number[],
  h: number,
  codec: Codec,
  probe: KeywordProbe,
): boolean {
  const reach = probe.reach;
  // Dense escapes would make the windows cost more than the region: decode it then.
  let budget = re - rs;
  for (let k = h; k < hiding.length && hiding[k]! < re; k++) {
    const i = hiding[k]!;
    // Usually escapes are sparse and `reach` input characters hold `reach` decoded ones;
    // when they do not, the window is widened to the worst case.
    for (let wide = reach + MAX_ESCAPE; ; wide = reach * MAX_ESCAPE + MAX_ESCAPE) {
      let ws = Math.max(rs, i - wide);
      // Start at a whole run of backslashes, so that they pair up as in the region.
      while (ws > rs && text.charCodeAt(ws - 1) === 0x5c) ws--;
      const we = Math.min(re, i + wide);
      budget -= we - ws;
      if (budget < 0) return true;
      const escapes: number[] = [];
      const decodedText = decodeRegion(text, ws, we, codec.read, codec.trigger, escapes);
      let at = -1;
      for (let j = 0; j < escapes.length; j += 3) if (escapes[j + 1] === i) at = escapes[j]!;
      // Paired differently than in the region: decode the region, as before this filter.
      if (at < 0) return true;
      const short = (ws > rs && at < reach) || (we < re && decodedText.length - at <= reach);
      if (short && wide < reach * MAX_ESCAPE) continue;
      if (probe.covers(decodedText, at)) return true;
      break;
    }
  }
  return false;
}

const PERCENT: Codec = {
  name: "url",
  trigger: "%",
  read: readPercent,
  // `x%10` is arithmetic, not an escape: only printable characters count.
  counts: (_text, _i, code) => code >= 0x20 && code !== 0x7f,
  countsEvery: true,
};
const JSON_CODEC: Codec = {
  name: "json",
  trigger: "\\",
  read: readJson,
  counts: () => true,
  countsEvery: true,
};

/**
 * Whether `text` has an escape that the backslash decoder reads and JSON does not, and that
 * can hide text: `\xNN` or an octal digit after any backslash (paired or not). Visits only
 * the backslashes (a native search jumps between them), not every character.
 */
function hasBackslashOnlyEscape(text: string): boolean {
  for (let i = text.indexOf("\\"); i >= 0; i = text.indexOf("\\", i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (next >= 48 && next <= 55) return true;
    if (next === 0x78 && hexValue(text.charCodeAt(i + 2)) >= 0 && hexValue(text.charCodeAt(i + 3)) >= 0)
      return true;
  }
  return false;
}

/** With the JSON decoder on, the backslash decoder only starts where JSON cannot read. */
function backslashCodec(jsonToo: boolean): Codec {
  return {
    name: "backslash",
    trigger: "\\",
    read: readBackslash,
    // `\'` and the like change nothing a rule looks at: only \xNN and octal start a region.
    counts: jsonToo
      ? (text, i) => {
          const next = text.charCodeAt(i + 1);
          return next === 0x78 || (next >= 48 && next <= 55);
        }
      : () => true,
    countsEvery: !jsonToo,
  };
}

/** Where escapes of `codec` start regions, and where those that may hide a keyword are. */
function findEscapes(
  text: string,
  codec: Codec,
  keywordChars: ReadonlySet<number>,
): { positions: number[]; hiding: number[] } {
  const positions: number[] = [];
  const hiding: number[] = [];
  const pairStep = codec.trigger === "\\" ? 2 : 1;
  for (let i = text.indexOf(codec.trigger); i >= 0;) {
    const len = codec.read(text, i);
    if (len === 0) {
      // An unknown escape still pairs the backslash with the next character (`\\d`).
      i = text.indexOf(codec.trigger, i + pairStep);
      continue;
    }
    const code = decoded.code;
    if (codec.counts(text, i, code)) {
      positions.push(i);
      if (keywordChars.has(code)) hiding.push(i);
    }
    i = text.indexOf(codec.trigger, i + len);
  }
  return { positions, hiding };
}

/** Decodes text[rs, re); `escapes` receives (decodedIndex, inputIndex, inputLength) triples. */
function decodeRegion(
  text: string,
  rs: number,
  re: number,
  read: Reader,
  trigger: string,
  escapes: number[],
): string {
  let out = "";
  let last = rs;
  for (let i = text.indexOf(trigger, rs); i >= 0 && i < re;) {
    const len = read(text, i);
    if (len === 0 || i + len > re) {
      i = text.indexOf(trigger, i + (trigger === "\\" ? 2 : 1));
      continue;
    }
    out += text.slice(last, i);
    escapes.push(out.length, i, len);
    out += String.fromCharCode(decoded.code);
    last = i + len;
    i = text.indexOf(trigger, last);
  }
  return out + text.slice(last, re);
}

/** Maps decoded offsets back to the input through the escape triples. */
function escapeMapper(
  rs: number,
  escapes: readonly number[],
): (s: number, e: number) => readonly [number, number] {
  const startOf = (d: number): number => {
    let k = -1;
    for (let j = 0; j < escapes.length && escapes[j]! <= d; j += 3) k = j;
    if (k < 0) return rs + d;
    if (escapes[k] === d) return escapes[k + 1]!;
    return escapes[k + 1]! + escapes[k + 2]! + (d - escapes[k]! - 1);
  };
  return (s, e) => {
    if (e <= s) return [startOf(s), startOf(s)];
    const lastStart = startOf(e - 1);
    let lastLen = 1;
    for (let j = 0; j < escapes.length; j += 3) {
      if (escapes[j] === e - 1) lastLen = escapes[j + 2]!;
    }
    return [startOf(s), lastStart + lastLen];
  };
}

/**
 * The regions of `text` decoded by the URL, JSON and backslash decoders that are enabled.
 * `keywordChars` holds the (lowercase and uppercase) character codes of the catalogue's
 * keywords; `hasKeyword` tells whether a span of the plain text holds a keyword.
 *
 * @example
 *   escapeLayers("u=https%3A%2F%2Fx%3Ftoken%3Dabc", new Set(["url"]), chars, hasKeyword)
 */
export function escapeLayers(
  text: string,
  enabled: ReadonlySet<DecoderName>,
  keywordChars: ReadonlySet<number>,
  hasKeyword: (start: number, end: number) => boolean,
  reveals?: KeywordProbe,
): DecodedLayer[] {
  const out: DecodedLayer[] = [];
  const codecs: Codec[] = [];
  if (enabled.has("url") && text.includes("%")) codecs.push(PERCENT);
  if (text.includes("\\")) {
    if (enabled.has("json")) codecs.push(JSON_CODEC);
    // Most text has JSON-readable escapes only: the second pass runs where it can add something.
    const jsonToo = enabled.has("json");
    if (enabled.has("backslash") && (!jsonToo || hasBackslashOnlyEscape(text)))
      codecs.push(backslashCodec(jsonToo));
  }
  for (const codec of codecs) {
    const { positions, hiding } = findEscapes(text, codec, keywordChars);
    const regions = escapeRegions(text, positions);
    let h = 0;
    for (let r = 0; r < regions.length; r += 2) {
      const rs = regions[r]!;
      const re = regions[r + 1]!;
      while (h < hiding.length && hiding[h]! < rs) h++;
      const hides = h < hiding.length && hiding[h]! < re;
      if (!hides && !hasKeyword(rs, re)) continue;
      if (hides && reveals !== undefined && codec.countsEvery && !hasKeyword(rs, re)) {
        if (!someEscapeReveals(text, rs, re, hiding, h, codec, reveals)) continue;
      }
      const escapes: number[] = [];
      const decodedText = decodeRegion(text, rs, re, codec.read, codec.trigger, escapes);
      out.push({
        decoder: codec.name,
        text: decodedText,
        start: rs,
        end: re,
        toInput: escapeMapper(rs, escapes),
      });
    }
  }
  return out;
}
