/**
 * KEK rotation: a new key-encryption key version at the provider, then every wrapped key
 * (the data key of each secret version, and the vault's own keys in `vault_meta`) unwrapped
 * with its old version and wrapped with the new one under the same binding. No secret value
 * is decrypted. Batches commit one transaction each; a run interrupted at any point is
 * finished by the next one. Invariants: NOTES.md beside this file ("KEK rotation").
 */
import type { Clock } from "../../core/clock.ts";
import { isKeywardenError, KeywardenError } from "../../core/errors.ts";
import type { Logger } from "../../core/logger.ts";
import type { KeyProvider, KeyProviderKind, WrappedKey } from "../../kms/key-provider.ts";
import type { Storage } from "../../storage/database.ts";
import { findLastAudit } from "../../storage/repos/audit-repo.ts";
import {
  countDataKeysByKekVersion,
  listDataKeysBelow,
  rewrapDataKey,
  type DataKeyToRewrap,
} from "../../storage/repos/secret-version-repo.ts";
import { countMetaByKekVersion, listMeta, rewrapMeta } from "../../storage/repos/vault-meta-repo.ts";
import type { AuditResult, AuditService, RequestContext } from "../audit/audit-service.ts";
import { metaKeyContext } from "./meta-keys.ts";
import { versionBinding } from "./vault-service.ts";

/** Data keys re-wrapped per transaction unless told otherwise. */
export const DEFAULT_REWRAP_BATCH = 500;
/** Passes over the data keys: a second one catches keys written meanwhile by a process still on the old version. */
const MAX_PASSES = 3;

const START = "kek.rotate.start";
const FINISH = "kek.rotate.finish";

export interface KekDeps {
  readonly storage: Storage;
  readonly kms: KeyProvider;
  readonly audit: AuditService;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
}

/** What one KEK version protects. */
export interface KekVersionUse {
  readonly version: number;
  /** Data keys of secret versions wrapped by it. */
  readonly dataKeys: number;
  /** The vault's own keys (fingerprint, audit checkpoint) wrapped by it. */
  readonly vaultKeys: number;
  /** The provider still has it (false: retired, and anything it wraps is unreadable). */
  readonly available: boolean;
  readonly current: boolean;
}

export interface KekStatus {
  readonly kind: KeyProviderKind;
  readonly description: string;
  readonly unsealed: boolean;
  readonly currentVersion: number;
  /** Every version the provider has or a wrapped key names, oldest first. */
  readonly versions: readonly KekVersionUse[];
  /** Keys are still wrapped by an older version, or a rotation did not record its end: `kek rotate` finishes it. */
  readonly unfinished: boolean;
}

export interface RotateOptions {
  /** Data keys per transaction. */
  readonly batchSize?: number | undefined;
  /** Retire every older version nothing uses any more, at the end. */
  readonly retire?: boolean | undefined;
}

export interface RotateResult {
  /** The version everything is wrapped by now. */
  readonly version: number;
  /** True when this run finished an interrupted rotation instead of making a new version. */
  readonly resumed: boolean;
  readonly dataKeys: number;
  readonly vaultKeys: number;
  /** Keys still on an older version (written meanwhile by a process that has not seen the new version). */
  readonly left: number;
  readonly retired: readonly number[];
  /** Older versions kept, and why. */
  readonly kept: readonly { readonly version: number; readonly reason: string }[];
}

export interface RetireResult {
  readonly retired: readonly number[];
  readonly kept: readonly { readonly version: number; readonly reason: string }[];
}

function sum(m: ReadonlyMap<number, number>, below: number): number {
  let n = 0;
  for (const [v, c] of m) if (v < below) n += c;
  return n;
}

/**
 * @example
 *   const kek = createKekService({ storage, kms, audit, clock });
 *   const r = await kek.rotate(ctx, { retire: false }); // r.version, r.dataKeys
 *   const s = await kek.status(ctx);
 */
