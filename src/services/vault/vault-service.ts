/**
 * The vault: secrets at `project/environment/NAME`, each write a new immutable version
 * under envelope encryption (a fresh data key per version, sealed with AES-256-GCM bound
 * to the secret id, version and path; the data key wrapped by the KEK under the same
 * binding). Every operation, allowed, denied or failed, is audited; a read returns only
 * after its audit entry is committed. Invariants: NOTES.md beside this file.
 */
import type { Clock } from "../../core/clock.ts";
import { isKeywardenError, KeywardenError, type ErrorCode } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import type { Logger } from "../../core/logger.ts";
import { Secret } from "../../core/secret.ts";
import { keyObjectOf, openBytes, randomKey, sealBytes } from "../../crypto/aead.ts";
import { hmacSha256 } from "../../crypto/kdf.ts";
import { builtinCatalogue } from "../../detect/catalogue.ts";
import { scanText, type Catalogue } from "../../detect/engine.ts";
import { isSealed } from "../../kms/create-key-provider.ts";
import type { KeyProvider } from "../../kms/key-provider.ts";
import type { Storage } from "../../storage/database.ts";
import type { Executor } from "../../storage/repos/executor.ts";
import {
  findCustomMetadata,
  listCustomMetadataPaths,
  putCustomMetadata,
} from "../../storage/repos/custom-metadata-repo.ts";
import {
  advanceSecretVersion,
  findSecretByPath,
  freshSecretRow,
  insertSecretIfAbsent,
  listEnvironment,
  listSecrets,
  touchSecrets,
  updateSecret,
  type SecretPatch,
  type SecretRow,
} from "../../storage/repos/secret-repo.ts";
import {
  destroyVersion,
  findByFingerprints,
  findSecretWithVersion,
  findVersion,
  insertVersion,
  listVersions,
  type FingerprintHit,
  type VersionWithKey,
} from "../../storage/repos/secret-version-repo.ts";
import { keyLookalike } from "../../detect/mask.ts";
import type { AuditEvent, AuditResult, AuditService, RequestContext } from "../audit/audit-service.ts";
import { groupRunner } from "../audit/group-commit.ts";
import { dataKeyCache } from "./data-key-cache.ts";
import { metaKey } from "./meta-keys.ts";
import {
  displayPath,
  parseEnvironmentPath,
  parseSecretPath,
  refuseKeyInPath,
  type SecretPath,
} from "./secret-path.ts";
import { valueProblem } from "./secret-value.ts";

/** Writes without --cas retry this many times when another writer gets there first. */
const WRITE_ATTEMPTS = 8;

export type VaultPermission = "read" | "write" | "delete" | "destroy" | "list";

/** Decides whether `ctx` may do `permission` on `path`; the access service plugs in here. */
export type Authorizer = (
  ctx: RequestContext,
  permission: VaultPermission,
  path: string,
) => boolean | Promise<boolean>;

export interface VaultDeps {
  readonly storage: Storage;
  readonly kms: KeyProvider;
  readonly audit: AuditService;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
  /** Defaults to allowing everything (the CLI's user owns the local vault). */
  readonly authorize?: Authorizer | undefined;
  /** The detection catalogue used to name a value's provider and kind. */
  readonly catalogue?: Catalogue | undefined;
  /** How long an unwrapped data key stays cached in memory (0: never cached). Default 30 s. */
  readonly dataKeyTtlMs?: number | undefined;
}

/** Metadata a caller may set; `undefined` leaves a field as it is, `null` clears it. */
export interface MetadataPatch {
  readonly owner?: string | null;
  readonly consumers?: readonly string[];
  readonly tags?: readonly string[];
  /** ISO-8601 time after which the secret counts as expired. */
  readonly expiresAt?: string | null;
  /** Rotation policy: the value should be replaced within this many seconds of being written. */
  readonly maxAgeSeconds?: number | null;
  /**
   * Merged into the path's Vault KV custom metadata (a null removes a key), by
   * `updateMetadata` only: a write's metadata leaves it alone.
   */
  readonly customMetadata?: Readonly<Record<string, string | null>>;
}

export interface SecretMetadata {
  readonly id: string;
  readonly path: string;
  readonly currentVersion: number;
  readonly provider: string | null;
  readonly kind: string | null;
  readonly owner: string | null;
  readonly consumers: readonly string[];
  readonly tags: readonly string[];
  readonly expiresAt: string | null;
  readonly maxAgeSeconds: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastReadAt: string | null;
  readonly deletedAt: string | null;
}

export interface SecretSummary extends SecretMetadata {
  /** When the current value was written. */
  readonly valueCreatedAt: string | null;
  /** Seconds since the current value was written. */
  readonly ageSeconds: number | null;
  /** Past its maximum age: due for rotation. */
  readonly stale: boolean;
  /** Past its expiry time. */
  readonly expired: boolean;
}

export interface SecretValue {
  readonly path: string;
  readonly version: number;
  readonly value: Secret;
  readonly metadata: SecretMetadata;
  /** How the value encodes what its writer sent (secret_versions.encoding); null: the string itself. */
  readonly encoding: string | null;
  /** When this version was written. */
  readonly createdAt: string;
  /** The path's Vault KV custom metadata (null: none), when the read asked for it. */
  readonly customMetadata?: CustomMetadata | null;
}

