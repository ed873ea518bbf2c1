/**
 * Two `keywarden serve` processes on one PostgreSQL database serve consistent data: a write
 * on one reads on the other at once, check-and-set holds across them, and a token revoked
 * through one is refused by the other at once.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { appVault, cliOk } from "../../helpers/app-vault.ts";
import { spawnServe } from "../../helpers/serve-process.ts";
import { DIALECTS, freshPostgresSchema, postgresUrl } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

const skip = !DIALECTS.some((d) => d.name === "postgres");

test("two server processes on one PostgreSQL serve consistent data", { skip }, async (t) => {
  const url = await postgresUrl(await freshPostgresSchema(t));
  const { env, token } = await appVault(t, url, "payments/**:read,write,list,revoke");
  const second = (
    await cliOk(env, ["token", "create", "--identity", "app", "--policy", "app", "--format", "json"])
  ).trim();
  const { token: token2, id: token2Id } = JSON.parse(second) as { token: string; id: string };

  // The database comes from the flag, as an operator would start them.
  const { KEYWARDEN_STORAGE_URL: _, ...serveEnv } = env;
  const [a, b] = await Promise.all([
    spawnServe(t, serveEnv, ["--insecure-http", "--database", url]),
    spawnServe(t, serveEnv, ["--insecure-http", "--database", url]),
  ]);
  assert.notEqual(a.url.port, b.url.port);
  const call = (s: typeof a, method: string, path: string, body?: unknown, tok = token) =>
    fetch(new URL(path, s.url), {
      method,
      headers: {
        authorization: `Bearer ${tok}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const path = "/api/v1/secrets/payments/prod/STRIPE_KEY";
  for (let i = 1; i <= 5; i++) {
    const [writer, reader] = i % 2 === 1 ? [a, b] : [b, a];
    const value = makeKey();
    const w = await call(writer, "PUT", path, { value, cas: i - 1 });
    assert.equal(w.status, 200, await w.text());
    const r = await call(reader, "GET", path);
    assert.equal(r.status, 200);
    const got = (await r.json()) as { value: string; version: number };
    assert.equal(got.value, value, `write ${i} on one server reads on the other at once`);
    assert.equal(got.version, i);
    // The reader's check-and-set sees the writer's version: a stale cas is refused.
    const stale = await call(reader, "PUT", path, { value: makeKey(), cas: i - 1 });
    assert.equal(stale.status, 409);
  }
  // Revoked through one, refused by the other at once.
  assert.equal((await call(b, "GET", path, undefined, token2)).status, 200);
  const revoke = await call(a, "DELETE", `/api/v1/tokens/${token2Id}`);
  assert.equal(revoke.status, 200, await revoke.text());
  const refused = await call(b, "GET", path, undefined, token2);
  assert.equal(refused.status, 401);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "KW_ERR_AUTH_REVOKED");
  assert.deepEqual(await Promise.all([a.stop(), b.stop()]), [0, 0]);
});
