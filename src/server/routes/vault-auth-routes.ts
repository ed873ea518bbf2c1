/**
 * Vault's login routes for apps and CI jobs that hold no Keywarden token yet; each answers a
 * short-lived token in Vault's `auth` block, and is public, limited per address like every
 * other way in (countedLogin), with every refusal audited.
 *
 * - AppRole, `/v1/auth/approle/login` (Vault Agent's auto-auth, External Secrets' `appRole`,
 *   Terraform's `auth_login`, node-vault's `approleLogin`, hvac's `auth.approle.login`): the
 *   `role_id` is a machine identity's name (not a secret, as in Vault) and the `secret_id` a
 *   token of that identity, as `keywarden token create --identity NAME` printed it. The answer
 *   is a child of that token, as `vault token create` makes: the same policies, at most
 *   access.childTokenMaxMinutes and never past the token, its IP allow-list; so the long-lived
 *   credential stays in the app's settings and only the child travels with requests. Whatever
 *   part is wrong (unknown, expired or revoked token, a child token, another identity's role)
 *   is one answer, Vault's 400 "invalid role or secret ID".
 * - JWT, `/v1/auth/jwt/login` (hashicorp/vault-action's `method: jwt`, GitLab's `VAULT_ID_TOKEN`
 *   flows), and Kubernetes, `/v1/auth/kubernetes/login` (Vault Agent's injector, the CSI
 *   provider, External Secrets' `kubernetes` auth): `role` is the machine identity's name and
 *   `jwt` the CI platform's OIDC token or the pod's service account token, checked against the
 *   identity's trusts (access.oidc, services/access/oidc.ts); any refusal is 401 KW_ERR_AUTH_OIDC.
 *
 * - userpass, `/v1/auth/userpass/login/<name>`: a user's password (and TOTP code) for a token of
 *   that user, as POST /api/v1/auth/token gives.
 *
 * All answer POST and PUT, as Vault does (Go's api sends PUT).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Clock } from "../../core/clock.ts";
import { isKeywardenError } from "../../core/errors.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import { MAX_JWT_LENGTH, type OidcLogin } from "../../services/access/oidc.ts";
import { countedLogin, passwordToken, type AuthFailures } from "../plugins/auth.ts";
import { TokenText } from "../schemas.ts";
import { AuthAnswer, authAnswer, VAULT_ERRORS, vaultError } from "./vault-api.ts";

/**
 * @example
 *   await app.register(vaultAuthRoutes, { prefix: "/v1", access, oidc, failures, clock, childTokenMaxMinutes: 60 });
 */
export const vaultAuthRoutes: FastifyPluginAsyncTypebox<{
  access: AccessManager;
  oidc: OidcLogin;
  /** The auth hook's per-address failure window, shared with every other way in. */
  failures: AuthFailures;
  /** The clock the access service uses (the lease is counted by it). */
  clock: Clock;
  /** access.childTokenMaxMinutes: the life of the token an AppRole login gives. */
  childTokenMaxMinutes: number;
}> = (app, { access, oidc, failures, clock, childTokenMaxMinutes }) => {
  app.setErrorHandler((e, request, reply) => vaultError(request, reply, e));
  const tags = ["vault-auth"];

  app.route({
    method: ["POST", "PUT"],
    url: "/auth/approle/login",
    config: { public: true },
    schema: {
      tags,
      summary:
        "Vault's AppRole login: role_id a machine identity's name, secret_id its token; answers a short-lived child token",
      security: [],
      body: Type.Object({
        role_id: Type.String({ minLength: 1, maxLength: 64 }),
        secret_id: TokenText,
      }),
      response: { 200: AuthAnswer, ...VAULT_ERRORS },
    },
    handler: async (request) => {
      const { role_id: role, secret_id: secretId } = request.body;
      const issued = await countedLogin(
        failures,
        request.ip,
        () =>
          access.approleLogin(request.kwCtx, {
            role,
            secretId,
            ip: request.ip,
            ttlMinutes: childTokenMaxMinutes,
          }),
        (e) => isKeywardenError(e, "KW_ERR_AUTH_APPROLE"),
      );
      return authAnswer(request, issued, clock, { role_name: role });
    },
  });

  // Vault's userpass login (`vault login -method=userpass username=alice`, node-vault's
  // userpassLogin): a user's password (and `totp`, Keywarden's, when enrolled) for a token of
  // that user, as POST /api/v1/auth/token gives. Every failure is the same answer
  // (KW_ERR_AUTH_BAD_CREDENTIALS), whether the name exists or not.
  app.route({
    method: ["POST", "PUT"],
    url: "/auth/userpass/login/:username",
    config: { public: true },
    schema: {
      tags,
      summary:
        "Vault's userpass login: a user's password (and TOTP code when enrolled) for a token of that user",
      security: [],
      params: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }) }),
      body: Type.Object({
        password: Type.String({ minLength: 1, maxLength: 1024 }),
        totp: Type.Optional(Type.String({ pattern: "^[0-9]{6,8}$" })),
      }),
      response: { 200: AuthAnswer, ...VAULT_ERRORS },
    },
    handler: async (request) => {
      const { principal, issued } = await passwordToken(access, failures, request, {
        ...request.body,
        name: request.params.username,
      });
      return authAnswer(request, issued, clock, { username: principal.name });
    },
  });

  // Vault's Kubernetes login takes the same body: a pod's service account token is a JWT of
  // the cluster's OIDC issuer (EKS, GKE, AKS, or service-account-issuer discovery), checked
  // the same way, by a trust binding its `sub` (system:serviceaccount:NAMESPACE:NAME).
  for (const method of ["jwt", "kubernetes"] as const)
    app.route({
      method: ["POST", "PUT"],
      url: `/auth/${method}/login`,
      config: { public: true },
      schema: {
        tags,
        summary:
          method === "jwt"
            ? "Vault's JWT login: role a machine identity's name, jwt a CI platform's OIDC token that one of its trusts (access.oidc) accepts"
            : "Vault's Kubernetes login: role a machine identity's name, jwt a pod's service account token that one of its trusts (access.oidc) accepts",
        security: [],
        body: Type.Object({
          role: Type.String({ minLength: 1, maxLength: 64 }),
          jwt: Type.String({ minLength: 1, maxLength: MAX_JWT_LENGTH }),
        }),
        response: { 200: AuthAnswer, ...VAULT_ERRORS },
      },
      handler: async (request) => {
        const { role, jwt } = request.body;
        const issued = await countedLogin(
          failures,
          request.ip,
          () => oidc.login(request.kwCtx, { identity: role, jwt }),
          (e) => isKeywardenError(e, "KW_ERR_AUTH_OIDC"),
        );
        return authAnswer(request, issued, clock, { role });
      },
    });
  return Promise.resolve();
};
