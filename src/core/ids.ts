import { randomFillSync } from "node:crypto";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";

/** Every id prefix in one table, so that an id says what it names. */
export const ID_PREFIXES = Object.freeze({
  secret: "sec",
  version: "ver",
  key: "key",
  incident: "inc",
  audit: "aud",
  finding: "fnd",
  token: "tok",
  identity: "idn",
  policy: "pol",
  request: "req",
  scan: "scn",
  user: "usr",
  machine: "mid",
  role: "rol",
  session: "ses",
});

export type IdKind = keyof typeof ID_PREFIXES;

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function encodeBase32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD.charAt((buffer >>> bits) & 31);
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD.charAt((buffer << (5 - bits)) & 31);
  return out;
}

/**
 * Random bytes for ids, drawn from the CSPRNG 4 KiB at a time: one call per 400 ids
 * instead of one per id (an audited read makes two ids). Ids are not secrets; the
 * randomness only keeps them unique and unguessable.
 */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function randomInto(target: Uint8Array, offset: number, length: number): void {
  if (poolAt + length > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  target.set(pool.subarray(poolAt, poolAt + length), offset);
  poolAt += length;
}

/**
 * A new id: prefix, underscore, then 48 bits of milliseconds and 80 random bits in
 * Crockford base32 (26 characters), so ids sort by creation time.
 *
 * @example
 *   newId("secret") // "sec_01JF3Z5Q8X2K7M4N9P0R6S1T3V"
 */
export function newId(kind: IdKind, clock: Clock = systemClock): string {
  const bytes = new Uint8Array(16);
  const ms = clock.now().getTime();
  // 48-bit big-endian timestamp; division keeps it exact beyond 32 bits.
  const high = Math.floor(ms / 2 ** 32);
  const low = ms >>> 0;
  bytes[0] = (high >>> 8) & 0xff;
  bytes[1] = high & 0xff;
  bytes[2] = (low >>> 24) & 0xff;
  bytes[3] = (low >>> 16) & 0xff;
  bytes[4] = (low >>> 8) & 0xff;
  bytes[5] = low & 0xff;
  randomInto(bytes, 6, 10);
  return `${ID_PREFIXES[kind]}_${encodeBase32(bytes).slice(0, 26)}`;
}

const ID_PATTERN = /^([a-z]{3})_([0-9A-HJKMNP-TV-Z]{26})$/;

/**
 * Checks that `id` is well-formed and of the expected kind.
 *
 * @example
 *   isId("sec_01JF3Z5Q8X2K7M4N9P0R6S1T3V", "secret") // true
 */
export function isId(id: string, kind: IdKind): boolean {
  const m = ID_PATTERN.exec(id);
  return m !== null && m[1] === ID_PREFIXES[kind];
}
