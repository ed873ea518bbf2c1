/**
 * The `local` key provider: a key file (JSON, 0600) holding every KEK version, the keyring
 * sealed under a key derived from a passphrase with Argon2id. The provider starts sealed;
 * `unseal(passphrase)` opens it.
 *
 * File format (formatVersion 1):
 *   { format, formatVersion, kdf: { algorithm, salt, memoryKiB, iterations, parallelism },
 *     current, versions, keyring }
 * `keyring` is sealBytes(argon2id(passphrase, salt), records, aad) where records are
 * `version (u32 BE) || key (32 bytes)` per version and aad is the canonical JSON of every
 * other field, so changing the salt, the costs or the version list makes it fail to open.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { isKeywardenError, KeywardenError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { Secret } from "../core/secret.ts";
import { KEY_BYTES, openBytes, randomKey, sealBytes } from "../crypto/aead.ts";
import { checkArgon2Params, deriveKeyFromPassphrase, SALT_BYTES, type Argon2Params } from "../crypto/kdf.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import type { KeyProvider, KeyProviderStatus, WrappedKey } from "./key-provider.ts";
import { checkVersionNumber, Keyring, settle, unknownVersion } from "./keyring.ts";

const FORMAT = "keywarden-key-file";
const FORMAT_VERSION = 1;
const RECORD_BYTES = 4 + KEY_BYTES;

interface KeyFileHeader {
  readonly kdf: {
    readonly algorithm: "argon2id";
    readonly salt: string;
    readonly memoryKiB: number;
    readonly iterations: number;
    readonly parallelism: number;
  };
  readonly current: number;
  readonly versions: readonly number[];
}

interface KeyFile extends KeyFileHeader {
  readonly keyring: string;
}

/** A passphrase as given by the CLI or a caller: a Secret, or a plain string. */
export type Passphrase = Secret | string;

function reveal(passphrase: Passphrase): string {
  return passphrase instanceof Secret ? passphrase.reveal() : passphrase;
}

/** The authenticated data of the keyring: every header field, in a fixed order. */
function headerAad(h: KeyFileHeader): Uint8Array {
  const canonical = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    kdf: {
      algorithm: h.kdf.algorithm,
      salt: h.kdf.salt,
      memoryKiB: h.kdf.memoryKiB,
      iterations: h.kdf.iterations,
      parallelism: h.kdf.parallelism,
    },
    current: h.current,
    versions: [...h.versions],
  };
  return new TextEncoder().encode(JSON.stringify(canonical));
}

function serialise(header: KeyFileHeader, keyring: Uint8Array): Uint8Array {
  const file = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    kdf: header.kdf,
    current: header.current,
    versions: header.versions,
    keyring: Buffer.from(keyring).toString("base64"),
  };
  return new TextEncoder().encode(JSON.stringify(file, null, 2) + "\n");
}

function encodeRecords(keys: ReadonlyMap<number, Uint8Array>): Buffer {
  const out = Buffer.alloc(keys.size * RECORD_BYTES);
  let at = 0;
  for (const [version, key] of keys) {
    out.writeUInt32BE(version, at);
    out.set(key, at + 4);
    at += RECORD_BYTES;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseKeyFile(file: string, bytes: Buffer): KeyFile {
  const invalid = (reason: string): KeywardenError =>
    new KeywardenError("KW_ERR_KMS_KEY_FILE_INVALID", { file, reason });
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalid("not JSON");
  }
  if (!isObject(raw) || raw.format !== FORMAT) throw invalid("not a Keywarden key file");
  if (raw.formatVersion !== FORMAT_VERSION)
    throw invalid(`unsupported format version ${String(raw.formatVersion)}`);
  const kdf = raw.kdf;
  if (!isObject(kdf) || kdf.algorithm !== "argon2id" || typeof kdf.salt !== "string")
    throw invalid("bad kdf section");
  const params = { memoryKiB: kdf.memoryKiB, iterations: kdf.iterations, parallelism: kdf.parallelism };
  try {
    checkArgon2Params(params as Argon2Params);
  } catch (e) {
    throw invalid(e instanceof Error ? e.message : "bad argon2 parameters");
  }
  const versions = raw.versions;
  if (
    !Array.isArray(versions) ||
    versions.length === 0 ||
    !versions.every((v): v is number => Number.isSafeInteger(v) && (v as number) >= 1)
  ) {
    throw invalid("bad version list");
  }
  if (typeof raw.current !== "number" || raw.current !== Math.max(...versions))
    throw invalid("bad current version");
  if (typeof raw.keyring !== "string") throw invalid("no keyring");
  return {
    kdf: { algorithm: "argon2id", salt: kdf.salt, ...(params as Argon2Params) },
    current: raw.current,
    versions,
    keyring: raw.keyring,
  };
}

function readKeyFile(file: string): KeyFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new KeywardenError("KW_ERR_KMS_KEY_FILE_NOT_FOUND", { file });
    throw new KeywardenError(
      "KW_ERR_KMS_KEY_FILE_INVALID",
      { file, reason: (e as Error).message },
      { cause: e },
    );
  }
  return parseKeyFile(file, bytes);
}

