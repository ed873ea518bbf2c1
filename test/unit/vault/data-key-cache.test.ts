import assert from "node:assert/strict";
import { createSecretKey } from "node:crypto";
import { test } from "node:test";
import { dataKeyCache } from "../../../src/services/vault/data-key-cache.ts";

const key = (b: number) => createSecretKey(Buffer.alloc(32, b));

test("a cached data key is served until its TTL, then dropped", () => {
  let now = 1_000;
  const cache = dataKeyCache(() => now, 30_000, 10);
  const k = key(1);
  cache.set("ver_1|1|blob|binding", k);
  assert.equal(cache.get("ver_1|1|blob|binding"), k);
  assert.equal(cache.get("ver_1|1|other-blob|binding"), undefined);
  now += 29_999;
  assert.equal(cache.get("ver_1|1|blob|binding"), k);
  now += 1;
  assert.equal(cache.get("ver_1|1|blob|binding"), undefined);
  assert.equal(cache.size, 0);
});

test("the cache is bounded (oldest first out), clear drops everything, TTL 0 caches nothing", () => {
  const cache = dataKeyCache(() => 0, 1_000, 2);
  cache.set("a", key(1));
  cache.set("b", key(2));
  cache.set("c", key(3));
  assert.equal(cache.get("a"), undefined);
  assert.notEqual(cache.get("b"), undefined);
  assert.notEqual(cache.get("c"), undefined);
  cache.clear();
  assert.equal(cache.size, 0);
  const off = dataKeyCache(() => 0, 0);
  off.set("a", key(1));
  assert.equal(off.get("a"), undefined);
});
