/**
 * The one migration set, defined in code so the build carries it. Each migration is written
 * once for every dialect; where the databases differ, it asks the dialect's capabilities
 * (the column type of byte strings), never the dialect's name. Never edit a migration that
 * has shipped: add a new one.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from "kysely";
import { KeywardenError } from "../core/errors.ts";
import type { StorageCapabilities, TriggerEvent } from "./capabilities.ts";

/** The hash before the first audit entry. */
export const GENESIS_HASH = "0".repeat(64);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against the schema as it was, not today's types.
type AnyDb = Kysely<any>;

function migrations(caps: StorageCapabilities): Record<string, Migration> {
  const bytes = caps.bytesType;
  return {
    "0001_vault": {
      async up(db: AnyDb) {
        await db.schema
          .createTable("secrets")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("path", "text", (c) => c.notNull().unique())
          .addColumn("project", "text", (c) => c.notNull())
          .addColumn("environment", "text", (c) => c.notNull())
          .addColumn("name", "text", (c) => c.notNull())
          .addColumn("current_version", "integer", (c) => c.notNull().defaultTo(0))
          .addColumn("deleted_at", "text")
          .addColumn("provider", "text")
          .addColumn("kind", "text")
          .addColumn("owner", "text")
          .addColumn("consumers", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("tags", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("expires_at", "text")
          .addColumn("max_age_seconds", "integer")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("last_read_at", "text")
          .execute();
        await db.schema
          .createIndex("secrets_env_idx")
          .on("secrets")
          .columns(["project", "environment"])
          .execute();
        await db.schema
          .createTable("secret_versions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("secret_id", "text", (c) => c.notNull().references("secrets.id"))
          .addColumn("version", "integer", (c) => c.notNull())
          .addColumn("ciphertext", bytes)
          .addColumn("fingerprint", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("restored_from", "integer")
          .addColumn("destroyed_at", "text")
          .addUniqueConstraint("secret_versions_secret_version_uq", ["secret_id", "version"])
          .execute();
        await db.schema
          .createIndex("secret_versions_fingerprint_idx")
          .on("secret_versions")
          .column("fingerprint")
          .execute();
        await db.schema
          .createTable("data_keys")
          .addColumn("version_id", "text", (c) => c.primaryKey().references("secret_versions.id"))
          .addColumn("kek_version", "integer", (c) => c.notNull())
          .addColumn("wrapped", bytes, (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex("data_keys_kek_version_idx")
          .on("data_keys")
          .column("kek_version")
          .execute();
        await db.schema
          .createTable("vault_meta")
          .addColumn("name", "text", (c) => c.primaryKey())
          .addColumn("kek_version", "integer", (c) => c.notNull())
          .addColumn("wrapped", bytes, (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await createAuditLog(db, "audit_log", { uniqueIds: true }).execute();
        await db.schema.createIndex("audit_log_path_idx").on("audit_log").column("path").execute();
        await db.schema.createIndex("audit_log_at_idx").on("audit_log").column("at").execute();
        await db.schema
          .createTable("audit_head")
          .addColumn("id", "integer", (c) => c.primaryKey())
          .addColumn("seq", "integer", (c) => c.notNull())
          .addColumn("hash", "text", (c) => c.notNull())
          .execute();
        await db.insertInto("audit_head").values({ id: 1, seq: 0, hash: GENESIS_HASH }).execute();
      },
    },
    "0002_access": {
      // Identities, credentials, tokens, policies, roles and dashboard sessions. Tokens and
      // session ids are stored only as SHA-256 hex; TOTP secrets only sealed.
      async up(db: AnyDb) {
        await db.schema
          .createTable("identities")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("disabled_at", "text")
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("user_credentials")
          .addColumn("identity_id", "text", (c) => c.primaryKey().references("identities.id"))
          .addColumn("password_hash", "text", (c) => c.notNull())
          .addColumn("totp_sealed", bytes)
          .addColumn("totp_last_step", "integer")
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("login_state")
          .addColumn("identity_id", "text", (c) => c.primaryKey().references("identities.id"))
          .addColumn("failures", "integer", (c) => c.notNull())
          .addColumn("locked_until", "text")
          .addColumn("last_failure_at", "text")
          .execute();
        await db.schema
          .createTable("tokens")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("identity_id", "text", (c) => c.notNull().references("identities.id"))
          .addColumn("token_hash", "text", (c) => c.notNull().unique())
          .addColumn("kind", "text", (c) => c.notNull())
          .addColumn("description", "text", (c) => c.notNull().defaultTo(""))
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("created_by", "text", (c) => c.notNull())
          .addColumn("expires_at", "text", (c) => c.notNull())
          .addColumn("revoked_at", "text")
          .addColumn("ip_allow", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("scope", "text", (c) => c.notNull().defaultTo("[]"))
          .addColumn("parent_id", "text", (c) => c.references("tokens.id"))
          .execute();
        await db.schema.createIndex("tokens_identity_idx").on("tokens").column("identity_id").execute();
        await db.schema.createIndex("tokens_parent_idx").on("tokens").column("parent_id").execute();
        await db.schema
          .createTable("policies")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("rules", "text", (c) => c.notNull())
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("roles")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("created_at", "text", (c) => c.notNull())
          .execute();
        await db.schema
          .createTable("role_policies")
          .addColumn("role_id", "text", (c) => c.notNull().references("roles.id"))
          .addColumn("policy_id", "text", (c) => c.notNull().references("policies.id"))
          .addPrimaryKeyConstraint("role_policies_pk", ["role_id", "policy_id"])
          .execute();
        await db.schema
          .createTable("role_bindings")
          .addColumn("role_id", "text", (c) => c.notNull().references("roles.id"))
          .addColumn("identity_id", "text", (c) => c.notNull().references("identities.id"))
          .addPrimaryKeyConstraint("role_bindings_pk", ["role_id", "identity_id"])
          .execute();
        await db.schema
          .createIndex("role_bindings_identity_idx")
          .on("role_bindings")
          .column("identity_id")
          .execute();
        await db.schema
          .createTable("sessions")
          .addColumn("id", "text", (c) => c.primaryKey())
          .addColumn("session_hash", "text", (c) => c.notNull().unique())
          .addColumn("identity_id", "text", (c) => c.notNull().references("identities.id"))
          .addColumn("created_at", "text", (c) => c.notNull())
          .addColumn("last_seen_at", "text", (c) => c.notNull())
          .addColumn("expires_at", "text", (c) => c.notNull())
          .addColumn("revoked_at", "text")
          .execute();
      },
    },
    "0003_access_epoch": {
      // A counter bumped by triggers in the same transaction as any change to what
      // authentication or authorization reads (identities, tokens, policies, roles and their
      // links), whoever makes it: this server, another one, the CLI, plain SQL. A server
      // caches authenticated tokens and trusts an entry only while the epoch it was read
      // at is still current, so a revocation is in force at once everywhere.
      async up(db: AnyDb) {
        await db.schema
          .createTable("access_epoch")
          .addColumn("id", "integer", (c) => c.primaryKey())
          .addColumn("epoch", "integer", (c) => c.notNull())
          .execute();
        await db.insertInto("access_epoch").values({ id: 1, epoch: 0 }).execute();
        // Inserting a token changes nothing an existing cache entry says.
        const watched: readonly [string, readonly TriggerEvent[]][] = [
          ["identities", ["insert", "update", "delete"]],
          ["tokens", ["update", "delete"]],
          ["policies", ["insert", "update", "delete"]],
          ["roles", ["insert", "update", "delete"]],
          ["role_policies", ["insert", "update", "delete"]],
          ["role_bindings", ["insert", "update", "delete"]],
        ];
        for (const [table, events] of watched)
          await caps.createTriggers(
            db,
            `kw_epoch_${table}`,
            table,
            events,
            "update access_epoch set epoch = epoch + 1 where id = 1",
          );
      },
    },
    "0004_data_epoch": {
      // The same for what a secret read returns: row 2 of access_epoch changes with any
      // change to a secret (but its last_read_at, which every read sets), a version or a
      // data key. A server caches those rows while it is current (repos/epoch-repo.ts).
      async up(db: AnyDb) {
        await db.insertInto("access_epoch").values({ id: DATA_EPOCH_ID, epoch: 0 }).execute();
        const watched: readonly [string, readonly TriggerEvent[]][] = [
          ["secrets", ["insert", `update of ${SECRET_COLUMNS_READ.join(", ")}`, "delete"]],
          ["secret_versions", ["insert", "update", "delete"]],
          ["data_keys", ["insert", "update", "delete"]],
        ];
        for (const [table, events] of watched)
          await caps.createTriggers(
            db,
            `kw_data_epoch_${table}`,
            table,
            events,
            `update access_epoch set epoch = epoch + 1 where id = ${DATA_EPOCH_ID}`,
          );
      },
    },
    "0005_audit_path_index": {
      // The index on audit_log.path made every append write one index page per path it
      // names: a group of 25 reads over 100 secrets wrote about 43 WAL pages instead of 13,
      // and reached the disk and the checkpoints alike. The path index is now a table of
      // its own, filled in batches from the entries past `through` (sorted by path, so a
      // batch writes each path's page once); a query by path reads the index up to
      // `through` and the few entries after it directly (repos/audit-repo.ts).
      async up(db: AnyDb) {
        await db.schema
          .createTable("audit_path_index")
          .addColumn("path", "text", (c) => c.notNull())
          .addColumn("seq", "integer", (c) => c.notNull())
          .addPrimaryKeyConstraint("audit_path_index_pk", ["path", "seq"])
          .execute();
        await db.schema
          .createTable("audit_path_index_head")
          .addColumn("id", "integer", (c) => c.primaryKey())
          .addColumn("through", "integer", (c) => c.notNull())
          .execute();
        await db
          .insertInto("audit_path_index")
          .columns(["path", "seq"])
          .expression(
            db
              .selectFrom("audit_log")
              .select(["path", "seq"])
              .where("path", "is not", null)
              .orderBy("path")
              .orderBy("seq"),
          )
          .execute();
        await db
          .insertInto("audit_path_index_head")
          .values({ id: 1, through: db.selectFrom("audit_head").select("seq").where("id", "=", 1) })
          .execute();
        await db.schema.dropIndex("audit_log_path_idx").execute();
      },
    },
    "0006_version_encoding": {
      // Whether a version's value is a Vault KV map (JSON) or the string itself was said by
      // a tag on the secret, so a plain string written after a map (or before it) read back
      // through the Vault API as the map its text spells. Each version now says it. Versions
      // of secrets that had the tag keep the old reading (`kv-map-legacy`): the migration
      // cannot decrypt them to tell.
      async up(db: AnyDb) {
        await db.schema.alterTable("secret_versions").addColumn("encoding", "text").execute();
        await db
          .updateTable("secret_versions")
          .set({ encoding: "kv-map-legacy" })
          .where(
            "secret_id",
            "in",
            db.selectFrom("secrets").select("id").where("tags", "like", '%"vault-kv:json"%'),
          )
          .execute();
      },
    },
    "0007_secret_custom_metadata": {
      // Vault KV custom metadata (`vault kv metadata put -custom-metadata`, External Secrets'
      // PushSecret), by path: it may be written before the secret exists.
      async up(db: AnyDb) {
        await db.schema
          .createTable("secret_custom_metadata")
          .addColumn("path", "text", (c) => c.primaryKey())
          .addColumn("data", "text", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0008_audit_time_blocks": {
      // Every group commit of audited reads wrote into each index of audit_log: a group of
      // about 50 reads wrote 22.6 WAL pages, 4.6 of them for the UNIQUE index on ids and 4.2
      // for the index on `at` (an index's full last leaf is split over three siblings;
      // SQLite's cheap append split is for rowid tables only). No query reads an entry by
      // its id (the hash chain covers the ids; 80 random bits keep them apart), so the log
      // is rebuilt without that index. Queries since a time read blocks instead: the entries
      // filled into the path index are also cut into blocks with their latest time, and a
      // query starts at the first block that reaches the time (repos/audit-repo.ts). Without
      // both, `npm run bench -- server` read 37.1-42.0% of the bare route in four runs (median
      // 40.1%) against 33.5-38.0% in six before (SQLite, synchronous=FULL), the writer thread
      // 8.4-8.9 µs a read against 9.6-10.4 (services/audit/NOTES.md).
      async up(db: AnyDb) {
        await createAuditLog(db, "audit_log_next", { uniqueIds: false }).execute();
        await db
          .insertInto("audit_log_next")
          .columns([...AUDIT_COLUMNS])
          .expression(
            db
              .selectFrom("audit_log")
              .select([...AUDIT_COLUMNS])
              .orderBy("seq"),
          )
          .execute();
        await db.schema.dropTable("audit_log").execute();
        await db.schema.alterTable("audit_log_next").renameTo("audit_log").execute();
        await db.schema
          .createTable("audit_time_index")
          .addColumn("seq_from", "integer", (c) => c.primaryKey())
          .addColumn("seq_to", "integer", (c) => c.notNull())
          .addColumn("max_at", "text", (c) => c.notNull())
          .execute();
        // The entries the path index holds, in blocks of 4,096; later ones are cut as it fills.
        await sql`
          insert into audit_time_index (seq_from, seq_to, max_at)
          select min(seq), max(seq), max(at) from audit_log
          where seq <= (select through from audit_path_index_head where id = 1)
          group by (seq - 1) / 4096`.execute(db);
      },
    },
    "0009_oidc_used_jwts": {
      // JWTs a single-use OIDC trust took, until they expire, so that each logs in once
      // (services/access/oidc.ts, `singleUse`).
      async up(db: AnyDb) {
        await db.schema
          .createTable("oidc_used_jwts")
          .addColumn("digest", "text", (c) => c.primaryKey())
          .addColumn("expires_at", "text", (c) => c.notNull())
          .execute();
      },
    },
    "0010_audit_path_blocks": {
      // A fill of the path index inserted a row per entry: 4,096 rows, each into a B-tree
      // by path, while audited reads waited behind it (on SQLite on the same writer thread).
      // It is now a row per path per fill, holding that path's entries as a JSON array, so
      // a fill writes as many rows as the paths its entries name (services/audit/NOTES.md).
      // The entries already indexed go into blocks of 4,096 per path.
      async up(db: AnyDb) {
        await db.schema
          .createTable("audit_path_blocks")
          .addColumn("path", "text", (c) => c.notNull())
          .addColumn("seq_from", "integer", (c) => c.notNull())
          .addColumn("seq_to", "integer", (c) => c.notNull())
          .addColumn("seqs", "text", (c) => c.notNull())
          .addPrimaryKeyConstraint("audit_path_blocks_pk", ["path", "seq_from"])
          .execute();
        await sql`
          insert into audit_path_blocks (path, seq_from, seq_to, seqs)
          select path, min(seq), max(seq), ${sql.raw(caps.ascendingJsonArray("seq"))}
          from audit_path_index group by path, (seq - 1) / 4096`.execute(db);
        await db.schema.dropTable("audit_path_index").execute();
      },
    },
  };
}

/** audit_log as migration 0001 made it (ids UNIQUE) and as 0008 rebuilt it (not). */
function createAuditLog(db: AnyDb, table: string, options: { uniqueIds: boolean }) {
  return db.schema
    .createTable(table)
    .addColumn("seq", "integer", (c) => c.primaryKey())
    .addColumn("id", "text", (c) => (options.uniqueIds ? c.notNull().unique() : c.notNull()))
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("path", "text")
    .addColumn("version", "integer")
    .addColumn("result", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("detail", "text")
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull());
}

/** audit_log's columns as migration 0001 made them, in order. */
const AUDIT_COLUMNS = [
  "seq",
  "id",
  "at",
  "actor",
  "action",
  "path",
  "version",
  "result",
  "source",
  "request_id",
  "detail",
  "prev_hash",
  "hash",
] as const;

/** The row of access_epoch that secrets, versions and data keys bump (migration 0004). */
export const DATA_EPOCH_ID = 2;

/**
 * Every column of `secrets` but last_read_at: an UPDATE setting any of them bumps the data
 * epoch. Frozen as migration 0004 shipped it: a migration adding a column to secrets adds a
 * trigger for it too (test/integration/storage/epochs.test.ts updates every column of the
 * table as the database has it and expects the epoch to move for all but last_read_at).
 */
export const SECRET_COLUMNS_READ = [
  "id",
  "path",
  "project",
  "environment",
  "name",
  "current_version",
  "deleted_at",
  "provider",
  "kind",
  "owner",
  "consumers",
  "tags",
  "expires_at",
  "max_age_seconds",
  "created_at",
  "updated_at",
] as const;

/** The names of every migration this build knows, in order. */
export function migrationNames(caps: StorageCapabilities): string[] {
  return Object.keys(migrations(caps)).sort();
}

function provider(caps: StorageCapabilities): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(caps)) };
}

function migratorFor(db: AnyDb, caps: StorageCapabilities): Migrator {
  return new Migrator({
    db,
    provider: provider(caps),
    migrationTableName: "kw_migration",
    migrationLockTableName: "kw_migration_lock",
    ...(caps.schema === undefined ? {} : { migrationTableSchema: caps.schema }),
  });
}

/**
 * Brings a new database's schema up to `name` and no further: a migration's test starts
 * from the schema the one before it left, with the rows a user of that version had.
 *
 * @example
 *   await migrateUpTo(storage.db, storage.caps, "0004_data_epoch");
 */
export async function migrateUpTo(db: AnyDb, caps: StorageCapabilities, name: string): Promise<void> {
  const { error } = await migratorFor(db, caps).migrateTo(name);
  if (error !== undefined) throw error instanceof Error ? error : new Error(JSON.stringify(error));
}

/** What `migrate` did. */
export interface MigrateResult {
  /** Migrations applied now, in order. */
  readonly applied: readonly string[];
  /** Every migration the database has after the run. */
  readonly current: readonly string[];
}

/**
 * Brings the schema up to date, in one transaction (so two processes starting together
 * apply each migration once). A database migrated by a newer Keywarden is refused.
 *
 * @example
 *   const { applied } = await migrateToLatest(storage.db, storage.caps);
 */
export async function migrateToLatest(db: AnyDb, caps: StorageCapabilities): Promise<MigrateResult> {
  const migrator = migratorFor(db, caps);
  const known = new Set(migrationNames(caps));
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "(setup)";
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    if (/corrupted migrations|missing/i.test(reason)) {
      throw new KeywardenError("KW_ERR_STORAGE_SCHEMA_NEWER", { reason });
    }
    throw new KeywardenError("KW_ERR_STORAGE_MIGRATE", { migration: failed, reason }, { cause: error });
  }
  const applied = (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
  const current = (await migrator.getMigrations())
    .filter((m) => m.executedAt !== undefined)
    .map((m) => m.name);
  const unknown = current.filter((n) => !known.has(n));
  if (unknown.length > 0)
    throw new KeywardenError("KW_ERR_STORAGE_SCHEMA_NEWER", {
      reason: `unknown migrations ${unknown.join(", ")}`,
    });
  return { applied, current };
}

/** Used by tests and `keywarden migrate` to show the database engine's own version. */
export async function serverVersion(db: AnyDb, caps: StorageCapabilities): Promise<string> {
  const r = await sql<{ v: string }>`select ${sql.raw(caps.versionFunction)} as v`.execute(db);
  return r.rows[0]?.v ?? "";
}
