/**
 * The one seam between the vault commands and where the vault lives: the local database
 * (createKeywarden + the vault service) or a Keywarden server (the typed client), so
 * `secrets`, `run`, `export`, `import` and `audit log` are written once. A server's errors
 * come back as the same KeywardenError codes, so output and exit codes match local runs.
 */
import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Command } from "commander";
import type { KeywardenClient } from "../client/client.ts";
import { answerError, KeywardenClientError, parseAnswer } from "../client/client-error.ts";
import { ERRORS, KeywardenError, type ErrorCode } from "../core/errors.ts";
import { Secret } from "../core/secret.ts";
import type { AuditEntry } from "../services/audit/audit-service.ts";
import { parseEnvironmentPath } from "../services/vault/secret-path.ts";
import type {
  MetadataPatch,
  SecretMetadata,
  SecretSummary,
  VersionInfo,
  WriteOptions,
  WriteResult,
} from "../services/vault/vault-service.ts";
import { commandContext, type CommandContext } from "./context.ts";
import { resolveHome } from "./home.ts";
import type { CliIO } from "./io.ts";
import { ciIdToken } from "./ci-oidc.ts";
import { peerFingerprint, resolveRemote, type RemoteSettings, type RemoteTarget } from "./remote-login.ts";
import { withVault, type VaultFlags, type VaultSession } from "./vault-context.ts";

/** A filter of the audit log, one page at a time (oldest first). */
export interface AuditQuery {
  readonly path?: string | undefined;
  readonly actor?: string | undefined;
  readonly action?: string | undefined;
  readonly since?: string | undefined;
  readonly afterSeq: number;
  readonly limit: number;
}

/** A secret's metadata after a change, with the path's custom metadata pairs (null: none). */
export type ChangedMetadata = SecretMetadata & { customMetadata: Readonly<Record<string, string>> | null };

/** What the vault commands need, local or remote. */
export interface VaultBackend {
  readonly kind: "local" | "remote";
  set(path: string, value: Secret, options?: WriteOptions): Promise<WriteResult>;
  get(
    path: string,
    options?: { version?: number | undefined },
  ): Promise<{ path: string; version: number; value: Secret }>;
  list(prefix: string, options: { includeDeleted: boolean }): Promise<readonly SecretSummary[]>;
  history(path: string): Promise<readonly VersionInfo[]>;
  remove(path: string): Promise<void>;
  undelete(path: string): Promise<void>;
  restore(path: string, version: number, options?: { cas?: number | undefined }): Promise<WriteResult>;
  destroy(path: string, version: number): Promise<void>;
  updateMetadata(path: string, patch: MetadataPatch): Promise<ChangedMetadata>;
  /** Every current secret of `project/environment`, read for `purpose` (run, export). */
  readEnvironment(environment: string, purpose: string): Promise<{ name: string; value: Secret }[]>;
  auditQuery(query: AuditQuery): Promise<readonly AuditEntry[]>;
}

/**
 * A client error as the KeywardenError the local vault would have thrown: same code, hint
 * and exit code; the server's message (and request id) instead of a local rendering.
 *
 * @example
 *   catch (e) { throw fromClientError(e); }
 */
export function fromClientError(e: unknown): unknown {
  if (!(e instanceof KeywardenClientError)) return e;
  const code: ErrorCode = Object.hasOwn(ERRORS, e.code) ? (e.code as ErrorCode) : "KW_ERR_INTERNAL";
  const error = new KeywardenError(code, {}, { cause: e });
  error.message = e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message;
  return error;
}

