/**
 * KEK versions held in process memory (local and env providers): wrap = sealBytes(KEK_v,
 * dataKey, context). Keys never leave this object except into the local key file's sealed
 * keyring.
 */
import { isKeywardenError, KeywardenError } from "../core/errors.ts";
import { KEY_BYTES, openBytes, sealBytes } from "../crypto/aead.ts";
import type { KeyProviderKind, WrappedKey } from "./key-provider.ts";

/** Every versions list in an error message is rendered the same way. */
export function listVersions(versions: readonly number[]): string {
  return versions.length === 0 ? "none" : versions.map((v) => `v${v}`).join(", ");
}

/**
 * The error for a version that is not (or no longer) known.
 *
 * @example
 *   throw unknownVersion("env", 3, [1, 2]);
 */
export function unknownVersion(
  provider: KeyProviderKind,
  version: number,
  versions: readonly number[],
): KeywardenError {
  return new KeywardenError("KW_ERR_KMS_UNKNOWN_VERSION", {
    provider,
    version,
    versions: listVersions(versions),
  });
}

/**
 * Runs synchronous provider work as a promise, so that a throw becomes a rejection (callers
 * may use `.catch`, not only `await`).
 *
 * @example
 *   wrap(k, c) { return settle(() => this.ring.wrap(k, c)); }
 */
export function settle<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => {
    resolve(fn());
  });
}

/** Checks a WrappedKey's version number before it is used to pick a key. */
export function checkVersionNumber(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1)
    throw new RangeError(`KEK versions are integers from 1, got ${version}`);
}

/**
 * An in-memory keyring of 256-bit KEKs by version; the highest version is current.
 *
 * @example
 *   const ring = new Keyring("env", new Map([[1, kek]])); const w = ring.wrap(dataKey, context);
 */
export class Keyring {
  readonly #provider: KeyProviderKind;
  readonly #keys: Map<number, Buffer>;

  constructor(provider: KeyProviderKind, keys: ReadonlyMap<number, Uint8Array>) {
    if (keys.size === 0) throw new RangeError("a keyring needs at least one version");
    this.#provider = provider;
    this.#keys = new Map();
    for (const [version, key] of [...keys].sort((a, b) => a[0] - b[0])) {
      checkVersionNumber(version);
      if (key.length !== KEY_BYTES) throw new RangeError(`KEK v${version} must be ${KEY_BYTES} bytes`);
      this.#keys.set(version, Buffer.from(key));
    }
  }

  get versions(): number[] {
    return [...this.#keys.keys()];
  }

  get current(): number {
    return Math.max(...this.#keys.keys());
  }

  has(version: number): boolean {
    return this.#keys.has(version);
  }

  wrap(dataKey: Uint8Array, context: Uint8Array): WrappedKey {
    const version = this.current;
    return { kekVersion: version, blob: sealBytes(this.#keys.get(version)!, dataKey, context) };
  }

  unwrap(wrapped: WrappedKey, context: Uint8Array): Uint8Array {
    const key = this.#keys.get(wrapped.kekVersion);
    if (key === undefined) throw unknownVersion(this.#provider, wrapped.kekVersion, this.versions);
    try {
      return openBytes(key, wrapped.blob, context);
    } catch (e) {
      if (!isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT")) throw e;
      throw new KeywardenError(
        "KW_ERR_KMS_UNWRAP",
        { provider: this.#provider, version: wrapped.kekVersion, reason: String(e.params.reason) },
        { cause: e },
      );
    }
  }

  /** A copy of the keys, for re-sealing the keyring; the caller zeroes it after use. */
  exportKeys(): Map<number, Buffer> {
    return new Map([...this.#keys].map(([v, k]) => [v, Buffer.from(k)]));
  }

  /** Overwrites every key in memory; the keyring is unusable afterwards. */
  destroy(): void {
    for (const k of this.#keys.values()) k.fill(0);
    this.#keys.clear();
  }
}
