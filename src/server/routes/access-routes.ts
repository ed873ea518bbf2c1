/**
 * `/api/v1/tokens`, `/policies`, `/roles` and `/identities`: management through the access
 * service, which checks `admin` (or `revoke`) on the object's `_sys/...` path and audits
 * every change and denial. A token's text appears once, in the response that creates it.
 * Two token routes need no token: a CI job's OIDC login (`/auth/oidc`) and the revocation of
 * a token by its text (`/tokens/revoke`), both counted per address like failed logins.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import { isKeywardenError, KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { AccessManager, IdentityInfo, TokenInfo } from "../../services/access/access-service.ts";
import type { Capability, Policy } from "../../services/access/access-types.ts";
import { CAPABILITIES } from "../../services/access/access-types.ts";
import { MAX_JWT_LENGTH, type OidcLogin } from "../../services/access/oidc.ts";
import { countedLogin, isAuthFailure, principalOf, type AuthFailures } from "../plugins/auth.ts";
import { NullableString, PROTECTED_ERRORS, PUBLIC_BODY_ERRORS, TokenId, TokenText } from "../schemas.ts";

const TokenInfoSchema = Type.Object({
  id: Type.String(),
  identityId: Type.String(),
  kind: Type.String(),
  description: Type.String(),
  createdAt: Type.String(),
  createdBy: Type.String(),
  expiresAt: Type.String(),
  revokedAt: NullableString,
  allowIps: Type.Array(Type.String()),
  policies: Type.Array(Type.String()),
  parentId: NullableString,
});

const IssuedSchema = Type.Object({
  token: Type.String({ description: "The token: shown this once, stored only as a hash." }),
  info: TokenInfoSchema,
});

const RuleSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 256 }),
    capabilities: Type.Array(Type.Union(CAPABILITIES.map((c) => Type.Literal(c))), { minItems: 1 }),
    effect: Type.Optional(Type.Union([Type.Literal("allow"), Type.Literal("deny")])),
  },
  { additionalProperties: false },
);

const PolicySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  rules: Type.Array(
    Type.Object({
      path: Type.String(),
      capabilities: Type.Array(Type.String()),
      effect: Type.String(),
    }),
  ),
});

const RoleSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  policies: Type.Array(Type.String()),
  createdAt: Type.String(),
});

const IdentitySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  disabled: Type.Boolean(),
  disabledAt: NullableString,
  createdAt: Type.String(),
  roles: Type.Array(Type.String()),
  totp: Type.Boolean(),
});

const PrincipalSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  tokenId: Type.Optional(Type.String()),
  policies: Type.Array(Type.String()),
  expiresAt: Type.Optional(Type.String()),
});

const Name = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
const Ok = Type.Object({ ok: Type.Literal(true) });
const CidrList = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 });

const plainToken = (t: TokenInfo) => ({ ...t, allowIps: [...t.allowIps], policies: [...t.policies] });
const plainPolicy = (p: Policy) => ({
  ...p,
  rules: p.rules.map((r) => ({ ...r, capabilities: [...r.capabilities] })),
});
const plainIdentity = (i: IdentityInfo) => ({ ...i, roles: [...i.roles] });

/**
 * @example
 *   await app.register(accessRoutes, { prefix: "/api/v1", access, oidc, failures });
 */
