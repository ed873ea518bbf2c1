/**
 * Opens the configured database: the embedded SQLite file (`<home>/keywarden.db`) by
 * default, PostgreSQL when the URL says postgres://. Returns Kysely with the dialect's
 * capabilities; migrations are run by the caller (`migrateToLatest`).
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import {
  Kysely,
  PostgresDialect,
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type TableMetadata,
} from "kysely";
import pg from "pg";
import { KeywardenError } from "../core/errors.ts";
import { redactUrl } from "../core/redact.ts";
import type { Logger } from "../core/logger.ts";
import type { StorageCapabilities } from "./capabilities.ts";
import { NodeSqliteDialect } from "./node-sqlite-dialect.ts";
import type { SqliteScript } from "./sqlite-script.ts";
import { storageDamaged } from "./unavailable.ts";
import type { Database } from "./schema.ts";
import { registerNamedStatements } from "./repos/prepared.ts";
import { watchingWrites } from "./turn-reads.ts";

/** The embedded database's file name inside home. */
export const SQLITE_FILE_NAME = "keywarden.db";

export interface Storage {
  readonly db: Kysely<Database>;
  readonly caps: StorageCapabilities;
  /** The database as shown to people: a file path or a URL without its password. */
  readonly description: string;
  /**
   * SQLite only: runs a short write transaction given as data (sqlite-script.ts), on the
   * writer thread when `writerThread` was asked for.
   */
  readonly runScript?: ((script: SqliteScript) => Promise<boolean>) | undefined;
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  /** `storage.url`: empty for SQLite in home, `postgres://` or `postgresql://` for PostgreSQL, or `sqlite:PATH`. */
  readonly url: string;
  /** Keywarden's home folder (created 0700 if missing) for the embedded database. */
  readonly home: string;
  /** SQLite only: FULL (default) survives power loss on every commit; NORMAL only process crashes. */
  readonly synchronous?: "FULL" | "NORMAL";
  /** SQLite files only: scripts run on a writer thread of their own (for a server; see sqlite-script.ts). */
  readonly writerThread?: boolean;
  /** Told when a pooled PostgreSQL connection fails while idle (the pool replaces it). */
  readonly logger?: Pick<Logger, "warn"> | undefined;
}

/** True when the URL names PostgreSQL. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The SQLite file a storage URL names: `sqlite:PATH`, or `<home>/keywarden.db` when empty.
 *
 * @example
 *   sqliteFileFor("", "/home/me/.local/share/keywarden") // ".../keywarden/keywarden.db"
 */
export function sqliteFileFor(url: string, home: string): string {
  if (url === "") return join(home, SQLITE_FILE_NAME);
  if (url.startsWith("sqlite:")) return url.slice("sqlite:".length);
  throw new KeywardenError("KW_ERR_STORAGE_OPEN", {
    database: redactUrl(url),
    reason: "storage.url must be empty, sqlite:PATH or postgres://...",
  });
}

function sqliteCaps(): StorageCapabilities {
  return {
    engine: "sqlite",
    bytesType: "blob",
    schema: undefined,
    versionFunction: "sqlite_version()",
    ascendingJsonArray: (column) => `json_group_array(${column} order by ${column})`,
    async scrub(db) {
      await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
    },
    async createTriggers(db, name, table, events, statement) {
      for (const event of events)
        await sql`create trigger ${sql.id(`${name}_${event.split(" ")[0]}`)} after ${sql.raw(event)} on ${sql.table(table)}
          begin ${sql.raw(statement)}; end`.execute(db);
    },
  };
}

function postgresCaps(schema: string): StorageCapabilities {
  return {
    engine: "postgres",
    bytesType: "bytea",
    schema,
    versionFunction: "version()",
    ascendingJsonArray: (column) => `json_agg(${column} order by ${column})::text`,
    async scrub(db, tables) {
      for (const t of tables) await sql`VACUUM ${sql.table(t)}`.execute(db);
    },
    async createTriggers(db, name, table, events, statement) {
      // A trigger function per trigger: plpgsql bodies are text, so the statement goes in as is.
      await sql`create function ${sql.id(name)}() returns trigger language plpgsql as ${sql.lit(
        `begin ${statement}; return null; end`,
      )}`.execute(db);
      await sql`create trigger ${sql.id(name)} after ${sql.raw(events.join(" or "))} on ${sql.table(table)}
        for each statement execute function ${sql.id(name)}()`.execute(db);
    },
  };
}

/** Creates the file 0600 first, so that SQLite (which gives -wal and -shm the database's mode) never makes a readable file. */
function touchPrivate(file: string): void {
  closeSync(openSync(file, "a", 0o600));
}

