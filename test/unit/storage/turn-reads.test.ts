import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { test } from "node:test";
import type { Executor } from "../../../src/storage/repos/executor.ts";
import { noteWrite, sharedThisTurn } from "../../../src/storage/turn-reads.ts";

/** Only `isTransaction` is looked at; the read itself is the test's. */
const handle = (isTransaction = false) => ({ isTransaction }) as unknown as Executor;

test("a read is shared by its loop turn, dropped by the next turn or by a write, never in a transaction", async () => {
  const db = handle();
  let reads = 0;
  const read = () => Promise.resolve(++reads);
  const values = [
    sharedThisTurn(db, "k", read),
    sharedThisTurn(db, "k", read),
    sharedThisTurn(db, "k", read),
  ];
  assert.deepEqual(await Promise.all(values), [1, 1, 1], "one read for the turn");
  assert.equal(await sharedThisTurn(db, "other", read), 2, "keys apart");
  assert.equal(await sharedThisTurn(handle(), "k", read), 3, "handles apart");
  assert.equal(await sharedThisTurn(db, "k", read), 1, "still this turn");
  noteWrite();
  assert.equal(await sharedThisTurn(db, "k", read), 4, "a write of this process drops it at once");
  assert.equal(await sharedThisTurn(db, "k", read), 4);
  await nextTurn();
  assert.equal(await sharedThisTurn(db, "k", read), 5, "the next turn reads again");
  const trx = handle(true);
  assert.equal(await sharedThisTurn(trx, "k", read), 6);
  assert.equal(await sharedThisTurn(trx, "k", read), 7, "a transaction reads for itself");
});

test("a failed read is not shared", async () => {
  const db = handle();
  let calls = 0;
  const failing = () => {
    calls++;
    return Promise.reject(new Error("database went away"));
  };
  await assert.rejects(sharedThisTurn(db, "k", failing), /went away/);
  await assert.rejects(sharedThisTurn(db, "k", failing), /went away/);
  assert.equal(calls, 2);
  assert.equal(await sharedThisTurn(db, "k", () => Promise.resolve("ok")), "ok");
});