export const accessRoutes: FastifyPluginAsyncTypebox<{
  access: AccessManager;
  oidc: OidcLogin;
  /** The auth hook's per-address failure window (the OIDC login counts against it). */
  failures: AuthFailures;
}> = (app, { access, oidc, failures }) => {
  // --- tokens ---
  // A CI job's OIDC login (services/access/oidc.ts): public, as it is how a job with no
  // token gets one; a refusal says only that, is audited with why, and counts per address.
  app.post(
    "/auth/oidc",
    {
      config: { public: true },
      schema: {
        tags: ["tokens"],
        summary:
          "OIDC login: a CI job's JWT that a trust of the identity accepts (access.oidc) gets a short-lived token",
        security: [],
        body: Type.Object(
          {
            identity: Type.String({ minLength: 1, maxLength: 64 }),
            jwt: Type.String({ minLength: 1, maxLength: MAX_JWT_LENGTH }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: IssuedSchema,
          ...PUBLIC_BODY_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const issued = await countedLogin(
        failures,
        request.ip,
        () => oidc.login(request.kwCtx, request.body),
        (e) => isKeywardenError(e, "KW_ERR_AUTH_OIDC"),
      );
      return reply.code(201).send({ token: issued.token.reveal(), info: plainToken(issued.info) });
    },
  );

  app.post(
    "/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "Create a token for an identity, with exactly the policies named",
        body: Type.Object(
          {
            identity: Type.Optional(Type.String({ maxLength: 64 })),
            policies: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
            ttlSeconds: Type.Optional(Type.Integer({ minimum: 60 })),
            allowIps: Type.Optional(CidrList),
            description: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: IssuedSchema, 409: PROTECTED_ERRORS[404], ...PROTECTED_ERRORS },
      },
    },
    async (request, reply) => {
      const issued = await access.createToken(request.kwCtx, principalOf(request), request.body);
      return reply.code(201).send({ token: issued.token.reveal(), info: plainToken(issued.info) });
    },
  );

  // A leaked token, revoked by whoever holds its text (a responder, a scanner's finding): its
  // holder could revoke it with itself anyway, so it needs no other token. Public, counted
  // per address like any failed authentication, audited either way.
  app.post(
    "/tokens/revoke",
    {
      config: { public: true },
      schema: {
        tags: ["tokens"],
        summary: "Revoke a token by its text (a leaked one), and every child of it",
        security: [],
        body: Type.Object({ token: TokenText }, { additionalProperties: false }),
        response: {
          200: Type.Object({ id: Type.String(), revoked: Type.Integer() }),
          ...PUBLIC_BODY_ERRORS,
        },
      },
    },
    (request) =>
      countedLogin(
        failures,
        request.ip,
        () => access.revokeTokenValue(request.kwCtx, new Secret(request.body.token)),
        isAuthFailure,
      ),
  );

  app.post(
    "/tokens/child",
    {
      schema: {
        tags: ["tokens"],
        summary: "Create a short-lived child of the calling token (CI jobs)",
        body: Type.Object(
          {
            ttlMinutes: Type.Integer({ minimum: 1 }),
            policies: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
            allowIps: Type.Optional(CidrList),
            description: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: IssuedSchema, ...PROTECTED_ERRORS },
      },
    },
    async (request, reply) => {
      const issued = await access.createChildToken(request.kwCtx, principalOf(request), request.body);
      return reply.code(201).send({ token: issued.token.reveal(), info: plainToken(issued.info) });
    },
  );

  app.get(
    "/tokens/self",
    {
      schema: {
        tags: ["tokens"],
        summary: "Who the calling token is and what it may do",
        response: { 200: PrincipalSchema, ...PROTECTED_ERRORS },
      },
    },
    (request) => {
      const p = principalOf(request);
      return { ...p, policies: [...p.policies] };
    },
  );

  app.get(
    "/tokens/self/capabilities",
    {
      schema: {
        tags: ["tokens"],
        summary: "What the calling token may do on a path (a secret, a folder ending in /, a _sys/ path)",
        querystring: Type.Object(
          { path: Type.String({ minLength: 1, maxLength: 512 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ path: Type.String(), capabilities: Type.Array(Type.String()) }),
          ...PROTECTED_ERRORS,
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { path } = request.query;
      const capabilities: Capability[] = [];
      for (const c of CAPABILITIES) if (await access.can(p, c, path)) capabilities.push(c);
      return { path, capabilities };
    },
  );

  app.get(
    "/tokens",
    {
      schema: {
        tags: ["tokens"],
        summary: "List tokens (own, or an identity's with admin on it)",
        querystring: Type.Object(
          { identity: Type.Optional(Type.String({ maxLength: 64 })), active: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ tokens: Type.Array(TokenInfoSchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const opts: { identity?: string; active?: boolean } = {};
      if (request.query.identity !== undefined) opts.identity = request.query.identity;
      if (request.query.active !== undefined) opts.active = request.query.active;
      const tokens = await access.listTokens(request.kwCtx, principalOf(request), opts);
      return { tokens: tokens.map(plainToken) };
    },
  );

  app.delete(
    "/tokens/:id",
    {
      schema: {
        tags: ["tokens"],
        summary: "Revoke a token and every child of it, at once",
        params: Type.Object({ id: TokenId }),
        response: { 200: Type.Object({ revoked: Type.Integer() }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => ({
      revoked: await access.revokeToken(request.kwCtx, principalOf(request), request.params.id),
    }),
  );

  // --- policies ---
  app.get(
    "/policies",
    {
      schema: {
        tags: ["policies"],
        summary: "List policies",
        response: { 200: Type.Object({ policies: Type.Array(PolicySchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => ({
      policies: (await access.listPolicies(request.kwCtx, principalOf(request))).map(plainPolicy),
    }),
  );

  app.get(
    "/policies/:name",
    {
      schema: {
        tags: ["policies"],
        summary: "One policy",
        params: Name,
        response: { 200: PolicySchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) =>
      plainPolicy(await access.getPolicy(request.kwCtx, principalOf(request), request.params.name)),
  );

  app.put(
    "/policies/:name",
    {
      schema: {
        tags: ["policies"],
        summary: "Create or replace a policy (default deny; deny rules win)",
        params: Name,
        body: Type.Object(
          { rules: Type.Array(RuleSchema, { maxItems: 256 }) },
          { additionalProperties: false },
        ),
        response: { 200: PolicySchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) =>
      plainPolicy(
        await access.putPolicy(request.kwCtx, principalOf(request), request.params.name, request.body.rules),
      ),
  );

  app.delete(
    "/policies/:name",
    {
      schema: {
        tags: ["policies"],
        summary: "Delete a policy",
        params: Name,
        response: { 200: Ok, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      await access.deletePolicy(request.kwCtx, principalOf(request), request.params.name);
      return { ok: true as const };
    },
  );

  // --- roles ---
  app.get(
    "/roles",
    {
      schema: {
        tags: ["roles"],
        summary: "List roles",
        response: { 200: Type.Object({ roles: Type.Array(RoleSchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => ({
      roles: (await access.listRoles(request.kwCtx, principalOf(request))).map((r) => ({
        ...r,
        policies: [...r.policies],
      })),
    }),
  );

  app.put(
    "/roles/:name",
    {
      schema: {
        tags: ["roles"],
        summary: "Create or replace a role (a set of policies)",
        params: Name,
        body: Type.Object(
          { policies: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }) },
          { additionalProperties: false },
        ),
        response: { 200: RoleSchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const r = await access.putRole(
        request.kwCtx,
        principalOf(request),
        request.params.name,
        request.body.policies,
      );
      return { ...r, policies: [...r.policies] };
    },
  );

  app.delete(
    "/roles/:name",
    {
      schema: {
        tags: ["roles"],
        summary: "Delete a role",
        params: Name,
        response: { 200: Ok, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      await access.deleteRole(request.kwCtx, principalOf(request), request.params.name);
      return { ok: true as const };
    },
  );

  app.put(
    "/roles/:name/members/:identity",
    {
      schema: {
        tags: ["roles"],
        summary: "Give a role to an identity",
        params: Type.Object({ name: Name.properties.name, identity: Name.properties.name }),
        response: { 200: Ok, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      await access.bindRole(
        request.kwCtx,
        principalOf(request),
        request.params.name,
        request.params.identity,
      );
      return { ok: true as const };
    },
  );

  app.delete(
    "/roles/:name/members/:identity",
    {
      schema: {
        tags: ["roles"],
        summary: "Take a role from an identity",
        params: Type.Object({ name: Name.properties.name, identity: Name.properties.name }),
        response: { 200: Ok, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      await access.unbindRole(
        request.kwCtx,
        principalOf(request),
        request.params.name,
        request.params.identity,
      );
      return { ok: true as const };
    },
  );

  // --- identities ---
  app.get(
    "/identities",
    {
      schema: {
        tags: ["identities"],
        summary: "List users and machine identities",
        querystring: Type.Object(
          { kind: Type.Optional(Type.Union([Type.Literal("user"), Type.Literal("machine")])) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ identities: Type.Array(IdentitySchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => ({
      identities: (await access.listIdentities(request.kwCtx, principalOf(request), request.query.kind)).map(
        plainIdentity,
      ),
    }),
  );

  app.get(
    "/identities/:name",
    {
      schema: {
        tags: ["identities"],
        summary: "One identity",
        params: Name,
        response: { 200: IdentitySchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) =>
      plainIdentity(await access.getIdentity(request.kwCtx, principalOf(request), request.params.name)),
  );

  app.post(
    "/identities",
    {
      schema: {
        tags: ["identities"],
        summary: "Add a user (with a password) or a machine identity",
        body: Type.Object(
          {
            kind: Type.Union([Type.Literal("user"), Type.Literal("machine")]),
            name: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
            roles: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: IdentitySchema, 409: PROTECTED_ERRORS[404], ...PROTECTED_ERRORS },
      },
    },
    async (request, reply) => {
      const { kind, name, password, roles } = request.body;
      const by = principalOf(request);
      let info: IdentityInfo;
      if (kind === "user") {
        if (password === undefined)
          throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason: "a user needs a password" });
        info = await access.addUser(request.kwCtx, by, { name, password, roles });
      } else info = await access.addMachine(request.kwCtx, by, { name, roles });
      return reply.code(201).send(plainIdentity(info));
    },
  );

  app.patch(
    "/identities/:name",
    {
      schema: {
        tags: ["identities"],
        summary: "Disable or enable an identity (disabling revokes its tokens)",
        params: Name,
        body: Type.Object({ disabled: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: IdentitySchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) =>
      plainIdentity(
        await access.setDisabled(
          request.kwCtx,
          principalOf(request),
          request.params.name,
          request.body.disabled,
        ),
      ),
  );
  return Promise.resolve();
};
