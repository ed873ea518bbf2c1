/**
 * The `KeyProvider` contract: whatever holds the key-encryption key (KEK). It wraps and
 * unwraps data keys, never hands out the KEK itself, and can move to a new KEK version.
 * Implementations: local sealed file, env, PKCS#11 HSM, AWS KMS.
 */

export type KeyProviderKind = "local" | "env" | "pkcs11" | "aws-kms";

/** A data key encrypted under one KEK version. Stored beside the ciphertext it protects. */
export interface WrappedKey {
  /** The KEK version that wrapped it (1, 2, ...). */
  readonly kekVersion: number;
  /** Provider-specific bytes (for example nonce || ciphertext || tag, or a KMS CiphertextBlob). */
  readonly blob: Uint8Array;
}

export interface KeyProviderStatus {
  readonly kind: KeyProviderKind;
  /** False while a local provider waits for its passphrase. */
  readonly unsealed: boolean;
  readonly currentVersion: number;
  readonly versions: readonly number[];
  /** Human-readable: key file path, token label, KMS key id. Never key material. */
  readonly description: string;
}

/**
 * @example
 *   const wrapped = await kms.wrap(dataKey, aad); const again = await kms.unwrap(wrapped, aad);
 */
export interface KeyProvider {
  readonly kind: KeyProviderKind;
  /** Wraps a data key under the current KEK version, bound to `context` (additional data). */
  wrap(dataKey: Uint8Array, context: Uint8Array): Promise<WrappedKey>;
  /** Unwraps; a wrong context, KEK or tampered blob is a KeywardenError, never garbage. */
  unwrap(wrapped: WrappedKey, context: Uint8Array): Promise<Uint8Array>;
  /** Makes a new KEK version current; older versions still unwrap until retired. */
  rotate(): Promise<number>;
  /** Forgets an old version; refuses the current one. */
  retire(version: number): Promise<void>;
  status(): Promise<KeyProviderStatus>;
  close(): Promise<void>;
}
