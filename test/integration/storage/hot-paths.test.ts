import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sql } from "kysely";
import { prepared } from "../../../src/storage/repos/prepared.ts";
import { DIALECTS } from "../../helpers/storage.ts";

const byActor = prepared((db, actor: string, action: string) =>
  db
    .selectFrom("audit_log")
    .select(["seq", "actor"])
    .where("actor", "=", actor)
    .where("action", "=", action)
    .orderBy("seq"),
);

function row(seq: number, actor: string) {
  return {
    seq,
    id: `aud_${seq}`,
    at: "2025-01-01T00:00:00.000Z",
    actor,
    action: "secret.read",
    path: null,
    version: null,
    result: "ok",
    source: "test",
    request_id: "r",
    detail: null,
    prev_hash: "0".repeat(64),
    hash: String(seq).padStart(64, "0"),
  };
}

for (const d of DIALECTS) {
  describe(`hot read paths on ${d.name}`, () => {
    test("a prepared query is compiled once and runs with each call's own values", async (t) => {
      const { storage } = await d.create(t);
      await storage.db
        .insertInto("audit_log")
        .values([row(1, "alice"), row(2, "bob"), row(3, "alice")])
        .execute();
      assert.deepEqual(await byActor(storage.db, "alice", "secret.read"), [
        { seq: 1, actor: "alice" },
        { seq: 3, actor: "alice" },
      ]);
      assert.deepEqual(await byActor(storage.db, "bob", "secret.read"), [{ seq: 2, actor: "bob" }]);
      assert.deepEqual(await byActor(storage.db, "bob", "secret.write"), []);
      // Inside a transaction too (same dialect, same compiled text).
      const inTrx = await storage.db.transaction().execute((trx) => byActor(trx, "alice", "secret.read"));
      assert.equal(inTrx.length, 2);
    });

    if (d.name === "postgres")
      test("outside a transaction a prepared query is a named statement, planned once per connection", async (t) => {
        const { storage } = await d.create(t);
        await storage.db
          .insertInto("audit_log")
          .values([row(1, "alice")])
          .execute();
        // One query at a time: the pool hands back the connection it just took.
        for (let i = 0; i < 3; i++)
          assert.equal((await byActor(storage.db, "alice", "secret.read")).length, 1);
        const named = await sql<{ name: string; statement: string }>`
          select name, statement from pg_prepared_statements where name like 'kw\_%'`.execute(storage.db);
        assert.equal(named.rows.length, 1, JSON.stringify(named.rows));
        assert.match(named.rows[0]!.statement, /from "audit_log"/);
      });

    test("a prepared query refuses an argument that does not end up as a value", async (t) => {
      const { storage } = await d.create(t);
      const shaped = prepared((db, _unused: string) => db.selectFrom("audit_log").select("seq"));
      await assert.rejects(shaped(storage.db, "x"), /every argument must be a query value/);
    });

    if (d.name === "sqlite")
      test(
        "a plain read does not wait for an open write transaction and never sees its rows",
        { timeout: 20_000 },
        async (t) => {
          const { storage } = await d.create(t);
          const db = storage.db;
          let release!: () => void;
          const gate = new Promise<void>((r) => (release = r));
          let inserted!: () => void;
          const insertedP = new Promise<void>((r) => (inserted = r));
          const writer = db.transaction().execute(async (trx) => {
            await trx.insertInto("audit_log").values(row(1, "alice")).execute();
            inserted();
            await gate; // held open until the reads below are done
          });
          await insertedP;
          // With one connection behind one mutex this read would wait for the gate: a deadlock.
          assert.deepEqual(await byActor(db, "alice", "secret.read"), []);
          release();
          await writer;
          assert.deepEqual(await byActor(db, "alice", "secret.read"), [{ seq: 1, actor: "alice" }]);
          // A write outside a transaction still takes its own turn on the writer.
          await db.deleteFrom("audit_log").where("seq", "=", 1).execute();
          assert.deepEqual(await byActor(db, "alice", "secret.read"), []);
        },
      );
  });
}
