/**
 * Rows of `secret_versions` and `data_keys`: each version's ciphertext, fingerprint and
 * wrapped data key. A version is never updated except to destroy it.
 */
import { sql, type Selectable } from "kysely";
import type { DataKeysTable, SecretsTable, SecretVersionsTable } from "../schema.ts";
import { toBytes, type Executor } from "./executor.ts";
import { dataEpoch } from "./epoch-repo.ts";
import { prepared } from "./prepared.ts";

export type VersionRow = Selectable<SecretVersionsTable>;
export type DataKeyRow = Selectable<DataKeysTable>;

/** A version with its wrapped data key (absent once destroyed). */
export interface VersionWithKey extends VersionRow {
  readonly dataKey: { readonly kekVersion: number; readonly wrapped: Uint8Array } | undefined;
}

/**
 * Inserts a version and its wrapped data key.
 *
 * @example
 *   await insertVersion(trx, versionRow, { version_id: versionRow.id, kek_version: 1, wrapped });
 */
export async function insertVersion(db: Executor, version: VersionRow, dataKey: DataKeyRow): Promise<void> {
  await db.insertInto("secret_versions").values(version).execute();
  await db.insertInto("data_keys").values(dataKey).execute();
}

/** Every secret read runs this: compiled once (prepared.ts). */
const versionWithKey = prepared((db, secretId: string, version: number) =>
  db
    .selectFrom("secret_versions as v")
    .leftJoin("data_keys as k", "k.version_id", "v.id")
    .selectAll("v")
    .select(["k.kek_version", "k.wrapped"])
    .where("v.secret_id", "=", secretId)
    .where("v.version", "=", version),
);

/**
 * One version of a secret with its data key, or undefined.
 *
 * @example
 *   const v = await findVersion(db, secretId, 3);
 */
export async function findVersion(
  db: Executor,
  secretId: string,
  version: number,
): Promise<VersionWithKey | undefined> {
  const row = (await versionWithKey(db, secretId, version))[0];
  if (row === undefined) return undefined;
  const { kek_version, wrapped, ...rest } = row;
  return {
    ...rest,
    ciphertext: rest.ciphertext === null ? null : toBytes(rest.ciphertext),
    dataKey:
      kek_version === null || wrapped === null
        ? undefined
        : { kekVersion: kek_version, wrapped: toBytes(wrapped) },
  };
}

/**
 * Every version of a secret, oldest first, without ciphertexts.
 *
 * @example
 *   const versions = await listVersions(db, secretId);
 */
export async function listVersions(
  db: Executor,
  secretId: string,
): Promise<Omit<VersionRow, "ciphertext">[]> {
  return db
    .selectFrom("secret_versions")
    .select([
      "id",
      "secret_id",
      "version",
      "fingerprint",
      "created_at",
      "created_by",
      "restored_from",
      "destroyed_at",
      "encoding",
    ])
    .where("secret_id", "=", secretId)
    .orderBy("version")
    .execute();
}

/**
 * Destroys a version: deletes its wrapped data key and clears its ciphertext. False if it
 * was already destroyed.
 *
 * @example
 *   await destroyVersion(trx, versionId, clock.now().toISOString());
 */
