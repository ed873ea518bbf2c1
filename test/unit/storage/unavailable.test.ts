import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { KeywardenError } from "../../../src/core/errors.ts";
import { storageUnavailable } from "../../../src/storage/unavailable.ts";
import { tempDir } from "../../helpers/tmp.ts";

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

test("lost or refused connections and servers that cannot serve are unavailable; the reason names no host", () => {
  assert.equal(
    storageUnavailable(withCode("connect ECONNREFUSED 10.0.0.9:5432", "ECONNREFUSED")),
    "ECONNREFUSED",
  );
  assert.equal(storageUnavailable(withCode("read ECONNRESET", "ECONNRESET")), "ECONNRESET");
  assert.equal(
    storageUnavailable(withCode("terminating connection due to administrator command", "57P01")),
    "SQLSTATE 57P01",
  );
  assert.equal(storageUnavailable(withCode("the database system is starting up", "57P03")), "SQLSTATE 57P03");
  assert.equal(storageUnavailable(withCode("connection failure", "08006")), "SQLSTATE 08006");
  assert.equal(
    storageUnavailable(withCode("could not extend file: No space left", "53100")),
    "SQLSTATE 53100",
  );
  assert.equal(storageUnavailable(withCode("sorry, too many clients already", "53300")), "SQLSTATE 53300");
  assert.equal(storageUnavailable(new Error("Connection terminated unexpectedly")), "connection lost");
  assert.equal(storageUnavailable(new Error("timeout exceeded when trying to connect")), "connection lost");
});

test("a wrapped cause counts, and so does one error of an AggregateError", () => {
  const cause = withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED");
  assert.equal(storageUnavailable(new Error("query failed", { cause })), "ECONNREFUSED");
  assert.equal(
    storageUnavailable(new AggregateError([new Error("x"), cause], "every address failed")),
    "ECONNREFUSED",
  );
  const loop: Error & { cause?: unknown } = new Error("loops");
  loop.cause = loop;
  assert.equal(storageUnavailable(loop), undefined, "a cause cycle ends");
});

test("wrong statements, bugs and other errors are not unavailability", () => {
  assert.equal(storageUnavailable(withCode('relation "secrets" does not exist', "42P01")), undefined);
  assert.equal(
    storageUnavailable(withCode("duplicate key value violates unique constraint", "23505")),
    undefined,
  );
  assert.equal(storageUnavailable(new TypeError("x is undefined")), undefined);
  assert.equal(
    storageUnavailable(new KeywardenError("KW_ERR_VAULT_NOT_FOUND", { path: "a/b/c" })),
    undefined,
  );
  assert.equal(storageUnavailable("ECONNREFUSED"), undefined);
  assert.equal(storageUnavailable(undefined), undefined);
});

test("a full SQLite database is unavailable", (t) => {
  const db = new DatabaseSync(join(tempDir(t), "full.db"));
  t.after(() => {
    db.close();
  });
  db.exec("create table t (v blob); pragma max_page_count = 8");
  assert.throws(
    () => {
      for (let i = 0; i < 100; i++) db.prepare("insert into t values (zeroblob(4096))").run();
    },
    (e) => storageUnavailable(e) === "SQLite full",
  );
});

test("SQLite busy past its timeout is unavailable; a constraint failure is not", (t) => {
  const file = join(tempDir(t), "busy.db");
  const holder = new DatabaseSync(file, { timeout: 10 });
  const other = new DatabaseSync(file, { timeout: 10 });
  t.after(() => {
    holder.close();
    other.close();
  });
  holder.exec("pragma journal_mode = wal; create table t (k text primary key)");
  holder.exec("begin immediate; insert into t values ('a')");
  assert.throws(
    () => {
      other.exec("begin immediate");
    },
    (e) => storageUnavailable(e) === "SQLite busy",
  );
  holder.exec("commit");
  assert.throws(
    () => {
      other.exec("insert into t values ('a')");
    },
    (e) => storageUnavailable(e) === undefined,
  );
});
