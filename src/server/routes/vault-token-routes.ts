/**
 * Vault's token routes that clients call: `lookup-self` (to check their token), `create` (a
 * short-lived child of the calling token: `vault token create`, node-vault's tokenCreate,
 * Terraform's provider for each run), `revoke-self` (a CI job's cleanup), `revoke` (a token by
 * its text, a leaked one: its holder may, with no other token) and `revoke-accessor` (by its
 * tok_ id, for whoever may revoke it), and `lookup` of a token by its text. The token comes
 * in `X-Vault-Token`; answers and errors in Vault's shape (vault-api.ts). Vault takes a PUT as
 * a POST, and clients rely on it: Go's api (the Vault CLI, Vault Agent, Terraform) sends PUT
 * for revoke-self and every `vault write`, node-vault POST; so both are served.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import Type from "typebox";
import type { Clock } from "../../core/clock.ts";
import { KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import type { Principal } from "../../services/access/access-types.ts";
import { countedLogin, isAuthFailure, principalOf, type AuthFailures } from "../plugins/auth.ts";
import { TokenId, TokenText } from "../schemas.ts";
import { AuthAnswer, authAnswer, envelope, VAULT_ERRORS, vaultError, wrap } from "./vault-api.ts";

/** Vault's /v1/auth/token/lookup-self answer, as far as Keywarden's tokens have its fields. */
const LookupSelf = envelope({
  id: Type.String({ description: "The token's tok_ id: Keywarden never echoes a token." }),
  accessor: Type.String(),
  display_name: Type.String(),
  entity_id: Type.String(),
  policies: Type.Array(Type.String()),
  expire_time: Type.Union([Type.String(), Type.Null()]),
  ttl: Type.Integer(),
  type: Type.String(),
  renewable: Type.Boolean(),
});

/**
 * Seconds in a Vault duration: whole seconds as a number or digits, or Go's duration form with
 * hours, minutes and seconds (`20m`, `1h30m`, `1200s`). Undefined for anything else.
 *
 * @example
 *   vaultSeconds("1h30m") // 5400
 */
export function vaultSeconds(ttl: string | number): number | undefined {
  if (typeof ttl === "number") return Number.isSafeInteger(ttl) && ttl >= 0 ? ttl : undefined;
  if (/^\d{1,9}$/.test(ttl)) return Number(ttl);
  const m = /^(?:(\d{1,6})h)?(?:(\d{1,8})m)?(?:(\d{1,9})s)?$/.exec(ttl);
  if (m === null || ttl === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** A Vault duration in a request body: a string or whole seconds. */
const Duration = Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Integer({ minimum: 0 })]));

/**
 * @example
 *   await app.register(vaultTokenRoutes, { prefix: "/v1", access, clock, childTokenMaxMinutes: 60, failures });
 */
