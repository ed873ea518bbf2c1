/**
 * Compiled-once queries for the hot read paths (token check, secret read). Building and
 * compiling a Kysely query costs more than running it on SQLite with a cached statement, so
 * a hot query is built once per dialect with placeholder parameters; each call only swaps
 * the parameter values in. The SQL text stays the same, so the SQLite driver's statement
 * cache (and PostgreSQL's plan for it) is reused too.
 */
import { CompiledQuery, type Compilable, type Kysely } from "kysely";
import type { Database } from "../schema.ts";
import type { Executor } from "./executor.ts";

/** Stands for the i-th argument of a prepared query while it is built. */
class Placeholder {
  constructor(readonly index: number) {}
}

type Builder<A extends readonly unknown[], R> = (db: Kysely<Database>, ...args: A) => Compilable<R>;

/**
 * A query built once per dialect by `build`, whose arguments must only be used as values
 * (`where(col, "=", arg)`), never to shape the query (no conditionals or lists on them).
 *
 * @example
 *   const byHash = prepared((db, hash: string) =>
 *     db.selectFrom("tokens").selectAll().where("token_hash", "=", hash));
 *   const rows = await byHash(db, sha256Hex(raw));
 */
export function prepared<A extends readonly unknown[], R>(
  build: Builder<A, R>,
): (db: Executor, ...args: A) => Promise<R[]> {
  // Keyed by the dialect adapter, which a database and its transactions share.
  const compiled = new WeakMap<object, { sql: string; params: readonly unknown[] }>();
  return async (db, ...args) => {
    const executor = db.getExecutor();
    let q = compiled.get(executor.adapter);
    if (q === undefined) {
      const marks = args.map((_, i) => new Placeholder(i)) as unknown as A;
      const c = build(db, ...marks).compile();
      // Every argument must appear as a parameter, or the query did not use it as a value.
      const used = new Set(c.parameters.filter((p) => p instanceof Placeholder).map((p) => p.index));
      if (used.size !== args.length) throw new Error("prepared: every argument must be a query value");
      q = { sql: c.sql, params: c.parameters };
      compiled.set(executor.adapter, q);
    }
    const params = q.params.map((p) => (p instanceof Placeholder ? args[p.index] : p));
    const r = await db.executeQuery<R>(CompiledQuery.raw(q.sql, params));
    return r.rows;
  };
}
