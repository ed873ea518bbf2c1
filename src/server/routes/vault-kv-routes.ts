/**
 * The subset of HashiCorp Vault's KV version 2 HTTP API that applications and the Vault CLI
 * use, so an app with a Vault client reads from Keywarden unchanged:
 * `/v1/<mount>/data/<path>` (read, write with `options.cas`, merge patch, soft delete),
 * `/v1/<mount>/{delete,undelete,destroy}/<path>` by version, `/v1/<mount>/metadata/<path>`
 * (read, list with `?list=true` or the LIST verb: plugins/list-verb.ts, write, patch,
 * delete), and the calls clients make around them (health, seal status, the CLI's mount
 * lookup). The token comes in `X-Vault-Token`; Vault's token routes are
 * vault-token-routes.ts, the envelope and errors both share vault-api.ts.
 *
 * Mapping: the mount name is accepted and ignored; `<path>` is Keywarden's
 * `project/env/NAME`. A value written through Keywarden reads as `{ "value": "..." }`; a
 * write of exactly `{ "value": "<string>" }` stores the plain string; any other map is stored
 * as JSON and its version says so (`encoding`), so it reads back as the same map. Errors
 * carry Keywarden's one shape plus Vault's `errors` array, which Vault clients print.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import Type, { type TSchema } from "typebox";
import type { Keywarden } from "../../app.ts";
import type { Clock } from "../../core/clock.ts";
import { isKeywardenError, KeywardenError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import type { AccessManager } from "../../services/access/access-service.ts";
import type { Capability } from "../../services/access/access-types.ts";
import { authorize, authorizeList, principalOf } from "../plugins/auth.ts";
import { vaultCapabilities } from "./vault-capabilities.ts";
import { envelope, VAULT_ERRORS, VaultError, vaultError, wrap } from "./vault-api.ts";

/**
 * The secret path after the mount. TypeBox cannot describe a property named `*` (it reads
 * property names as patterns), so the wildcard is read here, bounded.
 */
function restOf(request: FastifyRequest): string {
  const rest = (request.params as Record<string, unknown>)["*"];
  if (typeof rest !== "string" || rest.length > 512)
    throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason: "the secret path is missing or too long" });
  return rest;
}

/**
 * The encoding of a version written as a Vault map other than `{ "value": "<string>" }`:
 * the map's JSON (secret_versions.encoding). Such a map reads back as itself, values of any
 * JSON type included, as Vault's do.
 *
 * @example
 *   (await vault.get(ctx, path)).encoding === KV_MAP // the value is a JSON object
 */
export const KV_MAP = "kv-map";

/** Versions of secrets that had the old tag, from before versions said (migration 0006). */
const KV_MAP_LEGACY = "kv-map-legacy";

/** A mount name: accepted and ignored (see the file comment), but well-formed. */
const MOUNT = "^[A-Za-z0-9_-]{1,64}$";

const MOUNT_RE = new RegExp(MOUNT);

const Params = Type.Object({ mount: Type.String({ pattern: MOUNT }) });

/** Vault's /v1/sys/health answer (the fields clients read; no version, no cluster). */
const Health = Type.Object({
  initialized: Type.Boolean(),
  sealed: Type.Boolean(),
  standby: Type.Boolean(),
  performance_standby: Type.Boolean(),
  server_time_utc: Type.Integer(),
});

/** A path's custom metadata (null when it has none), as Vault answers it. */
const CustomMeta = Type.Union([Type.Null(), Type.Record(Type.String(), Type.String())]);

const VersionMeta = Type.Object({
  created_time: Type.String(),
  custom_metadata: CustomMeta,
  deletion_time: Type.String(),
  destroyed: Type.Boolean(),
  version: Type.Integer(),
});

function decodeData(value: string, encoding: string | null): Record<string, unknown> {
  if (encoding === KV_MAP || encoding === KV_MAP_LEGACY) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
        return encoding === KV_MAP
          ? (parsed as Record<string, unknown>)
          : // As before migration 0006: values were strings, anything else its JSON.
            Object.fromEntries(
              Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
            );
    } catch {
      // A legacy version may be a plain string after all.
    }
  }
  return { value };
}