export async function destroyVersion(db: Executor, versionId: string, at: string): Promise<boolean> {
  await db.deleteFrom("data_keys").where("version_id", "=", versionId).execute();
  const r = await db
    .updateTable("secret_versions")
    .set({ ciphertext: null, destroyed_at: at })
    .where("id", "=", versionId)
    .where("destroyed_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A vault secret version whose value has a given fingerprint. */
export interface FingerprintHit {
  readonly fingerprint: string;
  readonly path: string;
  readonly version: number;
}

/**
 * The versions whose fingerprint is one of `fingerprints` (deleted and destroyed included:
 * a leaked old value is still the vault's).
 *
 * @example
 *   const hits = await findByFingerprints(db, ["9f86d0...", ...]);
 */
export async function findByFingerprints(
  db: Executor,
  fingerprints: readonly string[],
): Promise<FingerprintHit[]> {
  const out: FingerprintHit[] = [];
  const unique = [...new Set(fingerprints)];
  // Batches keep the parameter count under every engine's limit.
  for (let i = 0; i < unique.length; i += 500) {
    const batch = unique.slice(i, i + 500);
    const rows = await db
      .selectFrom("secret_versions as v")
      .innerJoin("secrets as s", "s.id", "v.secret_id")
      .select(["v.fingerprint", "s.path", "v.version"])
      .where("v.fingerprint", "in", batch)
      .execute();
    out.push(...rows);
  }
  return out.sort((a, b) => (a.path === b.path ? a.version - b.version : a.path < b.path ? -1 : 1));
}

/**
 * How many data keys each KEK version wraps (for `keywarden kek status` and rotation).
 *
 * @example
 *   await countDataKeysByKekVersion(db) // Map { 1 => 42 }
 */
export async function countDataKeysByKekVersion(db: Executor): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom("data_keys")
    .select(["kek_version", db.fn.countAll<string | number>().as("n")])
    .groupBy("kek_version")
    .execute();
  return new Map(rows.map((r) => [r.kek_version, Number(r.n)]));
}

/** A wrapped data key with what its binding is made of (for re-wrapping under a new KEK). */
export interface DataKeyToRewrap {
  readonly versionId: string;
  readonly kekVersion: number;
  readonly wrapped: Uint8Array;
  readonly secretId: string;
  readonly version: number;
  readonly path: string;
}

/**
 * Up to `limit` data keys wrapped by a KEK version below `kekVersion`, in version id order
 * after `afterVersionId` (keyset paging: each key is visited once per pass).
 *
 * @example
 *   const batch = await listDataKeysBelow(db, 2, "", 500);
 */
export async function listDataKeysBelow(
  db: Executor,
  kekVersion: number,
  afterVersionId: string,
  limit: number,
): Promise<DataKeyToRewrap[]> {
  const rows = await db
    .selectFrom("data_keys as k")
    .innerJoin("secret_versions as v", "v.id", "k.version_id")
    .innerJoin("secrets as s", "s.id", "v.secret_id")
    .select(["k.version_id", "k.kek_version", "k.wrapped", "v.secret_id", "v.version", "s.path"])
    .where("k.kek_version", "<", kekVersion)
    .where("k.version_id", ">", afterVersionId)
    .orderBy("k.version_id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    versionId: r.version_id,
    kekVersion: r.kek_version,
    wrapped: toBytes(r.wrapped),
    secretId: r.secret_id,
    version: r.version,
    path: r.path,
  }));
}

/**
 * Replaces a data key's wrapping, only if it is still wrapped by `fromKekVersion` (a
 * concurrent rotation or destroy wins). True when the row was updated.
 *
 * @example
 *   await rewrapDataKey(trx, versionId, 1, { kek_version: 2, wrapped });
 */
export async function rewrapDataKey(
  db: Executor,
  versionId: string,
  fromKekVersion: number,
  to: { readonly kek_version: number; readonly wrapped: Uint8Array },
): Promise<boolean> {
  const r = await db
    .updateTable("data_keys")
    .set({ kek_version: to.kek_version, wrapped: to.wrapped })
    .where("version_id", "=", versionId)
    .where("kek_version", "=", fromKekVersion)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A secret's row with one of its versions (and that version's data key) when it exists. */
export interface SecretWithVersion {
  readonly secret: Selectable<SecretsTable>;
  readonly version: VersionWithKey | undefined;
}

/** The hot read: secret by path and its version in one statement (one round trip on PostgreSQL). */
const secretAndVersion = prepared((db, path: string, version: number | null) =>
  db
    .selectFrom("secrets as s")
    .leftJoin("secret_versions as v", (j) =>
      j
        .onRef("v.secret_id", "=", "s.id")
        .on("v.version", "=", sql<number>`coalesce(${version}, ${sql.ref("s.current_version")})`),
    )
    .leftJoin("data_keys as k", "k.version_id", "v.id")
    .selectAll("s")
    .select([
      "v.id as v_id",
      "v.version as v_version",
      "v.ciphertext as v_ciphertext",
      "v.fingerprint as v_fingerprint",
      "v.created_at as v_created_at",
      "v.created_by as v_created_by",
      "v.restored_from as v_restored_from",
      "v.destroyed_at as v_destroyed_at",
      "v.encoding as v_encoding",
      "k.kek_version",
      "k.wrapped",
    ])
    .where("s.path", "=", path),
);

