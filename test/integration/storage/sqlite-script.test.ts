import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test, type TestContext } from "node:test";
import { sql } from "kysely";
import { openStorage, type Storage } from "../../../src/storage/database.ts";
import { executeScript, ScriptThread, type SqliteScript } from "../../../src/storage/sqlite-script.ts";
import { writesSoFar } from "../../../src/storage/turn-reads.ts";
import { storageUnavailable } from "../../../src/storage/unavailable.ts";
import { tempDir } from "../../helpers/tmp.ts";

const CREATE = "create table t (k text primary key, v integer not null)";

/** Sets k's value to `to` only where it is `from`, then inserts the `extra` keys. */
function casScript(from: number, to: number, extra: readonly string[]): SqliteScript {
  return {
    guarded: true,
    steps: [
      { sql: "update t set v = ? where k = 'head' and v = ?", rows: [[to, from]] },
      { sql: "insert into t (k, v) values (?, ?)", rows: extra.map((k) => [k, to]) },
    ],
  };
}

function rows(db: DatabaseSync): Record<string, number> {
  return Object.fromEntries(
    db
      .prepare("select k, v from t order by k")
      .all()
      .map((r) => [r.k as string, r.v as number]),
  );
}

test("a script commits all its steps, or none when its guard or a statement fails", () => {
  const db = new DatabaseSync(":memory:");
  db.exec(CREATE);
  db.exec("insert into t values ('head', 1)");
  assert.equal(executeScript(db, casScript(1, 2, ["a", "b"])), true);
  assert.deepEqual(rows(db), { a: 2, b: 2, head: 2 });
  assert.equal(executeScript(db, casScript(1, 3, ["c"])), false, "the head is no longer 1");
  assert.deepEqual(rows(db), { a: 2, b: 2, head: 2 }, "nothing of it was written");
  // "a" exists: the second insert fails after the head moved and "d" went in.
  assert.throws(() => executeScript(db, casScript(2, 3, ["d", "a"])), /UNIQUE constraint failed/);
  assert.deepEqual(rows(db), { a: 2, b: 2, head: 2 }, "rolled back");
  assert.equal(db.isTransaction, false);
  assert.equal(executeScript(db, casScript(2, 3, ["d"])), true, "the connection is usable after a failure");
  assert.deepEqual(rows(db), { a: 2, b: 2, d: 3, head: 3 });
});

async function fileStorage(t: TestContext, writerThread: boolean): Promise<Storage> {
  const home = tempDir(t);
  const storage = await openStorage({ url: "", home, writerThread });
  t.after(() => storage.close());
  await sql.raw(CREATE).execute(storage.db);
  await sql`insert into t values ('head', 1)`.execute(storage.db);
  return storage;
}

async function values(storage: Storage): Promise<Record<string, number>> {
  const r = await sql<{ k: string; v: number }>`select k, v from t order by k`.execute(storage.db);
  return Object.fromEntries(r.rows.map((x) => [x.k, x.v]));
}

for (const writerThread of [false, true])
  test(`storage scripts (${writerThread ? "on the writer thread" : "on the event loop"}): all or nothing, seen at once, counted as writes`, async (t) => {
    const storage = await fileStorage(t, writerThread);
    const run = storage.runScript!;
    const before = writesSoFar();
    assert.equal(await run(casScript(1, 2, ["a"])), true);
    assert.ok(writesSoFar() > before, "turn-shared reads are dropped after a script");
    assert.deepEqual(await values(storage), { a: 2, head: 2 }, "read back through Kysely's connections");
    assert.equal(await run(casScript(1, 9, ["b"])), false);
    await assert.rejects(run(casScript(2, 3, ["c", "a"])), /UNIQUE constraint failed/);
    assert.deepEqual(await values(storage), { a: 2, head: 2 });
    // Many at once: each waits for the one before it (the writer mutex), none is lost.
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => run(casScript(2 + i, 3 + i, [`k${i}`]))),
    );
    assert.deepEqual(new Set(results), new Set([true]));
    assert.equal((await values(storage)).head, 22);
  });

test("a script sent while this process holds a transaction runs after it, chained onto its commit", async (t) => {
  const storage = await fileStorage(t, true);
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const trx = storage.db.transaction().execute(async (tx) => {
    await sql`update t set v = 5 where k = 'head'`.execute(tx);
    await held;
  });
  // Let the transaction take the writer first.
  await new Promise((resolve) => setTimeout(resolve, 20));
  let settled = false;
  const script = storage.runScript!(casScript(5, 6, ["after"])).finally(() => {
    settled = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(settled, false, "queued behind the transaction");
  release();
  await trx;
  assert.equal(await script, true, "and then chained onto what it committed");
  assert.deepEqual(await values(storage), { after: 6, head: 6 });
});

test("a writer thread that cannot open its database rejects its scripts with the reason", async (t) => {
  const thread = new ScriptThread({
    file: join(tempDir(t), "missing", "keywarden.db"),
    timeoutMs: 100,
    walAutocheckpointPages: 1000,
    syncWal: true,
  });
  t.after(() => thread.close());
  await assert.rejects(thread.run(casScript(1, 2, [])), /unable to open database file/);
  assert.equal(thread.alive, false);
  await assert.rejects(thread.run(casScript(1, 2, [])), /writer thread is not running/);
});

test("a writer thread's busy database is recognisable as unavailable, and the thread goes on", async (t) => {
  const file = join(tempDir(t), "keywarden.db");
  const holder = new DatabaseSync(file);
  t.after(() => {
    holder.close();
  });
  holder.exec(`pragma journal_mode = wal; ${CREATE}; insert into t values ('head', 1)`);
  const thread = new ScriptThread({ file, timeoutMs: 50, walAutocheckpointPages: 1000, syncWal: false });
  t.after(() => thread.close());
  holder.exec("begin immediate");
  const busy = await thread.run(casScript(1, 2, ["a"])).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(busy instanceof Error, "refused while another connection writes");
  assert.match(busy.message, /database is locked/);
  assert.equal(storageUnavailable(busy), "SQLite busy", "SQLite's result code crossed the thread");
  holder.exec("rollback");
  assert.equal(thread.alive, true);
  assert.equal(await thread.run(casScript(1, 2, ["a"])), true, "the next script runs");
});

test("a script the writer thread holds when the thread stops is rejected, not left waiting", async (t) => {
  const thread = new ScriptThread({
    file: join(tempDir(t), "keywarden.db"),
    timeoutMs: 100,
    walAutocheckpointPages: 1000,
    syncWal: false,
  });
  // Long enough (millions of rows) to still be running when the thread is told to stop.
  const count =
    "with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) from c";
  const slow = thread.run({ guarded: false, steps: [{ sql: count, rows: [[]] }] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  await thread.close();
  await assert.rejects(slow, /writer thread exited/);
  assert.equal(thread.alive, false);
  await assert.rejects(thread.run({ guarded: false, steps: [] }), /not running/);
});
