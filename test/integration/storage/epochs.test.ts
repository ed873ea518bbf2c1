/**
 * The epochs and what rests on them: the data epoch moves with every change a secret read
 * could return (and not with last_read_at, which every read sets); an epoch is read once per
 * loop turn and again after any write; the secret-read cache answers while the data epoch
 * stands and reads again once another handle changed something.
 */
import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, test } from "node:test";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { sql, type Kysely } from "kysely";
import pg from "pg";
import { SQLITE_FILE_NAME } from "../../../src/storage/database.ts";
import { dataEpoch } from "../../../src/storage/repos/epoch-repo.ts";
import { findSecretWithVersion, type VersionRow } from "../../../src/storage/repos/secret-version-repo.ts";
import type { Database } from "../../../src/storage/schema.ts";
import { writesSoFar } from "../../../src/storage/turn-reads.ts";
import { DIALECTS, secretRow, type TestDatabase } from "../../helpers/storage.ts";

const AT = "2025-01-01T00:00:00.000Z";

/** Version 1 of secret `secretId`, as a row. */
function versionRow(id: string, secretId: string, ciphertext: Uint8Array): VersionRow {
  return {
    id,
    secret_id: secretId,
    version: 1,
    ciphertext,
    fingerprint: `f_${id}`,
    created_at: AT,
    created_by: "test",
    restored_from: null,
    destroyed_at: null,
    encoding: null,
  };
}

async function seed(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto("secrets")
    .values({ ...secretRow("payments/prod/STRIPE_KEY", "sec_1"), current_version: 1 })
    .execute();
  await db
    .insertInto("secret_versions")
    .values(versionRow("ver_1", "sec_1", new Uint8Array([1, 2, 3])))
    .execute();
  await db
    .insertInto("data_keys")
    .values({ version_id: "ver_1", kek_version: 1, wrapped: new Uint8Array([9, 9]) })
    .execute();
}

/** Runs `statements` on a connection of its own, as another process would. */
async function outside(created: TestDatabase, statements: string): Promise<void> {
  if (created.url === "") {
    const raw = new DatabaseSync(join(created.home, SQLITE_FILE_NAME));
    try {
      raw.exec(statements);
    } finally {
      raw.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: created.url });
  await client.connect();
  try {
    await client.query(statements);
  } finally {
    await client.end();
  }
}

/** The column names of `table` as the database has them. */
async function columnsOf(db: Kysely<Database>, postgres: boolean, table: string): Promise<string[]> {
  const r = postgres
    ? await sql<{ name: string }>`select column_name as name from information_schema.columns
        where table_schema = current_schema() and table_name = ${table}`.execute(db)
    : await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db);
  return r.rows.map((c) => c.name);
}

