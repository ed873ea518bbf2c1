/**
 * The access contract between the server (L4) and the access service (L3): who is calling
 * (a `Principal`, from a token or a dashboard session) and what they may do (capabilities on
 * path globs). The server authenticates every request through `AccessService`, then passes
 * the principal's id as `RequestContext.actor`; the vault's `Authorizer` asks `can`.
 */
import type { RequestContext } from "../audit/audit-service.ts";

/** What a policy rule grants on the paths it matches. */
export type Capability =
  "read" | "write" | "list" | "delete" | "destroy" | "rotate" | "revoke" | "audit" | "admin";

export const CAPABILITIES: readonly Capability[] = [
  "read",
  "write",
  "list",
  "delete",
  "destroy",
  "rotate",
  "revoke",
  "audit",
  "admin",
];

/** One rule of a policy: default deny; an explicit deny wins over any allow. */
export interface PolicyRule {
  /** A path glob over `project/env/NAME`: `payments/prod/*`, `payments/**`, `*`. */
  readonly path: string;
  readonly capabilities: readonly Capability[];
  readonly effect: "allow" | "deny";
}

export interface Policy {
  readonly id: string;
  readonly name: string;
  readonly rules: readonly PolicyRule[];
}

/** An authenticated caller. Never carries the raw token. */
export interface Principal {
  /** The identity's id (`usr_...` or `mid_...`): what the audit log records as the actor. */
  readonly id: string;
  readonly kind: "user" | "machine";
  readonly name: string;
  /** The token this request authenticated with (`tok_...`), if any. */
  readonly tokenId?: string | undefined;
  /** Names of the policies in force for this request (through roles and the token's scope). */
  readonly policies: readonly string[];
  /** ISO 8601 expiry of the token or session. */
  readonly expiresAt?: string | undefined;
}

/**
 * What the server needs from the access service. Failures are KeywardenErrors with
 * KW_ERR_AUTH_* codes (401) or KW_ERR_ACCESS_DENIED (403); every denial is audited by the
 * service itself.
 *
 * @example
 *   const principal = await access.authenticateToken(ctx, header, ip);
 *   await access.require(ctx, principal, "read", "payments/prod/STRIPE_KEY");
 */
export interface AccessService {
  /** Checks a raw `kw_...` token: format, checksum, hash lookup, expiry, revocation, IP allow-list. */
  authenticateToken(ctx: RequestContext, rawToken: string, ip: string): Promise<Principal>;
  /** Checks a raw dashboard session id: known, not ended, within its idle and absolute timeouts; touches it. */
  authenticateSession(ctx: RequestContext, rawSessionId: string, ip: string): Promise<Principal>;
  /** True when the principal's policies allow `capability` on `path` (deny wins). */
  can(principal: Principal, capability: Capability, path: string): Promise<boolean>;
  /** Like `can`, but audits and throws KW_ERR_ACCESS_DENIED when not allowed. */
  require(ctx: RequestContext, principal: Principal, capability: Capability, path: string): Promise<void>;
}
