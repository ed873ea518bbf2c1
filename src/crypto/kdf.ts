/**
 * Key derivation and hashing: HKDF-SHA-256, HMAC-SHA-256 and a constant-time comparison
 * from node:crypto; Argon2id from @node-rs/argon2 (an N-API addon) for passphrases and
 * passwords.
 */
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { hash, hashRaw, verify, type Algorithm, type Options } from "@node-rs/argon2";

/** Argon2id cost parameters. */
export interface Argon2Params {
  /** Memory per lane in KiB (RFC 9106 `m`). */
  readonly memoryKiB: number;
  /** Passes over memory (RFC 9106 `t`). */
  readonly iterations: number;
  /** Lanes (RFC 9106 `p`). */
  readonly parallelism: number;
}

/** RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes. */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = Object.freeze({
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 4,
});

/** Bounds checked before any Argon2 call, so a crafted key file cannot ask for terabytes. */
export const ARGON2_LIMITS = Object.freeze({
  memoryKiB: { min: 8, max: 4 * 1024 * 1024 },
  iterations: { min: 1, max: 64 },
  parallelism: { min: 1, max: 64 },
});

/** Argon2's own minimum; Keywarden generates 16-byte salts (SALT_BYTES). */
export const MIN_SALT_BYTES = 8;
export const SALT_BYTES = 16;

// @node-rs/argon2 declares its enum as an ambient const enum, which isolatedModules cannot
// inline; the value is fixed by the library's ABI (Argon2d = 0, Argon2i = 1, Argon2id = 2).
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- see above: the enum cannot be referenced by value here.
const ARGON2ID = 2 as Algorithm;

/**
 * Throws a RangeError unless `params` are integers within ARGON2_LIMITS and memory is at
 * least 8 KiB per lane (Argon2's own minimum).
 *
 * @example
 *   checkArgon2Params({ memoryKiB: 65536, iterations: 3, parallelism: 4 });
 */
export function checkArgon2Params(params: Argon2Params): void {
  for (const name of ["memoryKiB", "iterations", "parallelism"] as const) {
    const v = params[name];
    const { min, max } = ARGON2_LIMITS[name];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new RangeError(`argon2 ${name} must be an integer in [${min}, ${max}]`);
  }
  if (params.memoryKiB < 8 * params.parallelism)
    throw new RangeError("argon2 memoryKiB must be at least 8 per lane");
}

function argon2Options(params: Argon2Params): Options {
  checkArgon2Params(params);
  return {
    algorithm: ARGON2ID,
    memoryCost: params.memoryKiB,
    timeCost: params.iterations,
    parallelism: params.parallelism,
  };
}

/**
 * HKDF with SHA-256 (RFC 5869).
 *
 * @example
 *   const fingerprintKey = hkdfSha256(masterKey, new Uint8Array(0), new TextEncoder().encode("keywarden fingerprint v1"), 32);
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", ikm, salt, info, length));
}

/**
 * HMAC-SHA-256 (RFC 2104), 32 bytes.
 *
 * @example
 *   const mac = hmacSha256(key, new TextEncoder().encode("value"));
 */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/**
 * Compares two byte strings in time that depends only on their lengths.
 *
 * @example
 *   constantTimeEqual(expectedMac, givenMac) // true or false
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // Lengths are not secret here (MACs and hashes have fixed lengths).
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Derives a raw 32-byte key from a passphrase with Argon2id (version 0x13). The salt must
 * be random (SALT_BYTES = 16 when Keywarden makes one; at least 8), and stored beside what the key protects.
 *
 * @example
 *   const kek = await deriveKeyFromPassphrase(passphrase, salt, { memoryKiB: 65536, iterations: 3, parallelism: 4 });
 */
export async function deriveKeyFromPassphrase(
  passphrase: string,
  salt: Uint8Array,
  params: Argon2Params,
): Promise<Uint8Array> {
  if (salt.length < MIN_SALT_BYTES)
    throw new RangeError(`argon2 salt must be at least ${MIN_SALT_BYTES} bytes`);
  const out = await hashRaw(passphrase, { ...argon2Options(params), salt, outputLen: 32 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Hashes a password for storage as a PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)
 * with a random salt.
 *
 * @example
 *   const phc = await hashPassword("correct horse battery staple");
 */
export async function hashPassword(
  password: string,
  params: Argon2Params = DEFAULT_ARGON2_PARAMS,
): Promise<string> {
  return hash(password, argon2Options(params));
}

/**
 * Checks a password against a PHC string made by `hashPassword`, with the parameters stored
 * in it. A malformed PHC string is false, never an exception.
 *
 * @example
 *   if (!(await verifyPassword(phc, attempt))) throw new KeywardenError(...);
 */
export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  if (!phc.startsWith("$argon2id$")) return false;
  try {
    return await verify(phc, password);
  } catch {
    return false;
  }
}