async function openSqlite(file: string, options: OpenStorageOptions): Promise<Storage> {
  try {
    if (file !== ":memory:") touchPrivate(file);
    const dialect = new NodeSqliteDialect({
      file,
      synchronous: options.synchronous ?? "FULL",
      writerThread: options.writerThread === true,
    });
    const db = new Kysely<Database>({ dialect: watchingWrites(dialect) });
    await sql`select 1`.execute(db);
    return {
      db,
      caps: sqliteCaps(),
      description: file,
      runScript: (script) => dialect.runScript(script),
      close: () => db.destroy(),
    };
  } catch (e) {
    if (e instanceof KeywardenError) throw e;
    throw new KeywardenError(
      storageDamaged(e) ? "KW_ERR_STORAGE_DAMAGED" : "KW_ERR_STORAGE_OPEN",
      { database: file, reason: (e as Error).message },
      { cause: e },
    );
  }
}

/**
 * Kysely's PostgreSQL introspector lists the tables of every schema in the database and calls
 * functions that fail when another schema is dropped meanwhile (several Keywardens, or test
 * runs, sharing one database). The migrator only needs our own schema's tables: list those.
 */
class CurrentSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;

  constructor(db: Kysely<unknown>) {
    this.#db = db;
  }

  async getSchemas(): Promise<{ name: string }[]> {
    const r = await sql<{ name: string }>`select current_schema() as name`.execute(this.#db);
    return r.rows;
  }

  async getTables(): Promise<TableMetadata[]> {
    const r = await sql<{ schema: string; name: string; type: string }>`
      select table_schema as schema, table_name as name, table_type as type
      from information_schema.tables where table_schema = current_schema()`.execute(this.#db);
    return r.rows.map((t) => ({ schema: t.schema, name: t.name, isView: t.type === "VIEW", columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}

/** Seconds to wait for a PostgreSQL connection when the URL does not say (`connect_timeout`). */
const DEFAULT_CONNECT_TIMEOUT_S = 10;

/**
 * The URL's `connect_timeout` (seconds, as libpq reads it; 0 waits for ever), else
 * DEFAULT_CONNECT_TIMEOUT_S: how long opening a connection, or waiting for a free one in the
 * pool, may take before the query fails (and a server answers 503). node-postgres ignores
 * the parameter itself and would wait for ever on a database that drops packets.
 *
 * @example
 *   connectTimeoutMs("postgres://db/app?connect_timeout=3") // 3000
 */
export function connectTimeoutMs(url: string): number {
  let raw: string | null = null;
  try {
    raw = new URL(url).searchParams.get("connect_timeout");
  } catch {
    // pg reports a malformed URL itself, at the first connection.
  }
  const seconds = raw === null || raw.trim() === "" ? NaN : Number(raw);
  if (!Number.isFinite(seconds)) return DEFAULT_CONNECT_TIMEOUT_S * 1000;
  // As libpq: zero or less waits for ever (node-postgres: 0 is no timeout).
  return seconds > 0 ? Math.round(seconds * 1000) : 0;
}

async function openPostgres(url: string, logger: OpenStorageOptions["logger"]): Promise<Storage> {
  const description = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: 20,
    connectionTimeoutMillis: connectTimeoutMs(url),
    // Dead peers of idle connections are found by TCP keep-alive, not by the next query.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
  });
  // An idle connection the server ends (a restart, a failover, pg_terminate_backend) is an
  // 'error' event on the pool; with no listener it would end the process. The pool drops
  // that connection and opens a new one for the next query.
  pool.on("error", (e) => {
    logger?.warn({ database: description, reason: e.message }, "an idle database connection was lost");
  });
  const db = new Kysely<Database>({ dialect: watchingWrites(new CurrentSchemaPostgresDialect({ pool })) });
  registerNamedStatements(db, pool);
  try {
    const r = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const schema = r.rows[0]?.schema ?? null;
    if (schema === null) throw new Error("no current schema (does the schema in search_path exist?)");
    return { db, caps: postgresCaps(schema), description, close: () => db.destroy() };
  } catch (e) {
    await db.destroy();
    throw new KeywardenError(
      "KW_ERR_STORAGE_OPEN",
      { database: description, reason: (e as Error).message },
      { cause: e },
    );
  }
}

/**
 * Opens storage for `storage.url`. The home folder is created 0700, the SQLite file 0600.
 *
 * @example
 *   const storage = await openStorage({ url: config.storage.url, home });
 *   await migrateToLatest(storage.db, storage.caps);
 */
export async function openStorage(options: OpenStorageOptions): Promise<Storage> {
  if (isPostgresUrl(options.url)) return openPostgres(options.url, options.logger);
  const file = sqliteFileFor(options.url, options.home);
  if (options.url === "") mkdirSync(options.home, { recursive: true, mode: 0o700 });
  return openSqlite(file, options);
}
