import assert from "node:assert/strict";
import { test } from "node:test";
import { connectTimeoutMs } from "../../../src/storage/database.ts";

test("connect_timeout in a PostgreSQL URL is read as libpq reads it, with a bounded default", () => {
  assert.equal(connectTimeoutMs("postgres://db/app?connect_timeout=3"), 3000);
  assert.equal(connectTimeoutMs("postgres://db/app?sslmode=require&connect_timeout=0.5"), 500);
  assert.equal(connectTimeoutMs("postgres://db/app?connect_timeout=0"), 0, "0 waits for ever, as in libpq");
  assert.equal(connectTimeoutMs("postgres://db/app?connect_timeout=-2"), 0);
  assert.equal(connectTimeoutMs("postgres://db/app"), 10_000);
  assert.equal(connectTimeoutMs("postgres://db/app?connect_timeout="), 10_000);
  assert.equal(connectTimeoutMs("postgres://db/app?connect_timeout=soon"), 10_000);
  assert.equal(connectTimeoutMs("not a url"), 10_000);
});
