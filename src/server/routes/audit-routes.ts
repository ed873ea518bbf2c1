/**
 * `/api/v1/audit`: the audit log, filtered, in chain order. Needs the `audit` capability on
 * the path asked for (or on `*` for the whole log).
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Keywarden } from "../../app.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import { authorize } from "../plugins/auth.ts";
import { NullableInteger, NullableString, PROTECTED_ERRORS } from "../schemas.ts";

const EntrySchema = Type.Object({
  seq: Type.Integer(),
  id: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  path: NullableString,
  version: NullableInteger,
  result: Type.String(),
  source: Type.String(),
  requestId: Type.String(),
  detail: NullableString,
  hash: Type.String(),
});

/**
 * @example
 *   await app.register(auditRoutes, { prefix: "/api/v1", keywarden, access });
 */
export const auditRoutes: FastifyPluginAsyncTypebox<{ keywarden: Keywarden; access: AccessManager }> = (
  app,
  { keywarden, access },
) => {
  app.get(
    "/audit",
    {
      schema: {
        tags: ["audit"],
        summary: "Query the audit log (oldest first; page with afterSeq)",
        querystring: Type.Object(
          {
            path: Type.Optional(Type.String({ maxLength: 512 })),
            actor: Type.Optional(Type.String({ maxLength: 256 })),
            action: Type.Optional(Type.String({ maxLength: 128 })),
            since: Type.Optional(
              Type.String({ maxLength: 64, description: "Entries at or after this ISO 8601 time." }),
            ),
            afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(EntrySchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      await authorize(access, request, "audit", q.path ?? "*");
      const entries = await keywarden.audit.query({ ...q, limit: q.limit ?? 100 });
      return { entries };
    },
  );
  return Promise.resolve();
};
