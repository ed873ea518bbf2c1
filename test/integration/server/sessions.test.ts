/**
 * Dashboard sessions through the real server, on every dialect: the login cookie and its
 * attributes, cookie reads under the user's policies, CSRF on every cookie-authenticated
 * write (and none for tokens), idle and absolute timeouts on the test clock, logout,
 * failed logins that look alike, lockout, per-address limits, TOTP, and no session id or
 * password in logs or error bodies.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { describe, test, type TestContext } from "node:test";
import type { LightMyRequestResponse, RouteOptions } from "fastify";
import nodeVault from "node-vault";
import { Secret as OtpSecret } from "otpauth";
import { createLogger } from "../../../src/core/logger.ts";
import { totpCode } from "../../../src/services/access/totp.ts";
import { bearer, createTestServer, type TestServer } from "../../helpers/server.ts";
import { DIALECTS, type TestDialect } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

const LOGIN = "/api/v1/auth/login";
const SESSION = "/api/v1/auth/session";
const LOGOUT = "/api/v1/auth/logout";
const PROD = "/api/v1/secrets/payments/prod/STRIPE_KEY";
const DEV = "/api/v1/secrets/payments/dev/STRIPE_KEY";

interface SessionBody {
  identity: { id: string; name: string; kind: string; policies: string[] };
  expiresAt: string | null;
  idleExpiresAt: string | null;
  csrfToken: string | null;
}

interface Fixture {
  s: TestServer;
  root: string;
  password: string;
  prodValue: string;
  devValue: string;
}

/** A server with alice (read and write on payments/prod/*, nothing on dev) and two secrets. */
async function setUp(
  t: TestContext,
  dialect: TestDialect,
  options: Parameters<typeof createTestServer>[2] = {},
): Promise<Fixture> {
  const s = await createTestServer(t, dialect, options);
  const password = `pw-${randomBytes(9).toString("hex")}`;
  await s.kw.access.putPolicy(s.ctx, "operator", "prod-rw", [
    { path: "payments/prod/*", capabilities: ["read", "write"] },
  ]);
  await s.kw.access.putRole(s.ctx, "operator", "prod-rw", ["prod-rw"]);
  await s.kw.access.addUser(s.ctx, "operator", { name: "alice", password, roles: ["prod-rw"] });
  const root = await s.rootToken();
  const prodValue = makeKey();
  const devValue = makeKey();
  for (const [url, value] of [
    [PROD, prodValue],
    [DEV, devValue],
  ] as const) {
    const w = await s.app.inject({ method: "PUT", url, headers: bearer(root), payload: { value } });
    assert.equal(w.statusCode, 200, w.body);
  }
  return { s, root, password, prodValue, devValue };
}

function login(s: TestServer, body: Record<string, unknown>, cookies: Record<string, string> = {}) {
  return s.app.inject({ method: "POST", url: LOGIN, payload: body, cookies });
}

/** Logs in and returns the raw session id and CSRF token. */
async function session(f: Fixture, name = "alice", password = f.password) {
  const r = await login(f.s, { name, password });
  assert.equal(r.statusCode, 200, r.body);
  const cookie = r.cookies.find((c) => c.name === "kw_session");
  assert.ok(cookie !== undefined, "login sets kw_session");
  const body = r.json<SessionBody>();
  assert.ok(body.csrfToken !== null);
  return { id: cookie.value, csrf: body.csrfToken, response: r };
}

function errorCode(r: LightMyRequestResponse): string {
  return r.json<{ error: { code: string } }>().error.code;
}

/** The response clears kw_session (an expired cookie with no value). */
function assertCleared(r: LightMyRequestResponse, what: string) {
  const c = r.cookies.find((x) => x.name === "kw_session");
  assert.ok(c !== undefined, `${what}: no Set-Cookie for kw_session`);
  assert.equal(c.value, "", what);
  assert.ok(c.maxAge === 0 || (c.expires !== undefined && c.expires.getTime() <= Date.now()), what);
}

/** A concrete URL for a route pattern: any value matches, the auth hook runs before validation. */
function concrete(url: string): string {
  return url.replace(/:[A-Za-z]+/g, "x").replace("*", "a/b/c");
}

