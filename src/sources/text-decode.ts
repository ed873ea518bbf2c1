/** How many leading bytes decide a content's encoding, or that it is binary (git's heuristic). */
export const ENCODING_SNIFF_BYTES = 8000;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * How a text's bytes are to be read. UTF-16 is what Windows writes by default in places
 * (PowerShell 5's `>` and Out-File, regedit exports, .NET's Encoding.Unicode): its ASCII
 * has a NUL byte beside every character, which git's binary heuristic would take for binary.
 */
export type TextEncoding = "utf8" | "utf16le" | "utf16be";

/** Share of the sniffed character positions that must hold a NUL byte in BOM-less UTF-16. */
const UTF16_NUL_SHARE = 0.9;
/** Fewest bytes from which BOM-less UTF-16 is recognised. */
const UTF16_MIN_BYTES = 16;

/**
 * The encoding of content whose first bytes are `head`, or "binary": UTF-16 by its byte
 * order mark, or without one when its ASCII shows (nearly every high byte NUL, no low one);
 * else binary when the first 8,000 bytes hold a NUL byte, as git decides; else UTF-8 (read
 * as Latin-1 when invalid, see decodeText).
 *
 * @example
 *   sniffEncoding(Buffer.from([0xff, 0xfe, 0x6b, 0x00])) // "utf16le"
 */
export function sniffEncoding(head: Buffer): TextEncoding | "binary" {
  const h = head.subarray(0, ENCODING_SNIFF_BYTES);
  // FF FE 00 00 is UTF-32's mark: not read here, so binary below.
  if (h[0] === 0xff && h[1] === 0xfe && !(h[2] === 0 && h[3] === 0)) return "utf16le";
  if (h[0] === 0xfe && h[1] === 0xff) return "utf16be";
  if (!h.includes(0)) return "utf8";
  if (h.length >= UTF16_MIN_BYTES) {
    const le = utf16Shape(h, 1);
    if (le) return "utf16le";
    if (utf16Shape(h, 0)) return "utf16be";
  }
  return "binary";
}

/** Whether the bytes at `high` parity are nearly all NUL and those at the other never are. */
function utf16Shape(h: Buffer, high: 0 | 1): boolean {
  const pairs = h.length >> 1;
  let nulHigh = 0;
  for (let i = 0; i < pairs; i++) {
    if (h[2 * i + (1 - high)] === 0) return false;
    if (h[2 * i + high] === 0) nulHigh++;
  }
  return nulHigh >= pairs * UTF16_NUL_SHARE;
}

/** Length of the byte order mark `content` starts with for `encoding` (0 when none). */
export function bomLength(content: Buffer, encoding: TextEncoding): number {
  if (encoding === "utf8") return content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  const [a, b] = encoding === "utf16le" ? [0xff, 0xfe] : [0xfe, 0xff];
  return content[0] === a && content[1] === b ? 2 : 0;
}

/**
 * Decodes a whole text: UTF-8 in one pass, or Latin-1 when the bytes are not valid UTF-8
 * (so ASCII keys in a legacy-encoded file are still found; `latin1` says so), or UTF-16.
 * A byte order mark is dropped, so columns count from the first character.
 *
 * @example
 *   decodeText(buf) // { text: "...", latin1: false }
 *   decodeText(buf, sniffEncoding(buf))
 */
export function decodeText(
  content: Buffer,
  encoding: TextEncoding = "utf8",
): { text: string; latin1: boolean } {
  if (encoding !== "utf8")
    return { text: utf16Text(content.subarray(bomLength(content, encoding)), encoding), latin1: false };
  const text = utf8Text(content);
  return text === undefined ? { text: content.toString("latin1"), latin1: true } : { text, latin1: false };
}

/**
 * `bytes` as UTF-8 text with any byte order mark dropped, or undefined when they are not
 * valid UTF-8 (where a lenient decoder would put U+FFFD).
 *
 * @example
 *   utf8Text(Buffer.from([0x63, 0xe9])) // undefined
 */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function utf16Text(bytes: Buffer, encoding: "utf16le" | "utf16be"): string {
  const even = bytes.subarray(0, bytes.length & ~1);
  if (encoding === "utf16le") return even.toString("utf16le");
  return Buffer.from(even).swap16().toString("utf16le");
}
