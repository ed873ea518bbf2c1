/**
 * A key pasted where a secret's name goes (`PUT /api/v1/secrets/billing/prod/sk_live_...`):
 * the write is refused, and the key is masked wherever the path is shown or kept: errors,
 * the audit log, the request log (detect/mask.ts).
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../../src/core/logger.ts";
import { maskSecret } from "../../../src/core/redact.ts";
import { formatToken } from "../../../src/core/token-format.ts";
import { keysIn, maskKeys } from "../../../src/detect/mask.ts";
import { bearer, createTestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A Stripe-shaped live key, built at run time. */
function stripeShaped(): string {
  return `sk_live_${Array.from({ length: 32 }, () => ALNUM[randomInt(ALNUM.length)]).join("")}`;
}

const sqlite = DIALECTS.find((d) => d.name === "sqlite")!;

test("maskKeys masks each key the built-in rules find, and leaves names alone", () => {
  const stripe = stripeShaped();
  const kw = formatToken("svc");
  assert.equal(maskKeys("billing/prod/STRIPE_SECRET_KEY"), "billing/prod/STRIPE_SECRET_KEY");
  assert.deepEqual(keysIn("payments/prod/AWS_SECRET_ACCESS_KEY"), []);
  assert.equal(maskKeys(`billing/prod/${stripe}`), `billing/prod/${maskSecret(stripe)}`);
  assert.equal(
    maskKeys(`/a/${kw}/b/${stripe}?x`),
    `/a/${maskSecret(kw)}/b/${maskSecret(stripe)}?x`,
    "every key, in order",
  );
  assert.equal(keysIn(`x/${stripe}`)[0]?.rule.provider, "Stripe");
});

test("a key in a secret's path: the write is refused, and errors, audit and request log mask it", async (t) => {
  let logs = "";
  const stream = new PassThrough().on("data", (d: Buffer) => (logs += d.toString()));
  const s = await createTestServer(t, sqlite, {
    logger: createLogger({ level: "info", format: "json", stream }),
  });
  const token = await s.token([{ path: "billing/prod/*", capabilities: ["read", "write"] }]);
  const stripe = stripeShaped();
  const kwToken = formatToken("svc");
  const answers: string[] = [];
  const call = async (method: "GET" | "PUT", url: string, status: number, code: string) => {
    const r = await s.app.inject({
      method,
      url,
      headers: bearer(token),
      ...(method === "PUT" ? { payload: { value: "not the point" } } : {}),
    });
    assert.equal(r.statusCode, status, `${method} ${url}: ${r.body}`);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, code);
    answers.push(r.body);
    return r.body;
  };
  const refused = await call(
    "PUT",
    `/api/v1/secrets/billing/prod/${stripe}`,
    400,
    "KW_ERR_VAULT_PATH_INVALID",
  );
  assert.match(refused, /looks like a Stripe key \(stripe-secret-key\)/);
  assert.match(refused, new RegExp(`billing/prod/${maskSecret(stripe).replace(/\*/g, "\\*")}`));
  await call("PUT", `/api/v1/secrets/billing/prod/${kwToken}`, 400, "KW_ERR_VAULT_PATH_INVALID");
  await call("GET", `/api/v1/secrets/billing/prod/${stripe}`, 404, "KW_ERR_VAULT_NOT_FOUND");
  await call("GET", `/api/v1/secrets/billing/${stripe}/X`, 403, "KW_ERR_ACCESS_DENIED");
  await call("GET", `/api/v1/nothing/${stripe}`, 404, "KW_ERR_HTTP_NOT_FOUND");
  await call("GET", `/v1/secret/data/billing/prod/${stripe}`, 404, "KW_ERR_VAULT_NOT_FOUND");

  await new Promise((resolve) => setImmediate(resolve));
  assert.match(logs, /incoming request/, "the request log was written");
  const audit = JSON.stringify(await s.kw.audit.query({ limit: 10_000 }));
  assert.match(audit, /secret\.write/, "the refused writes are audited");
  for (const [what, text] of [
    ["answers", answers.join("\n")],
    ["request log", logs],
    ["audit log", audit],
  ] as const) {
    assert.ok(!text.includes(stripe), `${what} hold the Stripe-shaped key`);
    assert.ok(!text.includes(kwToken), `${what} hold the Keywarden token`);
  }
  const stored = await s.kw.storage.db.selectFrom("secrets").select("path").execute();
  assert.deepEqual(stored, [], "nothing was stored");
});

test("a key pasted into metadata or a token's description is refused, and not echoed", async (t) => {
  const s = await createTestServer(t, sqlite);
  const token = await s.token([{ path: "billing/prod/*", capabilities: ["read", "write"] }]);
  const stripe = stripeShaped();
  for (const metadata of [{ tags: ["live", stripe] }, { owner: `team ${stripe}` }, { consumers: [stripe] }]) {
    const r = await s.app.inject({
      method: "PUT",
      url: "/api/v1/secrets/billing/prod/STRIPE_KEY",
      headers: bearer(token),
      payload: { value: "not the point", metadata },
    });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(
      r.body,
      /hold what looks like a Stripe key \(stripe-secret-key\); metadata is kept in the clear/,
    );
    assert.ok(!r.body.includes(stripe));
  }
  assert.deepEqual(
    await s.kw.storage.db.selectFrom("secrets").select("path").execute(),
    [],
    "nothing stored",
  );
  const ok = await s.app.inject({
    method: "PUT",
    url: "/api/v1/secrets/billing/prod/STRIPE_KEY",
    headers: bearer(token),
    payload: { value: stripe, metadata: { tags: ["live"], owner: "payments team" } },
  });
  assert.equal(ok.statusCode, 200, "the key as the value, plain metadata: stored");

  const ctx = { actor: "cli:operator", source: "cli", requestId: "req_t" };
  await s.kw.access.addMachine(ctx, "operator", { name: "ci", roles: [] });
  await assert.rejects(
    s.kw.access.createToken(ctx, "operator", {
      identity: "ci",
      policies: [],
      description: `deploy ${stripe}`,
    }),
    (e: Error) =>
      /KW_ERR_ACCESS_INVALID/.test(`${(e as { code?: string }).code}`) &&
      /looks like a Stripe key/.test(e.message) &&
      !e.message.includes(stripe),
  );
});
