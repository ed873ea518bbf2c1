/**
 * A Kysely dialect over `node:sqlite` (built into Node 24), so the embedded database needs no
 * native addon. It reuses Kysely's SQLite query compiler and introspector; the driver is ours.
 *
 * One connection per database handle, as SQLite wants, guarded by a mutex. Write
 * transactions start with `BEGIN IMMEDIATE`: taking the write lock up front means two
 * processes never deadlock upgrading a read lock, and busy_timeout makes the second wait.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import {
  CompiledQuery,
  SelectQueryNode,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from "kysely";

export interface NodeSqliteOptions {
  /** Database file, or ":memory:". */
  readonly file: string;
  /** Milliseconds a statement waits for another process's lock (PRAGMA busy_timeout). */
  readonly busyTimeoutMs?: number;
  /** PRAGMA synchronous: FULL makes every commit durable against power loss, NORMAL against process crashes. */
  readonly synchronous?: "FULL" | "NORMAL";
}

/** SQLite supports transactional DDL; Kysely's stock adapter says no only for better-sqlite3's sake. */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

const STATEMENT_CACHE_SIZE = 200;

type Param = SQLInputValue;

function toParam(value: unknown): Param {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "string" || typeof value === "number" || typeof value === "bigint") return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return value.toISOString();
  throw new TypeError(`cannot bind a ${typeof value} to an SQLite parameter`);
}

class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, { stmt: StatementSync; reader: boolean }>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #prepare(sqlText: string): { stmt: StatementSync; reader: boolean } {
    let entry = this.#cache.get(sqlText);
    if (entry === undefined) {
      const stmt = this.#db.prepare(sqlText);
      entry = { stmt, reader: stmt.columns().length > 0 };
      if (this.#cache.size >= STATEMENT_CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(sqlText, entry);
    }
    return entry;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return new Promise((resolve) => {
      const { stmt, reader } = this.#prepare(compiledQuery.sql);
      const params = compiledQuery.parameters.map(toParam);
      if (reader) {
        // node:sqlite rows have a null prototype; callers (and deepEqual) expect plain objects.
        resolve({ rows: stmt.all(...params).map((row) => ({ ...row }) as R) });
        return;
      }
      const { changes, lastInsertRowid } = stmt.run(...params);
      resolve({ numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] });
    });
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(compiledQuery.query))
      throw new Error("node:sqlite driver streams only select queries");
    const stmt = this.#db.prepare(compiledQuery.sql);
    for (const row of stmt.iterate(...compiledQuery.parameters.map(toParam))) {
      yield await Promise.resolve({ rows: [{ ...row } as R] });
    }
  }

  exec(sqlText: string): void {
    this.#db.exec(sqlText);
  }
}

class Mutex {
  #tail: Promise<void> = Promise.resolve();

  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }
}

class NodeSqliteDriver implements Driver {
  readonly #options: NodeSqliteOptions;
  readonly #mutex = new Mutex();
  #db: DatabaseSync | undefined;
  #connection: NodeSqliteConnection | undefined;
  #release: (() => void) | undefined;

  constructor(options: NodeSqliteOptions) {
    this.#options = options;
  }

  init(): Promise<void> {
    return new Promise((resolve) => {
      const db = new DatabaseSync(this.#options.file, { timeout: this.#options.busyTimeoutMs ?? 5000 });
      // WAL: readers never block the writer; secure_delete: freed pages are zeroed, so a
      // destroyed data key does not linger in the file.
      db.exec(`PRAGMA journal_mode = WAL`);
      db.exec(`PRAGMA synchronous = ${this.#options.synchronous ?? "FULL"}`);
      db.exec(`PRAGMA foreign_keys = ON`);
      db.exec(`PRAGMA secure_delete = ON`);
      this.#db = db;
      this.#connection = new NodeSqliteConnection(db);
      resolve();
    });
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#release = await this.#mutex.lock();
    return this.#connection!;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel !== undefined && settings.isolationLevel !== "serializable") {
      throw new Error(`SQLite transactions are serializable; ${settings.isolationLevel} was asked for`);
    }
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }

  releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
    return Promise.resolve();
  }

  destroy(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    return Promise.resolve();
  }
}

/**
 * Kysely dialect for `node:sqlite`'s DatabaseSync: WAL, busy_timeout, foreign keys and
 * secure_delete on; `BEGIN IMMEDIATE` for transactions.
 *
 * @example
 *   const db = new Kysely<Database>({ dialect: new NodeSqliteDialect({ file: "/path/keywarden.db" }) });
 */
export class NodeSqliteDialect implements Dialect {
  readonly #options: NodeSqliteOptions;

  constructor(options: NodeSqliteOptions) {
    this.#options = options;
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#options);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kysely's Dialect contract takes Kysely<any>.
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
