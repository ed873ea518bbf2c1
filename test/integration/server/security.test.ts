/**
 * The security suite, written once for every route. Routes are enumerated from the server
 * itself (its onRoute hook): a protected route missing from ROUTES below fails the test, so
 * a new route cannot ship without these checks. For each protected route and each way a
 * request can be unauthenticated or unauthorized, the answer is the right 401/403 in the
 * one error shape, and no secret value or token appears in it.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LightMyRequestResponse } from "fastify";
import { createTestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

const SECRET = "payments/prod/STRIPE_KEY";
const S = "/api/v1/secrets/payments/prod/STRIPE_KEY";
const KV = "/v1/secret/data/payments/prod/STRIPE_KEY";
const KVM = "/v1/secret/metadata/payments/prod/STRIPE_KEY";

interface RouteCase {
  /** A concrete URL for the route. */
  readonly url: string;
  readonly body?: unknown;
  /**
   * What a valid token scoped elsewhere (a sibling path, another project) gets: 403 for
   * every route that touches something, 2xx for routes about the caller itself.
   */
  readonly scoped?: number;
  /** The route revokes the calling token: the scoped tokens it is tried with are made for it. */
  readonly revokesCaller?: boolean;
}

/** A Vault token route that takes the root token's accessor (its tok_ id) in its body. */
const byAccessor = (verb: "lookup" | "revoke" | "renew"): RouteCase => ({
  url: `/v1/auth/token/${verb}-accessor`,
  body: { accessor: "ROOT_TOKEN_ID" },
});

