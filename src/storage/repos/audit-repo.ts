/**
 * Rows of `audit_log` and `audit_head`. Appends are serialised by updating the head row
 * first in the appending transaction: PostgreSQL locks that row until commit, SQLite holds
 * its write lock, so two appenders never chain onto the same head.
 */
import { CompiledQuery, sql, type Selectable, type SelectQueryBuilder } from "kysely";
import type { AuditLogTable, Database } from "../schema.ts";
import { runHot } from "./prepared.ts";
import { TOUCH_SQLITE } from "./secret-repo.ts";
import { onPostgres, type Executor } from "./executor.ts";
import type { Storage } from "../database.ts";
import type { StorageCapabilities } from "../capabilities.ts";

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

/** The columns of `audit_log`, in the order of the JSON row sets below. */
const COLUMN_LIST =
  "seq, id, at, actor, action, path, version, result, source, request_id, detail, prev_hash, hash";
const COLUMNS = sql.raw(COLUMN_LIST);

/**
 * `rows` as a row set from one JSON parameter (PostgreSQL): the statement text is the same
 * for any number of rows, so it is planned once, and no query is built per group.
 */
function jsonRowsPg(rows: readonly AuditRow[]) {
  return sql`select ${COLUMNS} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(seq integer,
    id text, at text, actor text, action text, path text, version integer, result text, source text,
    request_id text, detail text, prev_hash text, hash text)`;
}

