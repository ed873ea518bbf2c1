/**
 * The vault's box for the generated TLS key (see TlsKeyBox in tls.ts): AES-256-GCM under a
 * meta key of its own (`tls-key` in vault_meta, wrapped by the KEK, so `kek rotate` re-wraps it
 * like the others). Opening checks the key against the certificate beside it (tls.ts).
 */
import type { Clock } from "../core/clock.ts";
import { openBytes, sealBytes } from "../crypto/aead.ts";
import type { Keywarden } from "../app.ts";
import { metaKey } from "../services/vault/meta-keys.ts";
import type { TlsKeyBox } from "./tls.ts";

const FORMAT = "keywarden-tls-key-v1";

interface SealedKeyFile {
  readonly format: typeof FORMAT;
  /** base64 of sealBytes(tls-key, PEM, aad) */
  readonly sealed: string;
}

function aad(): Uint8Array {
  return new TextEncoder().encode(FORMAT);
}

async function withKey<T>(kw: Keywarden, clock: Clock, use: (key: Uint8Array) => T): Promise<T> {
  const key = await metaKey(kw.storage.db, kw.kms, clock, "tls-key");
  try {
    return use(key);
  } finally {
    key.fill(0);
  }
}

/**
 * The box, or undefined while the vault is sealed (its keys are not at hand).
 *
 * @example
 *   const tls = await loadOrCreateTls(config.server, home, ["localhost"], tlsKeyBox(kw, systemClock));
 */
export function tlsKeyBox(kw: Keywarden, clock: Clock): TlsKeyBox | undefined {
  if (kw.sealed()) return undefined;
  return {
    seal: (keyPem) =>
      withKey(kw, clock, (key) => {
        const file: SealedKeyFile = {
          format: FORMAT,
          sealed: Buffer.from(sealBytes(key, new TextEncoder().encode(keyPem), aad())).toString("base64"),
        };
        return `${JSON.stringify(file, null, 2)}\n`;
      }),
    open: (text) =>
      withKey(kw, clock, (key) => {
        const file = JSON.parse(text) as Partial<SealedKeyFile>;
        if (file.format !== FORMAT || typeof file.sealed !== "string")
          throw new Error(`not a ${FORMAT} file`);
        const pem = openBytes(key, Buffer.from(file.sealed, "base64"), aad());
        try {
          return new TextDecoder().decode(pem);
        } finally {
          pem.fill(0);
        }
      }),
  };
}