/** Opens the sealed keyring with a derived key; a failure is the wrong passphrase. */
function openKeyring(file: string, kf: KeyFile, unsealKey: Uint8Array): Keyring {
  let records: Uint8Array;
  try {
    records = openBytes(unsealKey, Buffer.from(kf.keyring, "base64"), headerAad(kf));
  } catch (e) {
    if (isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT"))
      throw new KeywardenError("KW_ERR_KMS_WRONG_PASSPHRASE", { file });
    throw e;
  }
  const buf = Buffer.from(records.buffer, records.byteOffset, records.byteLength);
  try {
    if (buf.length !== kf.versions.length * RECORD_BYTES) {
      throw new KeywardenError("KW_ERR_KMS_KEY_FILE_INVALID", {
        file,
        reason: "keyring does not match its version list",
      });
    }
    const keys = new Map<number, Uint8Array>();
    for (let at = 0; at < buf.length; at += RECORD_BYTES)
      keys.set(buf.readUInt32BE(at), buf.subarray(at + 4, at + RECORD_BYTES));
    if (kf.versions.some((v) => !keys.has(v))) {
      throw new KeywardenError("KW_ERR_KMS_KEY_FILE_INVALID", {
        file,
        reason: "keyring does not match its version list",
      });
    }
    return new Keyring("local", keys);
  } finally {
    buf.fill(0);
  }
}

function sealKeyring(
  header: Omit<KeyFileHeader, "current" | "versions">,
  keys: Map<number, Buffer>,
  unsealKey: Uint8Array,
): Uint8Array {
  const versions = [...keys.keys()].sort((a, b) => a - b);
  const full: KeyFileHeader = { kdf: header.kdf, current: Math.max(...versions), versions };
  const records = encodeRecords(new Map(versions.map((v) => [v, keys.get(v)!])));
  try {
    return serialise(full, sealBytes(unsealKey, records, headerAad(full)));
  } finally {
    records.fill(0);
    for (const k of keys.values()) k.fill(0);
  }
}

function writeFailure(file: string, e: unknown): KeywardenError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EEXIST") return new KeywardenError("KW_ERR_KMS_KEY_FILE_EXISTS", { file });
  return new KeywardenError(
    "KW_ERR_KMS_KEY_FILE_WRITE",
    { file, reason: code ?? (e as Error).message },
    { cause: e },
  );
}

/**
 * Creates a new key file with one random KEK (version 1), sealed by `passphrase` through
 * Argon2id with `params`. Refuses to overwrite an existing file (KW_ERR_KMS_KEY_FILE_EXISTS).
 *
 * @example
 *   await initLocalKeyFile(join(home, "master.key"), new Secret(passphrase), config.kms.local.argon2);
 */
export async function initLocalKeyFile(
  path: string,
  passphrase: Passphrase,
  params: Argon2Params,
): Promise<void> {
  const pass = reveal(passphrase);
  if (pass.length === 0)
    throw new KeywardenError("KW_ERR_USAGE", { reason: "the passphrase must not be empty" });
  checkArgon2Params(params);
  if (existsSync(path)) throw new KeywardenError("KW_ERR_KMS_KEY_FILE_EXISTS", { file: path });
  const salt = randomBytes(SALT_BYTES);
  const unsealKey = await deriveKeyFromPassphrase(pass, salt, params);
  const kdf = {
    algorithm: "argon2id" as const,
    salt: salt.toString("base64"),
    memoryKiB: params.memoryKiB,
    iterations: params.iterations,
    parallelism: params.parallelism,
  };
  const bytes = sealKeyring({ kdf }, new Map([[1, Buffer.from(randomKey())]]), unsealKey);
  unsealKey.fill(0);
  try {
    writeFileAtomic(path, bytes, { exclusive: true });
  } catch (e) {
    throw writeFailure(path, e);
  }
}

/**
 * The `local` provider. Create it with `LocalKeyProvider.open(file)`; it is sealed until
 * `unseal(passphrase)` succeeds. rotate() and retire() rewrite the file atomically.
 *
 * @example
 *   const kms = LocalKeyProvider.open(file); await kms.unseal(passphrase); await kms.wrap(dataKey, aad);
 */
export class LocalKeyProvider implements KeyProvider {
  readonly kind = "local" as const;
  readonly #file: string;
  readonly #logger: Logger | undefined;
  #header: KeyFile;
  #ring: Keyring | undefined;
  /** The Argon2id output, kept while unsealed so that rotate() can re-seal without the passphrase. */
  #unsealKey: Uint8Array | undefined;

  private constructor(file: string, header: KeyFile, logger: Logger | undefined) {
    this.#file = file;
    this.#header = header;
    this.#logger = logger;
  }

