import assert from "node:assert/strict";
import { setImmediate as nextTurn } from "node:timers/promises";
import { test } from "node:test";
import type { Executor } from "../../../src/storage/repos/executor.ts";
import { arrivalMark, asArrivedAt, noteWrite, sharedRead } from "../../../src/storage/turn-reads.ts";

/** Only `isTransaction` is looked at; the read itself is the test's. */
const handle = (isTransaction = false) => ({ isTransaction }) as unknown as Executor;

test("outside a request: a read is shared by its loop turn, dropped by the next turn or by a write, never in a transaction", async () => {
  const db = handle();
  let reads = 0;
  const read = () => Promise.resolve(++reads);
  const values = [sharedRead(db, "k", read), sharedRead(db, "k", read), sharedRead(db, "k", read)];
  assert.deepEqual(await Promise.all(values), [1, 1, 1], "one read for the turn");
  assert.equal(await sharedRead(db, "other", read), 2, "keys apart");
  assert.equal(await sharedRead(handle(), "k", read), 3, "handles apart");
  assert.equal(await sharedRead(db, "k", read), 1, "still this turn");
  noteWrite();
  assert.equal(await sharedRead(db, "k", read), 4, "a write of this process drops it at once");
  assert.equal(await sharedRead(db, "k", read), 4);
  await nextTurn();
  assert.equal(await sharedRead(db, "k", read), 5, "the next turn reads again");
  const trx = handle(true);
  assert.equal(await sharedRead(trx, "k", read), 6);
  assert.equal(await sharedRead(trx, "k", read), 7, "a transaction reads for itself");
});

test("a failed read is not shared", async () => {
  const db = handle();
  let calls = 0;
  const failing = () => {
    calls++;
    return Promise.reject(new Error("database went away"));
  };
  await assert.rejects(sharedRead(db, "k", failing), /went away/);
  await assert.rejects(sharedRead(db, "k", failing), /went away/);
  assert.equal(calls, 2);
  assert.equal(await sharedRead(db, "k", () => Promise.resolve("ok")), "ok");
});

test("in a request's context: a read sent after the request arrived serves all its steps, in any later turn; one sent before does not", async () => {
  const db = handle();
  let reads = 0;
  const read = () => Promise.resolve(++reads);
  const early = arrivalMark();
  // The first request's first step sends a read; a request arriving after it was sent may not use it.
  assert.equal(await asArrivedAt(early, () => sharedRead(db, "k", read)), 1);
  const late = arrivalMark();
  await nextTurn();
  assert.equal(
    await asArrivedAt(early, () => sharedRead(db, "k", read)),
    1,
    "the early request's later step, turns later",
  );
  assert.equal(
    await asArrivedAt(late, () => sharedRead(db, "k", read)),
    2,
    "sent before the late one arrived",
  );
  // The read the late request sent serves the early one too: it was sent after both arrived.
  await nextTurn();
  assert.equal(await asArrivedAt(early, () => sharedRead(db, "k", read)), 2);
  assert.equal(await asArrivedAt(late, () => sharedRead(db, "k", read)), 2);
  // The context follows awaits: a step after an await is still the request's.
  assert.equal(
    await asArrivedAt(late, async () => {
      await nextTurn();
      await Promise.resolve();
      return sharedRead(db, "k", read);
    }),
    2,
  );
  // Outside any request, the read of an earlier turn is not used.
  assert.equal(await sharedRead(db, "k", read), 3);
  // A write of this process drops it for everyone, in context or not.
  noteWrite();
  assert.equal(await asArrivedAt(early, () => sharedRead(db, "k", read)), 4);
});
