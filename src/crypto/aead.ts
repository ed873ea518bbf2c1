/**
 * AES-256-GCM with a random 96-bit nonce and additional authenticated data (AAD), on
 * node:crypto only. The invariants are in NOTES.md beside this file.
 *
 * Sealed format, version 1: `0x01 || nonce(12) || ciphertext || tag(16)`. The header
 * (the version byte) is authenticated too: GCM's AAD is `header || aad`.
 */
import { createCipheriv, createDecipheriv, createSecretKey, KeyObject, randomBytes } from "node:crypto";
import { KeywardenError } from "../core/errors.ts";

/** The format version byte written first in every sealed blob. */
export const SEAL_FORMAT_VERSION = 1;
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const HEADER_BYTES = 1;
/** The smallest sealed blob: header, nonce and tag around an empty plaintext. */
export const SEAL_OVERHEAD = HEADER_BYTES + NONCE_BYTES + TAG_BYTES;

/**
 * A key as raw bytes, or as a KeyObject made once by `keyObjectOf`: node:crypto turns raw
 * bytes into a KeyObject on every cipher it creates, which costs more than decrypting a
 * short value, so a caller that opens many blobs under one key passes the KeyObject.
 */
export type AeadKey = Uint8Array | KeyObject;

function checkKey(key: AeadKey): void {
  // A wrong key length is a programming error, not a decryption failure.
  const length = key instanceof KeyObject ? (key.symmetricKeySize ?? 0) : key.length;
  if (length !== KEY_BYTES || (key instanceof KeyObject && key.type !== "secret"))
    throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key, got ${length} bytes`);
}

/**
 * A secret KeyObject holding a copy of `key` (32 bytes), for repeated `openBytes` calls.
 * The copy lives in native memory, outside the JavaScript heap; the caller still zeroes
 * its own bytes.
 *
 * @example
 *   const k = keyObjectOf(dataKey); dataKey.fill(0);
 *   const plaintext = openBytes(k, sealed, aad);
 */
export function keyObjectOf(key: Uint8Array): KeyObject {
  checkKey(key);
  return createSecretKey(key);
}

/**
 * The raw primitive under `sealBytes`: AES-256-GCM with a caller-chosen nonce. Exposed so
 * that known-answer tests check exactly the path sealBytes takes. Never reuse a nonce with
 * the same key; call `sealBytes` instead, which draws a random one.
 *
 * @example
 *   const { ciphertext, tag } = gcmEncryptWithNonce(key, nonce, plaintext, aad);
 */
export function gcmEncryptWithNonce(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { ciphertext: Uint8Array; tag: Uint8Array } {
  checkKey(key);
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`AES-256-GCM here uses ${NONCE_BYTES}-byte nonces`);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/**
 * The raw primitive under `openBytes`: AES-256-GCM decryption that throws
 * KW_ERR_CRYPTO_DECRYPT when the tag does not verify.
 *
 * @example
 *   const plaintext = gcmDecryptWithNonce(key, nonce, ciphertext, tag, aad);
 */
export function gcmDecryptWithNonce(
  key: AeadKey,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  aad: Uint8Array | readonly Uint8Array[],
): Uint8Array {
  checkKey(key);
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) {
    throw new KeywardenError("KW_ERR_CRYPTO_DECRYPT", { reason: "malformed nonce or tag" });
  }
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  // GCM takes its AAD in parts as if concatenated: openBytes passes header and aad without
  // copying them into one buffer on every read.
  if (aad instanceof Uint8Array) decipher.setAAD(aad);
  else for (const part of aad) decipher.setAAD(part);
  decipher.setAuthTag(tag);
  try {
    const plaintext = decipher.update(ciphertext);
    // GCM is a stream mode: final() only checks the tag and returns nothing more.
    const rest = decipher.final();
    return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
  } catch {
    // OpenSSL's message says nothing useful and the cause would only add noise.
    throw new KeywardenError("KW_ERR_CRYPTO_DECRYPT", {
      reason: "authentication failed (modified data, wrong key or wrong binding)",
    });
  }
}

function gcmAad(header: Uint8Array, aad: Uint8Array): Uint8Array {
  // The header has a fixed length, so the concatenation is unambiguous.
  return Buffer.concat([header, aad]);
}

/**
 * Encrypts and authenticates `plaintext`, bound to `aad` (which is not stored: the caller
 * must present the same bytes to open it). A fresh random nonce every call.
 *
 * @example
 *   const sealed = sealBytes(key, new TextEncoder().encode("s3cret"), new TextEncoder().encode("sec_1|v1|payments/prod/X"));
 */
export function sealBytes(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const header = Uint8Array.of(SEAL_FORMAT_VERSION);
  const nonce = randomBytes(NONCE_BYTES);
  const { ciphertext, tag } = gcmEncryptWithNonce(key, nonce, plaintext, gcmAad(header, aad));
  return Buffer.concat([header, nonce, ciphertext, tag]);
}

/**
 * Decrypts a blob made by `sealBytes`. Any modified bit, a wrong key or a different `aad`
 * throws KW_ERR_CRYPTO_DECRYPT; it never returns garbage.
 *
 * @example
 *   const plaintext = openBytes(key, sealed, aad);
 */
export function openBytes(key: AeadKey, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  checkKey(key);
  if (sealed.length < SEAL_OVERHEAD) {
    throw new KeywardenError("KW_ERR_CRYPTO_DECRYPT", {
      reason: `sealed data too short (${sealed.length} bytes)`,
    });
  }
  const version = sealed[0]!;
  if (version !== SEAL_FORMAT_VERSION) {
    throw new KeywardenError("KW_ERR_CRYPTO_DECRYPT", { reason: `unknown format version ${version}` });
  }
  const header = sealed.subarray(0, HEADER_BYTES);
  const nonce = sealed.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const ciphertext = sealed.subarray(HEADER_BYTES + NONCE_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  // The header is authenticated before the aad, as gcmAad joins them when sealing.
  return gcmDecryptWithNonce(key, nonce, ciphertext, tag, [header, aad]);
}

/**
 * A new random 256-bit key (a data key or a KEK).
 *
 * @example
 *   const dataKey = randomKey(); // 32 bytes
 */
export function randomKey(): Uint8Array {
  return randomBytes(KEY_BYTES);
}
