/**
 * What every route of the Vault-compatible API shares: Vault's answer envelope and its error
 * shape (an `errors` list beside Keywarden's one error body), and the `auth` answer of a route
 * that issues a token, for vault-kv-routes.ts, vault-token-routes.ts and vault-approle-routes.ts.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import Type from "typebox";
import type { Clock } from "../../core/clock.ts";
import type { IssuedToken } from "../../services/access/access-service.ts";
import { errorResponse, reportError } from "../plugins/errors.ts";
import { ErrorSchema } from "../schemas.ts";

/** Vault's error answer (an `errors` list), with Keywarden's one error body beside it. */
export const VaultError = Type.Object({
  errors: Type.Array(Type.String()),
  error: ErrorSchema.properties.error,
});

/** The error answers of a Vault route, for its response schemas. */
export const VAULT_ERRORS = {
  400: VaultError,
  401: VaultError,
  403: VaultError,
  404: VaultError,
  409: VaultError,
  429: VaultError,
  500: VaultError,
  503: VaultError,
} as const;

/** Vault's answer envelope around `data` (a schema's properties). */
export const envelope = <T extends Parameters<typeof Type.Object>[0]>(data: T) =>
  Type.Object({
    request_id: Type.String(),
    lease_id: Type.String(),
    renewable: Type.Boolean(),
    lease_duration: Type.Integer(),
    data: Type.Object(data),
    wrap_info: Type.Null(),
    warnings: Type.Null(),
    auth: Type.Null(),
  });

/** Vault's envelope around `data`, answering `request`. */
export function wrap<T>(request: FastifyRequest, data: T) {
  return {
    request_id: request.id,
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
  };
}

/** Vault's answer to a request that issued a token: its envelope with an `auth` block. */
export const AuthAnswer = Type.Object({
  request_id: Type.String(),
  lease_id: Type.String(),
  renewable: Type.Boolean(),
  lease_duration: Type.Integer(),
  data: Type.Null(),
  wrap_info: Type.Null(),
  warnings: Type.Null(),
  auth: Type.Object({
    client_token: Type.String({ description: "The new token: shown once, never stored." }),
    accessor: Type.String(),
    policies: Type.Array(Type.String()),
    token_policies: Type.Array(Type.String()),
    metadata: Type.Union([Type.Null(), Type.Record(Type.String(), Type.String())]),
    lease_duration: Type.Integer(),
    renewable: Type.Boolean(),
    entity_id: Type.String(),
    token_type: Type.String(),
    orphan: Type.Boolean(),
    num_uses: Type.Integer(),
  }),
});

/**
 * Vault's `auth` answer for a token just issued (a child token: never renewable, never an
 * orphan), its lease counted by `clock`.
 */
export function authAnswer(
  request: FastifyRequest,
  issued: IssuedToken,
  clock: Clock,
  metadata: Readonly<Record<string, string>> | null = null,
) {
  const info = issued.info;
  return {
    ...wrap(request, null),
    auth: {
      client_token: issued.token.reveal(),
      accessor: info.id,
      policies: [...info.policies],
      token_policies: [...info.policies],
      metadata,
      lease_duration: Math.max(0, Math.floor((Date.parse(info.expiresAt) - clock.now().getTime()) / 1000)),
      renewable: false,
      entity_id: info.identityId,
      token_type: "service",
      orphan: false,
      num_uses: 0,
    },
  };
}

/**
 * Errors in Vault's shape (an `errors` list) beside Keywarden's. A deleted secret and a
 * destroyed version are 404 here, as Vault answers them (Keywarden's own API says 410):
 * Vault clients take 404 for "not there" (Go's api returns no secret and no error, hvac
 * raises InvalidPath) and any other status for a failure.
 */
export function vaultError(request: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  const { status, body } = errorResponse(e, request.id);
  reportError(request, reply, e, status, body);
  return reply.code(status === 410 ? 404 : status).send({ errors: [body.error.message], error: body.error });
}
