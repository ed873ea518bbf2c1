/**
 * PostgreSQL for the benches: a server that answers, and a schema of the bench's own that is
 * dropped afterwards, so runs never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

/** A PostgreSQL base URL that answers, or undefined (KEYWARDEN_BENCH_PG_URL, else 127.0.0.1:5432/test as PGUSER, postgres or root). */
export async function postgresBase(): Promise<string | undefined> {
  const explicit = process.env.KEYWARDEN_BENCH_PG_URL;
  const candidates =
    explicit !== undefined && explicit !== ""
      ? [explicit]
      : [process.env.PGUSER, "postgres", "root"]
          .filter((u): u is string => u !== undefined && u !== "")
          .map((u) => `postgres://${u}@127.0.0.1:5432/test`);
  for (const url of candidates) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.end();
      return url;
    } catch {
      await c.end().catch(() => undefined);
    }
  }
  return undefined;
}

async function exec(base: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

/** A fresh schema on `base`: the storage URL that uses it, and how to drop it. */
export interface BenchSchema {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates a schema of its own on `base`.
 *
 * @example
 *   const schema = await benchSchema(base);
 *   try { ...schema.url... } finally { await schema.drop(); }
 */
export async function benchSchema(base: string): Promise<BenchSchema> {
  const name = `kw_bench_${randomBytes(6).toString("hex")}`;
  await exec(base, `create schema ${name}`);
  const sep = base.includes("?") ? "&" : "?";
  return {
    url: `${base}${sep}options=${encodeURIComponent(`-c search_path=${name}`)}`,
    drop: () => exec(base, `drop schema if exists ${name} cascade`),
  };
}
