/**
 * A Kysely dialect over `node:sqlite` (built into Node 24), so the embedded database needs no
 * native addon. It reuses Kysely's SQLite query compiler and introspector; the driver is ours.
 *
 * One writer connection per database handle, guarded by a mutex, plus a read-only one for
 * plain SELECTs outside transactions (see `Lease`). A server adds a writer thread with a
 * connection of its own for scripts (sqlite-script.ts), which also run under the mutex. Write
 * transactions start with `BEGIN IMMEDIATE`: taking the write lock up front means two
 * processes never deadlock upgrading a read lock, and busy_timeout makes the second wait.
 */
import { open, type FileHandle } from "node:fs/promises";
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
import { executeScript, openWriter, ScriptThread, type SqliteScript } from "./sqlite-script.ts";
import { isPlainSelect, noteWrite } from "./turn-reads.ts";

export interface NodeSqliteOptions {
  /** Database file, or ":memory:". */
  readonly file: string;
  /** Milliseconds a statement waits for another process's lock (PRAGMA busy_timeout). */
  readonly busyTimeoutMs?: number;
  /**
   * FULL makes every commit durable against power loss before it returns, NORMAL against
   * process crashes only. FULL is done by this driver, not by SQLite: SQLite runs with
   * synchronous=NORMAL and the driver syncs the WAL file itself after each commit, on
   * libuv's thread pool (see `WalSync`), so the event loop is not blocked by the fsync.
   */
  readonly synchronous?: "FULL" | "NORMAL";
  /**
   * Scripts (`runScript`) run on a writer thread with a connection of its own instead of on
   * the event loop (files only; see sqlite-script.ts). For a server; a short-lived command
   * would pay the thread's start for nothing.
   */
  readonly writerThread?: boolean;
}

/** SQLite supports transactional DDL; Kysely's stock adapter says no only for better-sqlite3's sake. */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

const STATEMENT_CACHE_SIZE = 200;

