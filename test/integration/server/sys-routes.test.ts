/**
 * `/api/v1/sys`: seal status (public, nothing secret), unseal (public, rate limited per
 * address, one at a time, wrong passphrase a 401 that is audited, the passphrase in no log
 * line or body) and seal (admin on _sys/seal), with /readyz following: sealed → unseal over
 * HTTP → ready, on every dialect.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { createKeywarden } from "../../../src/app.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { createLogger } from "../../../src/core/logger.ts";
import { buildServer } from "../../../src/server/server.ts";
import { fixedClock } from "../../helpers/clock.ts";
import { bearer, createTestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

for (const dialect of DIALECTS) {
  describe(`sys routes (${dialect.name})`, () => {
    test("seal over HTTP, then unseal over HTTP: sealed → ready, every step audited, no passphrase logged", async (t) => {
      let logged = "";
      const stream = new PassThrough().on("data", (d: Buffer) => (logged += d.toString()));
      const logger = createLogger({ level: "trace", format: "json", stream });
      const s = await createTestServer(t, dialect, { logger });
      const admin = await s.token([{ path: "_sys/seal", capabilities: ["admin"] }]);
      const reader = await s.token([{ path: "**", capabilities: ["read", "write", "list"] }]);
      const value = makeKey();
      const secret = "/api/v1/secrets/payments/prod/KEY";
      assert.equal(
        (await s.app.inject({ method: "PUT", url: secret, headers: bearer(reader), payload: { value } }))
          .statusCode,
        200,
      );

      const status = await s.app.inject({ url: "/api/v1/sys/seal-status" });
      assert.equal(status.statusCode, 200);
      assert.deepEqual(status.json(), { sealed: false, type: "local" });

      // Sealing needs admin on _sys/seal: a token that may do everything with secrets may not.
      const refused = await s.app.inject({
        method: "POST",
        url: "/api/v1/sys/seal",
        headers: bearer(reader),
      });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json<ErrorBody>().error.code, "KW_ERR_ACCESS_DENIED");
      assert.equal(s.kw.sealed(), false);

      const sealed = await s.app.inject({ method: "POST", url: "/api/v1/sys/seal", headers: bearer(admin) });
      assert.equal(sealed.statusCode, 200, sealed.body);
      assert.deepEqual(sealed.json(), { sealed: true, type: "local" });
      assert.equal((await s.app.inject({ url: "/readyz" })).statusCode, 503);
      assert.deepEqual((await s.app.inject({ url: "/api/v1/sys/seal-status" })).json(), {
        sealed: true,
        type: "local",
      });
      // Vault's health check follows, with the caller's codes when it asks for them.
      const health = await s.app.inject({ url: "/v1/sys/health" });
      assert.equal(health.statusCode, 503);
      assert.equal(health.json<{ sealed: boolean }>().sealed, true);
      assert.equal((await s.app.inject({ url: "/v1/sys/health?sealedcode=200" })).statusCode, 200);
      assert.equal((await s.app.inject({ url: "/v1/sys/health?sealedcode=99" })).statusCode, 400);
      const blocked = await s.app.inject({ url: secret, headers: bearer(reader) });
      assert.equal(blocked.statusCode, 503, "reads stop at once, cached keys or not");
      assert.equal(blocked.json<ErrorBody>().error.code, "KW_ERR_KMS_SEALED");
      // Sealing again is harmless.
      assert.equal(
        (await s.app.inject({ method: "POST", url: "/api/v1/sys/seal", headers: bearer(admin) })).statusCode,
        200,
      );

      const wrongPassphrase = `wrong ${makeKey()}`;
      const wrong = await s.app.inject({
        method: "POST",
        url: "/api/v1/sys/unseal",
        payload: { passphrase: wrongPassphrase },
      });
      assert.equal(wrong.statusCode, 401, wrong.body);
      const wrongBody = wrong.json<ErrorBody>();
      assert.equal(wrongBody.error.code, "KW_ERR_SERVER_UNSEAL_DENIED");
      assert.equal(wrongBody.error.message, "the passphrase does not unseal the vault");
      assert.ok(!wrong.body.includes(wrongPassphrase) && !wrong.body.includes("master.key"));
      assert.equal(s.kw.sealed(), true);
      assert.equal((await s.app.inject({ url: "/readyz" })).statusCode, 503);

      const malformed = await s.app.inject({
        method: "POST",
        url: "/api/v1/sys/unseal",
        payload: { passphrase: s.passphrase, extra: 1 },
      });
      assert.equal(malformed.statusCode, 400);
      assert.ok(!malformed.body.includes(s.passphrase));

      const unsealed = await s.app.inject({
        method: "POST",
        url: "/api/v1/sys/unseal",
        payload: { passphrase: s.passphrase },
      });
      assert.equal(unsealed.statusCode, 200, unsealed.body);
      assert.deepEqual(unsealed.json(), { sealed: false, type: "local" });
      assert.equal((await s.app.inject({ url: "/readyz" })).statusCode, 200);
      const read = await s.app.inject({ url: secret, headers: bearer(reader) });
      assert.equal(read.statusCode, 200);
      assert.equal(read.json<{ value: string }>().value, value);
      // Unsealed already: answered with the status, the passphrase not even checked.
      const again = await s.app.inject({
        method: "POST",
        url: "/api/v1/sys/unseal",
        payload: { passphrase: "anything" },
      });
      assert.deepEqual(again.json(), { sealed: false, type: "local" });

      const audit = (await s.kw.audit.query({ limit: 10_000 })).filter((e) => e.action.startsWith("vault."));
      assert.deepEqual(
        audit.map((e) => [e.action, e.result, e.detail]),
        [
          ["vault.unseal", "ok", "local"], // the test server's own start
          ["vault.seal", "ok", "local"],
          ["vault.unseal", "denied", "KW_ERR_KMS_WRONG_PASSPHRASE"],
          ["vault.unseal", "ok", "local"],
        ],
      );
      const denial = audit[2]!;
      assert.equal(denial.actor, "anonymous");
      assert.match(denial.source, /^ip=127\.0\.0\.1 /);
      assert.ok(logged.includes("request refused"), "the logger was in use");
      for (const p of [s.passphrase, wrongPassphrase, value])
        assert.ok(!logged.includes(p), "a passphrase or value in the server log");
    });

    test("unseal attempts are limited per address, and one runs at a time", async (t) => {
      const s = await createTestServer(t, dialect, { flags: { "server.unsealRateLimit": 3 } });
      await s.kw.seal(s.ctx);
      const attempt = () =>
        s.app.inject({
          method: "POST",
          url: "/api/v1/sys/unseal",
          payload: { passphrase: `no ${makeKey()}` },
        });
      // Two at once: the second does not wait for the first's key derivation.
      const pair = await Promise.all([attempt(), attempt()]);
      assert.deepEqual(pair.map((r) => r.statusCode).sort(), [401, 429]);
      assert.equal(pair.find((r) => r.statusCode === 429)?.headers["retry-after"], "1");
      assert.equal((await attempt()).statusCode, 401);
      const limited = await attempt();
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json<ErrorBody>().error.code, "KW_ERR_HTTP_RATE_LIMITED");
      // Even the right passphrase waits out the window: the limit is before any check.
      const right = await s.app.inject({
        method: "POST",
        url: "/api/v1/sys/unseal",
        payload: { passphrase: s.passphrase },
      });
      assert.equal(right.statusCode, 429);
      assert.equal(s.kw.sealed(), true);
      // Another address has its own allowance.
      const other = await s.app.inject({
        method: "POST",
        url: "/api/v1/sys/unseal",
        payload: { passphrase: s.passphrase },
        remoteAddress: "127.0.0.2",
      });
      assert.equal(other.statusCode, 200, other.body);
      assert.equal(s.kw.sealed(), false);
    });
  });
}

test("a key provider without a passphrase (env) is never sealed: seal is refused and audited", async (t) => {
  const sqlite = DIALECTS.find((d) => d.name === "sqlite") ?? DIALECTS[0]!;
  const { url, home, storage } = await sqlite.create(t, { migrate: false });
  await storage.close();
  const { config } = loadConfig({
    cwd: home,
    env: {},
    flags: { home, "storage.url": url, "kms.provider": "env" },
  });
  const kw = await createKeywarden({
    config,
    home,
    env: { KEYWARDEN_MASTER_KEY: randomBytes(32).toString("base64") },
    clock: fixedClock("2025-03-01T12:00:00.000Z"),
    accessControl: true,
  });
  t.after(() => kw.close());
  const logger = createLogger({ level: "silent", format: "json" });
  const app = await buildServer({ keywarden: kw, access: kw.access, config, logger });
  t.after(() => app.close());
  const ctx = { actor: "cli:operator", source: "cli", requestId: "req_test" };
  await kw.access.putPolicy(ctx, "operator", "sealer", [{ path: "_sys/seal", capabilities: ["admin"] }]);
  await kw.access.putRole(ctx, "operator", "sealer", ["sealer"]);
  await kw.access.addMachine(ctx, "operator", { name: "sealer", roles: ["sealer"] });
  const issued = await kw.access.createToken(ctx, "operator", { identity: "sealer", policies: ["sealer"] });

  assert.deepEqual((await app.inject({ url: "/api/v1/sys/seal-status" })).json(), {
    sealed: false,
    type: "env",
  });
  const unseal = await app.inject({
    method: "POST",
    url: "/api/v1/sys/unseal",
    payload: { passphrase: "x" },
  });
  assert.deepEqual(unseal.json(), { sealed: false, type: "env" });
  const seal = await app.inject({
    method: "POST",
    url: "/api/v1/sys/seal",
    headers: bearer(issued.token.reveal()),
  });
  assert.equal(seal.statusCode, 409, seal.body);
  assert.equal(seal.json<ErrorBody>().error.code, "KW_ERR_KMS_ROTATE_UNSUPPORTED");
  assert.equal((await app.inject({ url: "/readyz" })).statusCode, 200);
  assert.deepEqual(
    (await kw.audit.query({ action: "vault.seal" })).map((e) => [e.result, e.detail]),
    [["failed", "KW_ERR_KMS_ROTATE_UNSUPPORTED"]],
  );
});
