/**
 * Authentication for every route not marked `config: { public: true }`: the token comes
 * from `Authorization: Bearer` or `X-Vault-Token`, the access service checks it, and the
 * request carries the principal and its audit context from then on. Failed attempts are
 * counted per client address; past the limit the address gets 429 before any check.
 * A request with no token but a `kw_session` cookie authenticates as the session's user;
 * if it may change something it also needs the session's CSRF token (see sessions.ts).
 * A session that is unknown, ended or expired gets 401 and the cookie is cleared.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { isKeywardenError, KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { AccessService, Capability, Principal } from "../../services/access/access-types.ts";
import { principalContext } from "../../services/access/vault-authorizer.ts";
import { csrfSatisfied, sessionCookieOf, type SessionCookies } from "./sessions.ts";
import type { AccessManager, IssuedToken, LoginInput } from "../../services/access/access-service.ts";
import type { AuditService, RequestContext } from "../../services/audit/audit-service.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on every protected route. */
    principal: Principal | undefined;
    /** The audit context: the principal's id as actor once authenticated. */
    kwCtx: RequestContext;
  }
  interface FastifyContextConfig {
    /** Routes reachable without a token (health, readiness, the OpenAPI document). */
    public?: boolean;
  }
}

/** Header values longer than this are not tokens; refused before any lookup. */
const MAX_TOKEN_LENGTH = 512;
const WINDOW_MS = 60_000;

/**
 * The request's audit source: client address and user agent, bounded.
 *
 * @example
 *   sourceOf(request) // "ip=10.0.0.7 ua=node-vault/0.12"
 */
export function sourceOf(request: FastifyRequest): string {
  // One character for one: bounding first changes nothing but the work.
  const ua = (request.headers["user-agent"] ?? "").slice(0, 120).replace(/[^\x20-\x7e]/g, "?");
  return `ip=${request.ip} ua=${ua}`;
}

/**
 * The raw token of a request (X-Vault-Token, else Authorization: Bearer), or undefined when it sends none.
 *
 * @example
 *   tokenOf(request) // "kw_svc_..."
 */
export function tokenOf(request: FastifyRequest): string | undefined {
  const vault = request.headers["x-vault-token"];
  if (typeof vault === "string" && vault !== "") return vault.trim();
  const auth = request.headers.authorization;
  if (auth === undefined || auth === "") return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
  // A present but unusable header is a malformed token, not a missing one.
  return m === null ? auth.slice(0, MAX_TOKEN_LENGTH + 1) : m[1];
}

/** A fixed-window counter of failed authentications per key. */
function failureCounter(limit: number, now: () => number) {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    blocked(key: string): number | undefined {
      const w = windows.get(key);
      if (w === undefined) return undefined;
      const t = now();
      if (t - w.start >= WINDOW_MS) {
        windows.delete(key);
        return undefined;
      }
      return w.count >= limit ? Math.ceil((w.start + WINDOW_MS - t) / 1000) : undefined;
    },
    fail(key: string): void {
      const t = now();
      const w = windows.get(key);
      if (w === undefined || t - w.start >= WINDOW_MS) windows.set(key, { start: t, count: 1 });
      else w.count++;
      // Bounded memory under a spray of addresses: drop the oldest windows.
      if (windows.size > 100_000) for (const k of [...windows.keys()].slice(0, 10_000)) windows.delete(k);
    },
  };
}

export interface AuthOptions {
  readonly access: AccessService;
  /** Failed authentications per minute per client address. */
  readonly failureLimit: number;
  readonly now?: () => number;
  /** Session cookie attributes; the cookie is cleared with them when its session is refused. */
  readonly sessions?: SessionCookies | undefined;
  /** Where a refused CSRF token is recorded (other denials are audited by the access service). */
  readonly audit?: Pick<AuditService, "record"> | undefined;
}

/** The per-address failure window, for public routes that authenticate by themselves (login). */
export interface AuthFailures {
  /** Seconds until the address may try again, or undefined when it may now. */
  blocked(ip: string): number | undefined;
  fail(ip: string): void;
}

/** Whether `e` is a failed authentication (a 401), which counts against the address. */
export function isAuthFailure(e: unknown): boolean {
  return isKeywardenError(e) && e.httpStatus === 401;
}

/**
 * Runs the login of a public route that authenticates by itself (AppRole, OIDC), limited as
 * every other way in: 429 while the address is past server.authFailureLimit, and a refusal
 * (`refused` says which errors are) counts against it.
 *
 * @example
 *   await countedLogin(failures, request.ip, () => oidc.login(ctx, input), (e) => isKeywardenError(e, "KW_ERR_AUTH_OIDC"));
 */
export async function countedLogin<T>(
  failures: AuthFailures,
  ip: string,
  login: () => Promise<T>,
  refused: (e: unknown) => boolean,
): Promise<T> {
  const retryAfter = failures.blocked(ip);
  if (retryAfter !== undefined) throw new KeywardenError("KW_ERR_HTTP_RATE_LIMITED", { retryAfter });
  try {
    return await login();
  } catch (e) {
    if (refused(e)) failures.fail(ip);
    throw e;
  }
}

/**
 * A user's password login (and TOTP code, when enrolled), limited as every way in: 429 past
 * server.authFailureLimit for the address, a failure counted against it, and one answer for
 * every failure (KW_ERR_AUTH_BAD_CREDENTIALS), since "locked" would tell that the name exists.
 * Lockout per identity is the access service's. For the dashboard and token logins alike.
 *
 * @example
 *   const principal = await passwordLogin(access, failures, request.kwCtx, { name, password, ip });
 */