/**
 * WAL pages between automatic checkpoints: 10,000 (about 40 MiB) instead of SQLite's 1,000.
 * Pages every commit rewrites (the audit head, index tails, last_read_at) are copied once per
 * checkpoint, so fewer checkpoints copy less. Measured on audited reads (groups of about 25):
 * 300-320 µs per COMMIT at 1,000, 190-205 µs at 10,000. Never checkpointing was worse
 * (395 µs: the WAL only grows). A destroy still checkpoints and truncates (`scrub`).
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

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

  /** Whether a transaction is open on this connection (SQLite may have ended one by itself). */
  get isTransaction(): boolean {
    return this.#db.isTransaction;
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

/**
 * What Kysely gets as "a connection": one per acquisition. A transaction (and any statement
 * that is not a plain SELECT) runs on the one writer connection, holding the mutex from
 * BEGIN to COMMIT. A plain SELECT outside a transaction runs at once on a second,
 * read-only connection: in WAL mode it reads the last committed state without waiting for
 * a transaction that is still open on the writer (the group commit of audit entries holds
 * one across awaits; before, every read of every request queued behind it).
 */
class Lease implements DatabaseConnection {
  readonly #driver: NodeSqliteDriver;
  #release: (() => void) | undefined;

  constructor(driver: NodeSqliteDriver) {
    this.#driver = driver;
  }

  get inTransaction(): boolean {
    return this.#release !== undefined;
  }

  async lock(): Promise<void> {
    this.#release = await this.#driver.mutex.lock();
  }

  unlock(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const { writer, reader } = this.#driver.connections();
    if (this.inTransaction) return writer.executeQuery<R>(compiledQuery);
    // A plain SELECT is safe on the read-only connection outside a transaction.
    if (isPlainSelect(compiledQuery)) return reader.executeQuery<R>(compiledQuery);
    // A write outside a transaction: its own turn on the writer, never inside another's transaction.
    await this.lock();
    let result: QueryResult<R>;
    try {
      result = await writer.executeQuery<R>(compiledQuery);
    } finally {
      this.unlock();
    }
    await this.#driver.walSync.afterCommit();
    return result;
  }

  streamQuery<R>(compiledQuery: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { writer, reader } = this.#driver.connections();
    return (this.inTransaction ? writer : reader).streamQuery<R>(compiledQuery);
  }
}

function leaseOf(connection: DatabaseConnection): Lease {
  if (!(connection instanceof Lease)) throw new Error("not a connection of this driver");
  return connection;
}

/**
 * Durability of a commit without blocking the event loop. In WAL mode a transaction is
 * durable once the WAL frames holding it are on disk, which SQLite's synchronous=FULL
 * gets with an fsync of the WAL inside COMMIT, on the calling thread: with node:sqlite
 * that thread is the event loop, and every request in the process waits for the disk.
 * Instead SQLite runs with synchronous=NORMAL (it still syncs around checkpoints) and,
 * after each COMMIT, the commit waits for an fdatasync of the WAL file on libuv's thread
 * pool before it returns. fdatasync acts on the file, not the descriptor, so it covers
 * frames written through SQLite's own descriptor. Meanwhile the writer lock is already
 * free: the next transaction runs while this one's sync is in flight, and a sync that
 * starts after a commit covers it, so syncs are shared under load.
 *
 * One difference from SQLite's FULL: other connections may read a commit a moment before
 * it is on disk (a reader could see a row that a power cut then loses). No caller is told
 * its own commit happened before its sync completes.
 */
class WalSync {
  readonly #file: string | undefined;
  #handle: Promise<FileHandle> | undefined;
  /** Commits so far, and how many of them the last completed sync covers. */
  #commits = 0;
  #synced = 0;
  #inFlight: Promise<void> | undefined;

  constructor(file: string | undefined) {
    this.#file = file;
  }

  /** Resolves once the commit just made is on disk (at once when nothing is to be synced). */
  async afterCommit(): Promise<void> {
    if (this.#file === undefined) return;
    const mine = ++this.#commits;
    while (this.#synced < mine) {
      // A sync that started before this commit does not cover it: wait for it, then start one.
      if (this.#inFlight !== undefined) {
        await this.#inFlight;
        continue;
      }
      this.#inFlight = this.#sync(this.#commits).finally(() => {
        this.#inFlight = undefined;
      });
      await this.#inFlight;
    }
  }

  async #sync(covers: number): Promise<void> {
    this.#handle ??= open(`${this.#file}-wal`, "r");
    let handle: FileHandle;
    try {
      handle = await this.#handle;
    } catch (e) {
      this.#handle = undefined;
      throw e;
    }
    await handle.datasync();
    this.#synced = Math.max(this.#synced, covers);
  }

  async close(): Promise<void> {
    const h = this.#handle;
    this.#handle = undefined;
    if (h !== undefined) await (await h.catch(() => undefined))?.close();
  }
}

class NodeSqliteDriver implements Driver {
  readonly #options: NodeSqliteOptions;
  readonly mutex = new Mutex();
  walSync = new WalSync(undefined);
  #dbs: DatabaseSync[] = [];
  #writer: NodeSqliteConnection | undefined;
  #reader: NodeSqliteConnection | undefined;
  #scripts: ScriptThread | undefined;

  constructor(options: NodeSqliteOptions) {
    this.#options = options;
  }

