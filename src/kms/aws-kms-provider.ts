/**
 * The `aws-kms` key provider: AWS KMS (or anything speaking its JSON protocol at a
 * configured endpoint) encrypts and decrypts data keys; KEKs never leave it.
 *
 * wrap = Encrypt(KeyId of the current version, dataKey, EncryptionContext) and unwrap =
 * Decrypt(the version's KeyId, blob, the same context). The context bytes are bound as
 * `keywarden:context` (base64) and the version as `keywarden:kek-version`.
 *
 * Versions: version 1 is the configured key; rotate() creates a new KMS key (CreateKey) and
 * records `version -> key id` in a small keyring file in Keywarden's home, written
 * atomically. retire() forgets a version locally; the KMS key itself is left for the
 * operator to disable or schedule for deletion.
 */
import { readFileSync } from "node:fs";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  KMSClient,
  type KMSClientConfig,
} from "@aws-sdk/client-kms";
import { KeywardenError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import type { KeyProvider, KeyProviderStatus, WrappedKey } from "./key-provider.ts";
import { checkVersionNumber, unknownVersion } from "./keyring.ts";

const PROVIDER = "aws-kms" as const;
const STATE_FORMAT = "keywarden-aws-kms-keyring";
export const CONTEXT_KEY = "keywarden:context";
export const VERSION_KEY = "keywarden:kek-version";

/** Static credentials; without them the SDK's default chain (environment, profile, role) applies. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface AwsKmsOptions {
  /** Key id, ARN or alias of KEK version 1. */
  readonly keyId: string;
  /** Empty: the SDK's default region resolution. */
  readonly region: string;
  /** Empty: AWS's own endpoint. */
  readonly endpoint: string;
  /** Where rotated versions are recorded (`<home>/aws-kms-keyring.json`). */
  readonly stateFile: string;
  readonly credentials?: AwsCredentials | undefined;
  readonly logger?: Logger | undefined;
}

interface VersionEntry {
  readonly version: number;
  readonly keyId: string;
}

const AUTH_ERRORS = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "CredentialsProviderError",
]);
const UNAVAILABLE_ERRORS = new Set([
  "KMSInternalException",
  "DependencyTimeoutException",
  "ThrottlingException",
  "ServiceUnavailable",
  "KeyUnavailableException",
]);
const UNWRAP_ERRORS = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);

function shortText(s: string): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function readState(file: string, keyId: string): VersionEntry[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [{ version: 1, keyId }];
    throw new KeywardenError(
      "KW_ERR_KMS_KEY_FILE_INVALID",
      { file, reason: (e as Error).message },
      { cause: e },
    );
  }
  const invalid = (reason: string): KeywardenError =>
    new KeywardenError("KW_ERR_KMS_KEY_FILE_INVALID", { file, reason });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid("not JSON");
  }
  const r = raw as { format?: unknown; versions?: unknown };
  if (typeof raw !== "object" || raw === null || r.format !== STATE_FORMAT || !Array.isArray(r.versions)) {
    throw invalid("not a Keywarden AWS KMS keyring");
  }
  const entries = r.versions.map((v: unknown) => {
    const e = v as { version?: unknown; keyId?: unknown };
    if (
      typeof e.version !== "number" ||
      !Number.isSafeInteger(e.version) ||
      e.version < 1 ||
      typeof e.keyId !== "string"
    ) {
      throw invalid("bad version entry");
    }
    return { version: e.version, keyId: e.keyId };
  });
  if (entries.length === 0) throw invalid("no versions");
  return entries.sort((a, b) => a.version - b.version);
}

function encodeState(entries: readonly VersionEntry[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ format: STATE_FORMAT, formatVersion: 1, versions: entries }, null, 2) + "\n",
  );
}

/**
 * The encryption context sent with Encrypt and Decrypt for `context` bytes and a version.
 *
 * @example
 *   encryptionContext(new TextEncoder().encode("sec_1|1"), 2) // { "keywarden:context": "c2VjXzF8MQ==", "keywarden:kek-version": "2" }
 */
