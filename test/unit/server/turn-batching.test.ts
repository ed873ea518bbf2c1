import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { installTurnBatching } from "../../../src/server/plugins/turn-batching.ts";

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
