/**
 * Dashboard sessions over HTTP: the `kw_session` cookie and the CSRF token bound to it.
 *
 * - The cookie carries the raw session id (256 random bits; the database keeps only its
 *   SHA-256). It is httpOnly, SameSite=Strict, Path=/, lives no longer than the absolute
 *   session timeout, and is Secure whenever the server speaks TLS (or a trusted proxy says
 *   the request came over HTTPS). Plain HTTP is allowed only on loopback (`--insecure-http`);
 *   there the cookie goes without Secure, because Safari drops Secure cookies set over
 *   http://127.0.0.1 and the cookie never crosses a network.
 * - The CSRF token is HMAC-SHA256 keyed with the session id: it is bound to that session,
 *   needs no state of its own (so replicas sharing one database agree on it), and reveals
 *   nothing about the id. A cookie-authenticated request that may change something (any
 *   method but GET, HEAD, OPTIONS) must send it in `x-csrf-token`; token-authenticated
 *   requests need none, since a browser never attaches a token by itself.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Secret } from "../../core/secret.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The raw session id, when the request authenticated with the session cookie (set by the auth hook). */
    kwSession: Secret | undefined;
  }
}

/** The session cookie's name. */
export const SESSION_COOKIE = "kw_session";
/** The header a cookie-authenticated write carries its CSRF token in. */
export const CSRF_HEADER = "x-csrf-token";

const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);
/** Session ids are 43 characters; anything much longer is not one and is cut before hashing. */
const MAX_COOKIE_LENGTH = 128;
const CSRF_CONTEXT = "keywarden-csrf-v1";

/**
 * The CSRF token of a session.
 *
 * @example
 *   reply.send({ csrfToken: csrfTokenFor(issued.sessionId) });
 */
export function csrfTokenFor(sessionId: Secret): string {
  return createHmac("sha256", sessionId.reveal()).update(CSRF_CONTEXT).digest("base64url");
}

/**
 * True when the request may go ahead as far as CSRF is concerned: a safe method, or the
 * session's own token in `x-csrf-token` (compared in constant time).
 *
 * @example
 *   if (!csrfSatisfied(request, session)) throw new KeywardenError("KW_ERR_AUTH_CSRF");
 */
export function csrfSatisfied(request: FastifyRequest, sessionId: Secret): boolean {
  if (SAFE_METHODS.has(request.method)) return true;
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== "string") return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(csrfTokenFor(sessionId));
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The session id the request's cookie carries, if any.
 *
 * @example
 *   const session = sessionCookieOf(request); // Secret | undefined
 */
export function sessionCookieOf(request: FastifyRequest): Secret | undefined {
  // Absent on an app without @fastify/cookie (a bare app in unit tests): then no sessions.
  const jar = request.cookies as Record<string, string | undefined> | undefined;
  const raw = jar?.[SESSION_COOKIE];
  return raw === undefined || raw === "" ? undefined : new Secret(raw.slice(0, MAX_COOKIE_LENGTH));
}

/** Sets and clears the session cookie with one set of attributes. */
export interface SessionCookies {
  set(request: FastifyRequest, reply: FastifyReply, sessionId: Secret): void;
  clear(request: FastifyRequest, reply: FastifyReply): void;
}

/**
 * @example
 *   const cookies = sessionCookies({ tls: true, maxAgeSeconds: 12 * 3600 });
 *   cookies.set(request, reply, issued.sessionId);
 */
export function sessionCookies(o: { readonly tls: boolean; readonly maxAgeSeconds: number }): SessionCookies {
  const attributes = (request: FastifyRequest) =>
    ({
      path: "/",
      httpOnly: true,
      sameSite: "strict",
      secure: o.tls || request.protocol === "https",
    }) as const;
  return {
    set(request, reply, sessionId) {
      reply.setCookie(SESSION_COOKIE, sessionId.reveal(), {
        ...attributes(request),
        maxAge: o.maxAgeSeconds,
      });
    },
    clear(request, reply) {
      reply.clearCookie(SESSION_COOKIE, attributes(request));
    },
  };
}
