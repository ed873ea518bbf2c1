/**
 * Reads that one loop turn's requests share. A value that every request checks (the access
 * epoch) is read once per event-loop turn instead of once per request: on PostgreSQL that is
 * a round trip saved per request, on SQLite a statement.
 *
 * Why a shared read is as fresh as each request's own would be:
 * - The server starts every request in the check phase of the turn that read it
 *   (server/plugins/turn-batching.ts), so every request that can use a shared read arrived
 *   before the read was sent. A change another process committed before a request arrived
 *   is therefore committed before the shared read too.
 * - A shared read is dropped at the start of the next turn's check phase (a setImmediate
 *   queued when it was made runs before the immediates of requests read later).
 * - A write this process makes could land inside one turn (SQLite answers synchronously),
 *   so any statement that is not a plain SELECT, COMMIT included, completing on any handle
 *   of this process drops every shared read (`watchingWrites` counts them).
 * - Inside a transaction nothing is shared: the transaction reads its own state.
 */
import {
  SelectQueryNode,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { Executor } from "./repos/executor.ts";

/** Statements other than plain SELECTs completed by this process, COMMITs included. */
let writes = 0;

/** SQL text that is a plain SELECT: it changes nothing. */
export function isSelectText(sqlText: string): boolean {
  return /^\s*select\s/i.test(sqlText);
}

/** A plain SELECT (Kysely-built or raw text): it changes nothing. */
export function isPlainSelect(compiledQuery: CompiledQuery): boolean {
  return SelectQueryNode.is(compiledQuery.query) || isSelectText(compiledQuery.sql);
}

/** Writes completed so far by this process (see `writes`). */
export function writesSoFar(): number {
  return writes;
}

/** Called after a statement that may have changed data completes (for paths outside Kysely's driver). */
export function noteWrite(): void {
  writes++;
}

class WatchedConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (isPlainSelect(compiledQuery)) return this.inner.executeQuery<R>(compiledQuery);
    try {
      return await this.inner.executeQuery<R>(compiledQuery);
    } finally {
      // Counted even when it failed: a failed COMMIT may still have committed.
      writes++;
    }
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}

function innerOf(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof WatchedConnection ? connection.inner : connection;
}

class WatchedDriver implements Driver {
  readonly savepoint?: Driver["savepoint"];
  readonly rollbackToSavepoint?: Driver["rollbackToSavepoint"];
  readonly releaseSavepoint?: Driver["releaseSavepoint"];

  constructor(readonly inner: Driver) {
    // Savepoints exactly where the wrapped driver has them.
    if (inner.savepoint !== undefined)
      this.savepoint = (c, name, compile) => inner.savepoint!(innerOf(c), name, compile);
    if (inner.rollbackToSavepoint !== undefined)
      this.rollbackToSavepoint = (c, name, compile) => inner.rollbackToSavepoint!(innerOf(c), name, compile);
    if (inner.releaseSavepoint !== undefined)
      this.releaseSavepoint = (c, name, compile) => inner.releaseSavepoint!(innerOf(c), name, compile);
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new WatchedConnection(await this.inner.acquireConnection());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(innerOf(connection), settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(innerOf(connection));
    } finally {
      writes++;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.inner.rollbackTransaction(innerOf(connection));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection(innerOf(connection));
  }

  async destroy(): Promise<void> {
    await this.inner.destroy();
  }
}

/**
 * `dialect` with every completed write counted (see the file comment).
 *
 * @example
 *   new Kysely<Database>({ dialect: watchingWrites(new PostgresDialect({ pool })) });
 */
export function watchingWrites(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new WatchedDriver(dialect.createDriver()),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

interface Shared {
  readonly value: Promise<unknown>;
  /** `writes` when the read was sent. */
  readonly writes: number;
}

const shared = new WeakMap<object, Map<string, Shared>>();

/**
 * `read()` once per loop turn and handle, shared by every caller in that turn, unless a
 * write completed since it was sent. `key` names the value; `db` in a transaction reads alone.
 *
 * @example
 *   const epoch = await sharedThisTurn(db, "access-epoch", () => readEpoch(db));
 */
export function sharedThisTurn<T>(db: Executor, key: string, read: () => Promise<T>): Promise<T> {
  if (db.isTransaction) return read();
  let byKey = shared.get(db);
  if (byKey === undefined) {
    byKey = new Map();
    shared.set(db, byKey);
  }
  const hit = byKey.get(key);
  if (hit !== undefined && hit.writes === writes) return hit.value as Promise<T>;
  const entry: Shared = { value: read(), writes };
  byKey.set(key, entry);
  const drop = (): void => {
    if (byKey.get(key) === entry) byKey.delete(key);
  };
  // A failed read is not shared; the next caller tries again.
  entry.value.catch(drop);
  setImmediate(drop);
  return entry.value as Promise<T>;
}