for (const d of DIALECTS) {
  describe(`epochs on ${d.name}`, () => {
    test("the data epoch moves with every column of a secret but last_read_at, and with versions and data keys", async (t) => {
      const { storage } = await d.create(t);
      const db = storage.db;
      // Straight from the table, not through the per-turn sharing.
      const epoch = async () =>
        String(
          (await db.selectFrom("access_epoch").select("epoch").where("id", "=", 2).executeTakeFirstOrThrow())
            .epoch,
        );
      const before = await epoch();
      await seed(db);
      const seeded = await epoch();
      assert.notEqual(seeded, before, "inserting a secret, a version and a data key");

      const columns = await columnsOf(db, d.name === "postgres", "secrets");
      assert.ok(columns.includes("current_version") && columns.includes("last_read_at"));
      for (const column of columns) {
        const e0 = await epoch();
        await sql`update secrets set ${sql.ref(column)} = ${sql.ref(column)} where id = 'sec_1'`.execute(db);
        const e1 = await epoch();
        if (column === "last_read_at") assert.equal(e1, e0, "every read sets last_read_at: no move");
        else assert.notEqual(e1, e0, `an update of secrets.${column}`);
      }
      for (const [table, change] of [
        ["secret_versions", sql`update secret_versions set destroyed_at = ${AT} where id = 'ver_1'`],
        ["data_keys", sql`update data_keys set kek_version = 2 where version_id = 'ver_1'`],
        ["data_keys", sql`delete from data_keys where version_id = 'ver_1'`],
        ["secrets", sql`delete from secret_versions where id = 'ver_1'`],
        ["secrets", sql`delete from secrets where id = 'sec_1'`],
      ] as const) {
        const e0 = await epoch();
        await change.execute(db);
        assert.notEqual(await epoch(), e0, `a change to ${table}`);
      }
      // Access changes move the access epoch only.
      const e0 = await epoch();
      await db
        .insertInto("policies")
        .values({ id: "pol_1", name: "p", rules: "[]", created_at: AT, updated_at: AT })
        .execute();
      assert.equal(await epoch(), e0);
    });

    test("every statement but a plain SELECT counts as a write, COMMIT included", async (t) => {
      const { storage } = await d.create(t);
      const db = storage.db;
      const w0 = writesSoFar();
      await dataEpoch(db);
      await db.selectFrom("secrets").selectAll().execute();
      assert.equal(writesSoFar(), w0, "selects change nothing");
      await db
        .insertInto("policies")
        .values({ id: "pol_1", name: "p", rules: "[]", created_at: AT, updated_at: AT })
        .execute();
      assert.ok(writesSoFar() > w0, "an insert");
      const w1 = writesSoFar();
      await db.transaction().execute(async (trx) => {
        await trx.selectFrom("policies").selectAll().execute();
      });
      assert.ok(writesSoFar() > w1, "a commit, even of a transaction that only read");
    });

    if (d.name === "postgres")
      test("savepoints pass through the write count where the driver has them", async (t) => {
        const { storage } = await d.create(t);
        const trx = await storage.db.startTransaction().execute();
        await trx
          .insertInto("policies")
          .values({ id: "pol_1", name: "kept", rules: "[]", created_at: AT, updated_at: AT })
          .execute();
        const sp = await trx.savepoint("before_second").execute();
        await sp
          .insertInto("policies")
          .values({ id: "pol_2", name: "undone", rules: "[]", created_at: AT, updated_at: AT })
          .execute();
        const back = await sp.rollbackToSavepoint("before_second").execute();
        await back.commit().execute();
        const names = await storage.db.selectFrom("policies").select("name").execute();
        assert.deepEqual(
          names.map((r) => r.name),
          ["kept"],
        );
      });

    test("a cached secret read answers while the data epoch stands, and reads again after another handle's change", async (t) => {
      const created = await d.create(t);
      const { storage } = created;
      const other = await created.reopen();
      await seed(storage.db);
      const path = "payments/prod/STRIPE_KEY";
      const first = await findSecretWithVersion(storage.db, path);
      assert.equal(first?.version?.version, 1);

      // last_read_at does not move the epoch: the next turn's read is the cached row.
      await other.db.updateTable("secrets").set({ last_read_at: AT }).where("id", "=", "sec_1").execute();
      await nextTurn();
      assert.equal(
        (await findSecretWithVersion(storage.db, path))?.secret.last_read_at,
        null,
        "from the cache",
      );

      // A new version committed by another process: a connection this process's storage
      // knows nothing about.
      await outside(
        created,
        `insert into secret_versions (id, secret_id, version, ciphertext, fingerprint, created_at, created_by)
         values ('ver_2', 'sec_1', 2, ${d.name === "postgres" ? "'\\x040506'::bytea" : "x'040506'"}, 'f2', '${AT}', 'test');
         update secrets set current_version = 2 where id = 'sec_1'`,
      );
      await nextTurn();
      const second = await findSecretWithVersion(storage.db, path);
      assert.ok(second?.version !== undefined);
      assert.equal(second.version.version, 2, "the new version, the turn after it committed");
      assert.deepEqual([...(second.version.ciphertext ?? [])], [4, 5, 6]);
      assert.equal(second.secret.last_read_at, AT);
      assert.equal(
        (await findSecretWithVersion(storage.db, path, 1))?.version?.version,
        1,
        "an old version by number",
      );

      await other.db.updateTable("secrets").set({ deleted_at: AT }).where("id", "=", "sec_1").execute();
      await nextTurn();
      assert.equal((await findSecretWithVersion(storage.db, path))?.secret.deleted_at, AT);
      assert.equal(await findSecretWithVersion(storage.db, "payments/prod/NONE"), undefined);
    });

    if (d.name === "sqlite")
      test("the secret-read cache keeps at most 32 MiB of ciphertexts, dropping the oldest first", async (t) => {
        const created = await d.create(t);
        const db = created.storage.db;
        // 600 secrets of 60 KiB: about 36 MiB, more than the cache keeps.
        const count = 600;
        const blob = new Uint8Array(60 * 1024);
        await db.transaction().execute(async (trx) => {
          for (let i = 0; i < count; i++) {
            await trx
              .insertInto("secrets")
              .values({ ...secretRow(`big/prod/KEY_${i}`, `sec_${i}`), current_version: 1 })
              .execute();
            await trx
              .insertInto("secret_versions")
              .values(versionRow(`ver_${i}`, `sec_${i}`, blob))
              .execute();
          }
        });
        await nextTurn();
        for (let i = 0; i < count; i++) await findSecretWithVersion(db, `big/prod/KEY_${i}`);
        // last_read_at does not move the epoch: a cached row keeps its old value.
        await outside(created, `update secrets set last_read_at = '${AT}'`);
        await nextTurn();
        const newest = await findSecretWithVersion(db, `big/prod/KEY_${count - 1}`);
        assert.equal(newest?.secret.last_read_at, null, "the newest read is still cached");
        const oldest = await findSecretWithVersion(db, "big/prod/KEY_0");
        assert.equal(oldest?.secret.last_read_at, AT, "the oldest was dropped and is read again");
      });
  });
}