/** Local: the vault service under the CLI user's request context. */
function localBackend(session: VaultSession): VaultBackend {
  const { vault, audit } = session.kw;
  const ctx = session.request;
  return {
    kind: "local",
    set: (path, value, o) => vault.set(ctx, path, value, o),
    get: (path, o) => vault.get(ctx, path, { version: o?.version }),
    list: (prefix, o) => vault.list(ctx, prefix, o),
    history: (path) => vault.history(ctx, path),
    remove: (path) => vault.remove(ctx, path),
    undelete: (path) => vault.undelete(ctx, path),
    restore: (path, version, o) => vault.restore(ctx, path, version, { cas: o?.cas }),
    destroy: (path, version) => vault.destroy(ctx, path, version),
    updateMetadata: (path, patch) => vault.updateMetadata(ctx, path, patch),
    readEnvironment: (environment, purpose) => vault.readEnvironment(ctx, environment, purpose),
    auditQuery: (q) => audit.query(q),
  };
}

/** Per request, as the typed client's default. */
const TIMEOUT_MS = 30_000;

/**
 * One request the typed client has no call for (metadata PATCH, list with deleted ones),
 * over a connection whose certificate was checked before any byte of it, token included,
 * was sent.
 */
async function rawCall<T>(
  settings: RemoteSettings,
  method: string,
  path: string,
  payload?: unknown,
): Promise<T> {
  const base = new URL(settings.server);
  const body = payload === undefined ? undefined : JSON.stringify(payload);
  const https = base.protocol === "https:";
  const port = Number(base.port === "" ? (https ? 443 : 80) : base.port);
  const host = base.hostname.replace(/^\[|\]$/g, "");
  // Loaded here: HTTP and TLS cost tens of milliseconds at start-up, which scans never need.
  const [{ request: httpRequest }, { request: httpsRequest }, { connect: tlsConnect }] = await Promise.all([
    import("node:http"),
    import("node:https"),
    import("node:tls"),
  ]);
  let socket: TLSSocket | undefined;
  if (https) {
    socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({
        host,
        port,
        servername: isIP(host) === 0 ? host : undefined,
        ca: settings.ca,
        rejectUnauthorized: settings.fingerprint === undefined,
        minVersion: "TLSv1.2",
        timeout: TIMEOUT_MS,
      });
      s.once("timeout", () => {
        s.destroy(new KeywardenError("KW_ERR_CLIENT_TIMEOUT", { origin: base.origin }));
      });
      s.once("secureConnect", () => {
        s.setTimeout(0);
        if (
          settings.fingerprint !== undefined &&
          s.getPeerCertificate().fingerprint256.toUpperCase() !== settings.fingerprint
        ) {
          s.destroy();
          reject(new KeywardenError("KW_ERR_CLIENT_TLS"));
        } else resolve(s);
      });
      s.once("error", (e: NodeJS.ErrnoException) => {
        reject(
          e instanceof KeywardenError
            ? e
            : new KeywardenError("KW_ERR_CLIENT_NETWORK", { origin: base.origin, reason: e.code ?? "error" }),
        );
      });
    });
  }
  const res = await new Promise<{ status: number; contentType: unknown; text: string }>((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      {
        host,
        port,
        method,
        path,
        ...(socket === undefined ? {} : { createConnection: () => socket }),
        headers: {
          authorization: `Bearer ${settings.token.reveal()}`,
          accept: "application/json",
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
        },
      },
      (r: IncomingMessage) => {
        const chunks: Buffer[] = [];
        r.on("data", (d: Buffer) => chunks.push(d));
        r.on("end", () => {
          resolve({
            status: r.statusCode ?? 0,
            contentType: r.headers["content-type"],
            text: Buffer.concat(chunks).toString("utf8"),
          });
        });
        r.on("error", reject);
      },
    );
    req.setTimeout(TIMEOUT_MS, () => {
      req.destroy(new KeywardenError("KW_ERR_CLIENT_TIMEOUT", { origin: base.origin }));
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      reject(
        e instanceof KeywardenError
          ? e
          : new KeywardenError("KW_ERR_CLIENT_NETWORK", { origin: base.origin, reason: e.code ?? "error" }),
      );
    });
    req.end(body);
  });
  socket?.destroy();
  if (res.status >= 200 && res.status < 300)
    try {
      return parseAnswer(base.origin, res.status, res.contentType, res.text) as T;
    } catch (e) {
      throw fromClientError(e);
    }
  throw fromClientError(answerError(res.status, res.text));
}