const INSERT_ONE_SQLITE = `insert into audit_log (${COLUMN_LIST}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const HEAD_CAS_SQLITE = "update audit_head set seq = ?, hash = ? where id = 1 and seq = ? and hash = ?";

/** A row's values in the order of COLUMN_LIST. */
function auditParams(r: AuditRow): (string | number | null)[] {
  return [
    r.seq,
    r.id,
    r.at,
    r.actor,
    r.action,
    r.path,
    r.version,
    r.result,
    r.source,
    r.request_id,
    r.detail,
    r.prev_hash,
    r.hash,
  ];
}

/**
 * Inserts entries: on PostgreSQL in one statement whatever their number; on SQLite one
 * cached single-row statement per entry (measured faster there than one multi-row or JSON
 * statement, and with no statement text built per group).
 *
 * @example
 *   await insertAuditRows(trx, rows); await setAuditHead(trx, rows.at(-1)!.hash);
 */
export async function insertAuditRows(db: Executor, rows: readonly AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (onPostgres(db)) {
    await sql`insert into audit_log (${COLUMNS}) ${jsonRowsPg(rows)}`.execute(db);
    return;
  }
  for (const r of rows) await db.executeQuery(CompiledQuery.raw(INSERT_ONE_SQLITE, auditParams(r)));
}

/**
 * Appends a group chained onto `expected`, the head this process last wrote, if the head
 * is still that: the head update is a compare-and-set and the inserts and `last_read_at`
 * updates happen only when it succeeded. Returns false, having changed nothing, when
 * another writer moved the head meanwhile; the caller then appends the locked way (claim,
 * insert, set head). On PostgreSQL this is ONE statement and one round trip with no
 * transaction around it; on SQLite one script (sqlite-script.ts: on a server, it commits on
 * the writer thread).
 *
 * @example
 *   if (!(await appendAuditGroup(storage, head, rows, touch))) await lockedAppend();
 */
export async function appendAuditGroup(
  storage: Pick<Storage, "db" | "runScript">,
  expected: { readonly seq: number; readonly hash: string },
  rows: readonly AuditRow[],
  touch: { readonly ids: readonly string[]; readonly at: string },
): Promise<boolean> {
  const db = storage.db;
  const last = rows.at(-1);
  if (last === undefined) return true;
  const ids = JSON.stringify([...new Set(touch.ids)]);
  if (!onPostgres(db)) {
    if (storage.runScript === undefined) throw new Error("an SQLite storage without runScript");
    return storage.runScript({
      guarded: true,
      steps: [
        { sql: HEAD_CAS_SQLITE, rows: [[last.seq, last.hash, expected.seq, expected.hash]] },
        { sql: INSERT_ONE_SQLITE, rows: rows.map(auditParams) },
        { sql: TOUCH_SQLITE, rows: [[touch.at, ids]] },
      ],
    });
  }
  const q = sql<{ n: number }>`
    with head as (
      update audit_head set seq = ${last.seq}, hash = ${last.hash}
      where id = 1 and seq = ${expected.seq} and hash = ${expected.hash} returning 1
    ), ins as (
      insert into audit_log (${COLUMNS}) select * from (${jsonRowsPg(rows)}) r where exists (select 1 from head)
    ), touched as (
      update secrets set last_read_at = ${touch.at}
      where id in (select jsonb_array_elements_text(${ids}::jsonb)) and exists (select 1 from head)
    )
    select count(*)::int as n from head`.compile(db);
  // The same text for every group: a named statement, planned once per connection.
  const [row] = await runHot<{ n: number }>(db, q.sql, q.parameters);
  return row?.n === 1;
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

/** The path index's head: every entry up to it is in `audit_path_blocks`. */
function pathIndexHead(db: Executor) {
  return db.selectFrom("audit_path_index_head").select("through").where("id", "=", 1);
}

/**
 * Where entries at or after `since` can start: the first block of the time index whose
 * latest time reaches it (every entry before that block is older), else the first entry no
 * block holds yet. Blocks cover every entry up to the path index's head (filled in its
 * transaction), so nothing at or after `since` is skipped, even where the clock went back.
 */
function sinceStart(since: string) {
  return sql<number>`coalesce(
    (select min(seq_from) from audit_time_index where max_at >= ${since}),
    (select through + 1 from audit_path_index_head where id = 1))`;
}

/**
 * Entries matching every given filter, in chain order. By path: the entries the path index
 * holds (up to its head) and, after them, those appended since, read from the log itself.
 *
 * @example
 *   await queryAudit(db, { path: "payments/prod/STRIPE_KEY", since: "2025-01-01T00:00:00.000Z" });
 */
export async function queryAudit(db: Executor, q: AuditQuery): Promise<AuditRow[]> {
  const filtered = <B extends SelectQueryBuilder<Database, "audit_log", AuditRow>>(b: B): B => {
    let f = b;
    if (q.actor !== undefined) f = f.where("audit_log.actor", "=", q.actor) as B;
    if (q.action !== undefined) f = f.where("audit_log.action", "=", q.action) as B;
    if (q.since !== undefined)
      f = f
        .where(sql<boolean>`audit_log.seq >= ${sinceStart(q.since)}`)
        .where("audit_log.at", ">=", q.since) as B;
    if (q.afterSeq !== undefined) f = f.where("audit_log.seq", ">", q.afterSeq) as B;
    return f;
  };
  const limited = <B extends SelectQueryBuilder<Database, "audit_log", AuditRow>>(b: B): B =>
    (q.limit === undefined ? b : b.limit(q.limit)) as B;
  if (q.path === undefined)
    return limited(filtered(db.selectFrom("audit_log").selectAll()).orderBy("seq")).execute();
  const through = pathIndexHead(db);
  // One statement, so both parts read one state of the index and its head. Each part
  // is in seq order with the limit, then they are merged: neither reads past what is asked.
  // The path's blocks come in seq_from order and hold their seqs ascending, so the entries
  // come in seq order and a limit stops the expansion early (PostgreSQL's incremental sort,
  // SQLite's sort of the last ORDER BY term alone).
  const pg = onPostgres(db);
  const seqs = pg
    ? sql`json_array_elements_text(b.seqs::json) with ordinality`.as("s")
    : sql`json_each(b.seqs)`.as("s");
  let blocks = db
    .selectFrom(["audit_path_blocks as b", seqs])
    .innerJoin("audit_log", (j) =>
      j.on(sql<boolean>`audit_log.seq = ${pg ? sql`s.value::integer` : sql`s.value`}`),
    )
    .selectAll("audit_log")
    .where("b.path", "=", q.path);
  // Blocks wholly before what is asked are not opened.
  if (q.afterSeq !== undefined) blocks = blocks.where("b.seq_to", ">", q.afterSeq);
  if (q.since !== undefined) blocks = blocks.where(sql<boolean>`b.seq_to >= ${sinceStart(q.since)}`);
  const indexed = limited(
    filtered(blocks as unknown as SelectQueryBuilder<Database, "audit_log", AuditRow>)
      .orderBy(sql`b.seq_from`)
      .orderBy(pg ? sql`s.ordinality` : sql`s.key`),
  );
  const recent = limited(
    filtered(
      db.selectFrom("audit_log").selectAll().where("path", "=", q.path).where("seq", ">", through),
    ).orderBy("seq"),
  );
  const merged = db
    .selectFrom(indexed.as("indexed"))
    .selectAll()
    .unionAll(db.selectFrom(recent.as("recent")).selectAll())
    .orderBy("seq");
  return (q.limit === undefined ? merged : merged.limit(q.limit)).execute();
}

/** Entries indexed by one call of `indexAuditPaths` at most (bounds the transaction). */
export const PATH_INDEX_MAX_BATCH = 50_000;

const PATH_HEAD_CAS = "update audit_path_index_head set through = ? where id = 1 and through = ?";
/** A block per path named in the stretch: its entries there, ascending, as a JSON array. */
function pathBlockFill(caps: StorageCapabilities): string {
  return `insert into audit_path_blocks (path, seq_from, seq_to, seqs) select path, min(seq), max(seq), ${caps.ascendingJsonArray("seq")} from audit_log where seq > ? and seq <= ? and path is not null group by path`;
}
/** The stretch a fill indexes, as one block of the time index (migration 0008). */
const TIME_BLOCK_FILL =
  "insert into audit_time_index (seq_from, seq_to, max_at) select min(seq), max(seq), max(at) from audit_log where seq > ? and seq <= ? having count(*) > 0";

/**
 * Moves the path index's head up to `upTo` (the log's head when absent), at most
 * PATH_INDEX_MAX_BATCH entries at a time; returns the head it reached. Safe from any
 * number of processes at once: the head moves by compare-and-set in the transaction that
 * fills the index, so only one of them fills a stretch. On SQLite it is a script (on a
 * server's writer thread); on PostgreSQL one statement.
 *
 * @example
 *   await indexAuditPaths(storage); // after appends, now and then
 */
export async function indexAuditPaths(
  storage: Pick<Storage, "db" | "runScript" | "caps">,
  upTo?: number,
): Promise<number> {
  const db = storage.db;
  for (;;) {
    // Every entry up to the log's head is committed: the head moves in the appending transaction.
    const [head, index] = await Promise.all([
      upTo ?? readAuditHead(db).then((h) => h.seq),
      pathIndexHead(db).executeTakeFirstOrThrow(),
    ]);
    const from = index.through;
    if (from >= head) return from;
    const to = Math.min(head, from + PATH_INDEX_MAX_BATCH);
    if (!onPostgres(db)) {
      if (storage.runScript === undefined) throw new Error("an SQLite storage without runScript");
      await storage.runScript({
        guarded: true,
        steps: [
          { sql: PATH_HEAD_CAS, rows: [[to, from]] },
          { sql: pathBlockFill(storage.caps), rows: [[from, to]] },
          { sql: TIME_BLOCK_FILL, rows: [[from, to]] },
        ],
      });
    } else {
      const fill = sql`
        with head as (
          update audit_path_index_head set through = ${to} where id = 1 and through = ${from} returning 1
        ), paths as (
          insert into audit_path_blocks (path, seq_from, seq_to, seqs)
          select path, min(seq), max(seq), ${sql.raw(storage.caps.ascendingJsonArray("seq"))} from audit_log
          where seq > ${from} and seq <= ${to} and path is not null and exists (select 1 from head)
          group by path
        )
        insert into audit_time_index (seq_from, seq_to, max_at)
        select min(seq), max(seq), max(at) from audit_log
        where seq > ${from} and seq <= ${to} and exists (select 1 from head)
        having count(*) > 0`.compile(db);
      await runHot(db, fill.sql, fill.parameters);
    }
    // Whoever won the compare-and-set filled that stretch; go on from where the head is now.
  }
}