  /** Reads the key file's header (no passphrase needed); throws KW_ERR_KMS_KEY_FILE_NOT_FOUND. */
  static open(file: string, options: { logger?: Logger | undefined } = {}): LocalKeyProvider {
    return new LocalKeyProvider(file, readKeyFile(file), options.logger);
  }

  get file(): string {
    return this.#file;
  }

  get sealed(): boolean {
    return this.#ring === undefined;
  }

  /**
   * Opens the keyring. A wrong passphrase is KW_ERR_KMS_WRONG_PASSPHRASE and changes
   * nothing, on disk or in memory.
   */
  async unseal(passphrase: Passphrase): Promise<void> {
    const kf = readKeyFile(this.#file);
    const unsealKey = await deriveKeyFromPassphrase(
      reveal(passphrase),
      Buffer.from(kf.kdf.salt, "base64"),
      kf.kdf,
    );
    let ring: Keyring;
    try {
      ring = openKeyring(this.#file, kf, unsealKey);
    } catch (e) {
      unsealKey.fill(0);
      this.#logger?.warn({ provider: "local", file: this.#file }, "unseal failed");
      throw e;
    }
    this.#forget();
    this.#header = kf;
    this.#ring = ring;
    this.#unsealKey = unsealKey;
    this.#logger?.info(
      { provider: "local", file: this.#file, versions: ring.versions },
      "key provider unsealed",
    );
  }

  /** Forgets the keys; the provider is sealed again. */
  seal(): void {
    this.#forget();
  }

  #forget(): void {
    this.#ring?.destroy();
    this.#ring = undefined;
    this.#unsealKey?.fill(0);
    this.#unsealKey = undefined;
  }

  #unsealed(): { ring: Keyring; unsealKey: Uint8Array } {
    if (this.#ring === undefined || this.#unsealKey === undefined) {
      throw new KeywardenError("KW_ERR_KMS_SEALED", { provider: "local" });
    }
    return { ring: this.#ring, unsealKey: this.#unsealKey };
  }

  /** Re-reads the file, so that another process's rotation or retirement is seen. */
  #reload(): Keyring {
    const { unsealKey } = this.#unsealed();
    const kf = readKeyFile(this.#file);
    const ring = openKeyring(this.#file, kf, unsealKey);
    this.#ring?.destroy();
    this.#ring = ring;
    this.#header = kf;
    return ring;
  }

  wrap(dataKey: Uint8Array, context: Uint8Array): Promise<WrappedKey> {
    return settle(() => this.#unsealed().ring.wrap(dataKey, context));
  }

  unwrap(wrapped: WrappedKey, context: Uint8Array): Promise<Uint8Array> {
    return settle(() => {
      checkVersionNumber(wrapped.kekVersion);
      let { ring } = this.#unsealed();
      // A version above ours may have been added by another process since we unsealed.
      if (!ring.has(wrapped.kekVersion) && wrapped.kekVersion > ring.current) ring = this.#reload();
      return ring.unwrap(wrapped, context);
    });
  }

  /** Writes a new keyring from `keys` (consumed and zeroed), then switches to it. */
  #write(keys: Map<number, Buffer>): void {
    const { unsealKey } = this.#unsealed();
    const bytes = sealKeyring({ kdf: this.#header.kdf }, keys, unsealKey);
    try {
      writeFileAtomic(this.#file, bytes, { exclusive: false });
    } catch (e) {
      throw writeFailure(this.#file, e);
    }
    this.#reload();
  }

  rotate(): Promise<number> {
    return settle(() => {
      const ring = this.#reload();
      const version = ring.current + 1;
      const keys = ring.exportKeys();
      keys.set(version, Buffer.from(randomKey()));
      this.#write(keys);
      this.#logger?.info({ provider: "local", file: this.#file, version }, "KEK rotated");
      return version;
    });
  }

  retire(version: number): Promise<void> {
    return settle(() => {
      checkVersionNumber(version);
      const ring = this.#reload();
      if (version === ring.current) throw new KeywardenError("KW_ERR_KMS_RETIRE_CURRENT", { version });
      if (!ring.has(version)) throw unknownVersion("local", version, ring.versions);
      const keys = ring.exportKeys();
      keys.get(version)!.fill(0);
      keys.delete(version);
      this.#write(keys);
      this.#logger?.info({ provider: "local", file: this.#file, version }, "KEK version retired");
    });
  }

  status(): Promise<KeyProviderStatus> {
    const versions = this.#ring?.versions ?? [...this.#header.versions];
    return Promise.resolve({
      kind: "local",
      unsealed: this.#ring !== undefined,
      currentVersion: Math.max(...versions),
      versions,
      description: `key file ${this.#file}${this.#ring === undefined ? " (sealed)" : ""}`,
    });
  }

  close(): Promise<void> {
    this.#forget();
    return Promise.resolve();
  }
}
