/**
 * `/api/v1/secrets`: the vault over HTTP. Each route checks its capability on the secret's
 * path through the access service (denials are audited there), then calls the vault
 * service, which audits the operation itself under the principal's id.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Keywarden } from "../../app.ts";
import { Secret } from "../../core/secret.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import type { SecretMetadata } from "../../services/vault/vault-service.ts";
import { authorize, authorizeList } from "../plugins/auth.ts";
import { NullableInteger, NullableString, PROTECTED_ERRORS, SecretParams } from "../schemas.ts";

const metadataFields = {
  id: Type.String(),
  path: Type.String(),
  currentVersion: Type.Integer(),
  provider: NullableString,
  kind: NullableString,
  owner: NullableString,
  consumers: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  expiresAt: NullableString,
  maxAgeSeconds: NullableInteger,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  lastReadAt: NullableString,
  deletedAt: NullableString,
};

/**
 * A secret's metadata: never its value.
 *
 * @example
 *   schema: { response: { 200: MetadataSchema } }
 */
export const MetadataSchema = Type.Object(metadataFields);

/** One secret's metadata as its metadata route answers it: with the path's Vault KV custom metadata. */
const DescribeSchema = Type.Object({
  ...metadataFields,
  customMetadata: Type.Union([Type.Null(), Type.Record(Type.String(), Type.String())]),
});

const SummarySchema = Type.Object({
  ...metadataFields,
  valueCreatedAt: NullableString,
  ageSeconds: NullableInteger,
  stale: Type.Boolean(),
  expired: Type.Boolean(),
});

const SecretValueSchema = Type.Object({
  path: Type.String(),
  version: Type.Integer(),
  value: Type.String({ description: "The plaintext value." }),
  metadata: MetadataSchema,
});

const WriteResultSchema = Type.Object({
  path: Type.String(),
  version: Type.Integer(),
  provider: NullableString,
  kind: NullableString,
});

const MetadataPatchSchema = Type.Object(
  {
    owner: Type.Optional(NullableString),
    consumers: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 100 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 100 })),
    expiresAt: Type.Optional(NullableString),
    maxAgeSeconds: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  },
  { additionalProperties: false },
);

/** What the metadata route changes: the patch, and a merge into the path's custom metadata. */
const MetadataChangeSchema = Type.Object(
  {
    ...MetadataPatchSchema.properties,
    customMetadata: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
        description: "Merged into the path's Vault KV custom metadata: a null removes a key.",
      }),
    ),
  },
  { additionalProperties: false },
);

const WriteBody = Type.Object(
  {
    value: Type.String({ minLength: 1, maxLength: 65_536 }),
    cas: Type.Optional(
      Type.Integer({ minimum: 0, description: "Write only if the secret is at this version (0: new)." }),
    ),
    metadata: Type.Optional(MetadataChangeSchema),
  },
  { additionalProperties: false },
);

const VersionInfoSchema = Type.Object({
  version: Type.Integer(),
  createdAt: Type.String(),
  createdBy: Type.String(),
  restoredFrom: NullableInteger,
  destroyedAt: NullableString,
  current: Type.Boolean(),
});

const Done = Type.Object({ path: Type.String(), ok: Type.Literal(true) });

/** Copies metadata into a plain object with arrays the serializer accepts. */
function plainMetadata(m: SecretMetadata) {
  return { ...m, consumers: [...m.consumers], tags: [...m.tags] };
}

export interface SecretsRoutesOptions {
  readonly keywarden: Keywarden;
  readonly access: AccessManager;
}

/**
 * @example
 *   await app.register(secretsRoutes, { prefix: "/api/v1", keywarden, access });
 */