/** Every protected route, by `METHOD url-pattern` as Fastify registers it. */
const ROUTES: Readonly<Record<string, RouteCase>> = {
  "GET /api/v1/secrets": { url: "/api/v1/secrets?prefix=payments/prod/" },
  "GET /api/v1/secrets/:project/:env/:name": { url: S },
  "PUT /api/v1/secrets/:project/:env/:name": { url: S, body: { value: "replacement-value-1" } },
  "DELETE /api/v1/secrets/:project/:env/:name": { url: S },
  "GET /api/v1/secrets/:project/:env/:name/metadata": { url: `${S}/metadata` },
  "PATCH /api/v1/secrets/:project/:env/:name/metadata": { url: `${S}/metadata`, body: { owner: "x" } },
  "GET /api/v1/secrets/:project/:env/:name/history": { url: `${S}/history` },
  "POST /api/v1/secrets/:project/:env/:name/restore": { url: `${S}/restore`, body: { version: 1 } },
  "POST /api/v1/secrets/:project/:env/:name/undelete": { url: `${S}/undelete` },
  "POST /api/v1/secrets/:project/:env/:name/destroy": { url: `${S}/destroy`, body: { versions: [1] } },
  "GET /api/v1/audit": { url: `/api/v1/audit?path=${SECRET}` },
  // Filtered views: a token sees only what its list capability covers (empty, not 403).
  "GET /api/v1/projects": { url: "/api/v1/projects", scoped: 200 },
  "GET /api/v1/projects/:project/environments": {
    url: "/api/v1/projects/payments/environments",
    scoped: 200,
  },
  "GET /api/v1/environments/:project/:env/secrets": { url: "/api/v1/environments/payments/prod/secrets" },
  "POST /api/v1/sys/seal": { url: "/api/v1/sys/seal" },
  "POST /api/v1/tokens": { url: "/api/v1/tokens", body: { identity: "root", policies: ["root"] } },
  // Any token may make a short-lived child of itself and look itself up.
  "POST /api/v1/tokens/child": { url: "/api/v1/tokens/child", body: { ttlMinutes: 5 }, scoped: 201 },
  "GET /api/v1/tokens/self": { url: "/api/v1/tokens/self", scoped: 200 },
  "GET /v1/auth/token/lookup-self": { url: "/v1/auth/token/lookup-self", scoped: 200 },
  "GET /api/v1/tokens/self/capabilities": {
    url: "/api/v1/tokens/self/capabilities?path=payments/prod/STRIPE_KEY",
    scoped: 200,
  },
  "POST /v1/sys/capabilities-self": {
    url: "/v1/sys/capabilities-self",
    body: { paths: ["secret/data/payments/prod/STRIPE_KEY"] },
    scoped: 200,
  },
  "PUT /v1/sys/capabilities-self": {
    url: "/v1/sys/capabilities-self",
    body: { paths: ["secret/data/payments/prod/STRIPE_KEY"] },
    scoped: 200,
  },
  // The Vault CLI's mount lookup says only that the mount is KV version 2.
  "GET /v1/sys/internal/ui/mounts/*": {
    url: "/v1/sys/internal/ui/mounts/secret/payments/prod/X",
    scoped: 200,
  },
  // Who the caller is, and ending the caller's own session: about the caller itself.
  "GET /api/v1/auth/session": { url: "/api/v1/auth/session", scoped: 200 },
  "POST /api/v1/auth/logout": { url: "/api/v1/auth/logout", scoped: 200 },
  "GET /api/v1/tokens": { url: "/api/v1/tokens?identity=root" },
  "DELETE /api/v1/tokens/:id": { url: "/api/v1/tokens/ROOT_TOKEN_ID" },
  "POST /v1/auth/token/lookup-accessor": byAccessor("lookup"),
  "PUT /v1/auth/token/lookup-accessor": byAccessor("lookup"),
  "POST /v1/auth/token/revoke-accessor": byAccessor("revoke"),
  "PUT /v1/auth/token/revoke-accessor": byAccessor("revoke"),
  "POST /v1/auth/token/renew-accessor": byAccessor("renew"),
  "PUT /v1/auth/token/renew-accessor": byAccessor("renew"),
  "GET /api/v1/policies": { url: "/api/v1/policies" },
  "GET /api/v1/policies/:name": { url: "/api/v1/policies/root" },
  "PUT /api/v1/policies/:name": {
    url: "/api/v1/policies/root",
    body: { rules: [{ path: "**", capabilities: ["read"] }] },
  },
  "DELETE /api/v1/policies/:name": { url: "/api/v1/policies/root" },
  "GET /api/v1/roles": { url: "/api/v1/roles" },
  "PUT /api/v1/roles/:name": { url: "/api/v1/roles/root", body: { policies: ["root"] } },
  "DELETE /api/v1/roles/:name": { url: "/api/v1/roles/root" },
  "PUT /api/v1/roles/:name/members/:identity": { url: "/api/v1/roles/root/members/root" },
  "DELETE /api/v1/roles/:name/members/:identity": { url: "/api/v1/roles/root/members/root" },
  "GET /api/v1/identities": { url: "/api/v1/identities" },
  "GET /api/v1/identities/:name": { url: "/api/v1/identities/root" },
  "POST /api/v1/identities": { url: "/api/v1/identities", body: { kind: "machine", name: "intruder" } },
  "PATCH /api/v1/identities/:name": { url: "/api/v1/identities/root", body: { disabled: true } },
  "GET /v1/:mount/data/*": { url: KV },
  "POST /v1/:mount/data/*": { url: KV, body: { data: { value: "replacement-value-2" } } },
  "PUT /v1/:mount/data/*": { url: KV, body: { data: { value: "replacement-value-3" } } },
  "DELETE /v1/:mount/data/*": { url: KV },
  "PATCH /v1/:mount/data/*": { url: KV, body: { data: { value: "patched-value-1" } } },
  "GET /v1/:mount/metadata/*": { url: KVM },
  ...Object.fromEntries(
    ["POST", "PUT"].flatMap((method) =>
      ["delete", "undelete", "destroy"].map((what) => [
        `${method} /v1/:mount/${what}/*`,
        { url: `/v1/secret/${what}/payments/prod/STRIPE_KEY`, body: { versions: [1] } },
      ]),
    ),
  ),
  // The mount's root lists projects as a filtered view: elsewhere, nothing to list (Vault's 404).
  "GET /v1/:mount/metadata": { url: "/v1/secret/metadata/?list=true", scoped: 404 },
  "DELETE /v1/:mount/metadata/*": { url: KVM },
  "POST /v1/:mount/metadata/*": { url: KVM, body: { custom_metadata: { owner: "intruder" } } },
  "PUT /v1/:mount/metadata/*": { url: KVM, body: { custom_metadata: { owner: "intruder" } } },
  "PATCH /v1/:mount/metadata/*": { url: KVM, body: { custom_metadata: { owner: null } } },
  // About the caller itself: a scoped token may make a child of itself, or revoke itself.
  "POST /v1/auth/token/create": { url: "/v1/auth/token/create", body: { ttl: "10m" }, scoped: 200 },
  "PUT /v1/auth/token/create": { url: "/v1/auth/token/create", body: { ttl: "10m" }, scoped: 200 },
  "POST /v1/auth/token/revoke-self": { url: "/v1/auth/token/revoke-self", scoped: 204, revokesCaller: true },
  "PUT /v1/auth/token/revoke-self": { url: "/v1/auth/token/revoke-self", scoped: 204, revokesCaller: true },
  // Renewing itself: any good token gets Vault's answer for one that is not renewable.
  "POST /v1/auth/token/renew-self": { url: "/v1/auth/token/renew-self", scoped: 400 },
  "PUT /v1/auth/token/renew-self": { url: "/v1/auth/token/renew-self", scoped: 400 },
};

