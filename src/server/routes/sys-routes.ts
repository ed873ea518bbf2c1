/**
 * `/api/v1/sys`: seal status, unseal and seal over HTTP, after HashiCorp Vault's
 * `/v1/sys/seal-status`, `/v1/sys/unseal` and `/v1/sys/seal`.
 *
 * Status and unseal are public: a sealed server has no key to check much with, and the
 * operator unsealing it may hold no token. Unseal is therefore guarded otherwise: a strict
 * per-address limit (server.unsealRateLimit a minute), one attempt at a time (each costs
 * an Argon2id derivation), every attempt audited, and the passphrase never in a log line
 * or an error (the body is not logged; the refusal carries no detail). Sealing needs
 * `admin` on `_sys/seal`.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Keywarden } from "../../app.ts";
import { isKeywardenError, KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import { authorize } from "../plugins/auth.ts";
import { ErrorSchema, PROTECTED_ERRORS, PUBLIC_BODY_ERRORS } from "../schemas.ts";

/** The policy path that sealing needs `admin` on. */
export const SEAL_PATH = "_sys/seal";

const SealStatusSchema = Type.Object({
  sealed: Type.Boolean(),
  type: Type.String({ description: "The key provider: local, env, pkcs11 or aws-kms." }),
});

export interface SysRoutesOptions {
  readonly keywarden: Keywarden;
  readonly access: AccessManager;
  /** Unseal attempts per minute per client address. */
  readonly unsealRateLimit: number;
}

/**
 * @example
 *   await app.register(sysRoutes, { prefix: "/api/v1", keywarden, access, unsealRateLimit: 5 });
 */
export const sysRoutes: FastifyPluginAsyncTypebox<SysRoutesOptions> = (
  app,
  { keywarden, access, unsealRateLimit },
) => {
  const tags = ["sys"];
  const status = () => ({ sealed: keywarden.sealed(), type: keywarden.kms.kind });
  let unsealing = false;

  app.get(
    "/sys/seal-status",
    {
      config: { public: true },
      schema: {
        tags,
        summary: "Whether the vault is sealed, and its key provider",
        security: [],
        response: { 200: SealStatusSchema, 429: ErrorSchema, 500: ErrorSchema },
      },
    },
    status,
  );

  app.post(
    "/sys/unseal",
    {
      config: { public: true, rateLimit: { max: unsealRateLimit, timeWindow: 60_000 } },
      schema: {
        tags,
        summary: "Unseal a local (passphrase-sealed) key provider; rate limited per address",
        security: [],
        body: Type.Object(
          { passphrase: Type.String({ minLength: 1, maxLength: 1024 }) },
          { additionalProperties: false },
        ),
        response: { 200: SealStatusSchema, ...PUBLIC_BODY_ERRORS },
      },
    },
    async (request, reply) => {
      if (!keywarden.sealed()) return status();
      // One Argon2id derivation at a time, whoever asks: the limit per address alone would
      // let many addresses make the server spend its memory and cores.
      if (unsealing) {
        void reply.header("retry-after", "1");
        throw new KeywardenError("KW_ERR_HTTP_RATE_LIMITED", { retryAfter: 1 });
      }
      unsealing = true;
      try {
        await keywarden.unseal(request.kwCtx, new Secret(request.body.passphrase));
      } catch (e) {
        // The audit entry is written by unseal; the caller learns no file name or detail.
        if (isKeywardenError(e, "KW_ERR_KMS_WRONG_PASSPHRASE"))
          throw new KeywardenError("KW_ERR_SERVER_UNSEAL_DENIED");
        throw e;
      } finally {
        unsealing = false;
      }
      return status();
    },
  );

  app.post(
    "/sys/seal",
    {
      schema: {
        tags,
        summary: "Seal the vault (needs admin on _sys/seal); reads answer 503 until unsealed",
        response: { 200: SealStatusSchema, 409: ErrorSchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      await authorize(access, request, "admin", SEAL_PATH);
      await keywarden.seal(request.kwCtx);
      return status();
    },
  );
  return Promise.resolve();
};