export async function passwordLogin(
  access: Pick<AccessManager, "login">,
  failures: AuthFailures,
  ctx: RequestContext,
  input: LoginInput,
): Promise<Principal> {
  try {
    return await countedLogin(failures, input.ip, () => access.login(ctx, input), isAuthFailure);
  } catch (e) {
    // Only names that exist get locked: saying so would tell which ones do.
    if (isKeywardenError(e, "KW_ERR_AUTH_LOCKED_OUT"))
      throw new KeywardenError("KW_ERR_AUTH_BAD_CREDENTIALS");
    throw e;
  }
}

/**
 * A password login for a token (the CLI's `login --user`, Vault's userpass): passwordLogin,
 * then a token of the user (access.createLoginToken), the request acting as the user from then.
 *
 * @example
 *   const { principal, issued } = await passwordToken(access, failures, request, { name, password, totp });
 */
export async function passwordToken(
  access: Pick<AccessManager, "login" | "createLoginToken">,
  failures: AuthFailures,
  request: FastifyRequest,
  input: { name: string; password: string; totp?: string | undefined },
): Promise<{ principal: Principal; issued: IssuedToken }> {
  const principal = await passwordLogin(access, failures, request.kwCtx, {
    name: input.name,
    password: new Secret(input.password),
    totp: input.totp,
    ip: request.ip,
  });
  request.kwCtx = principalContext(principal, request.kwCtx.source, request.id);
  return { principal, issued: await access.createLoginToken(request.kwCtx, principal) };
}

/**
 * Installs the authentication hook on the root instance; returns its failure window.
 *
 * @example
 *   const failures = installAuth(app, { access, failureLimit: 30, sessions: cookies, audit });
 */
export function installAuth(app: FastifyInstance, options: AuthOptions): AuthFailures {
  const failures = failureCounter(options.failureLimit, options.now ?? Date.now);
  app.decorateRequest("principal", undefined);
  app.decorateRequest("kwCtx", undefined as unknown as RequestContext);
  app.decorateRequest("kwSession", undefined);
  app.addHook("onRequest", async (request, reply) => {
    request.kwCtx = { actor: "anonymous", source: sourceOf(request), requestId: request.id };
    if (request.routeOptions.config.public === true || request.routeOptions.url === undefined) return;
    const retryAfter = failures.blocked(request.ip);
    if (retryAfter !== undefined) throw new KeywardenError("KW_ERR_HTTP_RATE_LIMITED", { retryAfter });
    const token = tokenOf(request);
    // A token wins over the cookie: it is what a non-browser client meant to send.
    const session = token === undefined ? sessionCookieOf(request) : undefined;
    try {
      // A missing token goes to the access service too: it audits the attempt like any other.
      const principal =
        session === undefined
          ? await options.access.authenticateToken(request.kwCtx, token ?? "", request.ip)
          : await options.access.authenticateSession(request.kwCtx, session.reveal(), request.ip);
      request.principal = principal;
      // The vault's authorizer reads the principal from the context; the audit log its id.
      request.kwCtx = principalContext(principal, request.kwCtx.source, request.id);
      if (session !== undefined && !csrfSatisfied(request, session)) {
        await options.audit?.record(request.kwCtx, {
          action: "auth.csrf",
          result: "denied",
          detail: `KW_ERR_AUTH_CSRF ${request.method}`,
        });
        throw new KeywardenError("KW_ERR_AUTH_CSRF");
      }
      request.kwSession = session;
    } catch (e) {
      if (isAuthFailure(e) || isKeywardenError(e, "KW_ERR_AUTH_CSRF")) failures.fail(request.ip);
      if (session !== undefined && isAuthFailure(e)) options.sessions?.clear(request, reply);
      throw e;
    }
  });
  return failures;
}

/**
 * The authenticated principal of a protected route (the hook guarantees one).
 *
 * @example
 *   await access.createToken(request.kwCtx, principalOf(request), input);
 */
export function principalOf(request: FastifyRequest): Principal {
  if (request.principal === undefined) throw new Error("route is not behind the auth hook");
  return request.principal;
}

/**
 * Requires `capability` on `path` for the request's principal; audited and thrown as 403
 * by the access service when denied.
 *
 * @example
 *   await authorize(access, request, "read", "payments/prod/STRIPE_KEY");
 */
export function authorize(
  access: AccessService,
  request: FastifyRequest,
  capability: Capability,
  path: string,
): Promise<void> {
  return access.require(request.kwCtx, principalOf(request), capability, path);
}

/**
 * Requires `list` on every secret under `prefix` (what listing it reveals); a denial is
 * audited and thrown as 403 like any other.
 *
 * @example
 *   await authorizeList(access, audit, request, "payments/prod/");
 */
export async function authorizeList(
  access: AccessManager,
  audit: AuditService,
  request: FastifyRequest,
  prefix: string,
): Promise<void> {
  const principal = principalOf(request);
  if (await access.canList(principal, prefix)) return;
  await audit.record(request.kwCtx, {
    action: "access.list",
    path: prefix === "" ? undefined : prefix,
    result: "denied",
    detail: "KW_ERR_ACCESS_DENIED",
  });
  throw new KeywardenError("KW_ERR_ACCESS_DENIED", {
    actor: principal.id,
    capability: "list",
    path: prefix || "/",
  });
}
