/**
 * Checksums that tell a real key from a look-alike: the base62 CRC32 suffix of GitHub and npm
 * tokens, and bech32 (age identities). Rules call these from `validate` and from examples.
 */
import { base62, crc32Of } from "../core/base62.ts";

export { base62, crc32Of };

/**
 * The 6-character base62 CRC32 checksum GitHub appends to its tokens
 * (`ghp_` + 30 random + checksum of prefix and random).
 *
 * @example
 *   githubChecksum("ghp_" + random30)
 */
export function githubChecksum(body: string): string {
  return base62(crc32Of(body), 6);
}

/**
 * Appends the 6-character base62 CRC32 checksum of `prefix + random`, the way GitHub and npm
 * build their tokens.
 *
 * @example
 *   withCrc32("ghp_", random30) // "ghp_" + 30 random + 6 checksum
 */
export function withCrc32(prefix: string, random: string): string {
  return prefix + random + githubChecksum(prefix + random);
}

/**
 * Checks the trailing 6-character base62 CRC32 of a GitHub-style token (`<prefix>_` + 30
 * random + 6 checksum, as used by GitHub and npm). Published descriptions disagree on
 * whether the prefix is part of the checksummed body, so either is accepted; the chance
 * that a random string passes stays about 2 in 2^32.
 *
 * @example
 *   hasCrc32Suffix(withCrc32("npm_", random30)) // true
 */
export function hasCrc32Suffix(token: string): boolean {
  const cut = token.lastIndexOf("_") + 1;
  const rest = token.slice(cut);
  if (cut === 0 || rest.length !== 36) return false;
  const random = rest.slice(0, 30);
  const sum = rest.slice(30);
  return githubChecksum(token.slice(0, cut) + random) === sum || githubChecksum(random) === sum;
}

const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function bech32Polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i]!;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const codes = Array.from({ length: hrp.length }, (_, i) => hrp.charCodeAt(i));
  return [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
}

/**
 * Verifies a bech32 (BIP 173, not bech32m) checksum, case-insensitively, without the
 * 90-character limit (age identities are longer than Bitcoin addresses' limit allows).
 *
 * @example
 *   bech32Valid(bech32Encode("age-secret-key-", bytes)) // true
 */
export function bech32Valid(value: string): boolean {
  const lower = value.toLowerCase();
  const sep = lower.lastIndexOf("1");
  if (sep < 1 || lower.length - sep - 1 < 6) return false;
  const data = Array.from({ length: lower.length - sep - 1 }, (_, i) =>
    BECH32.indexOf(lower.charAt(sep + 1 + i)),
  );
  if (data.some((d) => d < 0)) return false;
  return bech32Polymod([...hrpExpand(lower.slice(0, sep)), ...data]) === 1;
}

/**
 * Encodes bytes as lowercase bech32 with the given human-readable part.
 *
 * @example
 *   bech32Encode("age-secret-key-", bytes).toUpperCase() // "AGE-SECRET-KEY-1..."
 */
export function bech32Encode(hrp: string, bytes: readonly number[]): string {
  const data: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      data.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) data.push((acc << (5 - bits)) & 31);
  const mod = bech32Polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data, ...checksum].map((d) => BECH32[d]).join("")}`;
}
