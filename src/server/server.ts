/**
 * The HTTP face of Keywarden: Fastify with TypeBox schemas on every route, security headers,
 * per-address rate limits, body size limits, request ids in every log line and error, and
 * one error shape. `buildServer` returns an instance that is not listening yet: tests use
 * `inject`, `keywarden serve` calls `listen` (see listen.ts for TLS and shutdown).
 */
import cookie from "@fastify/cookie";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import { TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import Fastify, {
  errorCodes,
  type FastifyInstance,
  type FastifySchemaCompiler,
  type RouteOptions,
} from "fastify";
import type { TSchema } from "typebox";
import { Compile } from "typebox/compile";
import type { Keywarden } from "../app.ts";
import type { DeepReadonly } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { systemClock, type Clock } from "../core/clock.ts";
import { KeywardenError } from "../core/errors.ts";
import { newId } from "../core/ids.ts";
import { requestForLog, type LoggedRequest, type Logger } from "../core/logger.ts";
import { maskKeys } from "../detect/mask.ts";
import { utf8Text } from "../sources/text-decode.ts";
import type { AccessManager } from "../services/access/access-service.ts";
import { createOidcLogin } from "../services/access/oidc.ts";
import { installAuth } from "./plugins/auth.ts";
import { answerClientError, installErrorHandling } from "./plugins/errors.ts";
import { lazyChildLogger } from "./plugins/lazy-logger.ts";
import { installTurnBatching } from "./plugins/turn-batching.ts";
import { installSecurityHeaders } from "./plugins/security-headers.ts";
import { SESSION_COOKIE, sessionCookies } from "./plugins/sessions.ts";
import { accessRoutes } from "./routes/access-routes.ts";
import { auditRoutes } from "./routes/audit-routes.ts";
import { healthRoutes } from "./routes/health-routes.ts";
import { projectsRoutes } from "./routes/projects-routes.ts";
import { secretsRoutes } from "./routes/secrets-routes.ts";
import { sessionRoutes } from "./routes/session-routes.ts";
import { sysRoutes } from "./routes/sys-routes.ts";
import { vaultKvRoutes } from "./routes/vault-kv-routes.ts";
import { vaultAuthRoutes } from "./routes/vault-auth-routes.ts";
import { vaultTokenRoutes } from "./routes/vault-token-routes.ts";
import { ErrorSchema } from "./schemas.ts";

/**
 * TypeBox's validator, checking before it converts: TypeBoxValidatorCompiler converts every
 * params and query object (strings to numbers and the like) and then checks it, which cost
 * a few percent of a secret read. Values that already pass are taken as they are; the rest
 * go through the converting validator, so the result is the same.
 */
const checkFirst: FastifySchemaCompiler<TSchema> = (route) => {
  const convertAndCheck = TypeBoxValidatorCompiler(route);
  if (route.httpPart === "body") return convertAndCheck;
  const check = Compile(route.schema);
  return (value) => (check.Check(value) ? { value } : convertAndCheck(value));
};

/**
 * Where the REST API lives.
 *
 * @example
 *   `${API_PREFIX}/secrets` // "/api/v1/secrets"
 */
export const API_PREFIX = "/api/v1";

export interface ServerDeps {
  readonly keywarden: Keywarden;
  readonly access: AccessManager;
  readonly config: DeepReadonly<Config>;
  readonly logger: Logger;
  /** PEM certificate and key: HTTPS. Absent: plain HTTP (listen.ts allows it on loopback only). */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  /** Called for every route as it is added (the security suite enumerates routes with it). */
  readonly onRoute?: ((route: RouteOptions) => void) | undefined;
  /** The clock the access service uses (sessions report their idle expiry by it); the system's by default. */
  readonly clock?: Clock | undefined;
}

/**
 * @example
 *   const app = await buildServer({ keywarden, access, config, logger, tls });
 *   await app.listen({ host: "127.0.0.1", port: 8443 });
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const clock = deps.clock;
  // First: a trust that is not usable stops the start, before anything listens.
  const oidc = createOidcLogin({
    trusts: config.access.oidc,
    access: deps.access,
    audit: deps.keywarden.audit,
    ...(clock === undefined ? {} : { nowSeconds: () => Math.floor(clock.now().getTime() / 1000) }),
  });
  const app = Fastify({
    // Request lines show the URL with any key in it masked (a value pasted into a path).
    loggerInstance: deps.logger.child(
      {},
      {
        serializers: {
          req: (req: LoggedRequest) => {
            const shown = requestForLog(req);
            return shown.url === undefined ? shown : { ...shown, url: maskKeys(shown.url) };
          },
        },
      },
    ),
    childLoggerFactory: lazyChildLogger,
    genReqId: () => newId("request"),
    clientErrorHandler: answerClientError,
    bodyLimit: config.server.bodyLimit,
    trustProxy: config.server.trustProxy,
    // A request that stalls its headers or body is dropped rather than held open.
    requestTimeout: 30_000,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false } },
    ...(deps.tls === undefined
      ? {}
      : { https: { cert: deps.tls.cert, key: deps.tls.key, minVersion: "TLSv1.2" as const } }),
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(checkFirst);
  // JSON must be UTF-8 (RFC 8259). Fastify's parser decodes bytes that are not with U+FFFD
  // in their place, so a secret sent in Latin-1 was stored changed, as if it were the value
  // given: such a body is refused instead. The parsing itself stays Fastify's (with its
  // prototype-poisoning checks).
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  // JSON merge patches (RFC 7396, what `vault kv patch` sends) are JSON, parsed alike.
  app.addContentTypeParser(
    ["application/json", "application/merge-patch+json"],
    { parseAs: "buffer" },
    (request, body, done) => {
      // No body at all is no body, whatever the content type says: a client that sends
      // `Content-Type: application/json` on every request (a DELETE included) is not refused,
      // as Vault does not refuse it. A route that needs a body still says it is missing.
      if ((body as Buffer).length === 0) {
        done(null, undefined);
        return;
      }
      const text = utf8Text(body as Buffer);
      if (text === undefined) {
        done(
          new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason: "the JSON body is not UTF-8" }),
          undefined,
        );
        return;
      }
      // Fastify's parser answers through `done` (its return value is typed loosely).
      void parseJson(request, text, done);
    },
  );
  // Any other content type: no body at all is no body, as above (axios, under node-vault and
  // hashi-vault-js, sends `application/x-www-form-urlencoded` on every POST without data, which
  // Vault takes); a body of any type but JSON is refused as before, unread past bodyLimit.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body, done) => {
    if ((body as Buffer).length === 0) done(null, undefined);
    else
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(request.headers["content-type"] ?? ""), undefined);
  });
  installTurnBatching(app);
  if (deps.onRoute !== undefined) app.addHook("onRoute", deps.onRoute);
  installErrorHandling(app);
  installSecurityHeaders(
    app,
    {
      // An API serves JSON only: OWASP's REST set (CSP, HSTS, nosniff, frame denial,
      // no-store), plus CORP so that no other origin can load a cookie-authenticated answer.
      // The headers helmet adds for HTML pages are left out: every client parses each
      // header of every answer (about 2.4 µs of autocannon's parser per read for those
      // eight, `npm run bench -- server`).
      contentSecurityPolicy: {
        useDefaults: false,
        directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      },
      hsts: deps.tls === undefined ? false : { maxAge: 31_536_000, includeSubDomains: true },
      xFrameOptions: { action: "deny" },
      crossOriginOpenerPolicy: false,
      originAgentCluster: false,
      referrerPolicy: false,
      xDnsPrefetchControl: false,
      xDownloadOptions: false,
      xPermittedCrossDomainPolicies: false,
      xXssProtection: false,
    },
    // Secrets and tokens travel in these bodies: nothing may cache them.
    { "cache-control": "no-store" },
  );
  await app.register(rateLimit, {
    global: true,
    max: config.server.rateLimit,
    timeWindow: 60_000,
    // The limit, what is left and the reset go out with a 429 (beside Retry-After), not with
    // every answer: like Vault and AWS, and three headers fewer for every client to parse.
    addHeadersOnExceeding: {
      "x-ratelimit-limit": false,
      "x-ratelimit-remaining": false,
      "x-ratelimit-reset": false,
    },
    errorResponseBuilder: (_req, ctx) =>
      Object.assign(
        new KeywardenError("KW_ERR_HTTP_RATE_LIMITED", { retryAfter: Math.ceil(ctx.ttl / 1000) }),
        {
          statusCode: 429,
        },
      ),
  });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Keywarden API",
        version: "1",
        description:
          "Secrets, tokens, policies, identities and the audit log. Every error: { error: { code, message, requestId } }.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          vaultToken: { type: "apiKey", in: "header", name: "X-Vault-Token" },
          session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { vaultToken: [] }, { session: [] }],
    },
  });
  app.addSchema(ErrorSchema);
  // Cookies are parsed in an onRequest hook registered before the auth hook, which reads them.
  await app.register(cookie);
  const cookies = sessionCookies({
    tls: deps.tls !== undefined,
    maxAgeSeconds: config.access.sessionMaxHours * 3600,
  });
  const failures = installAuth(app, {
    access: deps.access,
    failureLimit: config.server.authFailureLimit,
    sessions: cookies,
    audit: deps.keywarden.audit,
  });
  await app.register(healthRoutes, { keywarden: deps.keywarden });
  await app.register(secretsRoutes, { prefix: API_PREFIX, keywarden: deps.keywarden, access: deps.access });
  await app.register(auditRoutes, { prefix: API_PREFIX, keywarden: deps.keywarden, access: deps.access });
  await app.register(projectsRoutes, { prefix: API_PREFIX, keywarden: deps.keywarden });
  await app.register(sysRoutes, {
    prefix: API_PREFIX,
    keywarden: deps.keywarden,
    access: deps.access,
    unsealRateLimit: config.server.unsealRateLimit,
  });
  await app.register(accessRoutes, { prefix: API_PREFIX, access: deps.access, oidc, failures });
  await app.register(sessionRoutes, {
    prefix: API_PREFIX,
    access: deps.access,
    cookies,
    failures,
    clock: deps.clock ?? systemClock,
    idleMinutes: config.access.sessionIdleMinutes,
  });
  await app.register(vaultKvRoutes, {
    prefix: "/v1",
    keywarden: deps.keywarden,
    access: deps.access,
    clock: deps.clock ?? systemClock,
  });
  await app.register(vaultTokenRoutes, {
    prefix: "/v1",
    access: deps.access,
    clock: deps.clock ?? systemClock,
    childTokenMaxMinutes: config.access.childTokenMaxMinutes,
    failures,
  });
  await app.register(vaultAuthRoutes, {
    prefix: "/v1",
    access: deps.access,
    oidc,
    failures,
    clock: deps.clock ?? systemClock,
    childTokenMaxMinutes: config.access.childTokenMaxMinutes,
  });
  app.get(`${API_PREFIX}/openapi.json`, { config: { public: true }, schema: { hide: true } }, () =>
    app.swagger(),
  );
  await app.ready();
  return app;
}
