/**
 * The subset of HashiCorp Vault's KV version 2 HTTP API that applications and the Vault CLI
 * use, so an app with a Vault client reads from Keywarden unchanged:
 * `/v1/<mount>/data/<path>` (read, write with `options.cas`, merge patch, soft delete),
 * `/v1/<mount>/{delete,undelete,destroy}/<path>` by version, `/v1/<mount>/metadata/<path>`
 * (read, list with `?list=true` or the LIST verb: plugins/list-verb.ts, delete), and the
 * calls clients make around them (token self-lookup, health, seal status, the CLI's mount
 * lookup). The token comes in `X-Vault-Token`.
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
import { authorize, authorizeList, principalOf } from "../plugins/auth.ts";
import { errorResponse, reportError } from "../plugins/errors.ts";
import { ErrorSchema } from "../schemas.ts";

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

const VaultError = Type.Object({
  errors: Type.Array(Type.String()),
  error: ErrorSchema.properties.error,
});

const VAULT_ERRORS = {
  400: VaultError,
  401: VaultError,
  403: VaultError,
  404: VaultError,
  409: VaultError,
  429: VaultError,
  500: VaultError,
  503: VaultError,
} as const;

/** A path's custom metadata (null when it has none), as Vault answers it. */
const CustomMeta = Type.Union([Type.Null(), Type.Record(Type.String(), Type.String())]);

const VersionMeta = Type.Object({
  created_time: Type.String(),
  custom_metadata: CustomMeta,
  deletion_time: Type.String(),
  destroyed: Type.Boolean(),
  version: Type.Integer(),
});

const envelope = <T extends Parameters<typeof Type.Object>[0]>(data: T) =>
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

/** Vault's /v1/auth/token/lookup-self answer, as far as Keywarden's tokens have its fields. */
const LookupSelf = envelope({
  id: Type.String({ description: "The token's tok_ id: Keywarden never echoes a token." }),
  accessor: Type.String(),
  display_name: Type.String(),
  entity_id: Type.String(),
  policies: Type.Array(Type.String()),
  expire_time: Type.Union([Type.String(), Type.Null()]),
  ttl: Type.Integer(),
  type: Type.String(),
  renewable: Type.Boolean(),
});

function wrap<T>(request: FastifyRequest, data: T) {
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

/**
 * Errors in Vault's shape (an `errors` list) beside Keywarden's. A deleted secret and a
 * destroyed version are 404 here, as Vault answers them (Keywarden's own API says 410):
 * Vault clients take 404 for "not there" (Go's api returns no secret and no error, hvac
 * raises InvalidPath) and any other status for a failure.
 */
function vaultError(request: FastifyRequest, reply: FastifyReply, e: unknown): FastifyReply {
  const { status, body } = errorResponse(e, request.id);
  reportError(request, reply, e, status, body);
  return reply.code(status === 410 ? 404 : status).send({ errors: [body.error.message], error: body.error });
}

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
 * Seconds in a Vault duration: whole seconds as a number or digits, or Go's duration form with
 * hours, minutes and seconds (`20m`, `1h30m`, `1200s`). Undefined for anything else.
 *
 * @example
 *   vaultSeconds("1h30m") // 5400
 */
export function vaultSeconds(ttl: string | number): number | undefined {
  if (typeof ttl === "number") return Number.isSafeInteger(ttl) && ttl >= 0 ? ttl : undefined;
  if (/^\d{1,9}$/.test(ttl)) return Number(ttl);
  const m = /^(?:(\d{1,6})h)?(?:(\d{1,8})m)?(?:(\d{1,9})s)?$/.exec(ttl);
  if (m === null || ttl === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** A Vault duration in a request body: a string or whole seconds. */
const Duration = Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Integer({ minimum: 0 })]));

/**
 * @example
 *   await app.register(vaultKvRoutes, { prefix: "/v1", keywarden, access });
 */
