/**
 * The `pkcs11` key provider: the KEK is an AES-256 key generated on an HSM token
 * (CKA_SENSITIVE true, CKA_EXTRACTABLE false), labelled `<keyLabel>-v<N>`. Data keys are
 * encrypted and decrypted by the token with CKM_AES_GCM; the KEK never leaves it.
 *
 * Blob format: `0x01 || iv(12) || ciphertext || tag(16)`, GCM AAD = the caller's context.
 */
import { existsSync } from "node:fs";
import pkcs11js from "pkcs11js";
import { KeywardenError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { NONCE_BYTES, TAG_BYTES } from "../crypto/aead.ts";
import { randomBytes } from "node:crypto";
import type { KeyProvider, KeyProviderStatus, WrappedKey } from "./key-provider.ts";
import { checkVersionNumber, settle, unknownVersion } from "./keyring.ts";

type Handle = Buffer;
const BLOB_VERSION = 1;
const PROVIDER = "pkcs11" as const;

export interface Pkcs11Options {
  /** Path of the PKCS#11 library (for SoftHSM2: /usr/lib/softhsm/libsofthsm2.so). */
  readonly module: string;
  readonly tokenLabel: string;
  readonly pin: string;
  readonly keyLabel: string;
  readonly logger?: Logger | undefined;
}

/**
 * One initialised library per module path and process: PKCS#11 allows C_Initialize once per
 * process, so providers share it and the last one to close finalises it.
 */
const LIBRARIES = new Map<string, { lib: pkcs11js.PKCS11; users: number }>();

function acquireLibrary(module: string): pkcs11js.PKCS11 {
  const shared = LIBRARIES.get(module);
  if (shared !== undefined) {
    shared.users++;
    return shared.lib;
  }
  if (!existsSync(module)) {
    throw new KeywardenError("KW_ERR_KMS_UNAVAILABLE", {
      provider: PROVIDER,
      reason: `PKCS#11 module not found: ${module}`,
    });
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(module);
    lib.C_Initialize();
  } catch (e) {
    throw new KeywardenError(
      "KW_ERR_KMS_UNAVAILABLE",
      { provider: PROVIDER, reason: `cannot load PKCS#11 module ${module}: ${describe(e)}` },
      { cause: e },
    );
  }
  LIBRARIES.set(module, { lib, users: 1 });
  return lib;
}

function releaseLibrary(module: string): void {
  const shared = LIBRARIES.get(module);
  if (shared === undefined) return;
  if (--shared.users > 0) return;
  LIBRARIES.delete(module);
  try {
    shared.lib.C_Finalize();
  } finally {
    shared.lib.close();
  }
}

/** The PKCS#11 return value name (CKR_...) of a pkcs11js error, or its first line. */
function describe(e: unknown): string {
  return e instanceof Error ? (e.message.split("\n")[0] ?? "unknown error") : String(e);
}

function ckr(e: unknown): number | undefined {
  return e instanceof pkcs11js.Pkcs11Error ? e.code : undefined;
}

function gcm(iv: Buffer, aad: Uint8Array): pkcs11js.Mechanism {
  const params: pkcs11js.AesGCM = {
    type: pkcs11js.CK_PARAMS_AES_GCM,
    iv,
    aad: Buffer.from(aad),
    ivBits: NONCE_BYTES * 8,
    tagBits: TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter: params };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The `pkcs11` provider. `Pkcs11KeyProvider.open` loads the module, finds the token by
 * label, logs in and lists the KEK versions; with none yet, it generates version 1 on the
 * token.
 *
 * @example
 *   const kms = Pkcs11KeyProvider.open({ module, tokenLabel: "keywarden", pin, keyLabel: "keywarden-kek" });
 */
export class Pkcs11KeyProvider implements KeyProvider {
  readonly kind = PROVIDER;
  readonly #options: Pkcs11Options;
  readonly #lib: pkcs11js.PKCS11;
  #session: Handle | undefined;
  readonly #keys = new Map<number, Handle>();

  private constructor(options: Pkcs11Options, lib: pkcs11js.PKCS11, session: Handle) {
    this.#options = options;
    this.#lib = lib;
    this.#session = session;
  }

  static open(options: Pkcs11Options): Pkcs11KeyProvider {
    const lib = acquireLibrary(options.module);
    let session: Handle | undefined;
    try {
      const slot = Pkcs11KeyProvider.#findSlot(lib, options);
      session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, options.pin);
      } catch (e) {
        // Login state is per application and token: another provider in this process may hold it.
        if (ckr(e) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
          const code = ckr(e);
          if (
            code === pkcs11js.CKR_PIN_INCORRECT ||
            code === pkcs11js.CKR_PIN_LEN_RANGE ||
            code === pkcs11js.CKR_PIN_LOCKED
          ) {
            throw new KeywardenError(
              "KW_ERR_KMS_AUTH_FAILED",
              {
                provider: PROVIDER,
                reason: `login to token "${options.tokenLabel}" failed (${describe(e)})`,
              },
              { cause: e },
            );
          }
          throw e;
        }
      }
      const provider = new Pkcs11KeyProvider(options, lib, session);
      provider.#loadKeys();
      if (provider.#keys.size === 0) {
        provider.#generate(1);
        options.logger?.info(
          { provider: PROVIDER, token: options.tokenLabel, version: 1 },
          "generated KEK version 1 on the token",
        );
      }
      return provider;
    } catch (e) {
      if (session !== undefined) {
        try {
          lib.C_CloseSession(session);
        } catch {
          // Already failing; the original error is the one to report.
        }
      }
      releaseLibrary(options.module);
      if (e instanceof KeywardenError) throw e;
      throw new KeywardenError(
        "KW_ERR_KMS_UNAVAILABLE",
        { provider: PROVIDER, reason: describe(e) },
        { cause: e },
      );
    }
  }

  static #findSlot(lib: pkcs11js.PKCS11, options: Pkcs11Options): Handle {
    const labels: string[] = [];
    for (const slot of lib.C_GetSlotList(true)) {
      const label = lib.C_GetTokenInfo(slot).label.trim();
      if (label === options.tokenLabel) return slot;
      if (label !== "") labels.push(label);
    }
    throw new KeywardenError("KW_ERR_KMS_UNAVAILABLE", {
      provider: PROVIDER,
      reason: `no token labelled "${options.tokenLabel}" in ${options.module} (tokens: ${labels.length > 0 ? labels.join(", ") : "none"})`,
    });
  }

  #openSession(): Handle {
    if (this.#session === undefined)
      throw new KeywardenError("KW_ERR_KMS_UNAVAILABLE", { provider: PROVIDER, reason: "closed" });
    return this.#session;
  }

  #label(version: number): string {
    return `${this.#options.keyLabel}-v${version}`;
  }

  /** Lists this provider's KEK objects on the token (every AES secret key labelled <keyLabel>-v<N>). */
  #loadKeys(): void {
    const session = this.#openSession();
    const pattern = new RegExp(`^${escapeRegExp(this.#options.keyLabel)}-v([1-9]\\d*)$`);
    this.#lib.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_TOKEN, value: true },
    ]);
    let handles: Handle[];
    try {
      handles = this.#lib.C_FindObjects(session, 1000);
    } finally {
      this.#lib.C_FindObjectsFinal(session);
    }
    this.#keys.clear();
    for (const handle of handles) {
      const [attr] = this.#lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LABEL }]);
      const label = Buffer.isBuffer(attr?.value) ? attr.value.toString("utf8") : "";
      const m = pattern.exec(label);
      if (m !== null) this.#keys.set(Number(m[1]), handle);
    }
  }

  #generate(version: number): void {
    const handle = this.#lib.C_GenerateKey(this.#openSession(), { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_LABEL, value: this.#label(version) },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
      { type: pkcs11js.CKA_WRAP, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
    ]);
    this.#keys.set(version, handle);
  }

  /** Runs a token call, turning a PKCS#11 failure into KW_ERR_KMS_UNAVAILABLE. */
  #call<T>(operation: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof KeywardenError) throw e;
      throw new KeywardenError(
        "KW_ERR_KMS_UNAVAILABLE",
        {
          provider: PROVIDER,
          reason: `${operation} failed on token "${this.#options.tokenLabel}": ${describe(e)}`,
        },
        { cause: e },
      );
    }
  }

  get #current(): number {
    return Math.max(...this.#keys.keys());
  }

  wrap(dataKey: Uint8Array, context: Uint8Array): Promise<WrappedKey> {
    return settle(() => {
      const session = this.#openSession();
      const version = this.#current;
      const iv = randomBytes(NONCE_BYTES);
      const sealed = this.#call("encrypt", () => {
        this.#lib.C_EncryptInit(session, gcm(iv, context), this.#keys.get(version)!);
        return this.#lib.C_Encrypt(session, Buffer.from(dataKey), Buffer.alloc(dataKey.length + TAG_BYTES));
      });
      return { kekVersion: version, blob: Buffer.concat([Uint8Array.of(BLOB_VERSION), iv, sealed]) };
    });
  }

  unwrap(wrapped: WrappedKey, context: Uint8Array): Promise<Uint8Array> {
    return settle(() => {
      const session = this.#openSession();
      checkVersionNumber(wrapped.kekVersion);
      const key = this.#keys.get(wrapped.kekVersion);
      if (key === undefined) throw unknownVersion(PROVIDER, wrapped.kekVersion, [...this.#keys.keys()]);
      const fail = (reason: string, cause?: unknown): KeywardenError =>
        new KeywardenError(
          "KW_ERR_KMS_UNWRAP",
          { provider: PROVIDER, version: wrapped.kekVersion, reason },
          { cause },
        );
      const blob = Buffer.from(wrapped.blob);
      if (blob.length < 1 + NONCE_BYTES + TAG_BYTES) throw fail("wrapped key too short");
      if (blob[0] !== BLOB_VERSION) throw fail(`unknown format version ${blob[0]}`);
      const iv = blob.subarray(1, 1 + NONCE_BYTES);
      const body = blob.subarray(1 + NONCE_BYTES);
      this.#call("decrypt", () => {
        this.#lib.C_DecryptInit(session, gcm(iv, context), key);
      });
      try {
        return this.#lib.C_Decrypt(session, body, Buffer.alloc(body.length));
      } catch (e) {
        const code = ckr(e);
        // With the operation initialised, GCM fails only on the tag; SoftHSM2 reports that as
        // CKR_GENERAL_ERROR, other tokens as CKR_ENCRYPTED_DATA_INVALID.
        if (
          code === pkcs11js.CKR_ENCRYPTED_DATA_INVALID ||
          code === pkcs11js.CKR_ENCRYPTED_DATA_LEN_RANGE ||
          code === pkcs11js.CKR_GENERAL_ERROR
        ) {
          throw fail(
            `authentication failed (modified data, wrong key or wrong binding; token said ${describe(e)})`,
            e,
          );
        }
        throw new KeywardenError(
          "KW_ERR_KMS_UNAVAILABLE",
          {
            provider: PROVIDER,
            reason: `decrypt failed on token "${this.#options.tokenLabel}": ${describe(e)}`,
          },
          { cause: e },
        );
      }
    });
  }

  rotate(): Promise<number> {
    return settle(() => {
      this.#openSession();
      // Another process may have rotated: number from what is on the token now.
      this.#call("list keys", () => {
        this.#loadKeys();
      });
      const version = this.#current + 1;
      this.#call("generate key", () => {
        this.#generate(version);
      });
      this.#options.logger?.info(
        { provider: PROVIDER, token: this.#options.tokenLabel, version },
        "KEK rotated",
      );
      return version;
    });
  }

  retire(version: number): Promise<void> {
    return settle(() => {
      const session = this.#openSession();
      checkVersionNumber(version);
      this.#call("list keys", () => {
        this.#loadKeys();
      });
      if (version === this.#current) throw new KeywardenError("KW_ERR_KMS_RETIRE_CURRENT", { version });
      const handle = this.#keys.get(version);
      if (handle === undefined) throw unknownVersion(PROVIDER, version, [...this.#keys.keys()]);
      this.#call("destroy key", () => {
        this.#lib.C_DestroyObject(session, handle);
      });
      this.#keys.delete(version);
      this.#options.logger?.info(
        { provider: PROVIDER, token: this.#options.tokenLabel, version },
        "KEK version retired",
      );
    });
  }

  status(): Promise<KeyProviderStatus> {
    return settle(() => {
      this.#openSession();
      const versions = [...this.#keys.keys()].sort((a, b) => a - b);
      return {
        kind: PROVIDER,
        unsealed: true,
        currentVersion: this.#current,
        versions,
        description: `PKCS#11 token "${this.#options.tokenLabel}" (${this.#options.module}), keys ${this.#options.keyLabel}-v<N>`,
      };
    });
  }

  close(): Promise<void> {
    return settle(() => {
      const session = this.#session;
      if (session === undefined) return;
      this.#session = undefined;
      this.#keys.clear();
      try {
        this.#lib.C_CloseSession(session);
      } finally {
        releaseLibrary(this.#options.module);
      }
    });
  }
}
