/**
 * Vault-wide random keys (the fingerprint key, the audit checkpoint key, the keys that seal
 * TOTP secrets and the server's TLS key), stored in `vault_meta` wrapped by the KEK and bound
 * to their name. They are random rather than derived from the KEK so that every key provider
 * works, including HSMs and cloud KMS that never let the KEK out.
 */
import type { Clock } from "../../core/clock.ts";
import { randomKey } from "../../crypto/aead.ts";
import type { KeyProvider } from "../../kms/key-provider.ts";
import type { Executor } from "../../storage/repos/executor.ts";
import { findMeta, insertMetaIfAbsent } from "../../storage/repos/vault-meta-repo.ts";

/**
 * `totp-key` seals users' TOTP secrets (access service); `tls-key` the server's generated TLS
 * key (server/tls-key-box.ts).
 */
export type MetaKeyName = "fingerprint-key" | "audit-checkpoint-key" | "totp-key" | "tls-key";

/** The context a meta key is wrapped under. */
export function metaKeyContext(name: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(["keywarden-meta-key-v1", name]));
}

/**
 * Returns the named key, creating it on first use. Two processes racing both end up with
 * the one that was stored first.
 *
 * @example
 *   const fpKey = await metaKey(db, kms, clock, "fingerprint-key");
 */
export async function metaKey(
  db: Executor,
  kms: KeyProvider,
  clock: Clock,
  name: MetaKeyName,
): Promise<Uint8Array> {
  const context = metaKeyContext(name);
  let row = await findMeta(db, name);
  if (row === undefined) {
    const key = randomKey();
    const wrapped = await kms.wrap(key, context);
    key.fill(0);
    await insertMetaIfAbsent(db, {
      name,
      kek_version: wrapped.kekVersion,
      wrapped: wrapped.blob,
      created_at: clock.now().toISOString(),
    });
    row = await findMeta(db, name);
    if (row === undefined) throw new Error(`vault_meta row ${name} vanished after insert`);
  }
  return kms.unwrap({ kekVersion: row.kek_version, blob: row.wrapped }, context);
}