export interface VersionInfo {
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly restoredFrom: number | null;
  readonly destroyedAt: string | null;
  readonly current: boolean;
  /** When the secret was deleted, on its current version while it is (a remote server's answer leaves it out). */
  readonly deletedAt?: string | null | undefined;
}

/** Vault KV custom metadata of a path: string keys and values. */
export type CustomMetadata = Readonly<Record<string, string>>;

/**
 * A change of a path's custom metadata: the whole (`replace`), a merge (`merge`, where a null
 * removes a key), or none left (null).
 */
export type CustomMetadataChange =
  { readonly replace: CustomMetadata } | { readonly merge: Readonly<Record<string, string | null>> } | null;

/** Vault's bounds on custom metadata: keys, and the length of a key and of a value. */
export const CUSTOM_METADATA_LIMITS = { keys: 64, keyLength: 128, valueLength: 512 } as const;

/**
 * Custom metadata is kept in the clear, like tags: bounded as Vault bounds it, and a key
 * pasted into it is refused.
 */
function checkCustomMetadata(data: CustomMetadata): void {
  const { keys, keyLength, valueLength } = CUSTOM_METADATA_LIMITS;
  const entries = Object.entries(data);
  const refuse = (reason: string): never => {
    throw new KeywardenError("KW_ERR_USAGE", { reason: `custom metadata ${reason}` });
  };
  if (entries.length > keys) refuse(`holds at most ${keys} keys, not ${entries.length}`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > keyLength) refuse(`keys are 1 to ${keyLength} characters long`);
    if (typeof v !== "string") refuse("values are strings");
    if (v.length > valueLength) refuse(`values are at most ${valueLength} characters long`);
    const key = keyLookalike(k) ?? keyLookalike(v);
    if (key !== undefined)
      refuse(`holds what looks like ${key}; metadata is kept in the clear, so a key never goes there`);
  }
}

/**
 * Stored custom metadata (its row's JSON) as a map, or undefined when there is none. A row
 * that is not a JSON object of strings is damage, not input: it fails loudly.
 */
function customOf(row: { readonly data: string } | undefined): CustomMetadata | undefined {
  if (row === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.data);
  } catch {
    // V8's message quotes the text: the log gets no part of it.
    parsed = undefined;
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    Array.isArray(parsed) ||
    !Object.values(parsed).every((v) => typeof v === "string")
  )
    throw new Error("stored custom metadata is not a JSON object of strings");
  return parsed as CustomMetadata;
}

export interface WriteOptions {
  /** Check-and-set: the write happens only if the secret is at this version (0: does not exist yet). */
  readonly cas?: number | undefined;
  readonly metadata?: MetadataPatch | undefined;
  /** How the value encodes what the client sent (the Vault API's maps); absent: the string itself. */
  readonly encoding?: string | undefined;
  /** Answer the path's Vault KV custom metadata too (`WriteResult.customMetadata`). */
  readonly customMetadata?: boolean | undefined;
}

export interface WholeSecretOptions {
  /** The versions the caller means (the Vault API names them): each must be the current one. */
  readonly versions?: readonly number[] | undefined;
}

