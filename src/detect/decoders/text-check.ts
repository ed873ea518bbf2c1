/**
 * Decoded bytes are scanned only when they are text: binary output (images, fonts, hashes,
 * compressed data) is rejected early, usually within its first few bytes.
 */

/** Control bytes other than tab, line feed and carriage return mean binary. */
function isControl(b: number): boolean {
  return (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Returns the bytes as a string when they are printable UTF-8 text (no control bytes but
 * tab, CR and LF), else undefined.
 *
 * @example
 *   bytesToText(Buffer.from("key = value")) // "key = value"
 *   bytesToText(Uint8Array.of(0x89, 0x50, 0x4e, 0x47)) // undefined
 */
export function bytesToText(bytes: Uint8Array): string | undefined {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80) ascii = false;
    else if (isControl(b)) return undefined;
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * True when the first `n` bytes could start printable UTF-8 text: a cheap test before a
 * large blob is decoded in full.
 *
 * @example
 *   looksLikeTextStart(Buffer.from("apiVersion: v1"), 64) // true
 */
export function looksLikeTextStart(bytes: Uint8Array, n: number): boolean {
  const end = Math.min(n, bytes.length);
  for (let i = 0; i < end; i++) if (isControl(bytes[i]!)) return false;
  return true;
}