/** Routes that need no token, and why. */
const PUBLIC = new Set([
  "GET /healthz",
  "GET /readyz",
  "GET /api/v1/openapi.json",
  // A sealed server is unsealed by an operator who may hold no token (rate limited, audited).
  "GET /api/v1/sys/seal-status",
  "POST /api/v1/sys/unseal",
  // Dashboard login checks the password itself (failures limited per address and per identity),
  // as do the token login and Vault's userpass login.
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/token",
  "POST /v1/auth/userpass/login/:username",
  "PUT /v1/auth/userpass/login/:username",
  // Vault's AppRole login checks its secret_id (a token) itself, failures limited per address.
  "POST /v1/auth/approle/login",
  "PUT /v1/auth/approle/login",
  // A token revoked or looked up by its text: holding it is the right to (failures limited per address).
  "POST /api/v1/tokens/revoke",
  "POST /v1/auth/token/revoke",
  "PUT /v1/auth/token/revoke",
  "POST /v1/auth/token/lookup",
  "PUT /v1/auth/token/lookup",
  "POST /v1/auth/token/renew",
  "PUT /v1/auth/token/renew",
  // A CI job's OIDC login checks its JWT itself against the configured trusts (failures
  // limited per address): Keywarden's route and Vault's.
  "POST /api/v1/auth/oidc",
  "POST /v1/auth/jwt/login",
  "PUT /v1/auth/jwt/login",
  "POST /v1/auth/kubernetes/login",
  "PUT /v1/auth/kubernetes/login",
  // Vault's health check: what /readyz and seal-status already tell anyone.
  "GET /v1/sys/health",
  // Vault's seal status: what /api/v1/sys/seal-status already tells anyone.
  "GET /v1/sys/seal-status",
]);

async function setUp(
  t: Parameters<typeof createTestServer>[0],
  dialect: (typeof DIALECTS)[number],
  routes: Set<string>,
) {
  const s = await createTestServer(t, dialect, {
    onRoute: (r) => {
      if (r.method === "HEAD" || (Array.isArray(r.method) && r.method.includes("HEAD"))) return;
      for (const m of [r.method].flat())
        routes.add(`${m} ${r.url}${r.config?.public === true ? " (public)" : ""}`);
    },
  });
  const ctx = s.ctx;
  // The identity the management routes target, with a policy and role both named root.
  await s.kw.access.putPolicy(ctx, "operator", "root", [{ path: "**", capabilities: ["read", "admin"] }]);
  await s.kw.access.putRole(ctx, "operator", "root", ["root"]);
  await s.kw.access.addMachine(ctx, "operator", { name: "root", roles: ["root"] });
  const rootIssued = await s.kw.access.createToken(ctx, "operator", { identity: "root", policies: ["root"] });
  const all = ["read", "write", "list", "delete", "destroy", "rotate", "revoke", "audit", "admin"] as const;
  const expiredToken = await s.token([{ path: "**", capabilities: [...all] }], { ttlSeconds: 60 });
  /** Valid tokens scoped elsewhere: another project, a sibling path. */
  const scopedTokens = async () => ({
    otherProject: await s.token([
      { path: "shipping/**", capabilities: [...all] },
      { path: "_sys/identities/shipping-*", capabilities: [...all] },
    ]),
    sibling: await s.token([
      { path: "payments/dev/*", capabilities: [...all] },
      { path: "payments/dev/", capabilities: [...all] },
      { path: "_sys/policies/payments-dev", capabilities: [...all] },
    ]),
  });
  const tokens = {
    admin: await s.rootToken(),
    revoked: await s.token([{ path: "**", capabilities: [...all] }], { revoked: true }),
    expired: expiredToken,
    ...(await scopedTokens()),
    ipBound: await s.token([{ path: "**", capabilities: [...all] }], { allowIps: ["10.20.30.40/32"] }),
  };
  s.clock.advance(120_000);
  const value = makeKey();
  const h = { authorization: `Bearer ${tokens.admin}` };
  const w = await s.app.inject({ method: "PUT", url: S, headers: h, payload: { value } });
  assert.equal(w.statusCode, 200, w.body);
  return {
    s,
    value,
    tokens,
    scopedTokens,
    rootTokenId: rootIssued.info.id,
    rootToken: rootIssued.token.reveal(),
  };
}