export interface WriteResult {
  readonly path: string;
  readonly version: number;
  readonly provider: string | null;
  readonly kind: string | null;
  /** When the version was written (a remote server's answer, through the CLI, leaves it out). */
  readonly createdAt?: string | undefined;
  /** The path's Vault KV custom metadata (null: none), when the write asked for it. */
  readonly customMetadata?: CustomMetadata | null;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The AAD of a version's ciphertext, and the context its data key is wrapped under. */
export function versionBinding(secretId: string, version: number, path: string): Uint8Array {
  return utf8.encode(JSON.stringify(["keywarden-secret-v1", secretId, version, path]));
}

function parseJsonList(text: string): string[] {
  const v = JSON.parse(text) as unknown;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** A row's metadata; `lastReadAt` replaces the row's (a read answers with its own time). */
function metadataOf(row: SecretRow, lastReadAt: string | null = row.last_read_at): SecretMetadata {
  return {
    id: row.id,
    path: row.path,
    currentVersion: row.current_version,
    provider: row.provider,
    kind: row.kind,
    owner: row.owner,
    consumers: parseJsonList(row.consumers),
    tags: parseJsonList(row.tags),
    expiresAt: row.expires_at,
    maxAgeSeconds: row.max_age_seconds,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastReadAt,
    deletedAt: row.deleted_at,
  };
}

/** Metadata is kept and listed in the clear: a key pasted into it is refused. */
function refuseKeyInMetadata(patch: MetadataPatch): void {
  const fields: [string, readonly string[]][] = [
    ["owner", patch.owner === undefined || patch.owner === null ? [] : [patch.owner]],
    ["consumers", patch.consumers ?? []],
    ["tags", patch.tags ?? []],
  ];
  for (const [field, texts] of fields)
    for (const text of texts) {
      const key = keyLookalike(text);
      if (key !== undefined)
        throw new KeywardenError("KW_ERR_USAGE", {
          reason: `the ${field} hold what looks like ${key}; metadata is kept in the clear, so a key never goes there`,
        });
    }
}

function patchColumns(patch: MetadataPatch | undefined): SecretPatch {
  if (patch === undefined) return {};
  refuseKeyInMetadata(patch);
  const out: SecretPatch = {};
  if (patch.owner !== undefined) out.owner = patch.owner;
  if (patch.consumers !== undefined) out.consumers = JSON.stringify([...patch.consumers]);
  if (patch.tags !== undefined) out.tags = JSON.stringify([...patch.tags]);
  if (patch.expiresAt !== undefined) {
    if (patch.expiresAt !== null && Number.isNaN(Date.parse(patch.expiresAt))) {
      throw new KeywardenError("KW_ERR_USAGE", { reason: `expiry ${patch.expiresAt} is not a date` });
    }
    out.expires_at = patch.expiresAt === null ? null : new Date(patch.expiresAt).toISOString();
  }
  if (patch.maxAgeSeconds !== undefined) {
    if (
      patch.maxAgeSeconds !== null &&
      !(Number.isSafeInteger(patch.maxAgeSeconds) && patch.maxAgeSeconds > 0)
    ) {
      throw new KeywardenError("KW_ERR_USAGE", {
        reason: "the maximum age must be a positive number of seconds",
      });
    }
    out.max_age_seconds = patch.maxAgeSeconds;
  }
  return out;
}

/** One audited read waiting for its group commit. */
interface ReadJob {
  readonly secretId: string;
  readonly ctx: RequestContext;
  readonly event: AuditEvent;
}

/** A version that does not open as written: its row, key or ciphertext was changed. */
function tampered(path: string, version: number, reason: string): KeywardenError {
  return new KeywardenError("KW_ERR_VAULT_TAMPERED", { path, version, reason });
}

/** Thrown inside a write transaction to roll it back when another writer won. */
class WriteConflict extends Error {}

const DENIED_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "KW_ERR_VAULT_DENIED",
  "KW_ERR_KMS_SEALED",
  "KW_ERR_KMS_AUTH_FAILED",
]);

/**
 * @example
 *   const vault = createVaultService({ storage, kms, audit, clock });
 *   await vault.set(ctx, "payments/prod/STRIPE_KEY", new Secret(value));
 *   const { value } = await vault.get(ctx, "payments/prod/STRIPE_KEY");
 */
