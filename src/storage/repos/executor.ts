import type { Kysely, Transaction } from "kysely";
import type { Database } from "../schema.ts";

/** A database handle or an open transaction: repos take either. */
export type Executor = Kysely<Database> | Transaction<Database>;

/** Normalises a byte column: pg gives Buffer, node:sqlite Uint8Array. */
export function toBytes(v: Uint8Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