const TLS_TRUST_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/;

/**
 * A client for `settings`: with --insecure-skip-verify the certificate served now is
 * pinned (so it is still one certificate for the whole run).
 *
 * @example
 *   const client = await openClient(settings);
 */
export async function openClient(settings: RemoteSettings): Promise<KeywardenClient> {
  const https = settings.server.startsWith("https:");
  const fingerprint =
    settings.fingerprint ??
    (https && settings.insecureSkipVerify ? await peerFingerprint(settings.server) : undefined);
  const { createClient } = await import("../client/client.ts");
  return createClient({
    url: settings.server,
    token: () => settings.token.reveal(),
    ca: settings.ca,
    fingerprint,
  });
}

/**
 * The target's settings with its token: the one configured, or for a CI job that logs in with
 * its OIDC token (KEYWARDEN_OIDC_IDENTITY), a short-lived one the server gives for it, once per
 * command.
 */
async function withToken(io: CliIO, target: RemoteTarget): Promise<RemoteSettings> {
  const { token } = target;
  if (token instanceof Secret) return { ...target, token };
  const jwt = await ciIdToken(io.env);
  return {
    ...target,
    token: await issuedToken(target, (c) => c.tokens.oidc(token.oidcIdentity, jwt.reveal())),
  };
}

/**
 * A token the server issues to a caller that holds none yet (a CI job's OIDC login, a user's
 * password login), asked through a client that sends no token; TLS failures explained.
 *
 * @example
 *   const token = await issuedToken(settings, (c) => c.tokens.login("alice", password));
 */
export async function issuedToken(
  settings: Omit<RemoteSettings, "token">,
  ask: (client: KeywardenClient) => Promise<{ readonly token: string }>,
): Promise<Secret> {
  const client = await openClient({ ...settings, token: new Secret("") });
  try {
    return new Secret((await ask(client)).token);
  } catch (e) {
    throw await explainTls(e, settings.server);
  } finally {
    client.close();
  }
}

/**
 * Turns a failed TLS trust check into KW_ERR_REMOTE_UNTRUSTED with the served fingerprint,
 * so the user can compare it with what `keywarden serve` printed; other errors pass through.
 *
 * @example
 *   catch (e) { throw await explainTls(e, settings.server); }
 */
export async function explainTls(e: unknown, server: string): Promise<unknown> {
  const error = fromClientError(e);
  if (!(error instanceof KeywardenError) || error.code !== "KW_ERR_CLIENT_NETWORK") return error;
  const reason = /: (\S+)$/.exec(error.message)?.[1] ?? "";
  if (!TLS_TRUST_CODES.test(reason) || !server.startsWith("https:")) return error;
  const fingerprint = await peerFingerprint(server).catch(() => "(unavailable)");
  return new KeywardenError("KW_ERR_REMOTE_UNTRUSTED", { server, reason, fingerprint });
}

/** The patch with mutable arrays, as the client's types want them. */
function plainPatch(m: MetadataPatch) {
  const { consumers, tags, ...rest } = m;
  return {
    ...rest,
    ...(consumers === undefined ? {} : { consumers: [...consumers] }),
    ...(tags === undefined ? {} : { tags: [...tags] }),
  };
}

