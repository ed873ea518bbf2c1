import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { installTurnBatching } from "../../../src/server/plugins/turn-batching.ts";
import type { Executor } from "../../../src/storage/repos/executor.ts";
import { sharedRead } from "../../../src/storage/turn-reads.ts";

test("a request's handlers start in the loop's check phase, after what the turn had already queued", async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  installTurnBatching(app);
  const order: string[] = [];
  app.get("/", () => {
    order.push("handler");
    return { ok: true };
  });
  await app.ready();
  // Queued before the request arrives: without the deferral the handler would run first,
  // inside the task that delivered the request.
  setImmediate(() => order.push("queued before"));
  const [a, b] = await Promise.all([app.inject("/"), app.inject("/")]);
  assert.equal(a.statusCode, 200);
  assert.equal(b.statusCode, 200);
  assert.deepEqual(order, ["queued before", "handler", "handler"]);
});

test("a request runs as arrived: a read its first step sent serves its later steps, turns later", async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  installTurnBatching(app);
  const db = { isTransaction: false } as unknown as Executor;
  let reads = 0;
  const read = () => Promise.resolve(++reads);
  app.get("/", async () => {
    const first = await sharedRead(db, "k", read);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    return { first, later: await sharedRead(db, "k", read) };
  });
  await app.ready();
  const r = (await app.inject("/")).json<{ first: number; later: number }>();
  assert.deepEqual(r, { first: 1, later: 1 });
  // A request that arrives after that read was sent sends its own.
  assert.deepEqual((await app.inject("/")).json(), { first: 2, later: 2 });
});
