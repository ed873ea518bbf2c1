/** How many leading bytes decide whether content is binary (git's heuristic). */
const BINARY_SNIFF = 8000;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * True when the first 8,000 bytes hold a NUL byte, as git decides.
 *
 * @example
 *   isBinary(Buffer.from([0x89, 0x50, 0x00])) // true
 */
export function isBinary(content: Buffer): boolean {
  return content.subarray(0, BINARY_SNIFF).includes(0);
}

/**
 * Decodes UTF-8 in one pass, or Latin-1 when the bytes are not valid UTF-8 (so ASCII keys
 * in a legacy-encoded file are still found); `latin1` says which happened.
 *
 * @example
 *   decodeText(buf) // { text: "...", latin1: false }
 */
export function decodeText(content: Buffer): { text: string; latin1: boolean } {
  try {
    return { text: strictUtf8.decode(content), latin1: false };
  } catch {
    return { text: content.toString("latin1"), latin1: true };
  }
}
