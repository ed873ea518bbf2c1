/**
 * Rows of `vault_meta`: vault-wide keys (the fingerprint key, the audit checkpoint key),
 * each stored wrapped by the KEK.
 */
import type { Selectable } from "kysely";
import type { VaultMetaTable } from "../schema.ts";
import { toBytes, type Executor } from "./executor.ts";

export type VaultMetaRow = Selectable<VaultMetaTable>;

/** @example const row = await findMeta(db, "fingerprint-key"); */
export async function findMeta(db: Executor, name: string): Promise<VaultMetaRow | undefined> {
  const row = await db.selectFrom("vault_meta").selectAll().where("name", "=", name).executeTakeFirst();
  return row === undefined ? undefined : { ...row, wrapped: toBytes(row.wrapped) };
}

/**
 * Inserts unless a row of that name exists (another process won the race); true when
 * this call created it.
 *
 * @example
 *   if (!(await insertMetaIfAbsent(db, row))) row = await findMeta(db, row.name);
 */
export async function insertMetaIfAbsent(db: Executor, row: VaultMetaRow): Promise<boolean> {
  const r = await db
    .insertInto("vault_meta")
    .values(row)
    .onConflict((oc) => oc.column("name").doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** Every meta row (for re-wrapping under a new KEK version). */
export async function listMeta(db: Executor): Promise<VaultMetaRow[]> {
  return (await db.selectFrom("vault_meta").selectAll().orderBy("name").execute()).map((r) => ({
    ...r,
    wrapped: toBytes(r.wrapped),
  }));
}

/**
 * Replaces a meta key's wrapping, only if it is still wrapped by `fromKekVersion`.
 *
 * @example
 *   await rewrapMeta(trx, "fingerprint-key", 1, { kek_version: 2, wrapped });
 */
export async function rewrapMeta(
  db: Executor,
  name: string,
  fromKekVersion: number,
  to: { readonly kek_version: number; readonly wrapped: Uint8Array },
): Promise<boolean> {
  const r = await db
    .updateTable("vault_meta")
    .set({ kek_version: to.kek_version, wrapped: to.wrapped })
    .where("name", "=", name)
    .where("kek_version", "=", fromKekVersion)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * How many meta keys each KEK version wraps.
 *
 * @example
 *   await countMetaByKekVersion(db) // Map { 1 => 2 }
 */
export async function countMetaByKekVersion(db: Executor): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom("vault_meta")
    .select(["kek_version", db.fn.countAll<string | number>().as("n")])
    .groupBy("kek_version")
    .execute();
  return new Map(rows.map((r) => [r.kek_version, Number(r.n)]));
}
