/**
 * Compiled-once queries for the hot read paths (token check, secret read). Building and
 * compiling a Kysely query costs more than running it on SQLite with a cached statement, so
 * a hot query is built once per dialect with placeholder parameters; each call only swaps
 * the parameter values in. The SQL text stays the same, so the SQLite driver's statement
 * cache (and PostgreSQL's plan for it) is reused too.
 */
import { hash } from "node:crypto";
import { CompiledQuery, type Compilable, type Kysely } from "kysely";
import type { Database } from "../schema.ts";
import type { Executor } from "./executor.ts";
import { isSelectText, noteWrite } from "../turn-reads.ts";

/** What runs a named (server-side prepared) statement: a pg Pool's `query`. */
export interface NamedStatementRunner {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Statement names by text: hot texts are few and fixed, so each is hashed once. */
const names = new Map<string, string>();

function statementName(sqlText: string): string {
  let name = names.get(sqlText);
  if (name === undefined) {
    name = `kw_${hash("sha256", sqlText, "hex").slice(0, 24)}`;
    names.set(sqlText, name);
  }
  return name;
}

/** PostgreSQL handles whose pool runs hot queries as named statements (see `runHot`). */
const runners = new WeakMap<object, NamedStatementRunner>();

/**
 * Lets `runHot` run `db`'s hot queries through `runner` as named statements.
 *
 * @example
 *   registerNamedStatements(db, pool); // in openPostgres
 */
export function registerNamedStatements(db: Kysely<Database>, runner: NamedStatementRunner): void {
  runners.set(db, runner);
}

/**
 * Runs a hot query. On PostgreSQL, outside a transaction, as a named statement: each pooled
 * connection parses and plans it once, then only binds and executes (an unnamed statement,
 * which is how Kysely sends every query, is parsed and planned on every call, and on a
 * small machine the database server's CPU is what a server's reads wait for). The name is
 * a hash of the text, so one name never stands for two texts. Elsewhere (SQLite, inside a
 * transaction) through Kysely as usual.
 *
 * @example
 *   const rows = await runHot<{ n: number }>(db, "select 1 as n", []);
 */
export async function runHot<R>(db: Executor, sqlText: string, params: readonly unknown[]): Promise<R[]> {
  const runner = runners.get(db);
  if (runner !== undefined) {
    const write = !isSelectText(sqlText);
    try {
      return (await runner.query({ name: statementName(sqlText), text: sqlText, values: [...params] }))
        .rows as R[];
    } finally {
      // Outside Kysely's driver: count the write here (turn-reads.ts).
      if (write) noteWrite();
    }
  }
  return (await db.executeQuery<R>(CompiledQuery.raw(sqlText, [...params]))).rows;
}

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
    return runHot<R>(db, q.sql, params);
  };
}
