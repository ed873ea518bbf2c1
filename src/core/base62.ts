import { crc32 } from "node:zlib";

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * Encodes a non-negative integer in base62, left-padded with "0" to `width`.
 *
 * @example
 *   base62(61, 2) // "0z"
 */
export function base62(value: number, width: number): string {
  let n = value;
  let out = "";
  do {
    out = BASE62.charAt(n % 62) + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, "0");
}

/**
 * CRC32 (IEEE) of a string's UTF-8 bytes, as an unsigned integer.
 *
 * @example
 *   crc32Of("hello") // 907060870
 */
export function crc32Of(value: string): number {
  return crc32(value) >>> 0;
}
