/**
 * The vault's `Authorizer`, built from the access service. The vault only sees a
 * `RequestContext`; the server passes one made by `principalContext`, which carries the
 * authenticated principal (never the token). A context without one is denied: in the
 * server every call is authenticated, and the CLI's local vault uses no authorizer.
 */
import type { RequestContext } from "../audit/audit-service.ts";
import type { Authorizer, VaultPermission } from "../vault/vault-service.ts";
import type { Principal } from "./access-types.ts";
import type { AccessManager } from "./access-service.ts";

/** A request context that says who the caller is. */
export interface PrincipalContext extends RequestContext {
  readonly principal: Principal;
}

/**
 * The context for a request made by `principal`: the audit log records the principal's id
 * as the actor.
 *
 * @example
 *   const ctx = principalContext(principal, `ip=${req.ip}`, req.id);
 *   await kw.vault.get(ctx, "payments/prod/STRIPE_KEY");
 */
export function principalContext(principal: Principal, source: string, requestId: string): PrincipalContext {
  return Object.freeze({ actor: principal.id, source, requestId, principal });
}

/**
 * The principal a context carries, if any.
 *
 * @example
 *   const p = principalOf(ctx); if (p === undefined) throw unauthenticated;
 */
export function principalOf(ctx: RequestContext): Principal | undefined {
  const p = (ctx as Partial<PrincipalContext>).principal;
  return p !== undefined && typeof p === "object" && p.id === ctx.actor ? p : undefined;
}

/** A secret path is three segments; anything else the vault authorizes is a list prefix. */
function isSecretPath(path: string): boolean {
  const parts = path.split("/");
  return parts.length === 3 && parts.every((s) => s.length > 0);
}

/**
 * The vault's authorizer: `list` of a prefix needs `list` on every secret under it; every
 * other check is on the exact path. The vault audits the denial itself.
 *
 * @example
 *   // createKeywarden({ ...deps, accessControl: true }) wires this itself.
 *   const authorize = vaultAuthorizer(() => kw.access);
 */
export function vaultAuthorizer(access: () => AccessManager): Authorizer {
  return async (ctx: RequestContext, permission: VaultPermission, path: string) => {
    const principal = principalOf(ctx);
    if (principal === undefined) return false;
    if (permission === "list" && !isSecretPath(path)) return access().canList(principal, path);
    return access().can(principal, permission, path);
  };
}