export function createKekService(deps: KekDeps) {
  const { storage, kms, audit } = deps;
  const db = storage.db;

  async function audited<T>(ctx: RequestContext, action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const code = isKeywardenError(e) ? e.code : "KW_ERR_INTERNAL";
      const result: AuditResult =
        code === "KW_ERR_KMS_SEALED" || code === "KW_ERR_KMS_AUTH_FAILED" ? "denied" : "failed";
      try {
        await audit.record(ctx, { action, result, detail: code });
      } catch (auditError) {
        deps.logger?.error({ err: auditError, action }, "could not record a failed KEK operation");
      }
      throw e;
    }
  }

  async function uses(): Promise<{ data: Map<number, number>; meta: Map<number, number> }> {
    return { data: await countDataKeysByKekVersion(db), meta: await countMetaByKekVersion(db) };
  }

  async function computeStatus(): Promise<KekStatus> {
    const st = await kms.status();
    const { data, meta } = await uses();
    const all = new Set<number>([...st.versions, ...data.keys(), ...meta.keys()]);
    const versions = [...all]
      .sort((a, b) => a - b)
      .map((version) => ({
        version,
        dataKeys: data.get(version) ?? 0,
        vaultKeys: meta.get(version) ?? 0,
        available: st.versions.includes(version),
        current: version === st.currentVersion,
      }));
    const last = await findLastAudit(db, [START, FINISH]);
    const unfinished =
      sum(data, st.currentVersion) + sum(meta, st.currentVersion) > 0 ||
      (last?.action === START && last.version === st.currentVersion);
    return {
      kind: st.kind,
      description: st.description,
      unsealed: st.unsealed,
      currentVersion: st.currentVersion,
      versions,
      unfinished,
    };
  }

  /** KEK versions and what each wraps; needs no unsealing. Audited as `kek.status`. */
  function status(ctx: RequestContext): Promise<KekStatus> {
    return audited(ctx, "kek.status", async () => {
      const s = await computeStatus();
      await audit.record(ctx, { action: "kek.status", version: s.currentVersion, result: "ok" });
      return s;
    });
  }

  /** Unwraps with the key's own version and wraps with the current one, same binding. */
  async function rewrap(
    wrapped: WrappedKey,
    context: Uint8Array,
    tampered: () => KeywardenError,
  ): Promise<WrappedKey> {
    let key: Uint8Array;
    try {
      key = await kms.unwrap(wrapped, context);
    } catch (e) {
      if (isKeywardenError(e, "KW_ERR_KMS_UNWRAP") || isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT"))
        throw tampered();
      throw e;
    }
    try {
      return await kms.wrap(key, context);
    } finally {
      key.fill(0);
    }
  }

  /** One batch: wrap outside the transaction (a KMS may be remote), update in one. */
  async function rewrapBatch(batch: readonly DataKeyToRewrap[]): Promise<number> {
    const updates: { row: DataKeyToRewrap; kekVersion: number; blob: Uint8Array }[] = [];
    for (const row of batch) {
      const next = await rewrap(
        { kekVersion: row.kekVersion, blob: row.wrapped },
        versionBinding(row.secretId, row.version, row.path),
        () =>
          new KeywardenError("KW_ERR_VAULT_TAMPERED", {
            path: row.path,
            version: row.version,
            reason: "its data key does not unwrap for this secret and version, so it cannot be re-wrapped",
          }),
      );
      updates.push({ row, ...next });
    }
    return db.transaction().execute(async (trx) => {
      let n = 0;
      for (const u of updates) {
        const done = await rewrapDataKey(trx, u.row.versionId, u.row.kekVersion, {
          kek_version: u.kekVersion,
          wrapped: u.blob,
        });
        if (done) n++;
      }
      return n;
    });
  }

  async function rewrapDataKeys(target: number, batchSize: number): Promise<number> {
    let total = 0;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      let after = "";
      let seen = 0;
      for (;;) {
        const batch = await listDataKeysBelow(db, target, after, batchSize);
        if (batch.length === 0) break;
        total += await rewrapBatch(batch);
        seen += batch.length;
        after = batch.at(-1)!.versionId;
        deps.logger?.debug({ version: target, rewrapped: total }, "KEK rotation batch committed");
      }
      if (seen === 0) break;
    }
    return total;
  }

  async function rewrapVaultKeys(target: number): Promise<number> {
    const rows = (await listMeta(db)).filter((r) => r.kek_version < target);
    if (rows.length === 0) return 0;
    const updates: { r: (typeof rows)[number]; next: WrappedKey }[] = [];
    for (const r of rows) {
      const next = await rewrap(
        { kekVersion: r.kek_version, blob: r.wrapped },
        metaKeyContext(r.name),
        () =>
          new KeywardenError("KW_ERR_KMS_UNWRAP", {
            provider: kms.kind,
            version: r.kek_version,
            reason: `the vault key ${r.name} was modified`,
          }),
      );
      updates.push({ r, next });
    }
    return db.transaction().execute(async (trx) => {
      let n = 0;
      for (const { r, next } of updates)
        if (
          await rewrapMeta(trx, r.name, r.kek_version, { kek_version: next.kekVersion, wrapped: next.blob })
        )
          n++;
      return n;
    });
  }

  /**
   * Retires every version below the current one that no wrapped key uses. Run only after
   * the rows that stopped using it are durable (the caller scrubs, which syncs SQLite).
   */
  async function retireUnused(): Promise<RetireResult> {
    const st = await kms.status();
    const { data, meta } = await uses();
    const retired: number[] = [];
    const kept: { version: number; reason: string }[] = [];
    for (const v of st.versions.filter((x) => x < st.currentVersion).sort((a, b) => a - b)) {
      const n = (data.get(v) ?? 0) + (meta.get(v) ?? 0);
      if (n > 0) {
        kept.push({ version: v, reason: `${n} keys still use it` });
        continue;
      }
      try {
        await kms.retire(v);
        retired.push(v);
      } catch (e) {
        if (!isKeywardenError(e, "KW_ERR_KMS_ROTATE_UNSUPPORTED")) throw e;
        kept.push({ version: v, reason: e.message });
      }
    }
    return { retired, kept };
  }

  /**
   * Rotates the KEK, or finishes an interrupted rotation: when keys are still wrapped by a
   * version below the provider's current one (or the last rotation did not record its end),
   * no new version is made and the run continues that rotation. Audited as
   * `kek.rotate.start` and `kek.rotate.finish` (with counts); a failure as `kek.rotate`.
   */
  function rotate(ctx: RequestContext, options: RotateOptions = {}): Promise<RotateResult> {
    const batchSize = options.batchSize ?? DEFAULT_REWRAP_BATCH;
    return audited(ctx, "kek.rotate", async () => {
      if (!Number.isSafeInteger(batchSize) || batchSize < 1)
        throw new KeywardenError("KW_ERR_USAGE", { reason: "the batch size must be a positive integer" });
      const before = await computeStatus();
      const resumed = before.unfinished;
      // The provider writes the new version durably (key file fsynced and renamed, HSM
      // object, KMS key) before it returns, so no row can name a version that is lost.
      const target = resumed ? before.currentVersion : await kms.rotate();
      const older = before.versions.filter((v) => v.version < target && v.dataKeys + v.vaultKeys > 0);
      const count = (f: (v: KekVersionUse) => number): number => older.reduce((n, v) => n + f(v), 0);
      await audit.record(ctx, {
        action: START,
        version: target,
        result: "ok",
        detail:
          `${resumed ? "resumed" : "new version"} v${target}; ` +
          `${count((v) => v.dataKeys)} data keys and ${count((v) => v.vaultKeys)} vault keys on ` +
          (older.map((v) => `v${v.version}`).join(",") || "no older version"),
      });
      const dataKeys = await rewrapDataKeys(target, batchSize);
      const vaultKeys = await rewrapVaultKeys(target);
      const after = await uses();
      const left = sum(after.data, target) + sum(after.meta, target);
      // Old wrappings must not linger on disk (dead tuples, WAL frames); on SQLite the
      // checkpoint also makes every batch durable before a version is retired.
      await storage.caps.scrub(db, ["data_keys", "vault_meta"]);
      const { retired, kept } =
        options.retire === true
          ? await retireUnused()
          : {
              retired: [],
              kept: (await kms.status()).versions
                .filter((v) => v < target)
                .map((version) => ({ version, reason: "not retired (no --retire)" })),
            };
      await audit.record(ctx, {
        action: FINISH,
        version: target,
        result: "ok",
        detail: `v${target}: re-wrapped ${dataKeys} data keys and ${vaultKeys} vault keys; ${left} left; retired ${retired.map((v) => `v${v}`).join(",") || "none"}`,
      });
      deps.logger?.info({ version: target, dataKeys, vaultKeys, left, retired }, "KEK rotation finished");
      return { version: target, resumed, dataKeys, vaultKeys, left, retired, kept };
    });
  }

  /**
   * Retires older versions nothing uses (after a rotation run without --retire); a version
   * still wrapping a key is kept and said why. Audited as `kek.retire`.
   */
  function retire(ctx: RequestContext): Promise<RetireResult> {
    return audited(ctx, "kek.retire", async () => {
      await storage.caps.scrub(db, ["data_keys", "vault_meta"]);
      const r = await retireUnused();
      await audit.record(ctx, {
        action: "kek.retire",
        version: (await kms.status()).currentVersion,
        result: "ok",
        detail: `retired ${r.retired.map((v) => `v${v}`).join(",") || "none"}`,
      });
      return r;
    });
  }

  return { status, rotate, retire };
}

export type KekService = ReturnType<typeof createKekService>;
