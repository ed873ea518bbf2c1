/**
 * Storage that takes no more writes. SQLite out of space in the middle of a transaction (here: max_page_count, as a full disk
 * behaves): SQLite rolls the transaction back by itself, and the error the caller gets must be
 * that one, recognisable as storage unavailable, not "cannot rollback - no transaction is
 * active"; nothing of the transaction is kept, and the database goes on once there is room.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import { openStorage } from "../../../src/storage/database.ts";
import { storageUnavailable } from "../../../src/storage/unavailable.ts";
import { cliOk, vaultEnv } from "../../helpers/app-vault.ts";
import { runCliInProcess } from "../../helpers/cli.ts";
import { freshPostgresSchema, postgresUrl } from "../../helpers/storage.ts";
import { tempDir } from "../../helpers/tmp.ts";

test("a transaction that fills the database fails with SQLite's own error, and nothing of it is kept", async (t) => {
  const storage = await openStorage({ url: "", home: tempDir(t) });
  t.after(() => storage.close());
  await sql`create table big (v text not null)`.execute(storage.db);
  await sql`insert into big values ('first')`.execute(storage.db);
  const pages = (
    await sql<{ n: number }>`select page_count as n from pragma_page_count()`.execute(storage.db)
  ).rows[0]!.n;
  // Not a plain SELECT: it runs on the writer connection, where the transaction will.
  await sql.raw(`pragma max_page_count = ${pages + 2}`).execute(storage.db);
  const failure = await storage.db
    .transaction()
    .execute(async (trx) => {
      await sql`insert into big values ('kept only if all fits')`.execute(trx);
      await sql`insert into big values (${"x".repeat(200_000)})`.execute(trx);
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(failure instanceof Error, "the transaction failed");
  assert.match(failure.message, /database or disk is full/);
  assert.equal(storageUnavailable(failure), "SQLite full");
  const rows = await sql<{ v: string }>`select v from big`.execute(storage.db);
  assert.deepEqual(
    rows.rows.map((r) => r.v),
    ["first"],
    "all or nothing",
  );
  await sql.raw("pragma max_page_count = 1073741823").execute(storage.db);
  await storage.db.transaction().execute((trx) => sql`insert into big values ('after')`.execute(trx));
  assert.equal((await sql<{ n: number }>`select count(*) as n from big`.execute(storage.db)).rows[0]!.n, 2);
});

test("a PostgreSQL that takes no writes (a standby, a read-only database) is 'unavailable' to the CLI, not an internal error", async (t) => {
  const url = await postgresUrl(await freshPostgresSchema(t));
  const env = vaultEnv(t, url);
  await cliOk(env, ["init"]);
  // As a standby answers: every transaction is read-only.
  const readOnly = url.replace(
    /options=([^&]*)/,
    (_, o: string) => `options=${o}${encodeURIComponent(" -c default_transaction_read_only=on")}`,
  );
  const r = await runCliInProcess({ ...env, KEYWARDEN_STORAGE_URL: readOnly }, ["secrets", "list"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /KW_ERR_STORAGE_UNAVAILABLE: the database is unavailable: SQLSTATE 25006/);
  assert.doesNotMatch(r.stderr, /internal error/);
});
