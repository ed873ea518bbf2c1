/**
 * Liveness and readiness for load balancers and orchestrators. `/healthz` answers while the
 * process runs; `/readyz` only when requests can be served: the key provider is unsealed and
 * the database answers.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { sql } from "kysely";
import Type from "typebox";
import type { Keywarden } from "../../app.ts";
import { KeywardenError } from "../../core/errors.ts";
import { ErrorSchema } from "../schemas.ts";

const Status = Type.Object({ status: Type.Literal("ok") });

/**
 * @example
 *   await app.register(healthRoutes, { keywarden });
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{ keywarden: Keywarden }> = (app, { keywarden }) => {
  app.get(
    "/healthz",
    { config: { public: true, rateLimit: false }, schema: { tags: ["health"], response: { 200: Status } } },
    () => ({ status: "ok" as const }),
  );
  app.get(
    "/readyz",
    {
      config: { public: true, rateLimit: false },
      schema: { tags: ["health"], response: { 200: Status, 503: ErrorSchema } },
    },
    async () => {
      if (keywarden.sealed())
        throw new KeywardenError("KW_ERR_SERVER_NOT_READY", { reason: "the vault is sealed" });
      try {
        await sql`select 1`.execute(keywarden.storage.db);
      } catch {
        throw new KeywardenError("KW_ERR_SERVER_NOT_READY", { reason: "the database does not answer" });
      }
      return { status: "ok" as const };
    },
  );
  return Promise.resolve();
};
