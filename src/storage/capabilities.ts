/**
 * What differs between the databases Keywarden runs on, as capabilities. Code outside this
 * folder's dialect files asks a capability, never which database it is talking to.
 */
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

export interface StorageCapabilities {
  /** For display only (`keywarden migrate`, errors): "sqlite" or "postgres". */
  readonly engine: string;
  /** Column type of byte strings. */
  readonly bytesType: "blob" | "bytea";
  /** The schema Kysely's migration tables live in, when the database has schemas. */
  readonly schema: string | undefined;
  /** SQL expression giving the server's version. */
  readonly versionFunction: string;
  /** SQL aggregate of an integer column: its values, ascending, as the text of a JSON array. */
  ascendingJsonArray(column: string): string;
  /**
   * Makes deleted rows' bytes unreadable on disk (SQLite: secure_delete is on, then the WAL
   * is checkpointed and truncated; PostgreSQL: VACUUM of the tables named). Run after a
   * destroy, outside any transaction.
   */
  scrub(db: Kysely<Database>, tables: readonly string[]): Promise<void>;
  /**
   * Creates triggers named after `name` that run `statement` (one SQL statement) after each
   * of `events` on `table`, in the changing transaction (once per statement where the
   * database can, else once per row).
   */
  createTriggers(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run against the schema as it was.
    db: Kysely<any>,
    name: string,
    table: string,
    events: readonly TriggerEvent[],
    statement: string,
  ): Promise<void>;
}

/** `update of a, b` fires only when the UPDATE sets one of those columns (both engines). */
export type TriggerEvent = "insert" | "update" | "delete" | `update of ${string}`;
