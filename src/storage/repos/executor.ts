import { PostgresAdapter, type Kysely, type Transaction } from "kysely";
import type { Database } from "../schema.ts";

/** A database handle or an open transaction: repos take either. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Normalises a byte column: pg gives Buffer, node:sqlite Uint8Array. */
export function toBytes(v: Uint8Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * Whether `db` talks to PostgreSQL: for the few statements written per engine in this
 * folder (JSON row sets: `json_each` on SQLite, `jsonb_to_recordset` on PostgreSQL).
 *
 * @example
 *   const rows = onPostgres(db) ? sql`...jsonb...` : sql`...json_each...`;
 */
export function onPostgres(db: Executor): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
