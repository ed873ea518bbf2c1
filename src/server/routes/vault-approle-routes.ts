/**
 * Vault's AppRole login, `POST /v1/auth/approle/login`: how apps and tools built on Vault get a
 * token from two settings (Vault Agent's auto-auth, External Secrets' `appRole`, Terraform's
 * `auth_login`, node-vault's `approleLogin`, hvac's `auth.approle.login`). In Keywarden the
 * `role_id` is a machine identity's name (not a secret, as in Vault) and the `secret_id` a
 * token of that identity, as `keywarden token create --identity NAME` printed it. The answer
 * is a short-lived child of that token, as `vault token create` makes: the same policies, at
 * most access.childTokenMaxMinutes and never past the token, its IP allow-list. So the
 * long-lived credential stays in the app's settings and only the child travels with requests.
 *
 * Whatever part is wrong (unknown, expired or revoked token, a child token, another identity's
 * role) is one answer, Vault's 400 "invalid role or secret ID", so it tells nothing about which;
 * each failure is audited and counts against server.authFailureLimit per address.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Clock } from "../../core/clock.ts";
import { isKeywardenError, KeywardenError } from "../../core/errors.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import type { Principal } from "../../services/access/access-types.ts";
import { principalContext } from "../../services/access/vault-authorizer.ts";
import type { AuditService } from "../../services/audit/audit-service.ts";
import type { AuthFailures } from "../plugins/auth.ts";
import { AuthAnswer, authAnswer, VAULT_ERRORS, vaultError } from "./vault-api.ts";

/**
 * @example
 *   await app.register(vaultApproleRoutes, { prefix: "/v1", access, audit, failures, clock, childTokenMaxMinutes: 60 });
 */
export const vaultApproleRoutes: FastifyPluginAsyncTypebox<{
  access: AccessManager;
  audit: AuditService;
  /** The auth hook's per-address failure window, shared with every other way in. */
  failures: AuthFailures;
  /** The clock the access service uses (the lease is counted by it). */
  clock: Clock;
  /** access.childTokenMaxMinutes: the life of the token a login gives. */
  childTokenMaxMinutes: number;
}> = (app, { access, audit, failures, clock, childTokenMaxMinutes }) => {
  app.setErrorHandler((e, request, reply) => vaultError(request, reply, e));

  app.route({
    method: ["POST", "PUT"],
    url: "/auth/approle/login",
    config: { public: true },
    schema: {
      tags: ["vault-auth"],
      summary:
        "Vault's AppRole login: role_id a machine identity's name, secret_id its token; answers a short-lived child token",
      security: [],
      body: Type.Object({
        role_id: Type.String({ minLength: 1, maxLength: 64 }),
        secret_id: Type.String({ minLength: 1, maxLength: 512 }),
      }),
      response: { 200: AuthAnswer, ...VAULT_ERRORS },
    },
    handler: async (request) => {
      const retryAfter = failures.blocked(request.ip);
      if (retryAfter !== undefined) throw new KeywardenError("KW_ERR_HTTP_RATE_LIMITED", { retryAfter });
      const { role_id: role, secret_id: secretId } = request.body;
      let principal: Principal;
      try {
        // Audited by the access service when refused, as any token.
        principal = await access.authenticateToken(request.kwCtx, secretId, request.ip);
      } catch (e) {
        if (!isKeywardenError(e) || e.httpStatus !== 401) throw e;
        failures.fail(request.ip);
        throw new KeywardenError("KW_ERR_AUTH_APPROLE");
      }
      request.kwCtx = principalContext(principal, request.kwCtx.source, request.id);
      // A child token makes no child; a user's token is no app's role.
      const mismatch =
        principal.kind !== "machine"
          ? "secret_id is not a machine identity's token"
          : principal.name !== role
            ? "role_id is not the token's identity"
            : secretId.trim().startsWith("kw_cld_")
              ? "secret_id is a child token"
              : undefined;
      if (mismatch !== undefined) {
        failures.fail(request.ip);
        await audit.record(request.kwCtx, {
          action: "auth.approle",
          result: "denied",
          detail: `KW_ERR_AUTH_APPROLE ${mismatch}`,
        });
        throw new KeywardenError("KW_ERR_AUTH_APPROLE");
      }
      const issued = await access.createChildToken(request.kwCtx, principal, {
        ttlMinutes: childTokenMaxMinutes,
        description: "approle login",
      });
      return authAnswer(request, issued, clock, { role_name: role });
    },
  });
  return Promise.resolve();
};