export function createVaultService(deps: VaultDeps) {
  const { storage, kms, audit, clock } = deps;
  const db = storage.db;
  const catalogue = deps.catalogue ?? builtinCatalogue();
  let fingerprintKey: Uint8Array | undefined;
  /** Unwrapped data keys of recently read versions (NOTES.md, "Data key cache"). */
  const dataKeys = dataKeyCache(() => Date.now(), deps.dataKeyTtlMs);

  /**
   * Audited reads go through one group committer: each read's entry (and last_read_at) is
   * committed before its value is returned, many reads to a transaction under load. One
   * group at a time: since groups collect a whole loop turn, a second group in flight only
   * made groups smaller (`npm run bench -- server`, three runs each: PostgreSQL 7,500-7,900
   * reads/s with two in flight, 9,200-11,900 with one; SQLite within noise, 75-83 µs of CPU
   * per read with one against 82-92 with two).
   */
  const reads = groupRunner(async (jobs: readonly ReadJob[]): Promise<string> => {
    const now = clock.now().toISOString();
    await audit.appendGroup(jobs, { ids: jobs.map((j) => j.secretId), at: now });
    return now;
  });

  async function fpKey(): Promise<Uint8Array> {
    fingerprintKey ??= await metaKey(db, kms, clock, "fingerprint-key");
    return fingerprintKey;
  }

  async function fingerprintOf(value: string): Promise<string> {
    return Buffer.from(hmacSha256(await fpKey(), utf8.encode(value))).toString("hex");
  }

  function detect(value: string): { provider: string | null; kind: string | null } {
    const matches = scanText(value, catalogue);
    if (matches.length === 0) return { provider: null, kind: null };
    const best = [...matches].sort((a, b) => b.secret.length - a.secret.length)[0]!;
    return { provider: best.rule.provider, kind: best.rule.id };
  }

  /**
   * Runs an operation; on failure appends a denied or failed entry naming the error code
   * (never its message, which could echo input), then rethrows.
   */
  async function audited<T>(
    ctx: RequestContext,
    action: string,
    path: string,
    fn: () => Promise<T>,
    version?: number,
  ): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const code = isKeywardenError(e) ? e.code : "KW_ERR_INTERNAL";
      const result: AuditResult = DENIED_CODES.has(code) ? "denied" : "failed";
      try {
        await audit.record(ctx, { action, path: displayPath(path), version, result, detail: code });
      } catch (auditError) {
        deps.logger?.error(
          { err: auditError, action },
          "could not record a failed operation in the audit log",
        );
      }
      throw e;
    }
  }

  async function authorize(
    ctx: RequestContext,
    permission: VaultPermission,
    path: string,
    action: string,
  ): Promise<void> {
    const allowed = deps.authorize === undefined ? true : await deps.authorize(ctx, permission, path);
    if (!allowed)
      throw new KeywardenError("KW_ERR_VAULT_DENIED", { actor: ctx.actor, action, path: displayPath(path) });
  }

  async function requireSecret(p: SecretPath, options: { allowDeleted?: boolean } = {}): Promise<SecretRow> {
    return checkSecret(p, await findSecretByPath(db, p.path), options);
  }

  function checkSecret(
    p: SecretPath,
    row: SecretRow | undefined,
    options: { allowDeleted?: boolean } = {},
  ): SecretRow {
    if (row === undefined || row.current_version === 0)
      throw new KeywardenError("KW_ERR_VAULT_NOT_FOUND", { path: displayPath(p.path) });
    if (row.deleted_at !== null && options.allowDeleted !== true)
      throw new KeywardenError("KW_ERR_VAULT_DELETED", { path: p.path });
    return row;
  }

  function checkValue(path: string, value: string): Uint8Array {
    const bytes = utf8.encode(value);
    const problem = valueProblem(bytes);
    if (problem !== undefined)
      throw new KeywardenError("KW_ERR_VAULT_VALUE_INVALID", { path, reason: problem });
    return bytes;
  }

  /**
   * The binding a version is opened with and its data key's cache id. Version rows come from
   * a cache while the data epoch stands (repos/secret-version-repo.ts), so both are kept
   * with the row object and rebuilt only when it is asked for another secret or version.
   */
  const opening = new WeakMap<
    VersionWithKey,
    { rowId: string; path: string; version: number; binding: Uint8Array; cacheId: string }
  >();

  function openingKeys(
    row: SecretRow,
    version: number,
    v: VersionWithKey,
    dataKey: { readonly kekVersion: number; readonly wrapped: Uint8Array },
  ): { binding: Uint8Array; cacheId: string } {
    const known = opening.get(v);
    if (known?.rowId === row.id && known.path === row.path && known.version === version) return known;
    const binding = versionBinding(row.id, version, row.path);
    // Everything the key was unwrapped for is in the id, so a rewrapped, swapped or moved
    // row misses the cache and goes through the provider (which detects tampering).
    const cacheId = `${v.id}|${dataKey.kekVersion}|${Buffer.from(dataKey.wrapped).toString("base64")}|${fromUtf8.decode(binding)}`;
    const keys = { rowId: row.id, path: row.path, version, binding, cacheId };
    opening.set(v, keys);
    return keys;
  }

  /** Decrypts one version; any integrity failure names the secret and version. */
  async function decrypt(
    row: SecretRow,
    version: number,
    prefetched?: { version: VersionWithKey | undefined },
  ): Promise<string> {
    const v = prefetched === undefined ? await findVersion(db, row.id, version) : prefetched.version;
    if (v === undefined)
      throw new KeywardenError("KW_ERR_VAULT_VERSION_NOT_FOUND", { path: row.path, version });
    if (v.destroyed_at !== null)
      throw new KeywardenError("KW_ERR_VAULT_VERSION_DESTROYED", { path: row.path, version });
    if (v.ciphertext === null || v.dataKey === undefined)
      throw tampered(row.path, version, "its ciphertext or data key is missing");
    const { binding, cacheId } = openingKeys(row, version, v, v.dataKey);
    // A sealed provider must refuse reads at once, cached keys or not.
    if (isSealed(kms)) dataKeys.clear();
    let dataKey = dataKeys.get(cacheId);
    if (dataKey === undefined) {
      let raw: Uint8Array;
      try {
        raw = await kms.unwrap({ kekVersion: v.dataKey.kekVersion, blob: v.dataKey.wrapped }, binding);
      } catch (e) {
        if (isKeywardenError(e, "KW_ERR_KMS_UNWRAP") || isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT")) {
          throw tampered(row.path, version, "its data key does not unwrap for this secret and version");
        }
        throw e;
      }
      try {
        dataKey = keyObjectOf(raw);
      } catch {
        throw tampered(row.path, version, "its data key does not unwrap for this secret and version");
      } finally {
        raw.fill(0);
      }
      dataKeys.set(cacheId, dataKey);
    }
    try {
      return fromUtf8.decode(openBytes(dataKey, v.ciphertext, binding));
    } catch (e) {
      if (isKeywardenError(e, "KW_ERR_CRYPTO_DECRYPT") || e instanceof TypeError) {
        throw tampered(row.path, version, "its ciphertext does not open with its data key and binding");
      }
      throw e;
    }
  }

  /**
   * The one write path (set and restore): seal outside the transaction, then check-and-set
   * the version, insert it and its audit entry in one transaction.
   */
  async function write(
    ctx: RequestContext,
    p: SecretPath,
    value: string,
    options: WriteOptions & { restoredFrom?: number; action: string; detail?: string },
  ): Promise<WriteResult> {
    const bytes = checkValue(p.path, value);
    const metadata = patchColumns(options.metadata);
    const detected = detect(value);
    const fingerprint = await fingerprintOf(value);
    for (let attempt = 1; ; attempt++) {
      const existing = await findSecretByPath(db, p.path);
      const expected = existing?.current_version ?? 0;
      if (options.cas !== undefined && options.cas !== expected) {
        throw new KeywardenError("KW_ERR_VAULT_CAS_CONFLICT", {
          path: p.path,
          expected: options.cas,
          actual: expected,
        });
      }
      const id = existing?.id ?? newId("secret", clock);
      const version = expected + 1;
      const binding = versionBinding(id, version, p.path);
      const dataKey = randomKey();
      let ciphertext: Uint8Array;
      let wrapped;
      try {
        ciphertext = sealBytes(dataKey, bytes, binding);
        wrapped = await kms.wrap(dataKey, binding);
      } finally {
        dataKey.fill(0);
      }
      const now = clock.now().toISOString();
      try {
        await db.transaction().execute(async (trx) => {
          if (existing === undefined) {
            const created = await insertSecretIfAbsent(trx, freshSecretRow(id, p, now));
            if (!created) throw new WriteConflict();
          }
          const advanced = await advanceSecretVersion(trx, id, expected, version, {
            ...metadata,
            provider: detected.provider,
            kind: detected.kind,
            deleted_at: null,
            updated_at: now,
          });
          if (!advanced) throw new WriteConflict();
          const versionId = newId("version", clock);
          await insertVersion(
            trx,
            {
              id: versionId,
              secret_id: id,
              version,
              ciphertext,
              fingerprint,
              created_at: now,
              created_by: ctx.actor,
              restored_from: options.restoredFrom ?? null,
              destroyed_at: null,
              encoding: options.encoding ?? null,
            },
            { version_id: versionId, kek_version: wrapped.kekVersion, wrapped: wrapped.blob },
          );
          // Custom metadata given with the value (`secrets set --custom-metadata`): merged in
          // the same transaction, so a refused map writes no version either.
          const customChange = options.metadata?.customMetadata;
          if (customChange !== undefined) await changeCustomMetadata(trx, p.path, { merge: customChange });
          await audit.append(trx, ctx, {
            action: options.action,
            path: p.path,
            version,
            result: "ok",
            detail: options.detail,
          });
        });
      } catch (e) {
        if (!(e instanceof WriteConflict)) throw e;
        if (options.cas !== undefined || attempt >= WRITE_ATTEMPTS) {
          const actual = (await findSecretByPath(db, p.path))?.current_version ?? 0;
          throw new KeywardenError("KW_ERR_VAULT_CAS_CONFLICT", {
            path: p.path,
            expected: options.cas ?? expected,
            actual,
          });
        }
        continue;
      }
      deps.logger?.debug({ path: p.path, version }, "secret written");
      // Vault's write answers the path's custom metadata (the Vault API asks).
      const custom =
        options.customMetadata === true
          ? { customMetadata: (await customMetadataAt(db, p.path)) ?? null }
          : {};
      return { path: p.path, version, ...detected, createdAt: now, ...custom };
    }
  }

  /** Writes a new version of the secret at `path` (creating it, or undeleting it). */
  function set(
    ctx: RequestContext,
    path: string,
    value: Secret,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return audited(ctx, "secret.write", path, async () => {
      const p = parseSecretPath(path);
      refuseKeyInPath(p);
      await authorize(ctx, "write", p.path, "write");
      return write(ctx, p, value.reveal(), { ...options, action: "secret.write" });
    });
  }

  /** Reads the current version, or `version`. Returns only after the read is audited. */
  function get(
    ctx: RequestContext,
    path: string,
    options: { version?: number | undefined; via?: string; customMetadata?: boolean } = {},
  ): Promise<SecretValue> {
    return audited(
      ctx,
      "secret.read",
      path,
      async () => {
        const p = parseSecretPath(path);
        await authorize(ctx, "read", p.path, "read");
        // The secret and its version in one query: one round trip on PostgreSQL, not two.
        const found = await findSecretWithVersion(db, p.path, options.version);
        const row = checkSecret(p, found?.secret);
        const version = options.version ?? row.current_version;
        // Vault's read answers the path's custom metadata with the value (the Vault API asks):
        // looked up while the value is opened and its audit entry committed, not after.
        const custom = options.customMetadata === true ? customMetadataAt(db, p.path) : undefined;
        // Awaited below; a read that fails before then must not leave it unhandled.
        custom?.catch(() => undefined);
        const value = await decrypt(row, version, found);
        const now = await reads.submit({
          secretId: row.id,
          ctx,
          event: { action: "secret.read", path: p.path, version, result: "ok", detail: options.via },
        });
        return {
          path: p.path,
          version,
          value: new Secret(value),
          metadata: metadataOf(row, now),
          encoding: found?.version?.encoding ?? null,
          createdAt: found?.version?.created_at ?? row.updated_at,
          ...(custom === undefined ? {} : { customMetadata: (await custom) ?? null }),
        };
      },
      options.version,
    );
  }

  /** Metadata of one secret (no value; audited as a metadata read). */
  function describe(
    ctx: RequestContext,
    path: string,
    options: { customMetadata?: boolean } = {},
  ): Promise<SecretMetadata & { customMetadata?: CustomMetadata | null }> {
    return audited(ctx, "secret.describe", path, async () => {
      const p = parseSecretPath(path);
      await authorize(ctx, "list", p.path, "describe");
      const row = await requireSecret(p, { allowDeleted: true });
      // What Vault clients set on the path (vault-kv-routes.ts), when the caller asks.
      const custom =
        options.customMetadata === true
          ? { customMetadata: (await customMetadataAt(db, p.path)) ?? null }
          : {};
      await audit.record(ctx, { action: "secret.describe", path: p.path, result: "ok" });
      return { ...metadataOf(row), ...custom };
    });
  }

  /** Secrets under a prefix with their age and whether they are stale or expired. */
  function list(
    ctx: RequestContext,
    prefix = "",
    options: { includeDeleted?: boolean } = {},
  ): Promise<SecretSummary[]> {
    return audited(ctx, "secret.list", prefix, async () => {
      await authorize(ctx, "list", prefix, "list");
      const rows = await listSecrets(db, { prefix, includeDeleted: options.includeDeleted === true });
      await audit.record(ctx, {
        action: "secret.list",
        path: prefix === "" ? undefined : displayPath(prefix),
        result: "ok",
      });
      const now = clock.now().getTime();
      return rows
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
        .map((row) => {
          const written = row.value_created_at === null ? undefined : Date.parse(row.value_created_at);
          const ageSeconds = written === undefined ? null : Math.max(0, Math.floor((now - written) / 1000));
          return {
            ...metadataOf(row),
            valueCreatedAt: row.value_created_at,
            ageSeconds,
            stale: row.max_age_seconds !== null && ageSeconds !== null && ageSeconds > row.max_age_seconds,
            expired: row.expires_at !== null && Date.parse(row.expires_at) <= now,
          };
        });
    });
  }

  /**
   * The paths under `prefix` that hold custom metadata, a secret or not (what a Vault list
   * shows besides the secrets). Needs list on the prefix, as listing it does; not audited of
   * its own: it completes a `list` of the same prefix, which is. At the root (prefix "") it is
   * a filtered view instead, as the projects list is: the paths the caller may list.
   */
  async function customMetadataPaths(ctx: RequestContext, prefix: string): Promise<string[]> {
    if (prefix !== "") {
      await authorize(ctx, "list", prefix, "list");
      return listCustomMetadataPaths(db, prefix);
    }
    const visible: string[] = [];
    for (const path of await listCustomMetadataPaths(db, ""))
      if (deps.authorize === undefined || (await deps.authorize(ctx, "list", path))) visible.push(path);
    return visible;
  }

  /** Every version of a secret, oldest first. */
  function history(ctx: RequestContext, path: string): Promise<VersionInfo[]> {
    return audited(ctx, "secret.history", path, async () => {
      const p = parseSecretPath(path);
      await authorize(ctx, "list", p.path, "list the history of");
      const row = await requireSecret(p, { allowDeleted: true });
      const versions = await listVersions(db, row.id);
      await audit.record(ctx, { action: "secret.history", path: p.path, result: "ok" });
      return versionInfos(row, versions);
    });
  }

  /** What `history` says of each version of `row`. */
  function versionInfos(row: SecretRow, versions: Awaited<ReturnType<typeof listVersions>>): VersionInfo[] {
    return versions.map((v) => ({
      version: v.version,
      createdAt: v.created_at,
      createdBy: v.created_by,
      restoredFrom: v.restored_from,
      destroyedAt: v.destroyed_at,
      current: v.version === row.current_version,
      deletedAt: v.version === row.current_version ? row.deleted_at : null,
    }));
  }

  /**
   * Deleting and undeleting act on a secret as a whole: a caller that names versions (the
   * Vault API's delete and undelete do) may name only the current one.
   */
  function onlyCurrent(p: SecretPath, row: SecretRow, versions: readonly number[] | undefined): void {
    const others = (versions ?? []).filter((v) => v !== row.current_version);
    if (others.length > 0)
      throw new KeywardenError("KW_ERR_VAULT_NOT_CURRENT", {
        path: p.path,
        current: row.current_version,
        versions: others.join(", "),
      });
  }

  /** Soft delete: hidden from reads and lists until undeleted; versions are kept. */
  function remove(ctx: RequestContext, path: string, options: WholeSecretOptions = {}): Promise<void> {
    return audited(ctx, "secret.delete", path, async () => {
      const p = parseSecretPath(path);
      await authorize(ctx, "delete", p.path, "delete");
      const row = await requireSecret(p);
      onlyCurrent(p, row, options.versions);
      await db.transaction().execute(async (trx) => {
        const now = clock.now().toISOString();
        await updateSecret(trx, row.id, { deleted_at: now, updated_at: now });
        await audit.append(trx, ctx, {
          action: "secret.delete",
          path: p.path,
          version: row.current_version,
          result: "ok",
        });
      });
    });
  }

  /** Undoes a soft delete. */
  function undelete(ctx: RequestContext, path: string, options: WholeSecretOptions = {}): Promise<void> {
    return audited(ctx, "secret.undelete", path, async () => {
      const p = parseSecretPath(path);
      await authorize(ctx, "delete", p.path, "undelete");
      const row = await requireSecret(p, { allowDeleted: true });
      onlyCurrent(p, row, options.versions);
      await db.transaction().execute(async (trx) => {
        await updateSecret(trx, row.id, { deleted_at: null, updated_at: clock.now().toISOString() });
        await audit.append(trx, ctx, {
          action: "secret.undelete",
          path: p.path,
          version: row.current_version,
          result: "ok",
        });
      });
    });
  }

  /** Makes an old version's value current again, as a new version (undeleting the secret). */
  function restore(
    ctx: RequestContext,
    path: string,
    version: number,
    options: { cas?: number | undefined } = {},
  ): Promise<WriteResult> {
    return audited(
      ctx,
      "secret.restore",
      path,
      async () => {
        const p = parseSecretPath(path);
        await authorize(ctx, "write", p.path, "restore");
        const row = await requireSecret(p, { allowDeleted: true });
        const old = await findVersion(db, row.id, version);
        const value = await decrypt(row, version, { version: old });
        return write(ctx, p, value, {
          cas: options.cas,
          // What the old value encodes, it encodes again (a Vault map restores as the map).
          encoding: old?.encoding ?? undefined,
          restoredFrom: version,
          action: "secret.restore",
          detail: `from v${version}`,
        });
      },
      version,
    );
  }

  /**
   * Destroys one version for good: its wrapped data key and ciphertext are deleted and the
   * database scrubbed, so not even the KEK can bring it back. Its fingerprint stays, so a
   * leak of the old value is still recognised.
   */
  function destroy(ctx: RequestContext, path: string, version: number): Promise<void> {
    return audited(
      ctx,
      "secret.destroy",
      path,
      async () => {
        const p = parseSecretPath(path);
        await authorize(ctx, "destroy", p.path, "destroy");
        const row = await requireSecret(p, { allowDeleted: true });
        const v = await findVersion(db, row.id, version);
        if (v === undefined)
          throw new KeywardenError("KW_ERR_VAULT_VERSION_NOT_FOUND", { path: p.path, version });
        if (v.destroyed_at !== null)
          throw new KeywardenError("KW_ERR_VAULT_VERSION_DESTROYED", { path: p.path, version });
        await db.transaction().execute(async (trx) => {
          await destroyVersion(trx, v.id, clock.now().toISOString());
          await audit.append(trx, ctx, { action: "secret.destroy", path: p.path, version, result: "ok" });
        });
        // The destroyed version's key goes too (reads refuse it from the row anyway).
        dataKeys.clear();
        await storage.caps.scrub(db, ["data_keys", "secret_versions"]);
      },
      version,
    );
  }

  /** Changes metadata without writing a new value. */
  function updateMetadata(
    ctx: RequestContext,
    path: string,
    patch: MetadataPatch,
  ): Promise<SecretMetadata & { customMetadata: CustomMetadata | null }> {
    return audited(ctx, "secret.metadata", path, async () => {
      const p = parseSecretPath(path);
      await authorize(ctx, "write", p.path, "change");
      const row = await requireSecret(p, { allowDeleted: true });
      const columns = { ...patchColumns(patch), updated_at: clock.now().toISOString() };
      const custom = await db.transaction().execute(async (trx) => {
        await updateSecret(trx, row.id, columns);
        const merged =
          patch.customMetadata === undefined
            ? await customMetadataAt(trx, p.path)
            : await changeCustomMetadata(trx, p.path, { merge: patch.customMetadata });
        await audit.append(trx, ctx, { action: "secret.metadata", path: p.path, result: "ok" });
        return merged;
      });
      return { ...metadataOf({ ...row, ...columns }), customMetadata: custom ?? null };
    });
  }

  /**
   * A path's Vault KV metadata: its versions, oldest first (none when only custom metadata
   * was written, before the secret), and its custom metadata. Audited as a history read.
   */
  function kvMetadata(
    ctx: RequestContext,
    path: string,
  ): Promise<{
    versions: VersionInfo[];
    custom: CustomMetadata | undefined;
    customSetAt: string | undefined;
  }> {
    return audited(ctx, "secret.history", path, async () => {
      const p = parseSecretPath(path);
      await authorize(ctx, "list", p.path, "list the history of");
      const row = await findSecretByPath(db, p.path);
      const customRow = await findCustomMetadata(db, p.path);
      const custom = customOf(customRow);
      if (custom === undefined) checkSecret(p, row, { allowDeleted: true });
      const versions =
        row === undefined || row.current_version === 0
          ? []
          : versionInfos(row, await listVersions(db, row.id));
      await audit.record(ctx, { action: "secret.history", path: p.path, result: "ok" });
      return { versions, custom, customSetAt: customRow?.updated_at };
    });
  }

  /** A path's custom metadata, or undefined for none. */
  async function customMetadataAt(x: Executor, path: string): Promise<CustomMetadata | undefined> {
    return customOf(await findCustomMetadata(x, path));
  }

  /**
   * Sets (`replace`), merges (`merge`, a null removing a key) or removes (null) a path's
   * custom metadata inside `trx`, checked as Vault bounds it; an empty result removes the row.
   * Returns what is in force after, undefined for none.
   */
  async function changeCustomMetadata(
    trx: Executor,
    path: string,
    change: CustomMetadataChange,
  ): Promise<CustomMetadata | undefined> {
    // A Map, so that no key (`__proto__` included) is anything but a key.
    const pairs = new Map<string, string>();
    if (change !== null && "replace" in change)
      for (const [k, v] of Object.entries(change.replace)) pairs.set(k, v);
    else if (change !== null) {
      const before = (await customMetadataAt(trx, path)) ?? {};
      for (const [k, v] of Object.entries(before)) pairs.set(k, v);
      for (const [k, v] of Object.entries(change.merge)) {
        if (v === null) pairs.delete(k);
        else pairs.set(k, v);
      }
    }
    const next: Record<string, string> = Object.fromEntries(pairs);
    checkCustomMetadata(next);
    const empty = pairs.size === 0;
    await putCustomMetadata(trx, path, empty ? undefined : JSON.stringify(next), clock.now().toISOString());
    return empty ? undefined : next;
  }

  /**
   * Sets a path's custom metadata, the secret written yet or not (Vault allows metadata
   * first): `replace` sets the whole map, `merge` merges a JSON merge patch of it (a null
   * removes a key). An empty result removes it. Needs write; forgetting it (with `null`, as
   * deleting the metadata does) needs destroy. Returns the map now in force.
   */
  function setCustomMetadata(
    ctx: RequestContext,
    path: string,
    change: CustomMetadataChange,
  ): Promise<CustomMetadata> {
    return audited(ctx, "secret.metadata", path, async () => {
      const p = parseSecretPath(path);
      await authorize(ctx, change === null ? "destroy" : "write", p.path, "change the metadata of");
      return db.transaction().execute(async (trx) => {
        const next = await changeCustomMetadata(trx, p.path, change);
        await audit.append(trx, ctx, {
          action: "secret.metadata",
          path: p.path,
          result: "ok",
          detail: change === null ? "custom metadata removed" : "custom metadata",
        });
        return next ?? {};
      });
    });
  }

  /**
   * Every live secret of `project/environment`, decrypted, for `run` and `export`. Each
   * read is audited (with `via`) before anything is returned.
   */
  function readEnvironment(
    ctx: RequestContext,
    environment: string,
    via: string,
  ): Promise<{ name: string; version: number; value: Secret }[]> {
    return audited(ctx, "secret.read", environment, async () => {
      const env = parseEnvironmentPath(environment);
      const rows = await listEnvironment(db, env.project, env.environment);
      // All or nothing, checked before anything is decrypted. The caller learns that the
      // environment holds a secret it may not read, never its name; the audit log names it.
      for (const row of rows) {
        if (deps.authorize === undefined || (await deps.authorize(ctx, "read", row.path))) continue;
        await audit.record(ctx, {
          action: "secret.read",
          path: row.path,
          result: "denied",
          detail: "KW_ERR_VAULT_DENIED",
        });
        throw new KeywardenError("KW_ERR_VAULT_DENIED", {
          actor: ctx.actor,
          action: "read every secret of",
          path: env.path,
        });
      }
      const out: { name: string; version: number; value: Secret; path: string; id: string }[] = [];
      for (const row of rows) {
        out.push({
          name: row.name,
          version: row.current_version,
          value: new Secret(await decrypt(row, row.current_version)),
          path: row.path,
          id: row.id,
        });
      }
      await db.transaction().execute(async (trx) => {
        await touchSecrets(
          trx,
          out.map((s) => s.id),
          clock.now().toISOString(),
        );
        await audit.appendMany(
          trx,
          out.map((s) => ({
            ctx,
            event: { action: "secret.read", path: s.path, version: s.version, result: "ok", detail: via },
          })),
        );
      });
      return out.map(({ name, version, value }) => ({ name, version, value }));
    });
  }

  /**
   * Which of `values` are (or were) vault secrets, by keyed fingerprint: nothing is
   * decrypted. Maps each matching value to its paths and versions.
   */
  async function matchValues(
    ctx: RequestContext,
    values: readonly string[],
  ): Promise<Map<string, FingerprintHit[]>> {
    const byFingerprint = new Map<string, string>();
    for (const v of values) byFingerprint.set(await fingerprintOf(v), v);
    const hits = await findByFingerprints(db, [...byFingerprint.keys()]);
    const out = new Map<string, FingerprintHit[]>();
    for (const h of hits) {
      const value = byFingerprint.get(h.fingerprint)!;
      out.set(value, [...(out.get(value) ?? []), h]);
    }
    await audit.record(ctx, {
      action: "vault.match",
      result: "ok",
      detail: `${values.length} values, ${out.size} matched`,
    });
    return out;
  }

  function close(): void {
    dataKeys.clear();
    fingerprintKey?.fill(0);
    fingerprintKey = undefined;
  }

  return {
    set,
    get,
    describe,
    list,
    history,
    remove,
    undelete,
    restore,
    destroy,
    updateMetadata,
    kvMetadata,
    setCustomMetadata,
    customMetadataPaths,
    readEnvironment,
    matchValues,
    close,
  };
}

export type VaultService = ReturnType<typeof createVaultService>;
