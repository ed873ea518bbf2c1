/**
 * The `env` key provider, for containers: the KEK is the base64 encoding of 32 bytes in an
 * environment variable (`KEYWARDEN_MASTER_KEY` by default) and later versions sit in
 * numbered variables (`KEYWARDEN_MASTER_KEY_V2`, `_V3`, ...). The highest version present is
 * current. It cannot rotate or retire by itself: a deployment adds or removes variables.
 */
import { KeywardenError } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { KEY_BYTES } from "../crypto/aead.ts";
import type { KeyProvider, KeyProviderStatus, WrappedKey } from "./key-provider.ts";
import { checkVersionNumber, Keyring, settle } from "./keyring.ts";

const BASE64_32 = /^(?:[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43}=?)$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Decodes one variable's value, or throws an error naming the variable (never its value). */
function decodeKey(variable: string, raw: string): Buffer {
  const value = raw.trim();
  if (value === "") throw new KeywardenError("KW_ERR_KMS_ENV_KEY", { variable, reason: "is empty" });
  if (!BASE64_32.test(value)) {
    throw new KeywardenError("KW_ERR_KMS_ENV_KEY", {
      variable,
      reason: `is not the base64 encoding of ${KEY_BYTES} bytes (${value.length} characters)`,
    });
  }
  const key = Buffer.from(value, value.includes("-") || value.includes("_") ? "base64url" : "base64");
  if (key.length !== KEY_BYTES) {
    throw new KeywardenError("KW_ERR_KMS_ENV_KEY", {
      variable,
      reason: `decodes to ${key.length} bytes, not ${KEY_BYTES}`,
    });
  }
  return key;
}

/**
 * Reads every KEK version from `env`: `variable` is version 1, `variable_V<n>` version n.
 *
 * @example
 *   readEnvKeys("KEYWARDEN_MASTER_KEY", { KEYWARDEN_MASTER_KEY: "...", KEYWARDEN_MASTER_KEY_V2: "..." }) // Map {1 => ..., 2 => ...}
 */
export function readEnvKeys(
  variable: string,
  env: Readonly<Record<string, string | undefined>>,
): Map<number, Buffer> {
  const numbered = new RegExp(`^${escapeRegExp(variable)}_V(\\d+)$`);
  const keys = new Map<number, Buffer>();
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined) continue;
    let version: number;
    if (name === variable) version = 1;
    else {
      const m = numbered.exec(name);
      if (m === null) continue;
      version = Number(m[1]);
      if (!Number.isSafeInteger(version) || version < 2 || m[1]!.startsWith("0")) {
        throw new KeywardenError("KW_ERR_KMS_ENV_KEY", {
          variable: name,
          reason: `version suffixes start at _V2 (${variable} itself is version 1)`,
        });
      }
    }
    keys.set(version, decodeKey(name, raw));
  }
  if (keys.size === 0) throw new KeywardenError("KW_ERR_KMS_ENV_KEY", { variable, reason: "is not set" });
  return keys;
}

/**
 * The `env` provider over a variables map that the caller passes in (the CLI passes
 * process.env; library code never reads it).
 *
 * @example
 *   const kms = new EnvKeyProvider({ variable: "KEYWARDEN_MASTER_KEY", env: process.env });
 */
export class EnvKeyProvider implements KeyProvider {
  readonly kind = "env" as const;
  readonly #variable: string;
  #ring: Keyring | undefined;

  constructor(options: {
    variable: string;
    env: Readonly<Record<string, string | undefined>>;
    logger?: Logger | undefined;
  }) {
    this.#variable = options.variable;
    const keys = readEnvKeys(options.variable, options.env);
    this.#ring = new Keyring("env", keys);
    for (const k of keys.values()) k.fill(0);
    options.logger?.debug(
      { provider: "env", variable: options.variable, versions: this.#ring.versions },
      "KEK loaded",
    );
  }

  #open(): Keyring {
    if (this.#ring === undefined)
      throw new KeywardenError("KW_ERR_KMS_UNAVAILABLE", { provider: "env", reason: "closed" });
    return this.#ring;
  }

  wrap(dataKey: Uint8Array, context: Uint8Array): Promise<WrappedKey> {
    return settle(() => this.#open().wrap(dataKey, context));
  }

  unwrap(wrapped: WrappedKey, context: Uint8Array): Promise<Uint8Array> {
    return settle(() => {
      checkVersionNumber(wrapped.kekVersion);
      return this.#open().unwrap(wrapped, context);
    });
  }

  rotate(): Promise<number> {
    return settle(() => {
      const next = this.#open().current + 1;
      throw new KeywardenError("KW_ERR_KMS_ROTATE_UNSUPPORTED", {
        provider: "env",
        operation: "rotate",
        reason: `set ${this.#variable}_V${next} to a new base64 32-byte key and restart; it becomes version ${next}`,
      });
    });
  }

  retire(version: number): Promise<void> {
    return settle(() => {
      checkVersionNumber(version);
      throw new KeywardenError("KW_ERR_KMS_ROTATE_UNSUPPORTED", {
        provider: "env",
        operation: "retire",
        reason: `remove ${version === 1 ? this.#variable : `${this.#variable}_V${version}`} from the environment and restart`,
      });
    });
  }

  status(): Promise<KeyProviderStatus> {
    return settle(() => {
      const ring = this.#open();
      return {
        kind: "env" as const,
        unsealed: true,
        currentVersion: ring.current,
        versions: ring.versions,
        description: `environment variable ${this.#variable}${ring.versions.length > 1 || ring.current > 1 ? " (and _V<n> versions)" : ""}`,
      };
    });
  }

  close(): Promise<void> {
    this.#ring?.destroy();
    this.#ring = undefined;
    return Promise.resolve();
  }
}