/**
 * `patch` merged into `target` as RFC 7396 says: a null removes the key, an object merges
 * into the object there, anything else replaces. Returns a new object.
 *
 * @example
 *   mergePatch({ a: "1", b: "2" }, { b: null, c: "3" }) // { a: "1", c: "3" }
 */
export function mergePatch(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out = new Map(Object.entries(target));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) out.delete(key);
    else if (typeof value === "object" && !Array.isArray(value)) {
      const here = out.get(key);
      const base = typeof here === "object" && here !== null && !Array.isArray(here) ? here : {};
      out.set(key, mergePatch(base as Record<string, unknown>, value as Record<string, unknown>));
    } else out.set(key, value);
  }
  return Object.fromEntries(out);
}

/**
 * @example
 *   await app.register(vaultKvRoutes, { prefix: "/v1", keywarden, access });
 */
export const vaultKvRoutes: FastifyPluginAsyncTypebox<{
  keywarden: Keywarden;
  access: AccessManager;
  /** The clock health answers with. */
  clock: Clock;
}> = (app, { keywarden, access, clock }) => {
  const vault = keywarden.vault;
  app.setErrorHandler((e, request, reply) => vaultError(request, reply, e));
  const tags = ["vault-kv2"];

  // What the Vault CLI asks before every `vault kv` command (its KV "preflight"): which
  // mount a path is under and its KV version. Without it the CLI takes the mount for KV
  // version 1 and reads the wrong paths. Every mount name here is KV version 2.
  app.get(
    "/sys/internal/ui/mounts/*",
    {
      schema: {
        tags,
        summary: "Vault's mount lookup for a path (what `vault kv` asks first): KV version 2",
        response: {
          200: envelope({
            path: Type.String(),
            type: Type.Literal("kv"),
            description: Type.String(),
            options: Type.Object({ version: Type.Literal("2") }),
          }),
          ...VAULT_ERRORS,
        },
      },
    },
    (request) => {
      const mount = restOf(request).split("/")[0] ?? "";
      if (!MOUNT_RE.test(mount))
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason: "no mount in the path" });
      return wrap(request, {
        path: `${mount}/`,
        type: "kv" as const,
        description: "Keywarden",
        options: { version: "2" as const },
      });
    },
  );

  // `vault token capabilities PATH` (Go's api: POST {"paths": [...]}; older clients {"path"}):
  // what the calling token may do on each path, in Vault's words (vault-capabilities.ts), in
  // `data` by path and, for the first, as `capabilities` (what older clients read).
  const Caps = Type.Array(Type.String());
  app.route({
    method: ["POST", "PUT"],
    url: "/sys/capabilities-self",
    schema: {
      tags,
      summary: "Vault's capabilities-self: what the calling token may do on each path, in Vault's words",
      body: Type.Object({
        paths: Type.Optional(Type.Array(Type.String({ maxLength: 600 }), { maxItems: 64 })),
        path: Type.Optional(Type.String({ maxLength: 600 })),
      }),
      response: {
        200: Type.Object({
          request_id: Type.String(),
          lease_id: Type.String(),
          renewable: Type.Boolean(),
          lease_duration: Type.Integer(),
          capabilities: Caps,
          data: Type.Record(Type.String(), Caps),
          wrap_info: Type.Null(),
          warnings: Type.Null(),
          auth: Type.Null(),
        }),
        ...VAULT_ERRORS,
      },
    },
    handler: async (request) => {
      const paths = [
        ...(request.body.paths ?? []),
        ...(request.body.path === undefined ? [] : [request.body.path]),
      ];
      if (paths.length === 0)
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason: "name at least one path (paths)" });
      const principal = principalOf(request);
      const check = {
        can: (capability: Capability, path: string) => access.can(principal, capability, path),
        canList: (prefix: string) => access.canList(principal, prefix),
      };
      const data: Record<string, string[]> = {};
      for (const path of paths) data[path] = await vaultCapabilities(path, check);
      return { ...wrap(request, data), capabilities: data[paths[0]!]! };
    },
  });

  // Vault's health check, which Vault clients (node-vault's health(), hvac) and load balancers
  // call: 200 while unsealed, 503 while sealed, or the codes the caller asks for. Public, as
  // in Vault; it says no more than /readyz and seal-status do.
  const Code = Type.Optional(Type.Integer({ minimum: 200, maximum: 599 }));
  app.get(
    "/sys/health",
    {
      config: { public: true },
      schema: {
        tags,
        summary: "Vault's health check: 200 unsealed, 503 sealed (or activecode / sealedcode)",
        security: [],
        querystring: Type.Object(
          { activecode: Code, sealedcode: Code, standbyok: Type.Optional(Type.Boolean()) },
          { additionalProperties: true },
        ),
        response: {
          "2xx": Health,
          "5xx": Health,
          "4xx": VaultError,
        },
      },
    },
    async (request, reply) => {
      const sealed = keywarden.sealed();
      const q = request.query;
      void reply.code(sealed ? (q.sealedcode ?? 503) : (q.activecode ?? 200));
      return Promise.resolve({
        initialized: true,
        sealed,
        standby: false,
        performance_standby: false,
        server_time_utc: Math.floor(clock.now().getTime() / 1000),
      });
    },
  );

  // Vault's seal status (hvac's sys.is_sealed, node-vault's status): public, as in Vault, and
  // saying what /api/v1/sys/seal-status says. A local key file is Vault's "shamir" kind: a
  // secret an operator enters; every other provider unseals itself, as Vault's auto-unseal.
  app.get(
    "/sys/seal-status",
    {
      config: { public: true },
      schema: {
        tags,
        summary: "Vault's seal status: sealed or not, and the kind of seal",
        security: [],
        response: {
          200: Type.Object({
            type: Type.String(),
            initialized: Type.Boolean(),
            sealed: Type.Boolean(),
            t: Type.Integer(),
            n: Type.Integer(),
            progress: Type.Integer(),
            nonce: Type.String(),
            storage_type: Type.String(),
          }),
          "4xx": VaultError,
        },
      },
    },
    () => {
      const local = keywarden.kms.kind === "local";
      return {
        type: local ? "shamir" : keywarden.kms.kind,
        initialized: true,
        sealed: keywarden.sealed(),
        t: 1,
        n: 1,
        progress: 0,
        nonce: "",
        storage_type: "keywarden",
      };
    },
  );

  app.get(
    "/:mount/data/*",
    {
      schema: {
        tags,
        summary: "Vault KV v2: read a secret (latest or ?version=N)",
        params: Params,
        querystring: Type.Object({ version: Type.Optional(Type.Integer({ minimum: 0 })) }),
        response: {
          200: envelope({ data: Type.Record(Type.String(), Type.Unknown()), metadata: VersionMeta }),
          ...VAULT_ERRORS,
        },
      },
    },
    async (request) => {
      const path = restOf(request);
      await authorize(access, request, "read", path);
      const version = request.query.version === 0 ? undefined : request.query.version;
      const s = await vault.get(request.kwCtx, path, { version, via: "vault-kv", customMetadata: true });
      return wrap(request, {
        data: decodeData(s.value.reveal(), s.encoding),
        metadata: {
          created_time: s.createdAt,
          custom_metadata: s.customMetadata ?? null,
          deletion_time: "",
          destroyed: false,
          version: s.version,
        },
      });
    },
  );

  const writeSchema = {
    tags,
    summary: "Vault KV v2: write a new version (options.cas: check-and-set)",
    params: Params,
    body: Type.Object({
      data: Type.Record(Type.String({ maxLength: 256 }), Type.Unknown()),
      options: Type.Optional(Type.Object({ cas: Type.Optional(Type.Integer({ minimum: 0 })) })),
    }),
    response: {
      200: envelope({
        created_time: Type.String(),
        custom_metadata: CustomMeta,
        deletion_time: Type.String(),
        destroyed: Type.Boolean(),
        version: Type.Integer(),
      }),
      ...VAULT_ERRORS,
    },
  };
  /**
   * Stores `data` as a new version: `{ "value": "<string>" }` is the string itself, as
   * Keywarden's other clients store it; any other map is stored as its JSON, and the version
   * says so.
   */
  const store = async (
    request: FastifyRequest,
    path: string,
    data: Record<string, unknown>,
    cas?: number,
  ) => {
    const keys = Object.keys(data);
    if (keys.length === 0) throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", { reason: "data is empty" });
    const plain = keys.length === 1 && typeof data.value === "string" ? data.value : undefined;
    const r = await vault.set(request.kwCtx, path, new Secret(plain ?? JSON.stringify(data)), {
      cas,
      encoding: plain === undefined ? KV_MAP : undefined,
      customMetadata: true,
    });
    return wrap(request, {
      created_time: r.createdAt ?? new Date().toISOString(),
      custom_metadata: r.customMetadata ?? null,
      deletion_time: "",
      destroyed: false,
      version: r.version,
    });
  };
  type WriteRequest = FastifyRequest<{
    Params: { mount: string };
    Body: { data: Record<string, unknown>; options?: { cas?: number } };
  }>;
  const write = async (request: WriteRequest) => {
    const path = restOf(request);
    await authorize(access, request, "write", path);
    return store(request, path, request.body.data, request.body.options?.cas);
  };
  // `vault kv patch`: a JSON merge patch (RFC 7396) of the current version's map, written as
  // a new version with check-and-set on the version it read (or the caller's cas).
  const patch = async (request: WriteRequest) => {
    const path = restOf(request);
    await authorize(access, request, "write", path);
    await authorize(access, request, "read", path);
    const current = await vault.get(request.kwCtx, path, { via: "vault-kv patch" });
    const merged = mergePatch(decodeData(current.value.reveal(), current.encoding), request.body.data);
    return store(request, path, merged, request.body.options?.cas ?? current.version);
  };
  app.post("/:mount/data/*", { schema: writeSchema }, write);
  app.put("/:mount/data/*", { schema: writeSchema }, write);
  app.patch(
    "/:mount/data/*",
    { schema: { ...writeSchema, summary: "Vault KV v2: merge a JSON merge patch into the latest version" } },
    patch,
  );

  // `vault kv delete -versions`, `undelete` and `destroy`. Keywarden deletes and undeletes a
  // secret as a whole (its current version); destroying is per version, as in Vault.
  const versionsSchema = (summary: string) => ({
    tags,
    summary,
    params: Params,
    body: Type.Object({ versions: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 100 }) }),
    response: { 204: Type.Null(), ...VAULT_ERRORS },
  });
  type VersionsRequest = FastifyRequest<{ Params: { mount: string }; Body: { versions: number[] } }>;
  const byVersions =
    (capability: "delete" | "destroy", act: (request: VersionsRequest, path: string) => Promise<unknown>) =>
    async (request: VersionsRequest, reply: FastifyReply) => {
      const path = restOf(request);
      await authorize(access, request, capability, path);
      await act(request, path);
      return reply.code(204).send(null);
    };
  const softDelete = byVersions("delete", (request, path) =>
    vault.remove(request.kwCtx, path, { versions: request.body.versions }),
  );
  const undelete = byVersions("delete", (request, path) =>
    vault.undelete(request.kwCtx, path, { versions: request.body.versions }),
  );
  const destroy = byVersions("destroy", async (request, path) => {
    for (const v of request.body.versions) await vault.destroy(request.kwCtx, path, v);
  });
  for (const method of ["POST", "PUT"] as const) {
    app.route({
      method,
      url: "/:mount/delete/*",
      schema: versionsSchema("Vault KV v2: delete the secret (its current version)"),
      handler: softDelete,
    });
    app.route({
      method,
      url: "/:mount/undelete/*",
      schema: versionsSchema("Vault KV v2: undelete the secret"),
      handler: undelete,
    });
    app.route({
      method,
      url: "/:mount/destroy/*",
      schema: versionsSchema("Vault KV v2: destroy versions for good"),
      handler: destroy,
    });
  }

  app.delete(
    "/:mount/data/*",
    {
      schema: {
        tags,
        summary: "Vault KV v2: soft-delete the latest version",
        params: Params,
        response: { 204: Type.Null(), ...VAULT_ERRORS },
      },
    },
    async (request, reply) => {
      const path = restOf(request);
      await authorize(access, request, "delete", path);
      await vault.remove(request.kwCtx, path);
      return reply.code(204).send(null);
    },
  );

  // Also at the mount's root (`vault kv list secret/` sends GET /v1/secret/metadata/?list=true,
  // which ignoreTrailingSlash makes /v1/secret/metadata; External Secrets' find starts there).
  /**
   * What a list of `path` shows, sorted: the names and subfolders under it, or at the root
   * the projects in which the token may list something (a filtered view, as
   * /api/v1/projects), so a token scoped to payments/** sees payments/; a project where the
   * token may list a path that holds only custom metadata shows too.
   */
  const folderKeys = async (request: FastifyRequest, path: string): Promise<string[]> => {
    if (path === "") {
      const projects = new Set((await keywarden.projects.list(request.kwCtx)).map((p) => p.name));
      for (const p of await vault.customMetadataPaths(request.kwCtx, "")) projects.add(p.split("/")[0]!);
      return [...projects].map((name) => `${name}/`).sort();
    }
    const prefix = `${path}/`;
    await authorizeList(access, keywarden.audit, request, prefix);
    const keys = new Set<string>();
    // A path that holds only custom metadata is a key too, as in Vault.
    const paths = [
      ...(await vault.list(request.kwCtx, prefix)).map((s) => s.path),
      ...(await vault.customMetadataPaths(request.kwCtx, prefix)),
    ];
    for (const path of paths) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    return [...keys].sort();
  };

  for (const url of ["/:mount/metadata/*", "/:mount/metadata"])
    app.get(
      url,
      {
        schema: {
          tags,
          summary: "Vault KV v2: a secret's versions, or with ?list=true the keys under a folder",
          params: Params,
          querystring: Type.Object({ list: Type.Optional(Type.Union([Type.Boolean(), Type.Literal("1")])) }),
          response: {
            200: Type.Union([
              envelope({ keys: Type.Array(Type.String()) }),
              envelope({
                created_time: Type.String(),
                current_version: Type.Integer(),
                max_versions: Type.Integer(),
                oldest_version: Type.Integer(),
                updated_time: Type.String(),
                custom_metadata: CustomMeta,
                cas_required: Type.Boolean(),
                delete_version_after: Type.String(),
                versions: Type.Record(
                  Type.String(),
                  Type.Object({
                    created_time: Type.String(),
                    deletion_time: Type.String(),
                    destroyed: Type.Boolean(),
                  }),
                ),
              }),
            ]),
            ...VAULT_ERRORS,
          },
        },
      },
      async (request, reply) => {
        const path = url.endsWith("*") ? restOf(request).replace(/\/+$/, "") : "";
        const list = request.query.list === true || request.query.list === "1";
        if (list) {
          const keys = await folderKeys(request, path);
          // Vault answers an empty folder with 404.
          if (keys.length === 0)
            return reply.code(404).send({
              errors: [],
              error: {
                code: "KW_ERR_VAULT_NOT_FOUND",
                message: `no secret under ${path}`,
                requestId: request.id,
              },
            });
          return wrap(request, { keys });
        }
        await authorize(access, request, "list", path);
        const { versions: history, custom, customSetAt } = await vault.kvMetadata(request.kwCtx, path);
        // Deleted through the metadata (deleted, every version destroyed): gone, as Vault has it.
        if (
          custom === undefined &&
          history.every((v) => v.destroyedAt !== null) &&
          history.some((v) => (v.deletedAt ?? null) !== null)
        )
          throw new KeywardenError("KW_ERR_VAULT_NOT_FOUND", { path });
        const current = history.find((v) => v.current);
        const versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }> =
          {};
        for (const v of history)
          versions[String(v.version)] = {
            created_time: v.createdAt,
            // Vault's soft delete is per version: Keywarden's deletes the secret, at its current one.
            deletion_time: v.destroyedAt ?? v.deletedAt ?? "",
            destroyed: v.destroyedAt !== null,
          };
        // Times are always set: Go's api parses them (a path with only metadata has its own).
        const times = [history[0]?.createdAt, history.at(-1)?.createdAt, customSetAt].filter(
          (x) => x !== undefined,
        );
        return wrap(request, {
          created_time: history[0]?.createdAt ?? customSetAt ?? "",
          current_version: current?.version ?? 0,
          max_versions: 0,
          oldest_version: history[0]?.version ?? 0,
          updated_time: times.sort().at(-1) ?? "",
          custom_metadata: custom ?? null,
          cas_required: false,
          delete_version_after: "0s",
          versions,
        });
      },
    );

  // `vault kv metadata put` and `patch`, and External Secrets' PushSecret, which writes its
  // `managed-by` custom metadata before the secret itself. Custom metadata is what Keywarden
  // keeps; it keeps every version and checks cas when a write asks, so the settings that
  // would change that are refused unless they say what Keywarden does anyway.
  const metadataBody = (value: TSchema) =>
    Type.Object({
      // null: none (Go's PutMetadata sends its nil map so, replacing the whole; a merge patch's
      // null removes the whole too).
      custom_metadata: Type.Optional(Type.Union([Type.Null(), Type.Record(Type.String(), value)])),
      max_versions: Type.Optional(Type.Integer({ minimum: 0 })),
      cas_required: Type.Optional(Type.Boolean()),
      delete_version_after: Type.Optional(Type.String({ maxLength: 64 })),
    });
  const metadataSchema = (summary: string, nullable: boolean) => ({
    tags,
    summary,
    params: Params,
    body: metadataBody(nullable ? Type.Union([Type.String(), Type.Null()]) : Type.String()),
    response: { 204: Type.Null(), ...VAULT_ERRORS },
  });
  type MetadataRequest = FastifyRequest<{
    Params: { mount: string };
    Body: {
      custom_metadata?: Record<string, string | null> | null;
      max_versions?: number;
      cas_required?: boolean;
      delete_version_after?: string;
    };
  }>;
  const writeMetadata = (merge: boolean) => async (request: MetadataRequest, reply: FastifyReply) => {
    const path = restOf(request);
    await authorize(access, request, "write", path);
    const b = request.body;
    const unsupported = [
      (b.max_versions ?? 0) !== 0 ? "max_versions (Keywarden keeps every version)" : undefined,
      b.cas_required === true ? "cas_required (a write checks cas when it sends one)" : undefined,
      !["", "0", "0s", undefined].includes(b.delete_version_after)
        ? "delete_version_after (versions are kept until destroyed)"
        : undefined,
    ].filter((x) => x !== undefined);
    if (unsupported.length > 0)
      throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
        reason: `not supported: ${unsupported.join(", ")}`,
      });
    const custom = b.custom_metadata;
    if (custom !== undefined)
      await vault.setCustomMetadata(
        request.kwCtx,
        path,
        custom === null
          ? { replace: {} }
          : merge
            ? { merge: custom }
            : { replace: custom as Record<string, string> },
      );
    return reply.code(204).send(null);
  };
  for (const method of ["POST", "PUT"] as const)
    app.route({
      method,
      url: "/:mount/metadata/*",
      schema: metadataSchema("Vault KV v2: set a path's custom metadata (before the secret, too)", false),
      handler: writeMetadata(false),
    });
  app.patch(
    "/:mount/metadata/*",
    {
      schema: metadataSchema("Vault KV v2: merge into a path's custom metadata (a null removes a key)", true),
    },
    writeMetadata(true),
  );

  app.delete(
    "/:mount/metadata/*",
    {
      schema: {
        tags,
        summary: "Vault KV v2: destroy every version and delete the secret",
        params: Params,
        response: { 204: Type.Null(), ...VAULT_ERRORS },
      },
    },
    async (request, reply) => {
      const path = restOf(request);
      await authorize(access, request, "destroy", path);
      const { versions, custom } = await vault.kvMetadata(request.kwCtx, path);
      for (const v of versions)
        if (v.destroyedAt === null) await vault.destroy(request.kwCtx, path, v.version);
      if (versions.length > 0)
        try {
          await vault.remove(request.kwCtx, path);
        } catch (e) {
          if (!isKeywardenError(e, "KW_ERR_VAULT_DELETED")) throw e;
        }
      if (custom !== undefined) await vault.setCustomMetadata(request.kwCtx, path, null);
      return reply.code(204).send(null);
    },
  );
  return Promise.resolve();
};