export const vaultTokenRoutes: FastifyPluginAsyncTypebox<{
  access: AccessManager;
  /** The clock the access service uses (a token's remaining TTL is counted by it). */
  clock: Clock;
  /** access.childTokenMaxMinutes: the life of a token created without a `ttl`. */
  childTokenMaxMinutes: number;
  /** The auth hook's per-address failure window (a revoke by text counts against it). */
  failures: AuthFailures;
}> = (app, { access, clock, childTokenMaxMinutes, failures }) => {
  app.setErrorHandler((e, request, reply) => vaultError(request, reply, e));

  /**
   * The principal of a token given by its text in the body (lookup, renew): holding it is the
   * right to ask; a bad one counts against the address as a failed authentication.
   */
  const byText = (request: FastifyRequest, token: string): Promise<Principal> =>
    countedLogin(
      failures,
      request.ip,
      () => access.authenticateToken(request.kwCtx, token, request.ip),
      isAuthFailure,
    );

  /** Vault's lookup answer for a token: Keywarden never echoes a token, its accessor is its tok_ id. */
  const lookupAnswer = (t: {
    tokenId: string;
    name: string;
    entityId: string;
    policies: readonly string[];
    expiresAt: string | undefined;
  }) => {
    const expiresAt = t.expiresAt ?? null;
    const ttl =
      expiresAt === null
        ? 0
        : Math.max(0, Math.floor((Date.parse(expiresAt) - clock.now().getTime()) / 1000));
    return {
      id: t.tokenId,
      accessor: t.tokenId,
      display_name: t.name,
      entity_id: t.entityId,
      policies: [...t.policies],
      expire_time: expiresAt,
      ttl,
      type: "service",
      renewable: false,
    };
  };
  /** The lookup answer for an authenticated principal's token. */
  const lookupOf = (p: Principal) =>
    lookupAnswer({
      tokenId: p.tokenId ?? p.id,
      name: p.name,
      entityId: p.id,
      policies: p.policies,
      expiresAt: p.expiresAt,
    });
  const tags = ["vault-token"];

  // Vault's token self-lookup, which clients call to check their token (hvac's
  // is_authenticated, node-vault's tokenLookupSelf). Vault returns the token itself as `id`;
  // Keywarden never echoes a token, so `id` and `accessor` are the token's tok_ id.
  app.get(
    "/auth/token/lookup-self",
    {
      schema: {
        tags,
        summary: "Vault's token self-lookup: the calling token's identity, policies and expiry",
        response: { 200: LookupSelf, ...VAULT_ERRORS },
      },
    },
    (request) => wrap(request, lookupOf(principalOf(request))),
  );

  // `vault token lookup <token>` (POST with the token in the body): the same answer for the
  // token given, holding its text being enough (its holder could look it up with itself).
  // Public, counted per address like a failed authentication, as revoke by text is.
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/lookup",
    config: { public: true },
    schema: {
      tags,
      summary: "Vault's token lookup: a token's identity, policies and expiry, by its text",
      security: [],
      body: Type.Object({ token: TokenText }),
      response: { 200: LookupSelf, ...VAULT_ERRORS },
    },
    handler: async (request) => wrap(request, lookupOf(await byText(request, request.body.token))),
  });

  // `vault token create`, node-vault's tokenCreate and Terraform's Vault provider (which makes
  // a child token for each run): a short-lived child of the calling token (Keywarden's
  // POST /api/v1/tokens/child), with the parent's policies or fewer, never past the parent, and
  // at most access.childTokenMaxMinutes (also when no ttl is asked for). What Keywarden's tokens
  // cannot be (orphans, periodic, use-limited, batch, with an id or metadata chosen by the
  // caller) is refused with 400 naming it; `renewable` is answered as it is: false.
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/create",
    // node-vault's tokenCreate() with no options sends no body: Vault's defaults.
    preValidation: emptyBody,
    schema: {
      tags,
      summary: "Vault's token create: a short-lived child of the calling token",
      body: Type.Object({
        policies: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
        ttl: Duration,
        explicit_max_ttl: Duration,
        period: Duration,
        display_name: Type.Optional(Type.String({ maxLength: 200 })),
        meta: Type.Optional(Type.Union([Type.Null(), Type.Record(Type.String(), Type.String())])),
        no_parent: Type.Optional(Type.Boolean()),
        no_default_policy: Type.Optional(Type.Boolean()),
        renewable: Type.Optional(Type.Boolean()),
        num_uses: Type.Optional(Type.Integer({ minimum: 0 })),
        type: Type.Optional(Type.String({ maxLength: 16 })),
        id: Type.Optional(Type.String({ maxLength: 256 })),
      }),
      response: {
        200: AuthAnswer,
        ...VAULT_ERRORS,
      },
    },
    handler: async (request) => {
      const b = request.body;
      const seconds = (what: string, d: string | number | undefined): number | undefined => {
        if (d === undefined || d === "") return undefined;
        const n = vaultSeconds(d);
        if (n === undefined)
          throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
            reason: `${what} is not a duration: use whole seconds or h, m and s, like 20m`,
          });
        return n;
      };
      // As in Vault, a zero ttl is the default and a zero explicit_max_ttl no bound.
      const ttl = seconds("ttl", b.ttl) || undefined;
      const max = seconds("explicit_max_ttl", b.explicit_max_ttl) || undefined;
      const unsupported = [
        b.no_parent === true ? "no_parent (a token made here is a child of the caller's)" : undefined,
        (seconds("period", b.period) ?? 0) > 0 ? "period (tokens are not renewed)" : undefined,
        (b.num_uses ?? 0) > 0 ? "num_uses" : undefined,
        b.type !== undefined && !["", "service", "default"].includes(b.type)
          ? "type (service tokens only)"
          : undefined,
        b.id !== undefined && b.id !== "" ? "id (Keywarden draws every token)" : undefined,
        b.meta !== undefined && b.meta !== null && Object.keys(b.meta).length > 0 ? "meta" : undefined,
      ].filter((x) => x !== undefined);
      if (unsupported.length > 0)
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
          reason: `not supported: ${unsupported.join(", ")}`,
        });
      const life = Math.min(ttl ?? childTokenMaxMinutes * 60, max ?? Number.MAX_SAFE_INTEGER);
      if (life % 60 !== 0)
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
          reason: `a token lives whole minutes: ttl ${life}s is not`,
        });
      const issued = await access.createChildToken(request.kwCtx, principalOf(request), {
        ttlMinutes: life / 60,
        policies: b.policies !== undefined && b.policies.length > 0 ? b.policies : undefined,
        description:
          b.display_name === undefined || b.display_name === "" ? "vault token create" : b.display_name,
      });
      return authAnswer(request, issued, clock);
    },
  });

  // `vault token revoke <token>` (Go's api: PUT with the token in the body): revokes that
  // token and its children, holding its text being enough (a leaked one), as
  // POST /api/v1/tokens/revoke. Public, counted per address like a failed authentication.
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/revoke",
    config: { public: true },
    schema: {
      tags,
      summary: "Vault's token revoke: revoke a token by its text (a leaked one), and its children",
      security: [],
      body: Type.Object({ token: TokenText }),
      response: { 204: Type.Null(), ...VAULT_ERRORS },
    },
    handler: async (request, reply) => {
      await countedLogin(
        failures,
        request.ip,
        () => access.revokeTokenValue(request.kwCtx, new Secret(request.body.token)),
        isAuthFailure,
      );
      return reply.code(204).send(null);
    },
  });

  // `vault token lookup -accessor tok_...`: a token by its accessor (its tok_ id), for its own
  // identity or an admin of that identity, as listing its tokens needs.
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/lookup-accessor",
    schema: {
      tags,
      summary:
        "Vault's token lookup-accessor: a token's identity, policies and expiry, by its accessor (tok_ id)",
      body: Type.Object({ accessor: TokenId }),
      response: { 200: LookupSelf, ...VAULT_ERRORS },
    },
    handler: async (request) => {
      const t = await access.describeToken(request.kwCtx, principalOf(request), request.body.accessor);
      return wrap(
        request,
        lookupAnswer({
          tokenId: t.id,
          name: t.identityName,
          entityId: t.identityId,
          policies: t.policies,
          expiresAt: t.expiresAt,
        }),
      );
    },
  });

  // `vault token revoke -accessor tok_...`: a token by its accessor, which is its tok_ id here
  // (lookup-self and create answer it), as DELETE /api/v1/tokens/:id: the caller's own, or
  // any with `revoke` on _sys/tokens/<id>.
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/revoke-accessor",
    schema: {
      tags,
      summary:
        "Vault's token revoke-accessor: revoke a token by its accessor (its tok_ id), and its children",
      body: Type.Object({ accessor: TokenId }),
      response: { 204: Type.Null(), ...VAULT_ERRORS },
    },
    handler: async (request, reply) => {
      await access.revokeToken(request.kwCtx, principalOf(request), request.body.accessor);
      return reply.code(204).send(null);
    },
  });

  // `vault token revoke -self`, node-vault's tokenRevokeSelf: the calling token and its children
  // are revoked at once (a CI job's cleanup).
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/revoke-self",
    schema: {
      tags,
      summary: "Vault's token revoke-self: revoke the calling token and its children",
      response: { 204: Type.Null(), ...VAULT_ERRORS },
    },
    handler: async (request, reply) => {
      const p = principalOf(request);
      if (p.tokenId === undefined)
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
          reason: "the request carries no token to revoke",
        });
      await access.revokeToken(request.kwCtx, p, p.tokenId);
      return reply.code(204).send(null);
    },
  });

  // `vault token renew` (-self, a token by its text, or -accessor), hvac's renew_self, Spring
  // Vault's session manager: Keywarden's tokens keep the life they were made with (every
  // login and create answers `renewable: false`; a client that wants longer logs in again),
  // so a renewal of a token that is good gets Vault's own answer for a token that is not
  // renewable, 400 `lease is not renewable`, and nothing changes. One that is not good gets
  // what any other use of it gets (401, or 403/404 for an accessor).
  const notRenewable = (): never => {
    throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason: "lease is not renewable" });
  };
  const Increment = Type.Object({ increment: Duration });
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/renew-self",
    preValidation: emptyBody,
    schema: {
      tags,
      summary:
        "Vault's token renew-self: 400, lease is not renewable (tokens keep the life they were made with)",
      body: Increment,
      response: VAULT_ERRORS,
    },
    handler: notRenewable,
  });
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/renew",
    config: { public: true },
    schema: {
      tags,
      summary: "Vault's token renew: 400, lease is not renewable, for a good token given by its text",
      security: [],
      body: Type.Object({ token: TokenText, increment: Duration }),
      response: VAULT_ERRORS,
    },
    handler: async (request) => {
      await byText(request, request.body.token);
      return notRenewable();
    },
  });
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/token/renew-accessor",
    schema: {
      tags,
      summary:
        "Vault's token renew-accessor: 400, lease is not renewable, for a token the caller may look up",
      body: Type.Object({ accessor: TokenId, increment: Duration }),
      response: VAULT_ERRORS,
    },
    handler: async (request) => {
      await access.describeToken(request.kwCtx, principalOf(request), request.body.accessor);
      return notRenewable();
    },
  });
  return Promise.resolve();
};

/** Go's api and node-vault send some of these with no body: Vault's defaults. */
function emptyBody(request: { body: unknown }, _reply: unknown, done: () => void): void {
  if (request.body === undefined) request.body = {};
  done();
}
