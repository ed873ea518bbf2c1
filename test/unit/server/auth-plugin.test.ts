/**
 * The auth hook and the error shape on a bare Fastify, with a test double of the access
 * seam (typed from AccessService, so a change of the seam breaks it): where the token is
 * read from, public routes, and the per-address failure window.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { KeywardenError } from "../../../src/core/errors.ts";
import { installAuth, tokenOf } from "../../../src/server/plugins/auth.ts";
import { installErrorHandling } from "../../../src/server/plugins/errors.ts";
import type { AccessService, Principal } from "../../../src/services/access/access-types.ts";

const GOOD = "good-token";

function double(seen: string[]): AccessService {
  const principal: Principal = { id: "mid_TEST", kind: "machine", name: "t", policies: [] };
  return {
    authenticateToken(_ctx, raw) {
      seen.push(raw);
      if (raw === "") return Promise.reject(new KeywardenError("KW_ERR_AUTH_MISSING"));
      return raw === GOOD
        ? Promise.resolve(principal)
        : Promise.reject(new KeywardenError("KW_ERR_AUTH_UNKNOWN"));
    },
    authenticateSession: () => Promise.reject(new KeywardenError("KW_ERR_AUTH_UNKNOWN")),
    can: () => Promise.resolve(true),
    require: () => Promise.resolve(),
  };
}

async function app(seen: string[], now: () => number) {
  const a = Fastify();
  installErrorHandling(a);
  installAuth(a, { access: double(seen), failureLimit: 2, now });
  a.get("/open", { config: { public: true } }, () => ({ ok: true }));
  a.get("/closed", (request) => ({ actor: request.kwCtx.actor }));
  a.get("/boom", () => {
    throw new Error("database password is hunter2");
  });
  await a.ready();
  return a;
}

test("tokens come from Bearer or X-Vault-Token; public routes need none", async () => {
  const seen: string[] = [];
  const a = await app(seen, () => 0);
  assert.equal((await a.inject({ url: "/open" })).statusCode, 200);
  assert.deepEqual(seen, []);
  const r = await a.inject({ url: "/closed", headers: { authorization: `bearer  ${GOOD} ` } });
  assert.deepEqual(r.json(), { actor: "mid_TEST" });
  assert.equal((await a.inject({ url: "/closed", headers: { "x-vault-token": GOOD } })).statusCode, 200);
  assert.equal(tokenOf({ headers: { authorization: "Basic abc" } } as never), "Basic abc");
  assert.equal(tokenOf({ headers: {} } as never), undefined);
});

test("failures per address are limited within a window, then forgiven", async () => {
  const seen: string[] = [];
  let t = 0;
  const a = await app(seen, () => t);
  const status = async (token?: string) =>
    (
      await a.inject({
        url: "/closed",
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      })
    ).statusCode;
  assert.equal(await status(), 401);
  assert.equal(await status("bad"), 401);
  assert.equal(await status(GOOD), 429);
  t += 60_000;
  assert.equal(await status(GOOD), 200);
});

test("a bug is a 500 that says only internal error, with the request id", async () => {
  const a = await app([], () => 0);
  const r = await a.inject({ url: "/boom", headers: { authorization: `Bearer ${GOOD}` } });
  assert.equal(r.statusCode, 500);
  const body = r.json<{ error: { code: string; message: string; requestId: string } }>();
  assert.equal(body.error.code, "KW_ERR_INTERNAL");
  assert.equal(body.error.message, "internal error");
  assert.ok(body.error.requestId.length > 0);
  assert.ok(!r.body.includes("hunter2"));
});

test("a bug is logged with its stack, less any value Node quotes in its message", async () => {
  const lines: string[] = [];
  const a = Fastify({ logger: { level: "error", stream: { write: (l: string) => lines.push(l) } } });
  installErrorHandling(a);
  a.get("/quoted", () => {
    throw new TypeError("The property 'env' must be a string. Received 'sk_quoted_value_123'");
  });
  await a.ready();
  assert.equal((await a.inject({ url: "/quoted" })).statusCode, 500);
  const logged = lines.join("");
  assert.match(logged, /request failed/);
  assert.match(logged, /The property 'env' must be a string/);
  assert.match(logged, /at /, "the stack is there");
  assert.ok(!logged.includes("sk_quoted_value_123"));
});