  init(): Promise<void> {
    return new Promise((resolve) => {
      const timeout = this.#options.busyTimeoutMs ?? 5000;
      const db = openWriter(this.#options.file, timeout, WAL_AUTOCHECKPOINT_PAGES);
      this.#dbs = [db];
      this.#writer = new NodeSqliteConnection(db);
      this.#reader = this.#writer;
      if (this.#options.file !== ":memory:" && this.#options.file !== "") {
        // Read-only, so that nothing can take a write lock on it and wait (synchronously)
        // for the writer's transaction.
        const ro = new DatabaseSync(this.#options.file, { timeout, readOnly: true });
        this.#dbs.push(ro);
        this.#reader = new NodeSqliteConnection(ro);
        if ((this.#options.synchronous ?? "FULL") === "FULL") this.walSync = new WalSync(this.#options.file);
        if (this.#options.writerThread === true)
          this.#scripts = new ScriptThread({
            file: this.#options.file,
            timeoutMs: timeout,
            walAutocheckpointPages: WAL_AUTOCHECKPOINT_PAGES,
            syncWal: (this.#options.synchronous ?? "FULL") === "FULL",
          });
      }
      resolve();
    });
  }

  connections(): { writer: NodeSqliteConnection; reader: NodeSqliteConnection } {
    return { writer: this.#writer!, reader: this.#reader! };
  }

  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new Lease(this));
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel !== undefined && settings.isolationLevel !== "serializable") {
      throw new Error(`SQLite transactions are serializable; ${settings.isolationLevel} was asked for`);
    }
    const lease = leaseOf(connection);
    await lease.lock();
    try {
      await lease.executeQuery(CompiledQuery.raw("begin immediate"));
    } catch (e) {
      lease.unlock();
      throw e;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = leaseOf(connection);
    await lease.executeQuery(CompiledQuery.raw("commit"));
    lease.unlock();
    await this.walSync.afterCommit();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const lease = leaseOf(connection);
    try {
      // On some errors (a full disk, an I/O error) SQLite has rolled the transaction back
      // itself: a ROLLBACK would fail ("no transaction is active") and hide the error that
      // caused it, which is the one to report.
      if (this.#writer?.isTransaction !== false) await lease.executeQuery(CompiledQuery.raw("rollback"));
    } finally {
      lease.unlock();
    }
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    // A transaction whose COMMIT threw is still open: roll it back before the next one.
    const lease = leaseOf(connection);
    if (lease.inTransaction) {
      try {
        this.#writer?.exec("rollback");
      } catch {
        // Nothing was open after all.
      }
      lease.unlock();
    }
    return Promise.resolve();
  }

  /**
   * Runs `script` (see `executeScript`) under the writer mutex, so that it never waits for
   * this process's own transactions: on the writer thread when there is one and it is
   * running, else on the writer connection here. Durable like a commit before it resolves
   * (with synchronous=FULL, the thread's fdatasync or WalSync here); false when a guarded
   * script changed nothing.
   */
  async runScript(script: SqliteScript): Promise<boolean> {
    const writer = this.#dbs[0];
    if (writer === undefined) throw new Error("the SQLite driver is not open");
    const release = await this.mutex.lock();
    const thread = this.#scripts?.alive === true ? this.#scripts : undefined;
    let ok: boolean;
    try {
      ok = thread !== undefined ? await thread.run(script) : executeScript(writer, script);
    } finally {
      release();
      // Outside Kysely's driver, so the write count (turn-reads.ts) is told here.
      noteWrite();
    }
    // The thread syncs the WAL itself before it answers (ScriptThreadData.syncWal).
    if (ok && thread === undefined) await this.walSync.afterCommit();
    return ok;
  }

  async destroy(): Promise<void> {
    await this.#scripts?.close();
    this.#scripts = undefined;
    for (const db of this.#dbs.reverse()) db.close();
    this.#dbs = [];
    await this.walSync.close();
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
  #driver: NodeSqliteDriver | undefined;

  constructor(options: NodeSqliteOptions) {
    this.#options = options;
  }

  createDriver(): Driver {
    this.#driver = new NodeSqliteDriver(this.#options);
    return this.#driver;
  }

  /** Runs a script on the driver Kysely made of this dialect (see `NodeSqliteDriver.runScript`). */
  runScript(script: SqliteScript): Promise<boolean> {
    if (this.#driver === undefined) return Promise.reject(new Error("no Kysely instance uses this dialect"));
    return this.#driver.runScript(script);
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
