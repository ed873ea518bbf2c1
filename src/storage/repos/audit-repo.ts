/**
 * Rows of `audit_log` and `audit_head`. Appends are serialised by updating the head row
 * first in the appending transaction: PostgreSQL locks that row until commit, SQLite holds
 * its write lock, so two appenders never chain onto the same head.
 */
import { sql, type Selectable } from "kysely";
import type { AuditLogTable } from "../schema.ts";
import type { Executor } from "./executor.ts";

export type AuditRow = Selectable<AuditLogTable>;

/**
 * Claims the next sequence number; returns it with the previous head hash. Call inside the
 * transaction that inserts the entry, then `setAuditHead`.
 *
 * @example
 *   const { seq, prevHash } = await claimAuditSeq(trx);
 */
export async function claimAuditSeq(db: Executor): Promise<{ seq: number; prevHash: string }> {
  const row = await db
    .updateTable("audit_head")
    .set({ seq: sql<number>`seq + 1` })
    .where("id", "=", 1)
    .returning(["seq", "hash"])
    .executeTakeFirstOrThrow();
  return { seq: row.seq, prevHash: row.hash };
}

/**
 * Claims `count` consecutive sequence numbers at once (a group commit); returns the first
 * and the head hash before them. Same locking as `claimAuditSeq`.
 *
 * @example
 *   const { first, prevHash } = await claimAuditSeqs(trx, entries.length);
 */
export async function claimAuditSeqs(
  db: Executor,
  count: number,
): Promise<{ first: number; prevHash: string }> {
  const row = await db
    .updateTable("audit_head")
    .set({ seq: sql<number>`seq + ${count}` })
    .where("id", "=", 1)
    .returning(["seq", "hash"])
    .executeTakeFirstOrThrow();
  return { first: row.seq - count + 1, prevHash: row.hash };
}

/**
 * Inserts entries in multi-row statements (chunked under every engine's parameter limit).
 *
 * @example
 *   await insertAuditRows(trx, rows); await setAuditHead(trx, rows.at(-1)!.hash);
 */
export async function insertAuditRows(db: Executor, rows: readonly AuditRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto("audit_log")
      .values(rows.slice(i, i + 500))
      .execute();
  }
}

/** @example await insertAuditRow(trx, row); await setAuditHead(trx, row.hash); */
export async function insertAuditRow(db: Executor, row: AuditRow): Promise<void> {
  await db.insertInto("audit_log").values(row).execute();
}

/** @example await setAuditHead(trx, entryHash); */
export async function setAuditHead(db: Executor, hash: string): Promise<void> {
  await db.updateTable("audit_head").set({ hash }).where("id", "=", 1).execute();
}

/** The head as recorded in the database. */
export async function readAuditHead(db: Executor): Promise<{ seq: number; hash: string }> {
  return db.selectFrom("audit_head").select(["seq", "hash"]).where("id", "=", 1).executeTakeFirstOrThrow();
}

/**
 * The newest successful entry whose action is one of `actions` (a journal kept in the log,
 * such as `kek.rotate.start` / `kek.rotate.finish`), or undefined.
 *
 * @example
 *   const last = await findLastAudit(db, ["kek.rotate.start", "kek.rotate.finish"]);
 */
export async function findLastAudit(db: Executor, actions: readonly string[]): Promise<AuditRow | undefined> {
  return db
    .selectFrom("audit_log")
    .selectAll()
    .where("action", "in", [...actions])
    .where("result", "=", "ok")
    .orderBy("seq", "desc")
    .limit(1)
    .executeTakeFirst();
}

export interface AuditQuery {
  readonly path?: string | undefined;
  readonly actor?: string | undefined;
  readonly action?: string | undefined;
  /** ISO time; entries at or after it. */
  readonly since?: string | undefined;
  /** Entries with seq above this (for paging). */
  readonly afterSeq?: number | undefined;
  readonly limit?: number | undefined;
}

/**
 * Entries matching every given filter, in chain order.
 *
 * @example
 *   await queryAudit(db, { path: "payments/prod/STRIPE_KEY", since: "2025-01-01T00:00:00.000Z" });
 */
export async function queryAudit(db: Executor, q: AuditQuery): Promise<AuditRow[]> {
  let b = db.selectFrom("audit_log").selectAll();
  if (q.path !== undefined) b = b.where("path", "=", q.path);
  if (q.actor !== undefined) b = b.where("actor", "=", q.actor);
  if (q.action !== undefined) b = b.where("action", "=", q.action);
  if (q.since !== undefined) b = b.where("at", ">=", q.since);
  if (q.afterSeq !== undefined) b = b.where("seq", ">", q.afterSeq);
  b = b.orderBy("seq");
  if (q.limit !== undefined) b = b.limit(q.limit);
  return b.execute();
}

/**
 * PostgreSQL only: inserts `rows`, sets the head hash and (optionally) `last_read_at` of the
 * secrets read, in ONE statement (data-modifying CTEs), so that a group commit costs one
 * round trip here instead of three. At most 500 rows and 500 secret ids (parameter limit).
 *
 * @example
 *   await insertAuditRowsSetHeadPg(trx, rows, rows.at(-1)!.hash, { ids: [secretId], at });
 */
export async function insertAuditRowsSetHeadPg(
  db: Executor,
  rows: readonly AuditRow[],
  hash: string,
  touch?: { readonly ids: readonly string[]; readonly at: string },
): Promise<void> {
  if (rows.length === 0 || rows.length > 500 || (touch?.ids.length ?? 0) > 500)
    throw new RangeError("insertAuditRowsSetHeadPg takes 1-500 rows and at most 500 secret ids");
  const ids = [...new Set(touch?.ids ?? [])];
  const withInsert = db.with("ins", (c) =>
    c
      .insertInto("audit_log")
      .values([...rows])
      .returning("seq"),
  );
  if (touch === undefined || ids.length === 0) {
    await withInsert.updateTable("audit_head").set({ hash }).where("id", "=", 1).execute();
    return;
  }
  await withInsert
    .with("touched", (c) =>
      c.updateTable("secrets").set({ last_read_at: touch.at }).where("id", "in", ids).returning("id"),
    )
    .updateTable("audit_head")
    .set({ hash })
    .where("id", "=", 1)
    .execute();
}
