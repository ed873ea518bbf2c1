import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { describe, test } from "node:test";
import { DIALECTS } from "../../helpers/storage.ts";
import { bearer, createTestServer } from "../../helpers/server.ts";
import { makeKey } from "./fixtures.ts";

for (const dialect of DIALECTS) {
  describe(`server (${dialect.name})`, () => {
    test("health, readiness, headers and the one error shape", async (t) => {
      const s = await createTestServer(t, dialect);
      const h = await s.app.inject({ url: "/healthz" });
      assert.equal(h.statusCode, 200);
      assert.deepEqual(h.json(), { status: "ok" });
      assert.match(String(h.headers["x-request-id"]), /^req_[0-9A-Z]{26}$/);
      // OWASP's REST set plus CORP; none of the headers meant for HTML pages.
      const security = Object.fromEntries(
        Object.entries(h.headers).filter(([name]) =>
          /^(content-security|cross-origin|x-(?!request-id|ratelimit)|referrer|origin-agent|cache-control|strict-transport)/.test(
            name,
          ),
        ),
      );
      assert.deepEqual(security, {
        "content-security-policy": "default-src 'none';frame-ancestors 'none'",
        "cross-origin-resource-policy": "same-origin",
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "cache-control": "no-store",
      });
      assert.equal((await s.app.inject({ url: "/readyz" })).statusCode, 200);
      const nf = await s.app.inject({ url: "/api/v1/nope?x=1" });
      assert.equal(nf.statusCode, 404);
      const body = nf.json<{ error: { code: string; message: string; requestId: string } }>();
      assert.deepEqual(Object.keys(body), ["error"]);
      assert.equal(body.error.code, "KW_ERR_HTTP_NOT_FOUND");
      assert.equal(body.error.requestId, nf.headers["x-request-id"]);
    });

    test("a JSON body that is not UTF-8 is refused, not stored with U+FFFD in place of its bytes", async (t) => {
      const s = await createTestServer(t, dialect);
      const h = { ...bearer(await s.rootToken()), "content-type": "application/json" };
      const url = "/api/v1/secrets/app/dev/GREETING";
      const latin1 = Buffer.concat([Buffer.from('{"value":"caf'), Buffer.from([0xe9]), Buffer.from('-42"}')]);
      for (const [route, payload] of [
        [url, latin1],
        [
          "/v1/secret/data/app/dev/GREETING",
          Buffer.from(latin1.toString("latin1").replace('"value"', '"data":{"v"') + "}", "latin1"),
        ],
      ] as const) {
        const r = await s.app.inject({
          method: route === url ? "PUT" : "POST",
          url: route,
          headers: h,
          payload,
        });
        assert.equal(r.statusCode, 400, r.body);
        assert.deepEqual(
          r.json<{ error: { code: string; message: string } }>().error.code,
          "KW_ERR_HTTP_BAD_REQUEST",
        );
        assert.match(r.body, /the JSON body is not UTF-8/);
      }
      assert.equal((await s.app.inject({ url, headers: h })).statusCode, 404, "nothing was stored");
      // UTF-8, with or without a byte order mark, is read as it is.
      const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"value":"caf\u00e9-42"}')]);
      assert.equal((await s.app.inject({ method: "PUT", url, headers: h, payload: bom })).statusCode, 200);
      assert.equal((await s.app.inject({ url, headers: h })).json<{ value: string }>().value, "caf\u00e9-42");
      // Fastify's checks stay: a prototype key and an empty body are refused.
      const proto = await s.app.inject({
        method: "PUT",
        url,
        headers: h,
        payload: '{"value":"x","__proto__":{"a":1}}',
      });
      assert.equal(proto.statusCode, 400);
      assert.equal((await s.app.inject({ method: "PUT", url, headers: h, payload: "" })).statusCode, 400);
      // No body under a JSON content type (clients that send one on every request) is no
      // body: a DELETE goes through, on both route families.
      for (const del of [url, "/v1/secret/data/app/dev/GREETING"]) {
        await s.app.inject({ method: "PUT", url, headers: h, payload: { value: "to delete" } });
        const r = await s.app.inject({ method: "DELETE", url: del, headers: h, payload: "" });
        assert.ok(r.statusCode < 300, `${del}: ${r.statusCode} ${r.body}`);
      }
      // So is no body under any other type (axios, under node-vault, sends a form type on every
      // POST without data); a body of a type other than JSON is still refused, unparsed.
      const form = { ...h, "content-type": "application/x-www-form-urlencoded" };
      await s.app.inject({ method: "PUT", url, headers: h, payload: { value: "to delete" } });
      const empty = await s.app.inject({ method: "DELETE", url, headers: form, payload: "" });
      assert.ok(empty.statusCode < 300, `${empty.statusCode} ${empty.body}`);
      for (const type of ["application/x-www-form-urlencoded", "application/xml"]) {
        const r = await s.app.inject({
          method: "PUT",
          url,
          headers: { ...h, "content-type": type },
          payload: "value=kept-out",
        });
        assert.equal(r.statusCode, 415, `${type}: ${r.body}`);
        assert.match(r.json<{ error: { message: string } }>().error.message, /unsupported content type/);
        assert.ok(!r.body.includes("kept-out"));
      }
    });

    test("secrets: write with check-and-set, read, versions, history, restore, delete, destroy", async (t) => {
      const s = await createTestServer(t, dialect);
      const h = bearer(await s.rootToken());
      const url = "/api/v1/secrets/payments/prod/STRIPE_KEY";
      const v1 = makeKey();
      const v2 = makeKey();
      const w1 = await s.app.inject({ method: "PUT", url, headers: h, payload: { value: v1, cas: 0 } });
      assert.equal(w1.statusCode, 200, w1.body);
      assert.equal(w1.json<{ version: number }>().version, 1);
      const stale = await s.app.inject({ method: "PUT", url, headers: h, payload: { value: v2, cas: 0 } });
      assert.equal(stale.statusCode, 409);
      assert.equal(stale.json<{ error: { code: string } }>().error.code, "KW_ERR_VAULT_CAS_CONFLICT");
      assert.ok(!stale.body.includes(v2));
      assert.equal(
        (await s.app.inject({ method: "PUT", url, headers: h, payload: { value: v2, cas: 1 } })).statusCode,
        200,
      );
      const read = await s.app.inject({ url, headers: h });
      assert.equal(read.statusCode, 200);
      const r = read.json<{ value: string; version: number; metadata: Record<string, unknown> }>();
      assert.equal(r.value, v2);
      assert.equal(r.version, 2);
      assert.equal(
        (await s.app.inject({ url: `${url}?version=1`, headers: h })).json<{ value: string }>().value,
        v1,
      );
      const hist = await s.app.inject({ url: `${url}/history`, headers: h });
      assert.deepEqual(
        hist.json<{ versions: { version: number }[] }>().versions.map((v) => v.version),
        [1, 2],
      );
      const restored = await s.app.inject({
        method: "POST",
        url: `${url}/restore`,
        headers: h,
        payload: { version: 1 },
      });
      assert.equal(restored.json<{ version: number }>().version, 3);
      assert.equal((await s.app.inject({ url, headers: h })).json<{ value: string }>().value, v1);
      const list = await s.app.inject({ url: "/api/v1/secrets?prefix=payments/", headers: h });
      assert.deepEqual(
        list.json<{ secrets: { path: string }[] }>().secrets.map((x) => x.path),
        ["payments/prod/STRIPE_KEY"],
      );
      assert.ok(!list.body.includes(v1), "a list never carries values");
      const destroyed = await s.app.inject({
        method: "POST",
        url: `${url}/destroy`,
        headers: h,
        payload: { versions: [2] },
      });
      assert.equal(destroyed.statusCode, 200);
      assert.equal((await s.app.inject({ url: `${url}?version=2`, headers: h })).statusCode, 410);
      assert.equal((await s.app.inject({ method: "DELETE", url, headers: h })).statusCode, 200);
      const gone = await s.app.inject({ url, headers: h });
      assert.equal(gone.statusCode, 410);
      assert.equal(gone.json<{ error: { code: string } }>().error.code, "KW_ERR_VAULT_DELETED");
      assert.equal(
        (await s.app.inject({ method: "POST", url: `${url}/undelete`, headers: h })).statusCode,
        200,
      );
      assert.equal((await s.app.inject({ url, headers: h })).statusCode, 200);
      // Every operation was audited under the token's identity.
      const audit = await s.app.inject({
        url: "/api/v1/audit?path=payments/prod/STRIPE_KEY&action=secret.read",
        headers: h,
      });
      const entries = audit.json<{ entries: { actor: string; source: string }[] }>().entries;
      assert.ok(entries.length >= 4);
      assert.ok(entries.every((e) => e.actor.startsWith("mid_") || e.actor.includes("_")));
      assert.match(entries[0]!.source, /^ip=127\.0\.0\.1 ua=/);
      assert.ok(!audit.body.includes(v1));
      // `since` is read as a time; a typo is an error, not an empty answer.
      const since = async (value: string) => {
        const r = await s.app.inject({
          url: `/api/v1/audit?action=secret.read&since=${encodeURIComponent(value)}`,
          headers: h,
        });
        return { status: r.statusCode, body: r.json<{ entries?: unknown[]; error?: { code: string } }>() };
      };
      assert.equal((await since("2000-01-01")).body.entries?.length, entries.length);
      assert.equal((await since("2000-01-01 00:00")).body.entries?.length, entries.length);
      assert.equal((await since("2999-01-01T00:00:00Z")).body.entries?.length, 0);
      const typo = await since("7dd");
      assert.deepEqual([typo.status, typo.body.error?.code], [400, "KW_ERR_USAGE"]);
    });

    test("what the HTTP parser refuses is answered in the one error shape", async (t) => {
      const s = await createTestServer(t, dialect);
      const { url } = await s.listen();
      const { port } = new URL(url);
      const raw = (request: string) =>
        new Promise<string>((resolve, reject) => {
          let answer = "";
          const socket = netConnect({ host: "127.0.0.1", port: Number(port) }, () => socket.end(request));
          socket.on("data", (d: Buffer) => (answer += d.toString()));
          socket.on("close", () => {
            resolve(answer);
          });
          // The server closes at once; a reset after its answer arrived is not a failure.
          socket.on("error", (e) => {
            if (answer === "") reject(e);
            else resolve(answer);
          });
        });
      for (const [request, status, reason] of [
        ["GARBAGE\r\n\r\n", 400, "it is not valid HTTP"],
        [
          `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: ${"a".repeat(40_000)}\r\n\r\n`,
          431,
          "its headers are larger",
        ],
      ] as const) {
        const answer = await raw(request);
        assert.match(answer, new RegExp(`^HTTP/1.1 ${status} `));
        const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as {
          error: { code: string; message: string; requestId: string };
        };
        assert.equal(body.error.code, "KW_ERR_HTTP_BAD_REQUEST");
        assert.match(body.error.message, new RegExp(reason));
        assert.match(body.error.requestId, /^req_/);
      }
      assert.equal((await fetch(new URL("/healthz", url))).status, 200, "the server goes on");
    });

    test("requests are validated; bodies are bounded; schema errors name no value", async (t) => {
      const s = await createTestServer(t, dialect, { flags: { "server.bodyLimit": 2048 } });
      const h = bearer(await s.rootToken());
      const url = "/api/v1/secrets/payments/prod/K";
      const extra = await s.app.inject({
        method: "PUT",
        url,
        headers: h,
        payload: { value: "x", admin: true },
      });
      assert.equal(extra.statusCode, 400);
      assert.equal(extra.json<{ error: { code: string } }>().error.code, "KW_ERR_HTTP_BAD_REQUEST");
      const big = await s.app.inject({
        method: "PUT",
        url,
        headers: h,
        payload: { value: "y".repeat(5000) },
      });
      assert.equal(big.statusCode, 413);
      assert.equal(big.json<{ error: { code: string } }>().error.code, "KW_ERR_HTTP_TOO_LARGE");
      const secretish = makeKey();
      const bad = await s.app.inject({
        method: "PUT",
        url,
        headers: { ...h, "content-type": "application/json" },
        payload: `{"value": "${secretish}`,
      });
      assert.equal(bad.statusCode, 400);
      assert.ok(!bad.body.includes(secretish), "a parse error never echoes the body");
      const badPath = await s.app.inject({
        method: "PUT",
        url: "/api/v1/secrets/pay%20ments/prod/K",
        headers: h,
        payload: { value: "v" },
      });
      assert.equal(badPath.statusCode, 400);
      assert.equal(badPath.json<{ error: { code: string } }>().error.code, "KW_ERR_VAULT_PATH_INVALID");
    });

    test("a sealed vault is not ready and its routes answer 503 saying so, with no detail", async (t) => {
      const s = await createTestServer(t, dialect);
      const h = bearer(await s.rootToken());
      const url = "/api/v1/secrets/payments/prod/X";
      const value = makeKey();
      assert.equal(
        (await s.app.inject({ method: "PUT", url, headers: h, payload: { value } })).statusCode,
        200,
      );
      const vaultStatus = async () =>
        (await s.app.inject({ url: "/v1/sys/seal-status" })).json<{ sealed: boolean; type: string }>();
      const before = await vaultStatus();
      assert.deepEqual([before.sealed, before.type], [false, "shamir"]);
      await s.kw.kms.close();
      // Vault's seal status (hvac's is_sealed), public as in Vault.
      assert.equal((await vaultStatus()).sealed, true);
      const r = await s.app.inject({ url: "/readyz" });
      assert.equal(r.statusCode, 503);
      assert.equal(r.json<{ error: { code: string } }>().error.code, "KW_ERR_SERVER_NOT_READY");
      const read = await s.app.inject({ url, headers: h });
      assert.equal(read.statusCode, 503, read.body);
      assert.equal(read.json<{ error: { code: string } }>().error.code, "KW_ERR_KMS_SEALED");
      // The sealed state is public (/readyz, seal-status): the message says it, and no more.
      assert.equal(
        read.json<{ error: { message: string } }>().error.message,
        "the vault is sealed: the local key provider needs its passphrase",
      );
    });

    test("failed authentications are rate-limited per address", async (t) => {
      const s = await createTestServer(t, dialect, { flags: { "server.authFailureLimit": 3 } });
      const codes: number[] = [];
      for (let i = 0; i < 5; i++)
        codes.push((await s.app.inject({ url: "/api/v1/secrets", headers: bearer("nope") })).statusCode);
      assert.deepEqual(codes, [401, 401, 401, 429, 429]);
      const good = await s.rootToken();
      // Blocked until the window passes, even with a good token: guessing gains nothing.
      assert.equal((await s.app.inject({ url: "/api/v1/secrets", headers: bearer(good) })).statusCode, 429);
    });

    test("past server.rateLimit requests a minute an address gets 429 with the limit's headers", async (t) => {
      const s = await createTestServer(t, dialect, { flags: { "server.rateLimit": 3 } });
      const h = bearer(await s.rootToken());
      const answers = [];
      for (let i = 0; i < 4; i++)
        answers.push(await s.app.inject({ url: "/api/v1/tokens/self", headers: h }));
      assert.deepEqual(
        answers.map((r) => r.statusCode),
        [200, 200, 200, 429],
      );
      for (const r of answers.slice(0, 3))
        assert.equal(r.headers["x-ratelimit-remaining"], undefined, "not on answers within the limit");
      const limited = answers[3]!;
      assert.equal(limited.json<{ error: { code: string } }>().error.code, "KW_ERR_HTTP_RATE_LIMITED");
      assert.equal(limited.headers["x-ratelimit-limit"], "3");
      assert.equal(limited.headers["x-ratelimit-remaining"], "0");
      assert.match(String(limited.headers["retry-after"]), /^\d+$/);
    });

    test("OpenAPI 3.1 document lists every route with request and response schemas", async (t) => {
      const s = await createTestServer(t, dialect);
      const r = await s.app.inject({ url: "/api/v1/openapi.json" });
      assert.equal(r.statusCode, 200);
      const doc = r.json<{
        openapi: string;
        paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
      }>();
      assert.equal(doc.openapi, "3.1.0");
      const ops = Object.entries(doc.paths).flatMap(([p, methods]) =>
        Object.entries(methods).map(([m, op]) => ({ p, m, op })),
      );
      assert.ok(ops.length >= 30, `only ${ops.length} operations`);
      // Vault's token renewals answer only Vault's refusal for a token that is not renewable:
      // Keywarden's tokens keep the life they were made with.
      const refusalsOnly = new Set([
        "/v1/auth/token/renew-self",
        "/v1/auth/token/renew",
        "/v1/auth/token/renew-accessor",
      ]);
      for (const { p, m, op } of ops) {
        const ok = Object.keys(op.responses).filter((c) => c.startsWith(refusalsOnly.has(p) ? "400" : "2"));
        assert.ok(ok.length > 0, `${m} ${p} declares no success response`);
        // Public operations (security: [], like /api/v1/sys/seal-status) need no 401.
        const isPublic = op.security?.length === 0 || p === "/healthz" || p === "/readyz";
        assert.ok("401" in op.responses || isPublic, `${m} ${p} declares no 401`);
      }
    });
  });
}
