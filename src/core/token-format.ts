import { randomInt } from "node:crypto";
import { BASE62, base62, crc32Of } from "./base62.ts";

/**
 * Keywarden's own API tokens: `kw_<kind>_<random>_<checksum>`. The random part is 43 base62
 * characters (256 bits); the checksum is the base62 CRC32 of everything before it, so a
 * scanner can tell a real token from a look-alike with no false positives.
 */
export const TOKEN_KINDS = ["svc", "usr", "cld"] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export const TOKEN_RANDOM_LENGTH = 43;
export const TOKEN_CHECKSUM_LENGTH = 6;
/** The checksum for a token body (`kw_<kind>_<random>`). */
export function tokenChecksum(body: string): string {
  return base62(crc32Of(body), TOKEN_CHECKSUM_LENGTH);
}

/**
 * Formats a token from its random part; `random` defaults to 256 fresh bits.
 *
 * @example
 *   formatToken("svc") // "kw_svc_<43 chars>_<6 chars>"
 */
export function formatToken(kind: TokenKind, random?: string): string {
  let r = random ?? "";
  if (random === undefined) for (let i = 0; i < TOKEN_RANDOM_LENGTH; i++) r += BASE62.charAt(randomInt(62));
  const body = `kw_${kind}_${r}`;
  return `${body}_${tokenChecksum(body)}`;
}

/**
 * True when `token` has the shape and a valid checksum.
 *
 * @example
 *   isValidToken(formatToken("svc")) // true
 */
export function isValidToken(token: string): boolean {
  const m = /^(kw_(svc|usr|cld)_[0-9A-Za-z]{43})_([0-9A-Za-z]{6})$/.exec(token);
  return m !== null && tokenChecksum(m[1]!) === m[3];
}