export const secretsRoutes: FastifyPluginAsyncTypebox<SecretsRoutesOptions> = (
  app,
  { keywarden, access },
) => {
  const vault = keywarden.vault;
  const tags = ["secrets"];
  const pathOf = (p: { project: string; env: string; name: string }): string =>
    `${p.project}/${p.env}/${p.name}`;

  app.get(
    "/secrets",
    {
      schema: {
        tags,
        summary: "List secrets under a prefix (only those the token may list)",
        querystring: Type.Object(
          {
            prefix: Type.Optional(Type.String({ maxLength: 512, default: "" })),
            includeDeleted: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ secrets: Type.Array(SummarySchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const prefix = request.query.prefix ?? "";
      // Listing reveals names: it needs `list` on every path the prefix could cover.
      await authorizeList(access, keywarden.audit, request, prefix);
      const rows = await vault.list(request.kwCtx, prefix, {
        includeDeleted: request.query.includeDeleted === true,
      });
      const visible = rows.map((r) => ({ ...r, consumers: [...r.consumers], tags: [...r.tags] }));
      return { secrets: visible };
    },
  );

  app.get(
    "/secrets/:project/:env/:name",
    {
      schema: {
        tags,
        summary: "Read the current value, or ?version=N",
        params: SecretParams,
        querystring: Type.Object(
          { version: Type.Optional(Type.Integer({ minimum: 1 })) },
          { additionalProperties: false },
        ),
        response: { 200: SecretValueSchema, 410: PROTECTED_ERRORS[404], ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "read", path);
      const s = await vault.get(request.kwCtx, path, { version: request.query.version, via: "api" });
      return {
        path: s.path,
        version: s.version,
        value: s.value.reveal(),
        metadata: plainMetadata(s.metadata),
      };
    },
  );

  app.put(
    "/secrets/:project/:env/:name",
    {
      schema: {
        tags,
        summary: "Write a new version (check-and-set with cas)",
        params: SecretParams,
        body: WriteBody,
        response: {
          200: WriteResultSchema,
          409: PROTECTED_ERRORS[404],
          413: PROTECTED_ERRORS[404],
          ...PROTECTED_ERRORS,
        },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "write", path);
      return vault.set(request.kwCtx, path, new Secret(request.body.value), {
        cas: request.body.cas,
        metadata: request.body.metadata,
      });
    },
  );

  app.get(
    "/secrets/:project/:env/:name/metadata",
    {
      schema: {
        tags,
        summary: "Metadata of one secret (no value)",
        params: SecretParams,
        response: { 200: DescribeSchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "list", path);
      const m = await vault.describe(request.kwCtx, path, { customMetadata: true });
      return { ...plainMetadata(m), customMetadata: m.customMetadata ?? null };
    },
  );

  app.patch(
    "/secrets/:project/:env/:name/metadata",
    {
      schema: {
        tags,
        summary: "Change metadata without writing a value",
        params: SecretParams,
        body: MetadataChangeSchema,
        response: { 200: DescribeSchema, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "write", path);
      const m = await vault.updateMetadata(request.kwCtx, path, request.body);
      return { ...plainMetadata(m), customMetadata: m.customMetadata };
    },
  );

  app.get(
    "/secrets/:project/:env/:name/history",
    {
      schema: {
        tags,
        summary: "Every version, oldest first",
        params: SecretParams,
        response: { 200: Type.Object({ versions: Type.Array(VersionInfoSchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "list", path);
      return { versions: await vault.history(request.kwCtx, path) };
    },
  );

  app.post(
    "/secrets/:project/:env/:name/restore",
    {
      schema: {
        tags,
        summary: "Make an old version current again (as a new version)",
        params: SecretParams,
        body: Type.Object(
          { version: Type.Integer({ minimum: 1 }), cas: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false },
        ),
        response: {
          200: WriteResultSchema,
          409: PROTECTED_ERRORS[404],
          410: PROTECTED_ERRORS[404],
          ...PROTECTED_ERRORS,
        },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "write", path);
      return vault.restore(request.kwCtx, path, request.body.version, { cas: request.body.cas });
    },
  );

  app.delete(
    "/secrets/:project/:env/:name",
    {
      schema: {
        tags,
        summary: "Soft delete (undo with undelete)",
        params: SecretParams,
        response: { 200: Done, 410: PROTECTED_ERRORS[404], ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "delete", path);
      await vault.remove(request.kwCtx, path);
      return { path, ok: true as const };
    },
  );

  app.post(
    "/secrets/:project/:env/:name/undelete",
    {
      schema: {
        tags,
        summary: "Undo a soft delete",
        params: SecretParams,
        response: { 200: Done, ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "delete", path);
      await vault.undelete(request.kwCtx, path);
      return { path, ok: true as const };
    },
  );

  app.post(
    "/secrets/:project/:env/:name/destroy",
    {
      schema: {
        tags,
        summary: "Destroy versions for good",
        params: SecretParams,
        body: Type.Object(
          { versions: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: Done, 410: PROTECTED_ERRORS[404], ...PROTECTED_ERRORS },
      },
    },
    async (request) => {
      const path = pathOf(request.params);
      await authorize(access, request, "destroy", path);
      for (const v of request.body.versions) await vault.destroy(request.kwCtx, path, v);
      return { path, ok: true as const };
    },
  );
  return Promise.resolve();
};
