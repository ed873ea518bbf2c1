/**
 * The audit log's path index (migrations 0005 and 0010) and time blocks (migration 0008): filled in
 * batches, they answer a query by path or since a time together with the entries appended
 * since their last fill, exactly as a scan of the whole log would, whatever part of the log
 * they cover and wherever the clock went back; fills from two handles at once index each
 * entry once; the migrations index the entries already there and keep every entry.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Kysely } from "kysely";
import { migrateToLatest, migrateUpTo } from "../../../src/storage/migrations.ts";
import {
  indexAuditPaths,
  queryAudit,
  type AuditQuery,
  type AuditRow,
} from "../../../src/storage/repos/audit-repo.ts";
import type { Database } from "../../../src/storage/schema.ts";
import { PATH_INDEX_BATCH } from "../../../src/services/audit/audit-service.ts";
import { Secret } from "../../../src/core/secret.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { createTestVault } from "../../helpers/vault.ts";

const PATHS = ["pay/prod/A", "pay/prod/B", "pay/dev/A", "ops/prod/C"];
const ACTORS = ["identity:app", "cli:root"];
const ACTIONS = ["secret.read", "secret.write"];

/** A minute after the start of 2026 per entry. */
const minutely = (seq: number): string => new Date(Date.UTC(2026, 0, 1) + seq * 60_000).toISOString();

/** As `minutely`, but every 37th entry is stamped three hours early: a clock that went back. */
const clockGoneBack = (seq: number): string => minutely(seq % 37 === 0 ? seq - 180 : seq);

/** Appends `n` entries straight into the log (seq after the head), varied by a seeded walk; some without a path. */
async function appendRows(
  db: Kysely<Database>,
  n: number,
  seed: number,
  timeOf: (seq: number) => string = minutely,
): Promise<void> {
  const head = await db.selectFrom("audit_head").select(["seq", "hash"]).executeTakeFirstOrThrow();
  let x = seed;
  const next = () => (x = (x * 1_103_515_245 + 12_345) % 2_147_483_648);
  const rows: AuditRow[] = [];
  for (let i = 1; i <= n; i++) {
    const seq = head.seq + i;
    rows.push({
      seq,
      id: `aud_${seed}_${seq}`,
      at: timeOf(seq),
      actor: ACTORS[next() % ACTORS.length]!,
      action: ACTIONS[next() % ACTIONS.length]!,
      path: next() % 7 === 0 ? null : PATHS[next() % PATHS.length]!,
      version: 1,
      result: "ok",
      source: "test",
      request_id: `req_${seq}`,
      detail: null,
      prev_hash: "0".repeat(64),
      hash: "f".repeat(64),
    });
  }
  for (let i = 0; i < rows.length; i += 100)
    await db
      .insertInto("audit_log")
      .values(rows.slice(i, i + 100))
      .execute();
  await db
    .updateTable("audit_head")
    .set({ seq: head.seq + n })
    .where("id", "=", 1)
    .execute();
}

/** What a query must return: every entry, filtered here. */
function expected(all: readonly AuditRow[], q: AuditQuery): number[] {
  const hits = all.filter(
    (r) =>
      (q.path === undefined || r.path === q.path) &&
      (q.actor === undefined || r.actor === q.actor) &&
      (q.action === undefined || r.action === q.action) &&
      (q.since === undefined || r.at >= q.since) &&
      (q.afterSeq === undefined || r.seq > q.afterSeq),
  );
  return hits.slice(0, q.limit ?? hits.length).map((r) => r.seq);
}

/**
 * What the path index holds, as [path, seq] in seq order, each block checked to be as the
 * schema says: its path's entries, ascending, from seq_from to seq_to.
 */
async function indexedEntries(db: Kysely<Database>): Promise<[string, number][]> {
  const entries: [string, number][] = [];
  for (const b of await db.selectFrom("audit_path_blocks").selectAll().execute()) {
    const seqs = JSON.parse(b.seqs) as number[];
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
      `block ${b.path}@${b.seq_from} ascending`,
    );
    assert.deepEqual([seqs[0], seqs.at(-1)], [b.seq_from, b.seq_to]);
    for (const seq of seqs) entries.push([b.path, seq]);
  }
  return entries.sort((x, y) => x[1] - y[1]);
}

