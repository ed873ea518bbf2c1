/**
 * `/api/v1/auth/login`, `/auth/session` and `/auth/logout`: dashboard sessions. Login is
 * public and sets the `kw_session` cookie (see plugins/sessions.ts for its attributes and
 * the CSRF token); the other two go through the auth hook like every protected route, so a
 * cookie-authenticated logout needs the CSRF token too.
 *
 * A failed login says only "wrong user name, password or one-time code", whether the name
 * exists or not and whether the account is locked (the audit log records which), counts
 * against the address's failure window, and is locked out per identity by the access service.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import Type from "typebox";
import type { Clock } from "../../core/clock.ts";
import { Secret } from "../../core/secret.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import type { Principal } from "../../services/access/access-types.ts";
import { principalContext } from "../../services/access/vault-authorizer.ts";
import { passwordLogin, passwordToken, principalOf, type AuthFailures } from "../plugins/auth.ts";
import { csrfTokenFor, sessionCookieOf, type SessionCookies } from "../plugins/sessions.ts";
import { PROTECTED_ERRORS, PUBLIC_BODY_ERRORS } from "../schemas.ts";

export interface SessionRoutesOptions {
  readonly access: AccessManager;
  readonly cookies: SessionCookies;
  readonly failures: AuthFailures;
  readonly clock: Clock;
  /** access.sessionIdleMinutes: reported as idleExpiresAt. */
  readonly idleMinutes: number;
}

const IdentitySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  policies: Type.Array(Type.String()),
});

const SessionSchema = Type.Object({
  identity: IdentitySchema,
  expiresAt: Type.Union([Type.String(), Type.Null()], {
    description: "Absolute expiry of the session (or of the token, for a token caller).",
  }),
  idleExpiresAt: Type.Union([Type.String(), Type.Null()], {
    description: "When the session expires if unused; every request moves it. Null for a token caller.",
  }),
  csrfToken: Type.Union([Type.String(), Type.Null()], {
    description:
      "Send it as x-csrf-token with every cookie-authenticated POST, PUT, PATCH or DELETE. Null for a token caller, who needs none.",
  }),
});

/** What a password login sends, for a session or a token. */
const LoginBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    totp: Type.Optional(Type.String({ pattern: "^[0-9]{6,8}$" })),
  },
  { additionalProperties: false },
);

const identityOf = (p: Principal) => ({ id: p.id, name: p.name, kind: p.kind, policies: [...p.policies] });

/**
 * @example
 *   await app.register(sessionRoutes, { prefix: "/api/v1", access, cookies, failures, clock, idleMinutes: 30 });
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<SessionRoutesOptions> = (app, o) => {
  const { access, cookies, failures } = o;

  /** Ends the session the request's cookie names, if any (a new login replaces it). */
  async function endCookieSession(request: FastifyRequest): Promise<void> {
    const previous = sessionCookieOf(request);
    if (previous !== undefined) await access.endSession(request.kwCtx, previous.reveal());
  }

  // The same login for the CLI (`keywarden login --user`) and scripts: a token of the user,
  // all its policies, as long-lived as a session, instead of a cookie.
  app.post(
    "/auth/token",
    {
      config: { public: true },
      schema: {
        tags: ["sessions"],
        summary:
          "Log in with a user name, password and (when enrolled) a TOTP code; answers a token of the user, for access.sessionMaxHours",
        security: [],
        body: LoginBody,
        response: {
          201: Type.Object({
            token: Type.String({ description: "The token: shown this once, stored only as a hash." }),
            identity: IdentitySchema,
            expiresAt: Type.String(),
          }),
          ...PUBLIC_BODY_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { principal, issued } = await passwordToken(access, failures, request, request.body);
      return reply.code(201).send({
        token: issued.token.reveal(),
        identity: identityOf(principal),
        expiresAt: issued.info.expiresAt,
      });
    },
  );

  app.post(
    "/auth/login",
    {
      config: { public: true },
      schema: {
        tags: ["sessions"],
        summary:
          "Log in with a user name, password and (when enrolled) a TOTP code; sets the kw_session cookie",
        security: [],
        body: LoginBody,
        response: {
          200: SessionSchema,
          ...PUBLIC_BODY_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const principal = await passwordLogin(access, failures, request.kwCtx, {
        name: request.body.name,
        password: new Secret(request.body.password),
        totp: request.body.totp,
        ip: request.ip,
      });
      await endCookieSession(request);
      request.kwCtx = principalContext(principal, request.kwCtx.source, request.id);
      const issued = await access.createSession(request.kwCtx, principal);
      cookies.set(request, reply, issued.sessionId);
      return {
        identity: identityOf(principal),
        expiresAt: issued.expiresAt,
        idleExpiresAt: issued.idleExpiresAt,
        csrfToken: csrfTokenFor(issued.sessionId),
      };
    },
  );

  app.get(
    "/auth/session",
    {
      schema: {
        tags: ["sessions"],
        summary: "Who the caller is: the session's user, its expiry and CSRF token",
        response: { 200: SessionSchema, ...PROTECTED_ERRORS },
      },
    },
    (request) => {
      const p = principalOf(request);
      const session = request.kwSession;
      const expiresAt = p.expiresAt ?? null;
      if (session === undefined)
        return { identity: identityOf(p), expiresAt, idleExpiresAt: null, csrfToken: null };
      // The hook has just touched the session: it is idle from now on.
      const idle = o.clock.now().getTime() + o.idleMinutes * 60_000;
      const idleExpiresAt = new Date(
        expiresAt === null ? idle : Math.min(idle, Date.parse(expiresAt)),
      ).toISOString();
      return { identity: identityOf(p), expiresAt, idleExpiresAt, csrfToken: csrfTokenFor(session) };
    },
  );

  app.post(
    "/auth/logout",
    {
      schema: {
        tags: ["sessions"],
        summary: "End the session of the cookie and clear the cookie (a token caller ends nothing)",
        response: { 200: Type.Object({ ended: Type.Boolean() }), ...PROTECTED_ERRORS },
      },
    },
    async (request, reply) => {
      const session = request.kwSession;
      if (session === undefined) return { ended: false };
      await access.endSession(request.kwCtx, session.reveal());
      cookies.clear(request, reply);
      return { ended: true };
    },
  );
  return Promise.resolve();
};
