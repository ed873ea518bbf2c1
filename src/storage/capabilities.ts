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
  /**
   * Makes deleted rows' bytes unreadable on disk (SQLite: secure_delete is on, then the WAL
   * is checkpointed and truncated; PostgreSQL: VACUUM of the tables named). Run after a
   * destroy, outside any transaction.
   */
  scrub(db: Kysely<Database>, tables: readonly string[]): Promise<void>;
}