function checkShape(
  r: LightMyRequestResponse,
  status: number,
  code: RegExp,
  forbidden: readonly string[],
  what: string,
) {
  assert.equal(r.statusCode, status, `${what}: ${r.statusCode} ${r.body}`);
  const body = r.json<{ error?: { code?: unknown; message?: unknown; requestId?: unknown } }>();
  assert.ok(body.error !== undefined, `${what}: no error object`);
  assert.match(String(body.error.code), code, what);
  assert.equal(typeof body.error.message, "string", what);
  assert.equal(body.error.requestId, r.headers["x-request-id"], what);
  for (const f of forbidden) assert.ok(!r.body.includes(f), `${what}: the body carries a secret`);
}

/** A token with its last checksum character changed. */
function wrongChecksum(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + (last === "A" ? "B" : "A");
}

for (const dialect of DIALECTS) {
  describe(`security suite over every route (${dialect.name})`, () => {
    test("every route is either public or in the table, and the table names only real routes", async (t) => {
      const routes = new Set<string>();
      await setUp(t, dialect, routes);
      const protectedRoutes = [...routes].filter((r) => !r.endsWith(" (public)"));
      const publicRoutes = [...routes]
        .filter((r) => r.endsWith(" (public)"))
        .map((r) => r.replace(" (public)", ""));
      assert.deepEqual(publicRoutes.sort(), [...PUBLIC].sort(), "public routes changed: review them here");
      const missing = protectedRoutes.filter((r) => !(r in ROUTES));
      assert.deepEqual(missing, [], "routes without security tests: add them to ROUTES");
      const stale = Object.keys(ROUTES).filter((r) => !protectedRoutes.includes(r));
      assert.deepEqual(stale, [], "ROUTES names routes the server does not have");
    });

    test("no token, malformed, wrong checksum, expired, revoked, other project, sibling path, IP not allowed", async (t) => {
      const routes = new Set<string>();
      const f = await setUp(t, dialect, routes);
      const secrets = [f.value, ...Object.values(f.tokens), f.rootToken];
      for (const [route, c] of Object.entries(ROUTES)) {
        const method = route.split(" ")[0] as "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
        const url = c.url.replace("ROOT_TOKEN_ID", f.rootTokenId);
        const body =
          c.body === undefined
            ? undefined
            : (JSON.parse(JSON.stringify(c.body).replaceAll("ROOT_TOKEN_ID", f.rootTokenId)) as object);
        const send = (headers: Record<string, string>) =>
          f.s.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body }) });
        const auth = (token: string): Record<string, string> =>
          url.startsWith("/v1/") ? { "x-vault-token": token } : { authorization: `Bearer ${token}` };
        const cases: [string, Record<string, string>, number, RegExp][] = [
          ["no token", {}, 401, /^KW_ERR_AUTH_MISSING$/],
          ["malformed", auth("kw_svc_short_x"), 401, /^KW_ERR_AUTH_MALFORMED$/],
          ["wrong scheme", { authorization: `Basic ${f.tokens.admin}` }, 401, /^KW_ERR_AUTH_MALFORMED$/],
          ["wrong checksum", auth(wrongChecksum(f.tokens.admin)), 401, /^KW_ERR_AUTH_CHECKSUM$/],
          ["expired", auth(f.tokens.expired), 401, /^KW_ERR_AUTH_EXPIRED$/],
          ["revoked", auth(f.tokens.revoked), 401, /^KW_ERR_AUTH_REVOKED$/],
          ["IP not allowed", auth(f.tokens.ipBound), 401, /^KW_ERR_AUTH_IP_NOT_ALLOWED$/],
        ];
        if (c.scoped === undefined) {
          cases.push(["other project", auth(f.tokens.otherProject), 403, /^KW_ERR_(ACCESS|VAULT)_DENIED$/]);
          cases.push(["sibling path", auth(f.tokens.sibling), 403, /^KW_ERR_(ACCESS|VAULT)_DENIED$/]);
        }
        for (const [name, headers, status, code] of cases) {
          const r = await send(headers);
          checkShape(r, status, code, secrets, `${route} / ${name}`);
        }
        if (c.scoped !== undefined) {
          const scoped = c.revokesCaller === true ? await f.scopedTokens() : f.tokens;
          for (const who of ["otherProject", "sibling"] as const) {
            const r = await send(auth(scoped[who]));
            assert.equal(r.statusCode, c.scoped, `${route} / ${who}: ${r.body}`);
          }
        }
      }
      // Nothing changed: the secret still reads back with the admin token, at version 1.
      const r = await f.s.app.inject({ url: S, headers: { authorization: `Bearer ${f.tokens.admin}` } });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json<{ version: number; value: string }>().version, 1);
      // Every denial was audited.
      const denied = await f.s.kw.audit.query({ limit: 100_000 });
      const deniedCount = denied.filter((e) => e.result === "denied").length;
      assert.ok(deniedCount >= Object.keys(ROUTES).length * 7, `only ${deniedCount} denials audited`);
    });
  });
}
