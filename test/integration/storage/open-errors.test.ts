/**
 * Opening storage that cannot be used says why, naming the file: a damaged SQLite file (not
 * a database, or pages overwritten) is KW_ERR_STORAGE_DAMAGED with a restore hint; a
 * PostgreSQL server that does not answer is KW_ERR_STORAGE_OPEN with the password masked.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { closeSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { sql } from "kysely";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { openStorage } from "../../../src/storage/database.ts";
import { tempDir } from "../../helpers/tmp.ts";

test("a file that is not a database is reported as damaged, with the file named", async (t) => {
  const file = join(tempDir(t), "junk.db");
  writeFileSync(file, randomBytes(8192));
  await assert.rejects(
    openStorage({ url: `sqlite:${file}`, home: tempDir(t) }),
    (e) =>
      isKeywardenError(e, "KW_ERR_STORAGE_DAMAGED") &&
      e.message.includes(file) &&
      /restore it from a backup/i.test(e.hint),
  );
});

test("a database whose schema page was overwritten is reported as damaged", async (t) => {
  const file = join(tempDir(t), "kw.db");
  const storage = await openStorage({ url: `sqlite:${file}`, home: tempDir(t) });
  await sql`create table t (k text primary key, v text)`.execute(storage.db);
  await sql`pragma wal_checkpoint(truncate)`.execute(storage.db);
  await storage.close();
  // The 100-byte file header stays; the schema's b-tree page after it becomes noise.
  const fd = openSync(file, "r+");
  writeSync(fd, randomBytes(4096 - 100), 0, undefined, 100);
  closeSync(fd);
  await assert.rejects(
    openStorage({ url: `sqlite:${file}`, home: tempDir(t) }),
    (e) => isKeywardenError(e, "KW_ERR_STORAGE_DAMAGED") && /malformed/.test(e.message),
  );
});

test("a PostgreSQL server that does not answer is named, its password masked", async () => {
  // The password in the user info, or as libpq's `password` parameter (node-postgres reads both).
  for (const url of [
    "postgres://kw:hunter2-not-real@127.0.0.1:9/kw?connect_timeout=2",
    "postgres://kw@127.0.0.1:9/kw?connect_timeout=2&password=hunter2-not-real",
  ])
    await assert.rejects(
      openStorage({ url, home: "/tmp" }),
      (e) =>
        isKeywardenError(e, "KW_ERR_STORAGE_OPEN") &&
        e.message.includes("127.0.0.1:9") &&
        e.message.includes("connect_timeout=2") &&
        !e.message.includes("hunter2"),
    );
});