/** How many paths `rows` name: a fill of them makes as many blocks. */
const pathsNamed = (rows: readonly AuditRow[]): number => new Set(rows.flatMap((r) => r.path ?? [])).size;

async function indexedThrough(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom("audit_path_index_head").select("through").executeTakeFirstOrThrow();
  return row.through;
}

for (const d of DIALECTS) {
  test(`a query by path answers as a scan of the whole log would, with none, part or all of it indexed (${d.name})`, async (t) => {
    const { storage } = await d.create(t);
    const db = storage.db;
    await appendRows(db, 300, 7);
    const all = await queryAudit(db, {});
    assert.equal(all.length, 300);
    const queries: AuditQuery[] = [];
    for (const path of [...PATHS, "pay/prod/NONE"])
      queries.push(
        { path },
        { path, limit: 5 },
        { path, afterSeq: 120, limit: 7 },
        { path, action: "secret.read" },
        { path, actor: "cli:root", since: all[150]!.at },
        { path, afterSeq: 250 },
      );
    // Nothing indexed, then up to the middle, then all: the answers never change.
    for (const upTo of [0, 150, 151, undefined]) {
      if (upTo !== 0) await indexAuditPaths(storage, upTo);
      if (upTo !== undefined && upTo !== 0) assert.equal(await indexedThrough(db), upTo);
      for (const q of queries)
        assert.deepEqual(
          (await queryAudit(db, q)).map((r) => r.seq),
          expected(all, q),
          `${JSON.stringify(q)} with the index up to ${upTo ?? "the head"}`,
        );
    }
    assert.equal(await indexedThrough(db), 300);
    assert.deepEqual(
      await indexedEntries(db),
      all.filter((r) => r.path !== null).map((r) => [r.path, r.seq]),
      "every entry with a path, once",
    );
    // A block per path named in each of the three fills (to 150, to 151, to the head).
    const blocks = await db.selectFrom("audit_path_blocks").select("path").execute();
    assert.equal(
      blocks.length,
      pathsNamed(all.slice(0, 150)) + pathsNamed(all.slice(150, 151)) + pathsNamed(all.slice(151)),
    );
  });

  test(`a query since a time answers as a scan of the whole log would, with none, part or all of it in blocks, the clock gone back in places (${d.name})`, async (t) => {
    const { storage } = await d.create(t);
    const db = storage.db;
    await appendRows(db, 300, 5, clockGoneBack);
    const all = await queryAudit(db, {});
    assert.equal(all.length, 300);
    const times = [
      "2025-12-31T00:00:00.000Z",
      ...[1, 37, 74, 100, 111, 150, 151, 185, 299, 300].map((seq) => all[seq - 1]!.at),
      minutely(150 - 180),
      "2027-01-01T00:00:00.000Z",
    ];
    const queries: AuditQuery[] = [];
    for (const since of times)
      queries.push(
        { since },
        { since, limit: 3 },
        { since, afterSeq: 160 },
        { since, action: "secret.read" },
        { since, path: PATHS[0]! },
      );
    // Nothing in blocks, then part, then all: the answers never change.
    for (const upTo of [0, 100, 150, 151, undefined]) {
      if (upTo !== 0) await indexAuditPaths(storage, upTo);
      for (const q of queries)
        assert.deepEqual(
          (await queryAudit(db, q)).map((r) => r.seq),
          expected(all, q),
          `${JSON.stringify(q)} with blocks up to ${upTo ?? "the head"}`,
        );
    }
    const blocks = await db.selectFrom("audit_time_index").selectAll().orderBy("seq_from").execute();
    assert.deepEqual(
      blocks.map((b) => [b.seq_from, b.seq_to]),
      [
        [1, 100],
        [101, 150],
        [151, 151],
        [152, 300],
      ],
      "one block a fill, covering every entry once",
    );
    for (const b of blocks)
      assert.equal(
        b.max_at,
        all
          .slice(b.seq_from - 1, b.seq_to)
          .map((r) => r.at)
          .sort()
          .at(-1),
      );
  });

  test(`fills from two handles at once index each entry once; a fill stops at the log's head (${d.name})`, async (t) => {
    const created = await d.create(t);
    const storage = created.storage;
    const other = await created.peer();
    await appendRows(storage.db, 200, 11);
    const reached = await Promise.all([
      indexAuditPaths(storage),
      indexAuditPaths(other),
      indexAuditPaths(storage),
    ]);
    assert.deepEqual(reached, [200, 200, 200]);
    const withPath = (await queryAudit(storage.db, {})).filter((r) => r.path !== null);
    assert.deepEqual(
      await indexedEntries(storage.db),
      withPath.map((r) => [r.path, r.seq]),
    );
    assert.equal(await indexAuditPaths(storage), 200, "nothing new: the head stays");
  });

  test(`the migrations index the entries already in the log and keep every one of them (${d.name})`, async (t) => {
    const { storage } = await d.create(t, { migrate: false });
    await migrateUpTo(storage.db, storage.caps, "0004_data_epoch");
    // More than one block of 4,096: 0008 and 0010 each cut what 0005 indexed into two.
    const n = 4096 + 120;
    await appendRows(storage.db, n, 3, clockGoneBack);
    const before = await storage.db.selectFrom("audit_log").selectAll().orderBy("seq").execute();
    await migrateToLatest(storage.db, storage.caps);
    assert.equal(await indexedThrough(storage.db), n);
    const all = await queryAudit(storage.db, {});
    // Migration 0008 rebuilt the log: every entry, every column, as it was.
    assert.deepEqual(all, before);
    const blocks = await storage.db.selectFrom("audit_time_index").selectAll().orderBy("seq_from").execute();
    const latest = (from: number, to: number) =>
      all
        .slice(from - 1, to)
        .map((r) => r.at)
        .sort()
        .at(-1);
    assert.deepEqual(
      blocks.map((b) => [b.seq_from, b.seq_to, b.max_at]),
      [
        [1, 4096, latest(1, 4096)],
        [4097, n, latest(4097, n)],
      ],
    );
    for (const seq of [1, 37, 60, 111, 4096, 4097, 4100, n]) {
      const q = { since: all[seq - 1]!.at };
      assert.deepEqual(
        (await queryAudit(storage.db, q)).map((r) => r.seq),
        expected(all, q),
      );
    }
    for (const path of PATHS)
      for (const q of [{ path }, { path, limit: 10, afterSeq: 4000 }, { path, since: all[4200]!.at }])
        assert.deepEqual(
          (await queryAudit(storage.db, q)).map((r) => r.seq),
          expected(all, q),
        );
    assert.deepEqual(
      await indexedEntries(storage.db),
      all.filter((r) => r.path !== null).map((r) => [r.path, r.seq]),
    );
    // A block a path on each side of where the first 4,096 entries end.
    const pathBlocks = await storage.db.selectFrom("audit_path_blocks").select(["path", "seq_to"]).execute();
    assert.equal(pathBlocks.filter((b) => b.seq_to <= 4096).length, pathsNamed(all.slice(0, 4096)));
    assert.equal(pathBlocks.length, pathsNamed(all.slice(0, 4096)) + pathsNamed(all.slice(4096)));
  });

  test(`audited reads fill the index once a batch is waiting, and a command fills the rest as it closes (${d.name})`, async (t) => {
    const v = await createTestVault(t, d);
    await v.kw.vault.set(v.ctx, "pay/prod/KEY", new Secret("index me"));
    const reads = PATH_INDEX_BATCH + 40;
    for (let i = 0; i < reads; i += 200)
      await Promise.all(
        Array.from({ length: Math.min(200, reads - i) }, () => v.kw.vault.get(v.ctx, "pay/prod/KEY")),
      );
    // The fill a batch started, joined.
    const filled = await v.kw.audit.indexPaths();
    assert.ok(filled >= PATH_INDEX_BATCH, `indexed through ${filled}`);
    assert.equal((await v.kw.audit.query({ path: "pay/prod/KEY", action: "secret.read" })).length, reads);
    // Another handle's entries, then that handle closes: the index reaches the log's head.
    const other = await v.reopen();
    await other.audit.record(v.ctx, { action: "test.note", path: "pay/prod/KEY", result: "ok" });
    const head = (await other.audit.query({})).at(-1)!.seq;
    assert.ok(head > filled);
    await other.close();
    assert.equal(await indexedThrough(v.kw.storage.db), head);
  });
}