/**
 * The secret at `path` with its version `version` (the current one when undefined), in one
 * query; undefined when the path has no secret, `version` undefined when it has no such version.
 * Outside a transaction the answer comes from a cache while the data epoch is unchanged, so a
 * read costs the epoch (a read shared by many requests: turn-reads.ts) instead of the query.
 *
 * @example
 *   const found = await findSecretWithVersion(db, "payments/prod/STRIPE_KEY");
 *   if (found?.version !== undefined) open(found.version.ciphertext);
 */
export async function findSecretWithVersion(
  db: Executor,
  path: string,
  version?: number,
): Promise<SecretWithVersion | undefined> {
  if (db.isTransaction) return readSecretWithVersion(db, path, version);
  // The epoch first: a change committed after this read leaves the row cached below newer
  // than its epoch, never older.
  const epoch = await dataEpoch(db);
  let cache = secretCaches.get(db);
  if (cache?.epoch !== epoch) {
    cache = { epoch, rows: new Map(), bytes: 0 };
    secretCaches.set(db, cache);
  }
  const key = `${version ?? ""}|${path}`;
  if (cache.rows.has(key)) return cache.rows.get(key);
  const found = await readSecretWithVersion(db, path, version);
  // Another caller may have filled the entry meanwhile: count it once.
  if (cache.rows.has(key)) cache.bytes -= sizeOf(cache.rows.get(key));
  cache.rows.set(key, found);
  cache.bytes += sizeOf(found);
  // Oldest out first, within both bounds (a value may be up to 64 KiB).
  for (const [oldest, row] of cache.rows) {
    if (cache.rows.size <= SECRET_CACHE_SIZE && cache.bytes <= SECRET_CACHE_BYTES) break;
    cache.rows.delete(oldest);
    cache.bytes -= sizeOf(row);
  }
  return found;
}

/** What a cached read holds in bytes, roughly: its ciphertext and wrapped key. */
function sizeOf(found: SecretWithVersion | undefined): number {
  const v = found?.version;
  return 256 + (v?.ciphertext?.byteLength ?? 0) + (v?.dataKey?.wrapped.byteLength ?? 0);
}

/** Bytes of ciphertexts and keys a cache keeps per database handle at most. */
const SECRET_CACHE_BYTES = 32 * 1024 * 1024;

/** Most secret reads a cache keeps per database handle. */
const SECRET_CACHE_SIZE = 10_000;

/**
 * Rows of recent reads by `version|path`, valid while the data epoch they were read at is
 * current: secret rows, ciphertexts and wrapped data keys only (nothing here is plaintext).
 * Callers must not change what they get.
 */
const secretCaches = new WeakMap<
  object,
  { epoch: string; rows: Map<string, SecretWithVersion | undefined>; bytes: number }
>();

async function readSecretWithVersion(
  db: Executor,
  path: string,
  version: number | undefined,
): Promise<SecretWithVersion | undefined> {
  const row = (await secretAndVersion(db, path, version ?? null))[0];
  if (row === undefined) return undefined;
  const {
    v_id,
    v_version,
    v_ciphertext,
    v_fingerprint,
    v_created_at,
    v_created_by,
    v_restored_from,
    v_destroyed_at,
    v_encoding,
    kek_version,
    wrapped,
    ...secret
  } = row;
  if (
    v_id === null ||
    v_version === null ||
    v_fingerprint === null ||
    v_created_at === null ||
    v_created_by === null
  )
    return { secret, version: undefined };
  return {
    secret,
    version: {
      id: v_id,
      secret_id: secret.id,
      version: v_version,
      ciphertext: v_ciphertext === null ? null : toBytes(v_ciphertext),
      fingerprint: v_fingerprint,
      created_at: v_created_at,
      created_by: v_created_by,
      restored_from: v_restored_from,
      destroyed_at: v_destroyed_at,
      encoding: v_encoding,
      dataKey:
        kek_version === null || wrapped === null
          ? undefined
          : { kekVersion: kek_version, wrapped: toBytes(wrapped) },
    },
  };
}