for (const dialect of DIALECTS) {
  describe(`dashboard sessions (${dialect.name})`, () => {
    test("login sets an httpOnly, Secure, SameSite=Strict cookie that reads what the user may", async (t) => {
      const f = await setUp(t, dialect, { https: true });
      const { id, csrf, response } = await session(f);
      const raw = String(response.headers["set-cookie"]);
      assert.match(raw, /^kw_session=[A-Za-z0-9_-]{43};/);
      assert.match(raw, /; HttpOnly/);
      assert.match(raw, /; Secure/);
      assert.match(raw, /; SameSite=Strict/);
      assert.match(raw, /; Path=\//);
      assert.doesNotMatch(raw, /; Domain=/i);
      // The browser drops it at the absolute timeout (12 h by default), not later.
      assert.equal(response.cookies[0]?.maxAge, 12 * 3600);
      const body = response.json<SessionBody>();
      assert.equal(body.identity.name, "alice");
      assert.equal(body.identity.kind, "user");
      assert.deepEqual(body.identity.policies, ["prod-rw"]);
      assert.equal(body.expiresAt, "2025-03-02T00:00:00.000Z");
      assert.equal(body.idleExpiresAt, "2025-03-01T12:30:00.000Z");
      assert.ok(!response.body.includes(id), "the session id is only in the cookie");
      assert.notEqual(csrf, id);

      const cookies = { kw_session: id };
      const read = await f.s.app.inject({ url: PROD, cookies });
      assert.equal(read.statusCode, 200, read.body);
      assert.equal(read.json<{ value: string }>().value, f.prodValue);
      const other = await f.s.app.inject({ url: DEV, cookies });
      assert.equal(other.statusCode, 403);
      assert.match(errorCode(other), /^KW_ERR_(ACCESS|VAULT)_DENIED$/);
      assert.ok(!other.body.includes(f.devValue));

      f.s.clock.advance(10 * 60_000);
      const who = await f.s.app.inject({ url: SESSION, cookies });
      assert.equal(who.statusCode, 200, who.body);
      const w = who.json<SessionBody>();
      assert.equal(w.identity.name, "alice");
      assert.equal(w.csrfToken, csrf, "the CSRF token is the session's, stable across requests");
      assert.equal(w.idleExpiresAt, "2025-03-01T12:40:00.000Z", "a request moves the idle expiry");
      // A token caller is answered too, without session fields.
      const byToken = (await f.s.app.inject({ url: SESSION, headers: bearer(f.root) })).json<SessionBody>();
      assert.equal(byToken.csrfToken, null);
      assert.equal(byToken.idleExpiresAt, null);

      // The audit log names the user, never the session id.
      const entries = await f.s.kw.audit.query({ limit: 10_000 });
      assert.ok(entries.some((e) => e.action === "auth.session.create" && e.actor === body.identity.id));
      assert.ok(!JSON.stringify(entries).includes(id));
    });

    test("over plain HTTP (loopback --insecure-http) the cookie goes without Secure", async (t) => {
      const f = await setUp(t, dialect);
      const { response } = await session(f);
      const raw = String(response.headers["set-cookie"]);
      assert.doesNotMatch(raw, /; Secure/);
      assert.match(raw, /; HttpOnly/);
      assert.match(raw, /; SameSite=Strict/);
      // An untrusted X-Forwarded-Proto changes nothing...
      const claim = { "x-forwarded-proto": "https" };
      const spoofed = await f.s.app.inject({
        method: "POST",
        url: LOGIN,
        payload: { name: "alice", password: f.password },
        headers: claim,
      });
      assert.doesNotMatch(String(spoofed.headers["set-cookie"]), /; Secure/);
      // ...but behind a proxy the operator trusts, HTTPS at the proxy makes the cookie Secure.
      const p = await setUp(t, dialect, { flags: { "server.trustProxy": true } });
      const proxied = await p.s.app.inject({
        method: "POST",
        url: LOGIN,
        payload: { name: "alice", password: p.password },
        headers: claim,
      });
      assert.equal(proxied.statusCode, 200, proxied.body);
      assert.match(String(proxied.headers["set-cookie"]), /; Secure/);
    });

    test("cookie writes need their session's CSRF token on every route; token writes do not", async (t) => {
      const routes: RouteOptions[] = [];
      const f = await setUp(t, dialect, { onRoute: (r) => void routes.push(r) });
      await f.s.kw.access.addUser(f.s.ctx, "operator", {
        name: "bob",
        password: f.password,
        roles: ["prod-rw"],
      });
      const alice = await session(f);
      const bob = await session(f, "bob");
      const cookies = { kw_session: alice.id };
      const put = (headers: Record<string, string>, value: string) =>
        f.s.app.inject({ method: "PUT", url: PROD, cookies, headers, payload: { value } });

      const attempt = makeKey();
      const refused: [string, Record<string, string>][] = [
        ["missing", {}],
        ["wrong", { "x-csrf-token": alice.csrf.slice(0, -2) + (alice.csrf.endsWith("AA") ? "BB" : "AA") }],
        ["another session's", { "x-csrf-token": bob.csrf }],
        ["the session id itself", { "x-csrf-token": alice.id }],
        ["empty", { "x-csrf-token": "" }],
      ];
      for (const [what, headers] of refused) {
        const r = await put(headers, attempt);
        assert.equal(r.statusCode, 403, `${what}: ${r.body}`);
        assert.equal(errorCode(r), "KW_ERR_AUTH_CSRF", what);
        assert.ok(!r.body.includes(attempt) && !r.body.includes(alice.id), what);
      }
      const read = await f.s.app.inject({ url: PROD, headers: bearer(f.root) });
      assert.equal(read.json<{ value: string; version: number }>().version, 1, "nothing was written");

      const ok = await put({ "x-csrf-token": alice.csrf }, attempt);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json<{ version: number }>().version, 2);
      // A bearer token is not an ambient credential: no CSRF token needed, cookie or not.
      const byToken = await f.s.app.inject({
        method: "PUT",
        url: PROD,
        headers: bearer(f.root),
        payload: { value: makeKey() },
      });
      assert.equal(byToken.statusCode, 200, byToken.body);
      const vault = await f.s.app.inject({
        method: "POST",
        url: "/v1/secret/data/payments/prod/STRIPE_KEY",
        headers: { "x-vault-token": f.root },
        payload: { data: { value: makeKey() } },
      });
      assert.equal(vault.statusCode, 200, vault.body);

      // Every state-changing protected route, enumerated from the server, refuses a
      // cookie without the token before doing anything.
      const writes = routes.filter(
        (r) =>
          r.config?.public !== true && [r.method].flat().some((m) => !["GET", "HEAD", "OPTIONS"].includes(m)),
      );
      assert.ok(writes.length >= 20, `only ${writes.length} write routes found`);
      for (const r of writes)
        for (const method of [r.method].flat().filter((m) => m !== "HEAD")) {
          const res = await f.s.app.inject({
            method: method as "POST",
            url: concrete(r.url),
            cookies,
            payload: {},
          });
          assert.equal(res.statusCode, 403, `${method} ${r.url}: ${res.body}`);
          assert.equal(errorCode(res), "KW_ERR_AUTH_CSRF", `${method} ${r.url}`);
        }
      const denials = await f.s.kw.audit.query({ limit: 100_000 });
      assert.ok(
        denials.filter((e) => e.action === "auth.csrf" && e.result === "denied").length >= writes.length,
        "every CSRF refusal is audited",
      );
    });

    test("idle and absolute timeouts end the session, and the cookie is cleared", async (t) => {
      const f = await setUp(t, dialect, {
        flags: { "access.sessionIdleMinutes": 30, "access.sessionMaxHours": 1 },
      });
      const idle = await session(f);
      f.s.clock.advance(29 * 60_000);
      assert.equal((await f.s.app.inject({ url: PROD, cookies: { kw_session: idle.id } })).statusCode, 200);
      f.s.clock.advance(29 * 60_000);
      assert.equal(
        (await f.s.app.inject({ url: PROD, cookies: { kw_session: idle.id } })).statusCode,
        200,
        "use moves the idle expiry",
      );
      f.s.clock.advance(30 * 60_000);
      const expired = await f.s.app.inject({ url: PROD, cookies: { kw_session: idle.id } });
      assert.equal(expired.statusCode, 401);
      assert.equal(errorCode(expired), "KW_ERR_AUTH_EXPIRED");
      assertCleared(expired, "idle");
      assert.ok(!expired.body.includes(f.prodValue));

      const busy = await session(f);
      assert.equal(busy.response.cookies[0]?.maxAge, 3600, "the cookie lives as long as the session may");
      for (let i = 0; i < 3; i++) {
        f.s.clock.advance(19 * 60_000);
        const r = await f.s.app.inject({ url: SESSION, cookies: { kw_session: busy.id } });
        assert.equal(r.statusCode, 200, `minute ${19 * (i + 1)}`);
      }
      f.s.clock.advance(3 * 60_000);
      // A write with the right CSRF token is refused the same way.
      const late = await f.s.app.inject({
        method: "PUT",
        url: PROD,
        cookies: { kw_session: busy.id },
        headers: { "x-csrf-token": busy.csrf },
        payload: { value: makeKey() },
      });
      assert.equal(late.statusCode, 401, "an hour after login, used or not");
      assert.equal(errorCode(late), "KW_ERR_AUTH_EXPIRED");
      assertCleared(late, "absolute");

      const unknown = await f.s.app.inject({ url: PROD, cookies: { kw_session: "x".repeat(43) } });
      assert.equal(unknown.statusCode, 401);
      assert.equal(errorCode(unknown), "KW_ERR_AUTH_UNKNOWN");
      assertCleared(unknown, "unknown");
    });

    test("logout ends the session (with its CSRF token) and clears the cookie", async (t) => {
      const f = await setUp(t, dialect);
      const a = await session(f);
      const cookies = { kw_session: a.id };
      const forged = await f.s.app.inject({ method: "POST", url: LOGOUT, cookies });
      assert.equal(forged.statusCode, 403);
      assert.equal(errorCode(forged), "KW_ERR_AUTH_CSRF");
      assert.equal((await f.s.app.inject({ url: PROD, cookies })).statusCode, 200, "still logged in");

      const out = await f.s.app.inject({
        method: "POST",
        url: LOGOUT,
        cookies,
        headers: { "x-csrf-token": a.csrf },
      });
      assert.equal(out.statusCode, 200, out.body);
      assert.deepEqual(out.json(), { ended: true });
      assertCleared(out, "logout");
      const after = await f.s.app.inject({ url: PROD, cookies });
      assert.equal(after.statusCode, 401);
      assertCleared(after, "after logout");

      const byToken = await f.s.app.inject({ method: "POST", url: LOGOUT, headers: bearer(f.root) });
      assert.deepEqual(byToken.json(), { ended: false });

      // A new login ends the session the browser still had.
      const b = await session(f);
      const c = await login(f.s, { name: "alice", password: f.password }, { kw_session: b.id });
      assert.equal(c.statusCode, 200);
      assert.equal((await f.s.app.inject({ url: PROD, cookies: { kw_session: b.id } })).statusCode, 401);

      // A disabled user's sessions end at once.
      const d = await session(f);
      await f.s.kw.access.setDisabled(f.s.ctx, "operator", "alice", true);
      assert.equal((await f.s.app.inject({ url: PROD, cookies: { kw_session: d.id } })).statusCode, 401);
    });

    test("failed logins look alike, lock the account after N, and are limited per address", async (t) => {
      const f = await setUp(t, dialect, {
        flags: { "access.lockoutThreshold": 3, "access.lockoutBaseSeconds": 60 },
      });
      await f.s.kw.access.addMachine(f.s.ctx, "operator", { name: "robot" });
      const wrong = `pw-${randomBytes(9).toString("hex")}`;
      const shape = (r: LightMyRequestResponse) => {
        const e = r.json<{ error: { code: string; message: string } }>().error;
        return { status: r.statusCode, code: e.code, message: e.message, cookie: r.cookies.length };
      };
      const unknownUser = shape(await login(f.s, { name: "mallory", password: wrong }));
      const machine = shape(await login(f.s, { name: "robot", password: wrong }));
      const wrongPassword = shape(await login(f.s, { name: "alice", password: wrong }));
      assert.deepEqual(unknownUser, {
        status: 401,
        code: "KW_ERR_AUTH_BAD_CREDENTIALS",
        message: unknownUser.message,
        cookie: 0,
      });
      assert.deepEqual(wrongPassword, unknownUser);
      assert.deepEqual(machine, unknownUser);

      await login(f.s, { name: "alice", password: wrong });
      await login(f.s, { name: "alice", password: wrong });
      const locked = await login(f.s, { name: "alice", password: f.password });
      assert.deepEqual(
        shape(locked),
        unknownUser,
        "locked: the right password is refused, and it looks the same",
      );
      const audited = await f.s.kw.audit.query({ limit: 10_000 });
      assert.ok(
        audited.some((e) => e.action === "auth.login" && e.detail?.includes("KW_ERR_AUTH_LOCKED_OUT")),
      );
      f.s.clock.advance(61_000);
      assert.equal((await login(f.s, { name: "alice", password: f.password })).statusCode, 200);

      // A cross-site form cannot send JSON: a form-encoded or text login is refused.
      const form = await f.s.app.inject({
        method: "POST",
        url: LOGIN,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: `name=alice&password=${f.password}`,
      });
      assert.ok(form.statusCode >= 400 && form.statusCode < 500, String(form.statusCode));
      assert.equal(form.cookies.length, 0);
      assert.ok(!form.body.includes(f.password));
      const text = await f.s.app.inject({
        method: "POST",
        url: LOGIN,
        headers: { "content-type": "text/plain" },
        payload: JSON.stringify({ name: "alice", password: f.password }),
      });
      assert.equal(text.statusCode, 400);
      assert.equal(text.cookies.length, 0);
    });

    test("per address: past server.authFailureLimit failures even the right password gets 429", async (t) => {
      const f = await setUp(t, dialect, { flags: { "server.authFailureLimit": 3 } });
      const wrong = `pw-${randomBytes(9).toString("hex")}`;
      for (const name of ["alice", "nobody", "alice"])
        assert.equal((await login(f.s, { name, password: wrong })).statusCode, 401);
      const limited = await login(f.s, { name: "alice", password: f.password });
      assert.equal(limited.statusCode, 429);
      assert.equal(errorCode(limited), "KW_ERR_HTTP_RATE_LIMITED");
      const elsewhere = await f.s.app.inject({
        method: "POST",
        url: LOGIN,
        payload: { name: "alice", password: f.password },
        remoteAddress: "10.9.8.7",
      });
      assert.equal(elsewhere.statusCode, 200, "another address is not limited");
    });

    test("a user with TOTP needs the current code", async (t) => {
      const f = await setUp(t, dialect);
      const { uri } = await f.s.kw.access.enrollTotp(f.s.ctx, "operator", "alice");
      const base32 = new URL(uri.reveal()).searchParams.get("secret")!;
      const secret = new Uint8Array(OtpSecret.fromBase32(base32).bytes);
      const without = await login(f.s, { name: "alice", password: f.password });
      assert.equal(without.statusCode, 401);
      assert.equal(errorCode(without), "KW_ERR_AUTH_BAD_CREDENTIALS");
      const code = totpCode(secret, f.s.clock.now().getTime());
      const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
      assert.equal(
        (await login(f.s, { name: "alice", password: f.password, totp: wrongCode })).statusCode,
        401,
      );
      const ok = await login(f.s, { name: "alice", password: f.password, totp: code });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(
        (await login(f.s, { name: "alice", password: f.password, totp: code })).statusCode,
        401,
        "a code is good once",
      );
    });

    test("a password login for a token (the CLI's --user, Vault's userpass): the user's policies, a session's life", async (t) => {
      const f = await setUp(t, dialect, { https: true, flags: { "server.authFailureLimit": 4 } });
      const r = await f.s.app.inject({
        method: "POST",
        url: "/api/v1/auth/token",
        payload: { name: "alice", password: f.password },
      });
      assert.equal(r.statusCode, 201, r.body);
      const body = r.json<{
        token: string;
        identity: { name: string; policies: string[] };
        expiresAt: string;
      }>();
      assert.match(body.token, /^kw_usr_/);
      assert.deepEqual([body.identity.name, body.identity.policies], ["alice", ["prod-rw"]]);
      // As long as a dashboard session may live (access.sessionMaxHours, 12 by default).
      assert.equal(body.expiresAt, new Date(f.s.clock.now().getTime() + 12 * 3_600_000).toISOString());
      assert.ok(!r.body.includes(f.password));
      const read = await f.s.app.inject({ url: PROD, headers: bearer(body.token) });
      assert.equal(read.json<{ value: string }>().value, f.prodValue);
      assert.equal((await f.s.app.inject({ url: DEV, headers: bearer(body.token) })).statusCode, 403);

      // Vault's userpass login, through node-vault over HTTPS.
      const { url, ca } = await f.s.listen();
      const vault = nodeVault({ endpoint: url, requestOptions: { ca } });
      const vaultLogin = (await vault.userpassLogin({ username: "alice", password: f.password })) as {
        auth: { client_token: string; policies: string[]; metadata: unknown };
      };
      assert.match(vaultLogin.auth.client_token, /^kw_usr_/);
      assert.deepEqual(vaultLogin.auth.metadata, { username: "alice" });
      const viaVault = (await vault.read("secret/data/payments/prod/STRIPE_KEY")) as {
        data: { data: { value: string } };
      };
      assert.equal(viaVault.data.data.value, f.prodValue);

      // Failures look alike, whether the name exists or not, and count per address.
      const tokenLogin = (payload: object) =>
        f.s.app.inject({ method: "POST", url: "/api/v1/auth/token", payload });
      const wrong = await tokenLogin({ name: "alice", password: "wrong password!" });
      const nobody = await tokenLogin({ name: "nobody", password: f.password });
      for (const x of [wrong, nobody]) {
        assert.equal(x.statusCode, 401);
        assert.equal(errorCode(x), "KW_ERR_AUTH_BAD_CREDENTIALS");
        assert.ok(!x.body.includes(f.password));
      }
      await assert.rejects(
        nodeVault({ endpoint: url, requestOptions: { ca } }).userpassLogin({
          username: "alice",
          password: "nope",
        }),
        /wrong user name, password or one-time code/,
      );
      // With TOTP enrolled, the code is needed here too.
      const { uri } = await f.s.kw.access.enrollTotp(f.s.ctx, "operator", "alice");
      const secret = new Uint8Array(
        OtpSecret.fromBase32(new URL(uri.reveal()).searchParams.get("secret")!).bytes,
      );
      assert.equal((await tokenLogin({ name: "alice", password: f.password })).statusCode, 401);
      // Four failures now (server.authFailureLimit): even the right code waits.
      const code = totpCode(secret, f.s.clock.now().getTime());
      assert.equal((await tokenLogin({ name: "alice", password: f.password, totp: code })).statusCode, 429);
      const issued = await f.s.kw.audit.query({ action: "auth.login.token", limit: 10 });
      assert.equal(issued.filter((e) => e.result === "ok").length, 2);
    });

    test("no session id, CSRF token or password in the logs or in error bodies", async (t) => {
      let logs = "";
      const stream = new PassThrough().on("data", (d: Buffer) => (logs += d.toString()));
      const logger = createLogger({ level: "trace", format: "json", stream });
      const f = await setUp(t, dialect, { logger });
      const wrong = `pw-${randomBytes(9).toString("hex")}`;
      const bodies: string[] = [];
      bodies.push((await login(f.s, { name: "alice", password: wrong })).body);
      bodies.push((await login(f.s, { name: "nobody", password: f.password })).body);
      bodies.push((await login(f.s, { name: "alice", password: "x".repeat(2000) })).body);
      const a = await session(f);
      const cookies = { kw_session: a.id };
      bodies.push((await f.s.app.inject({ method: "DELETE", url: PROD, cookies })).body);
      bodies.push(
        (await f.s.app.inject({ method: "DELETE", url: PROD, cookies, headers: { "x-csrf-token": a.id } }))
          .body,
      );
      bodies.push((await f.s.app.inject({ url: DEV, cookies })).body);
      // A client that puts a secret in the query: the request log keeps only the names.
      bodies.push((await f.s.app.inject({ url: `${DEV}?session=${a.id}&csrf=${a.csrf}`, cookies })).body);
      await f.s.app.inject({ method: "POST", url: LOGOUT, cookies, headers: { "x-csrf-token": a.csrf } });
      bodies.push((await f.s.app.inject({ url: PROD, cookies })).body);
      await new Promise((r) => setImmediate(r));
      assert.ok(logs.includes("request refused"), "the logger did record the refusals");
      for (const [what, text] of [
        ["logs", logs],
        ["error bodies", bodies.join("\n")],
      ] as const) {
        assert.ok(!text.includes(a.id), `${what} carry the session id`);
        assert.ok(!text.includes(a.csrf), `${what} carry the CSRF token`);
        assert.ok(!text.includes(f.password), `${what} carry the password`);
        assert.ok(!text.includes(wrong), `${what} carry the wrong password`);
      }
      // The audit log too: it names sessions by their ses_ id only.
      const entries = JSON.stringify(await f.s.kw.audit.query({ limit: 10_000 }));
      for (const s of [a.id, a.csrf, f.password, wrong]) assert.ok(!entries.includes(s));
    });
  });
}