function remoteBackend(settings: RemoteSettings, client: KeywardenClient): VaultBackend {
  const summaries = async (prefix: string, includeDeleted: boolean): Promise<SecretSummary[]> => {
    const qs = new URLSearchParams({ prefix, ...(includeDeleted ? { includeDeleted: "true" } : {}) });
    return (await rawCall<{ secrets: SecretSummary[] }>(settings, "GET", `/api/v1/secrets?${qs.toString()}`))
      .secrets;
  };
  const get = async (path: string, o?: { version?: number | undefined }) => {
    const r = await client.secrets.get(path, o?.version === undefined ? {} : { version: o.version });
    return { path: r.path, version: r.version, value: new Secret(r.value) };
  };
  return {
    kind: "remote",
    set: (path, value, o) =>
      client.secrets.set(path, value.reveal(), {
        ...(o?.cas === undefined ? {} : { cas: o.cas }),
        ...(o?.metadata === undefined ? {} : { metadata: plainPatch(o.metadata) }),
      }),
    get,
    list: (prefix, o) => summaries(prefix, o.includeDeleted),
    history: (path) => client.secrets.history(path),
    remove: (path) => client.secrets.delete(path),
    undelete: (path) => client.secrets.undelete(path),
    restore: (path, version, o) =>
      client.secrets.restore(path, version, o?.cas === undefined ? {} : { cas: o.cas }),
    destroy: (path, version) => client.secrets.destroy(path, [version]),
    updateMetadata: (path, patch) => {
      const parts = path.split("/").map(encodeURIComponent).join("/");
      return rawCall<ChangedMetadata>(settings, "PATCH", `/api/v1/secrets/${parts}/metadata`, patch);
    },
    readEnvironment: async (environment, purpose) => {
      // One request, needing `read` on each secret and no `list`; the server audits each read.
      const env = parseEnvironmentPath(environment);
      const values = await client.environments.read(env.path, { purpose });
      return values.map((v) => ({ name: v.name, value: new Secret(v.value) }));
    },
    auditQuery: async (q) =>
      (await client.audit.query({
        ...(q.path === undefined ? {} : { path: q.path }),
        ...(q.actor === undefined ? {} : { actor: q.actor }),
        ...(q.action === undefined ? {} : { action: q.action }),
        ...(q.since === undefined ? {} : { since: q.since }),
        afterSeq: q.afterSeq,
        limit: q.limit,
      })) as unknown as AuditEntry[],
  };
}

/**
 * Runs `remote` against the server when one is configured (KEYWARDEN_ADDR or `keywarden
 * login`), else `local` on the local vault (unsealed as asked), and always closes what it
 * opened: the one switch of every command that works both ways.
 *
 * @example
 *   await withLocalOrRemote(io, cmd, flags, { unsealed: false }, (s) => s.kw.access.listTokens(...), (c) => c.tokens.list());
 */
export async function withLocalOrRemote<T>(
  io: CliIO,
  cmd: Command,
  flags: VaultFlags,
  options: { unsealed: boolean },
  local: (session: VaultSession) => Promise<T>,
  remote: (client: KeywardenClient, settings: RemoteSettings, ctx: CommandContext) => Promise<T>,
): Promise<T> {
  const cc = commandContext(io, cmd);
  const home = resolveHome(cc.loaded.config.home, io.env, io.cwd);
  const target = resolveRemote(io, home);
  if (target === undefined) return withVault(io, cmd, flags, options, local);
  if (target.insecureSkipVerify)
    io.stderr.write(
      `WARNING: the certificate of ${target.server} is not verified (logged in with --insecure-skip-verify)\n`,
    );
  const settings = await withToken(io, target);
  const client = await openClient(settings);
  try {
    return await remote(client, settings, cc);
  } catch (e) {
    throw await explainTls(e, settings.server);
  } finally {
    client.close();
  }
}

/**
 * Runs `fn` against the server when one is configured (KEYWARDEN_ADDR or `keywarden login`),
 * else against the local vault (unsealed as asked), and always closes what it opened.
 *
 * @example
 *   await withBackend(io, cmd, flags, { unsealed: true }, (b) => b.get("app/dev/DB_URL"));
 */
export function withBackend<T>(
  io: CliIO,
  cmd: Command,
  flags: VaultFlags,
  options: { unsealed: boolean },
  fn: (backend: VaultBackend, ctx: CommandContext) => Promise<T>,
): Promise<T> {
  return withLocalOrRemote(
    io,
    cmd,
    flags,
    options,
    (s) => fn(localBackend(s), s.ctx),
    (client, settings, cc) => fn(remoteBackend(settings, client), cc),
  );
}
