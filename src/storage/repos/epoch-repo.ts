/**
 * The epochs: counters that triggers bump in the same transaction as a change, whoever makes
 * it (this server, another one, the CLI, plain SQL), so that a cache may trust its entries
 * while the epoch they were read at is current. Each is read once per loop turn
 * (turn-reads.ts). Returned as strings so both engines compare alike.
 */
import { sharedThisTurn } from "../turn-reads.ts";
import { DATA_EPOCH_ID } from "../migrations.ts";
import type { Executor } from "./executor.ts";
import { prepared } from "./prepared.ts";

/** Compiled once (prepared.ts): every authenticated request and every secret read needs one. */
const epochRow = prepared((db, id: number) =>
  db.selectFrom("access_epoch").select("epoch").where("id", "=", id),
);

function epoch(db: Executor, id: number): Promise<string> {
  return sharedThisTurn(db, `epoch-${id}`, async () => String((await epochRow(db, id))[0]?.epoch ?? ""));
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