export const vaultKvRoutes: FastifyPluginAsyncTypebox<{
  keywarden: Keywarden;
  access: AccessManager;
  /** The clock the access service uses (a token's remaining TTL is counted by it). */
  clock: Clock;
  /** access.childTokenMaxMinutes: the life of a token created without a `ttl`. */
  childTokenMaxMinutes: number;
}> = (app, { keywarden, access, clock, childTokenMaxMinutes }) => {
  const vault = keywarden.vault;
  app.setErrorHandler((e, request, reply) => vaultError(request, reply, e));
  const tags = ["vault-kv2"];

  // Vault's token self-lookup, which clients call to check their token (hvac's
  // is_authenticated, node-vault's tokenLookupSelf). Vault returns the token itself as `id`;
  // Keywarden never echoes a token, so `id` and `accessor` are the token's tok_ id.
  app.get(
    "/auth/token/lookup-self",
    {
      schema: {
        tags,
        summary: "Vault's token self-lookup: the calling token's identity, policies and expiry",
        response: { 200: LookupSelf, ...VAULT_ERRORS },
      },
    },
    (request) => {
      const p = principalOf(request);
      const expiresAt = p.expiresAt === undefined ? null : p.expiresAt;
      const ttl =
        expiresAt === null
          ? 0
          : Math.max(0, Math.floor((Date.parse(expiresAt) - clock.now().getTime()) / 1000));
      return wrap(request, {
        id: p.tokenId ?? p.id,
        accessor: p.tokenId ?? p.id,
        display_name: p.name,
        entity_id: p.id,
        policies: [...p.policies],
        expire_time: expiresAt,
        ttl,
        type: "service",
        renewable: false,
      });
    },
  );

  // `vault token create`, node-vault's tokenCreate and Terraform's Vault provider (which makes
  // a child token for each run): a short-lived child of the calling token (Keywarden's
  // POST /api/v1/tokens/child), with the parent's policies or fewer, never past the parent, and
  // at most access.childTokenMaxMinutes (also when no ttl is asked for). What Keywarden's tokens
  // cannot be (orphans, periodic, use-limited, batch, with an id or metadata chosen by the
  // caller) is refused with 400 naming it; `renewable` is answered as it is: false.
  app.post(
    "/auth/token/create",
    {
      // node-vault's tokenCreate() with no options sends no body: Vault's defaults.
      preValidation: (request, _reply, done) => {
        // Typed as the schema's object, which it is only once this has run.
        if ((request.body as unknown) === undefined) request.body = {};
        done();
      },
      schema: {
        tags,
        summary: "Vault's token create: a short-lived child of the calling token",
        body: Type.Object({
          policies: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 })),
          ttl: Duration,
          explicit_max_ttl: Duration,
          period: Duration,
          display_name: Type.Optional(Type.String({ maxLength: 200 })),
          meta: Type.Optional(Type.Union([Type.Null(), Type.Record(Type.String(), Type.String())])),
          no_parent: Type.Optional(Type.Boolean()),
          no_default_policy: Type.Optional(Type.Boolean()),
          renewable: Type.Optional(Type.Boolean()),
          num_uses: Type.Optional(Type.Integer({ minimum: 0 })),
          type: Type.Optional(Type.String({ maxLength: 16 })),
          id: Type.Optional(Type.String({ maxLength: 256 })),
        }),
        response: {
          200: Type.Object({
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
              metadata: Type.Null(),
              lease_duration: Type.Integer(),
              renewable: Type.Boolean(),
              entity_id: Type.String(),
              token_type: Type.String(),
              orphan: Type.Boolean(),
              num_uses: Type.Integer(),
            }),
          }),
          ...VAULT_ERRORS,
        },
      },
    },
    async (request) => {
      const b = request.body;
      const seconds = (what: string, d: string | number | undefined): number | undefined => {
        if (d === undefined || d === "") return undefined;
        const n = vaultSeconds(d);
        if (n === undefined)
          throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
            reason: `${what} is not a duration: use whole seconds or h, m and s, like 20m`,
          });
        return n;
      };
      // As in Vault, a zero ttl is the default and a zero explicit_max_ttl no bound.
      const ttl = seconds("ttl", b.ttl) || undefined;
      const max = seconds("explicit_max_ttl", b.explicit_max_ttl) || undefined;
      const unsupported = [
        b.no_parent === true ? "no_parent (a token made here is a child of the caller's)" : undefined,
        (seconds("period", b.period) ?? 0) > 0 ? "period (tokens are not renewed)" : undefined,
        (b.num_uses ?? 0) > 0 ? "num_uses" : undefined,
        b.type !== undefined && !["", "service", "default"].includes(b.type)
          ? "type (service tokens only)"
          : undefined,
        b.id !== undefined && b.id !== "" ? "id (Keywarden draws every token)" : undefined,
        b.meta !== undefined && b.meta !== null && Object.keys(b.meta).length > 0 ? "meta" : undefined,
      ].filter((x) => x !== undefined);
      if (unsupported.length > 0)
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
          reason: `not supported: ${unsupported.join(", ")}`,
        });
      const life = Math.min(ttl ?? childTokenMaxMinutes * 60, max ?? Number.MAX_SAFE_INTEGER);
      if (life % 60 !== 0)
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
          reason: `a token lives whole minutes: ttl ${life}s is not`,
        });
      const issued = await access.createChildToken(request.kwCtx, principalOf(request), {
        ttlMinutes: life / 60,
        policies: b.policies !== undefined && b.policies.length > 0 ? b.policies : undefined,
        description:
          b.display_name === undefined || b.display_name === "" ? "vault token create" : b.display_name,
      });
      const info = issued.info;
      const leaseSeconds = Math.max(
        0,
        Math.floor((Date.parse(info.expiresAt) - clock.now().getTime()) / 1000),
      );
      return {
        ...wrap(request, null),
        auth: {
          client_token: issued.token.reveal(),
          accessor: info.id,
          policies: [...info.policies],
          token_policies: [...info.policies],
          metadata: null,
          lease_duration: leaseSeconds,
          renewable: false,
          entity_id: info.identityId,
          token_type: "service",
          orphan: false,
          num_uses: 0,
        },
      };
    },
  );

  // `vault token revoke -self`, node-vault's tokenRevokeSelf: the calling token and its children
  // are revoked at once (a CI job's cleanup).
  app.post(
    "/auth/token/revoke-self",
    {
      schema: {
        tags,
        summary: "Vault's token revoke-self: revoke the calling token and its children",
        response: { 204: Type.Null(), ...VAULT_ERRORS },
      },
    },
    async (request, reply) => {
      const p = principalOf(request);
      if (p.tokenId === undefined)
        throw new KeywardenError("KW_ERR_HTTP_BAD_REQUEST", {
          reason: "the request carries no token to revoke",
        });
      await access.revokeToken(request.kwCtx, p, p.tokenId);
      return reply.code(204).send(null);
    },
  );

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
   * /api/v1/projects), so a token scoped to payments/** sees payments/.
   */
  const folderKeys = async (request: FastifyRequest, path: string): Promise<string[]> => {
    if (path === "") return (await keywarden.projects.list(request.kwCtx)).map((p) => `${p.name}/`).sort();
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
