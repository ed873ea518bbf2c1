/**
 * The epochs: counters that triggers bump in the same transaction as a change, whoever makes
 * it (this server, another one, the CLI, plain SQL), so that a cache may trust its entries
 * while the epoch they were read at is current. Both are read in one shared read
 * (turn-reads.ts). Returned as strings so both engines compare alike.
 */
import { sharedRead } from "../turn-reads.ts";
import { DATA_EPOCH_ID } from "../migrations.ts";
import type { Executor } from "./executor.ts";
import { prepared } from "./prepared.ts";

/**
 * Both epochs in one statement (compiled once, prepared.ts): every authenticated request
 * needs the access epoch and every secret read the data epoch, so one read per turn serves
 * both (one round trip on PostgreSQL, one statement on SQLite).
 */
const epochRows = prepared((db) => db.selectFrom("access_epoch").select(["id", "epoch"]));

async function epoch(db: Executor, id: number): Promise<string> {
  const rows = await sharedRead(db, "epochs", () => epochRows(db));
  return String(rows.find((r) => r.id === id)?.epoch ?? "");
}

/**
 * The access epoch (migration 0003): it changes whenever a token, identity, policy or role
 * changes.
 *
 * @example
 *   if ((await accessEpoch(db)) !== cached.epoch) reauthenticate();
 */
export function accessEpoch(db: Executor): Promise<string> {
  return epoch(db, 1);
}

/**
 * The data epoch (migration 0004): it changes whenever a secret (but its last_read_at), a
 * version or a data key changes.
 *
 * @example
 *   if ((await dataEpoch(db)) !== cached.epoch) reread();
 */
export function dataEpoch(db: Executor): Promise<string> {
  return epoch(db, DATA_EPOCH_ID);
}