export function encryptionContext(context: Uint8Array, version: number): Record<string, string> {
  const out: Record<string, string> = { [VERSION_KEY]: String(version) };
  // KMS rejects empty context values, so an empty context is simply not sent.
  if (context.length > 0) out[CONTEXT_KEY] = Buffer.from(context).toString("base64");
  return out;
}

/**
 * The `aws-kms` provider.
 *
 * @example
 *   const kms = new AwsKmsKeyProvider({ keyId: "alias/keywarden", region: "eu-west-1", endpoint: "", stateFile });
 */
export class AwsKmsKeyProvider implements KeyProvider {
  readonly kind = PROVIDER;
  readonly #options: AwsKmsOptions;
  readonly #client: KMSClient;
  #entries: VersionEntry[];
  #closed = false;

  constructor(options: AwsKmsOptions) {
    this.#options = options;
    this.#entries = readState(options.stateFile, options.keyId);
    const config: KMSClientConfig = {
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
    };
    if (options.region !== "") config.region = options.region;
    if (options.endpoint !== "") config.endpoint = options.endpoint;
    if (options.credentials !== undefined) config.credentials = { ...options.credentials };
    this.#client = new KMSClient(config);
  }

  #where(): string {
    return this.#options.endpoint !== "" ? this.#options.endpoint : "AWS KMS";
  }

  /** Maps an SDK or network error to a catalogue error; never includes request bodies. */
  #failure(operation: string, e: unknown): KeywardenError {
    if (e instanceof KeywardenError) return e;
    const err = e as {
      name?: unknown;
      message?: unknown;
      code?: unknown;
      $metadata?: { httpStatusCode?: number };
    };
    const name = typeof err.name === "string" ? err.name : "Error";
    const message = shortText(typeof err.message === "string" ? err.message : String(e));
    const status = err.$metadata?.httpStatusCode;
    if (AUTH_ERRORS.has(name)) {
      return new KeywardenError(
        "KW_ERR_KMS_AUTH_FAILED",
        { provider: PROVIDER, reason: `${name}: ${message}` },
        { cause: e },
      );
    }
    if (status === undefined || status >= 500 || UNAVAILABLE_ERRORS.has(name)) {
      const code = typeof err.code === "string" ? err.code : name;
      return new KeywardenError(
        "KW_ERR_KMS_UNAVAILABLE",
        { provider: PROVIDER, reason: `${operation} at ${this.#where()} failed: ${code}: ${message}` },
        { cause: e },
      );
    }
    return new KeywardenError(
      "KW_ERR_KMS_REFUSED",
      { provider: PROVIDER, operation, reason: `${name}: ${message}` },
      { cause: e },
    );
  }

  #check(): void {
    if (this.#closed)
      throw new KeywardenError("KW_ERR_KMS_UNAVAILABLE", { provider: PROVIDER, reason: "closed" });
  }

  get #current(): VersionEntry {
    return this.#entries[this.#entries.length - 1]!;
  }

  async wrap(dataKey: Uint8Array, context: Uint8Array): Promise<WrappedKey> {
    this.#check();
    const { version, keyId } = this.#current;
    try {
      const out = await this.#client.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: dataKey,
          EncryptionContext: encryptionContext(context, version),
        }),
      );
      if (out.CiphertextBlob === undefined) throw new Error("Encrypt returned no CiphertextBlob");
      return { kekVersion: version, blob: out.CiphertextBlob };
    } catch (e) {
      throw this.#failure("Encrypt", e);
    }
  }

  async unwrap(wrapped: WrappedKey, context: Uint8Array): Promise<Uint8Array> {
    this.#check();
    checkVersionNumber(wrapped.kekVersion);
    let entry = this.#entries.find((e) => e.version === wrapped.kekVersion);
    if (entry === undefined && wrapped.kekVersion > this.#current.version) {
      // Another process may have rotated since this one started.
      this.#entries = readState(this.#options.stateFile, this.#options.keyId);
      entry = this.#entries.find((e) => e.version === wrapped.kekVersion);
    }
    if (entry === undefined)
      throw unknownVersion(
        PROVIDER,
        wrapped.kekVersion,
        this.#entries.map((e) => e.version),
      );
    try {
      const out = await this.#client.send(
        new DecryptCommand({
          KeyId: entry.keyId,
          CiphertextBlob: wrapped.blob,
          EncryptionContext: encryptionContext(context, wrapped.kekVersion),
        }),
      );
      if (out.Plaintext === undefined) throw new Error("Decrypt returned no Plaintext");
      return out.Plaintext;
    } catch (e) {
      const name = (e as { name?: unknown }).name;
      if (typeof name === "string" && UNWRAP_ERRORS.has(name)) {
        throw new KeywardenError(
          "KW_ERR_KMS_UNWRAP",
          {
            provider: PROVIDER,
            version: wrapped.kekVersion,
            reason: `${name} (modified blob, wrong key or wrong binding)`,
          },
          { cause: e },
        );
      }
      throw this.#failure("Decrypt", e);
    }
  }

  async rotate(): Promise<number> {
    this.#check();
    // Another process may have rotated: number from the file as it is now.
    const entries = readState(this.#options.stateFile, this.#options.keyId);
    const version = entries[entries.length - 1]!.version + 1;
    let keyId: string | undefined;
    try {
      const out = await this.#client.send(
        new CreateKeyCommand({
          KeySpec: "SYMMETRIC_DEFAULT",
          KeyUsage: "ENCRYPT_DECRYPT",
          Description: `Keywarden KEK version ${version}`,
          Tags: [{ TagKey: VERSION_KEY, TagValue: String(version) }],
        }),
      );
      keyId = out.KeyMetadata?.Arn ?? out.KeyMetadata?.KeyId;
      if (keyId === undefined) throw new Error("CreateKey returned no key id");
    } catch (e) {
      throw this.#failure("CreateKey", e);
    }
    const next = [...entries, { version, keyId }];
    this.#write(next, `the new KMS key ${keyId} is unused; disable it`);
    this.#entries = next;
    this.#options.logger?.info({ provider: PROVIDER, version, keyId }, "KEK rotated");
    return version;
  }

  #write(entries: readonly VersionEntry[], ifFailed: string): void {
    try {
      writeFileAtomic(this.#options.stateFile, encodeState(entries), { exclusive: false });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new KeywardenError(
        "KW_ERR_KMS_KEY_FILE_WRITE",
        { file: this.#options.stateFile, reason: `${code}; ${ifFailed}` },
        { cause: e },
      );
    }
  }

  retire(version: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#check();
      checkVersionNumber(version);
      const entries = readState(this.#options.stateFile, this.#options.keyId);
      const current = entries[entries.length - 1]!;
      if (version === current.version) throw new KeywardenError("KW_ERR_KMS_RETIRE_CURRENT", { version });
      const retired = entries.find((e) => e.version === version);
      if (retired === undefined)
        throw unknownVersion(
          PROVIDER,
          version,
          entries.map((e) => e.version),
        );
      const next = entries.filter((e) => e.version !== version);
      this.#write(next, "nothing changed");
      this.#entries = next;
      this.#options.logger?.info(
        { provider: PROVIDER, version, keyId: retired.keyId },
        "KEK version retired; disable or schedule deletion of its KMS key when nothing needs it",
      );
      resolve();
    });
  }

  status(): Promise<KeyProviderStatus> {
    return new Promise<KeyProviderStatus>((resolve) => {
      this.#check();
      resolve({
        kind: PROVIDER,
        unsealed: true,
        currentVersion: this.#current.version,
        versions: this.#entries.map((e) => e.version),
        description: `AWS KMS ${this.#entries.map((e) => `v${e.version}=${e.keyId}`).join(", ")} at ${this.#where()}`,
      });
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#client.destroy();
    }
    return Promise.resolve();
  }
}
