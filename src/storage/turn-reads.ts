/**
 * Reads that requests share. A value that every request checks (the access and data
 * epochs) is read once for many requests instead of once per request: on PostgreSQL that
 * is a round trip saved per request, on SQLite a statement.
 *
 * Why a shared read is as fresh as each request's own would be:
 * - A read may serve a request only if it was sent after the request arrived, so a change
 *   another process committed before the request arrived is committed before the read too.
 *   The server marks each request as it arrives (`arrivalMark`, in its onRequest hook:
 *   server/plugins/turn-batching.ts) and runs it in that mark's context (`asArrivedAt`), so
 *   every step of a request, in whatever loop turn it runs (the token check, then the secret
 *   read after an await), can use the latest read sent since it arrived. Before, a read lived
 *   one loop turn, and a request whose token check and secret read ran in different turns
 *   (on PostgreSQL, always: the check awaits a round trip) sent two.
 * - Outside a request's context (commands, tests, a body parsed by a stream's events), a
 *   read serves only callers of the turn that sent it: it is dropped at the start of the
 *   next turn's check phase (a setImmediate queued when it was made runs before the
 *   immediates of requests read later, which the server starts in that phase).
 * - A write this process makes could land between a read and its use (SQLite answers
 *   synchronously), so any statement that is not a plain SELECT, COMMIT included,
 *   completing on any handle of this process drops every shared read (`watchingWrites`
 *   counts them).
 * - Inside a transaction nothing is shared: the transaction reads its own state.
 */
import { AsyncLocalStorage } from "node:async_hooks";
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
  /** Its number among the shared reads this process sent. */
  readonly seq: number;
  /** Until the next turn's check phase: what callers outside a request's context may use. */
  thisTurn: boolean;
}

const shared = new WeakMap<object, Map<string, Shared>>();

/** Shared reads sent so far by this process. */
let sent = 0;

/** The mark of the request whose step is running (see `asArrivedAt`). */
const arrivals = new AsyncLocalStorage<number>();

/**
 * Now, as a request's arrival: reads sent after this call may serve the request.
 *
 * @example
 *   app.addHook("onRequest", (_q, _r, done) => { const mark = arrivalMark(); setImmediate(() => asArrivedAt(mark, done)); });
 */
export function arrivalMark(): number {
  return sent;
}

/**
 * Runs `fn`, and everything it calls or awaits, as the request that arrived at `mark`.
 *
 * @example
 *   asArrivedAt(mark, done);
 */
export function asArrivedAt<T>(mark: number, fn: () => T): T {
  return arrivals.run(mark, fn);
}

/**
 * `read()` once for many callers: the latest read of `key` on this handle serves a caller
 * if no write completed since it was sent and, in a request's context, it was sent after
 * the request arrived; outside one, if it was sent in this loop turn (see the file comment).
 * `db` in a transaction reads alone.
 *
 * @example
 *   const epoch = await sharedRead(db, "access-epoch", () => readEpoch(db));
 */
export function sharedRead<T>(db: Executor, key: string, read: () => Promise<T>): Promise<T> {
  if (db.isTransaction) return read();
  let byKey = shared.get(db);
  if (byKey === undefined) {
    byKey = new Map();
    shared.set(db, byKey);
  }
  const hit = byKey.get(key);
  if (hit !== undefined && hit.writes === writes) {
    const arrived = arrivals.getStore();
    if (arrived === undefined ? hit.thisTurn : hit.seq > arrived) return hit.value as Promise<T>;
  }
  const entry: Shared = { value: read(), writes, seq: ++sent, thisTurn: true };
  byKey.set(key, entry);
  // A failed read is not shared; the next caller tries again.
  entry.value.catch(() => {
    if (byKey.get(key) === entry) byKey.delete(key);
  });
  setImmediate(() => {
    entry.thisTurn = false;
  });
  return entry.value as Promise<T>;
}
