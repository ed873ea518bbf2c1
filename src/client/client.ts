/**
 * A typed Node client for Keywarden's REST API (`keywarden/client`). HTTPS with a CA you
 * give (a self-signed server's certificate) or a pinned SHA-256 fingerprint; retries on 429
 * and 503 (the server did not act on those) with backoff honouring Retry-After, on a refused
 * connection (a server restarting), and reads on a reset one; errors carry the server's
 * code, status and request id, never the token or a value.
 */
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { TLSSocket } from "node:tls";
import { answerError, KeywardenClientError, parseAnswer } from "./client-error.ts";

export { KeywardenClientError };

export interface ClientOptions {
  /** `https://host:port` of the server. */
  readonly url: string;
  /**
   * A `kw_...` token, or a function returning the current one. Without one only the calls
   * that need none work: seal status, unseal, an OIDC login, revoking a token by its text.
   */
  readonly token?: string | (() => string) | undefined;
  /** PEM certificate(s) to trust (e.g. the server's self-signed certificate). */
  readonly ca?: string | undefined;
  /** Trust exactly the certificate with this SHA-256 fingerprint (as `keywarden serve` prints it). */
  readonly fingerprint?: string | undefined;
  /** Retries after 429 or 503, a refused connection, or a read's reset connection (default 3). */
  readonly retries?: number | undefined;
  /** First backoff in milliseconds, doubled each retry (default 200); Retry-After wins when longer, up to maxDelayMs. */
  readonly retryDelayMs?: number | undefined;
  readonly maxDelayMs?: number | undefined;
  /** Per-attempt timeout (default 30 s). */
  readonly timeoutMs?: number | undefined;
}

export interface SecretMetadata {
  readonly id: string;
  readonly path: string;
  readonly currentVersion: number;
  readonly provider: string | null;
  readonly kind: string | null;
  readonly owner: string | null;
  readonly consumers: string[];
  readonly tags: string[];
  readonly expiresAt: string | null;
  readonly maxAgeSeconds: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastReadAt: string | null;
  readonly deletedAt: string | null;
}

export interface SecretValue {
  readonly path: string;
  readonly version: number;
  readonly value: string;
  readonly metadata: SecretMetadata;
}

export interface WriteResult {
  readonly path: string;
  readonly version: number;
  readonly provider: string | null;
  readonly kind: string | null;
}

export interface VersionInfo {
  readonly version: number;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly restoredFrom: number | null;
  readonly destroyedAt: string | null;
  readonly current: boolean;
}

export interface MetadataPatch {
  readonly owner?: string | null;
  readonly consumers?: string[];
  readonly tags?: string[];
  readonly expiresAt?: string | null;
  readonly maxAgeSeconds?: number | null;
}

/** A token's record as the server lists it (never its text). */
export interface TokenRecord {
  readonly id: string;
  readonly identityId: string;
  readonly kind: string;
  readonly description: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly allowIps: string[];
  readonly policies: string[];
  readonly parentId: string | null;
}

export interface IssuedToken {
  readonly token: string;
  readonly info: TokenRecord;
}

export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly path: string | null;
  readonly version: number | null;
  readonly result: string;
  readonly requestId: string;
  readonly detail: string | null;
}

/** A project and how much of it the token may list. */
export interface ProjectInfo {
  readonly name: string;
  readonly environments: number;
  readonly secrets: number;
}

/** An environment and how many of its secrets the token may list. */
export interface EnvironmentInfo {
  readonly name: string;
  readonly secrets: number;
}

/** One current value of an environment, as `keywarden run` injects it. */
export interface EnvironmentValue {
  readonly name: string;
  readonly path: string;
  readonly version: number;
  readonly value: string;
}

/** Whether the server's vault is sealed, and its key provider (`local`, `env`, `pkcs11`, `aws-kms`). */
export interface SealStatus {
  readonly sealed: boolean;
  readonly type: string;
}

const RETRY_STATUSES = new Set([429, 503]);

/**
 * A request that failed on the network and may be sent again: a refused connection never
 * reached the server (any method); a connection reset or broken pipe may have (a kept-alive
 * socket the server closed as the request went out), so only a read is sent again.
 */
function retryable(e: unknown, method: string): boolean {
  if (!(e instanceof KeywardenClientError) || e.code !== "KW_ERR_CLIENT_NETWORK") return false;
  if (e.errno === "ECONNREFUSED") return true;
  return (e.errno === "ECONNRESET" || e.errno === "EPIPE") && (method === "GET" || method === "HEAD");
}

function environmentUrl(environment: string): string {
  const parts = environment.replace(/\/+$/, "").split("/");
  if (parts.length !== 2 || parts.some((p) => p === ""))
    throw new KeywardenClientError(
      "KW_ERR_VAULT_PATH_INVALID",
      400,
      `invalid environment ${environment}: use project/environment`,
      undefined,
    );
  return `/api/v1/environments/${parts.map(encodeURIComponent).join("/")}/secrets`;
}

function secretUrl(path: string): string {
  const parts = path.split("/");
  if (parts.length !== 3 || parts.some((p) => p === ""))
    throw new KeywardenClientError(
      "KW_ERR_VAULT_PATH_INVALID",
      400,
      `invalid secret path ${path}: use project/env/NAME`,
      undefined,
    );
  return `/api/v1/secrets/${parts.map(encodeURIComponent).join("/")}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @example
 *   const kw = createClient({ url: "https://vault.internal:8443", token: process.env.KEYWARDEN_TOKEN!, ca });
 *   const { value } = await kw.secrets.get("payments/prod/STRIPE_KEY");
 */
export function createClient(options: ClientOptions) {
  const base = new URL(options.url);
  const https = base.protocol === "https:";
  const pinned = options.fingerprint?.toUpperCase();
  const agent = https
    ? new HttpsAgent({
        keepAlive: true,
        ca: options.ca,
        // Pinning replaces chain validation: the fingerprint is checked on every new connection.
        rejectUnauthorized: pinned === undefined,
        minVersion: "TLSv1.2",
      })
    : new HttpAgent({ keepAlive: true });
  const retries = options.retries ?? 3;
  const firstDelay = options.retryDelayMs ?? 200;
  const maxDelay = options.maxDelayMs ?? 10_000;
  const verified = new WeakSet<object>();

  function once(
    method: string,
    path: string,
    body: string | undefined,
    withToken = true,
  ): Promise<{ status: number; headers: IncomingMessage["headers"]; text: string }> {
    const token = !withToken
      ? undefined
      : typeof options.token === "function"
        ? options.token()
        : options.token;
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          timeout: options.timeoutMs ?? 30_000,
          headers: {
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            accept: "application/json",
            ...(body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d: Buffer) => chunks.push(d));
          res.on("end", () => {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            });
          });
          res.on("error", reject);
        },
      );
      if (pinned !== undefined) {
        req.on("socket", (socket) => {
          // A kept-alive socket was checked on its first request; a new one is checked once
          // its handshake completes, before any byte of the request is answered.
          if (verified.has(socket) || !(socket instanceof TLSSocket)) return;
          socket.once("secureConnect", () => {
            if (socket.getPeerCertificate().fingerprint256.toUpperCase() === pinned) verified.add(socket);
            else
              req.destroy(
                new KeywardenClientError(
                  "KW_ERR_CLIENT_TLS",
                  0,
                  "the server's certificate does not match the pinned fingerprint",
                  undefined,
                ),
              );
          });
        });
      }
      req.on("timeout", () =>
        req.destroy(
          new KeywardenClientError(
            "KW_ERR_CLIENT_TIMEOUT",
            0,
            `no answer from ${base.origin} in time`,
            undefined,
          ),
        ),
      );
      req.on("error", (e: Error) => {
        // Node's network errors name the host and port only; rebuilt anyway so no header can leak.
        reject(
          e instanceof KeywardenClientError
            ? e
            : new KeywardenClientError(
                "KW_ERR_CLIENT_NETWORK",
                0,
                `cannot reach ${base.origin}: ${(e as NodeJS.ErrnoException).code ?? "error"}`,
                undefined,
                (e as NodeJS.ErrnoException).code,
              ),
        );
      });
      req.end(body);
    });
  }

  async function call<T>(
    method: string,
    path: string,
    payload?: unknown,
    o: { withToken?: boolean; retry?: boolean } = {},
  ): Promise<T> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    for (let attempt = 0; ; attempt++) {
      let r: Awaited<ReturnType<typeof once>>;
      try {
        r = await once(method, path, body, o.withToken);
      } catch (e) {
        if (!(retryable(e, method) && attempt < retries && o.retry !== false)) throw e;
        await sleep(Math.min(maxDelay, firstDelay * 2 ** attempt));
        continue;
      }
      if (r.status >= 200 && r.status < 300)
        return parseAnswer(base.origin, r.status, r.headers["content-type"], r.text) as T;
      if (RETRY_STATUSES.has(r.status) && attempt < retries && o.retry !== false) {
        const after = Number(r.headers["retry-after"]);
        const backoff = firstDelay * 2 ** attempt;
        await sleep(
          Math.min(maxDelay, Number.isFinite(after) && after * 1000 > backoff ? after * 1000 : backoff),
        );
        continue;
      }
      throw answerError(r.status, r.text);
    }
  }

  return {
    secrets: {
      get: (path: string, o: { version?: number } = {}) =>
        call<SecretValue>(
          "GET",
          `${secretUrl(path)}${o.version === undefined ? "" : `?version=${o.version}`}`,
        ),
      set: (path: string, value: string, o: { cas?: number; metadata?: MetadataPatch } = {}) =>
        call<WriteResult>("PUT", secretUrl(path), { value, ...o }),
      list: async (prefix = "") =>
        (
          await call<{ secrets: (SecretMetadata & { stale: boolean; expired: boolean })[] }>(
            "GET",
            `/api/v1/secrets?prefix=${encodeURIComponent(prefix)}`,
          )
        ).secrets,
      describe: (path: string) =>
        call<SecretMetadata & { customMetadata: Record<string, string> | null }>(
          "GET",
          `${secretUrl(path)}/metadata`,
        ),
      history: async (path: string) =>
        (await call<{ versions: VersionInfo[] }>("GET", `${secretUrl(path)}/history`)).versions,
      restore: (path: string, version: number, o: { cas?: number } = {}) =>
        call<WriteResult>("POST", `${secretUrl(path)}/restore`, { version, ...o }),
      delete: async (path: string): Promise<void> => {
        await call("DELETE", secretUrl(path));
      },
      undelete: async (path: string): Promise<void> => {
        await call("POST", `${secretUrl(path)}/undelete`);
      },
      destroy: async (path: string, versions: number[]): Promise<void> => {
        await call("POST", `${secretUrl(path)}/destroy`, { versions });
      },
    },
    projects: {
      /** Projects in which the token may list something, with counts of what it may list. */
      list: async () => (await call<{ projects: ProjectInfo[] }>("GET", "/api/v1/projects")).projects,
      /** Environments of `project` in which the token may list something. */
      environments: async (project: string) =>
        (
          await call<{ environments: EnvironmentInfo[] }>(
            "GET",
            `/api/v1/projects/${encodeURIComponent(project)}/environments`,
          )
        ).environments,
    },
    environments: {
      /**
       * Every current value of `project/environment` in one request: needs `read` on each
       * secret (no `list`); one the token may not read fails the whole call with a 403.
       */
      read: async (environment: string, o: { purpose?: string } = {}) =>
        (
          await call<{ secrets: EnvironmentValue[] }>(
            "GET",
            `${environmentUrl(environment)}${o.purpose === undefined ? "" : `?purpose=${encodeURIComponent(o.purpose)}`}`,
          )
        ).secrets,
    },
    tokens: {
      self: () =>
        call<{
          id: string;
          name: string;
          kind: string;
          policies: string[];
          tokenId?: string;
          expiresAt?: string;
        }>("GET", "/api/v1/tokens/self"),
      child: (o: { ttlMinutes: number; policies?: string[]; allowIps?: string[]; description?: string }) =>
        call<IssuedToken>("POST", "/api/v1/tokens/child", o),
      create: (o: {
        identity?: string;
        policies: string[];
        ttlSeconds?: number;
        allowIps?: string[];
        description?: string;
      }) => call<IssuedToken>("POST", "/api/v1/tokens", o),
      revoke: async (id: string) =>
        (await call<{ revoked: number }>("DELETE", `/api/v1/tokens/${encodeURIComponent(id)}`)).revoked,
      /** The caller's own tokens, or `identity`'s (admin on it), or with `active` only live ones. */
      list: async (o: { identity?: string; active?: boolean } = {}) => {
        const qs = new URLSearchParams({
          ...(o.identity === undefined ? {} : { identity: o.identity }),
          ...(o.active === true ? { active: "true" } : {}),
        });
        return (await call<{ tokens: TokenRecord[] }>("GET", `/api/v1/tokens?${qs.toString()}`)).tokens;
      },
      /**
       * A CI job's OIDC login: its platform's JWT for a short-lived token of `identity`, when a
       * trust of the server (access.oidc) accepts it. Needs no token (none is sent); a refusal
       * is KW_ERR_AUTH_OIDC (401), not retried.
       */
      oidc: (identity: string, jwt: string) =>
        call<IssuedToken>("POST", "/api/v1/auth/oidc", { identity, jwt }, { withToken: false, retry: false }),
      /**
       * A user's password login (and TOTP code, when enrolled) for a token of that user, as
       * long-lived as a dashboard session. Needs no token; a refusal is
       * KW_ERR_AUTH_BAD_CREDENTIALS (401), not retried.
       */
      login: (name: string, password: string, totp?: string) =>
        call<{
          token: string;
          identity: { id: string; name: string; kind: string; policies: string[] };
          expiresAt: string;
        }>(
          "POST",
          "/api/v1/auth/token",
          { name, password, ...(totp === undefined ? {} : { totp }) },
          { withToken: false, retry: false },
        ),
      /**
       * Revokes a token by its text (a leaked one) and its children: holding it is enough,
       * so no token is sent. Text that is no live token is KW_ERR_AUTH_* (401), not retried.
       */
      revokeText: (token: string) =>
        call<{ id: string; revoked: number }>(
          "POST",
          "/api/v1/tokens/revoke",
          { token },
          { withToken: false, retry: false },
        ),
    },
    audit: {
      query: async (
        q: {
          path?: string;
          actor?: string;
          action?: string;
          since?: string;
          afterSeq?: number;
          limit?: number;
        } = {},
      ) => {
        const qs = new URLSearchParams(
          Object.entries(q as Record<string, string | number | undefined>)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]): [string, string] => [k, String(v)]),
        );
        return (await call<{ entries: AuditEntry[] }>("GET", `/api/v1/audit?${qs.toString()}`)).entries;
      },
    },
    /** Whether the vault is sealed (needs no token; none is sent). */
    sealStatus: () => call<SealStatus>("GET", "/api/v1/sys/seal-status", undefined, { withToken: false }),
    /**
     * Unseals a server whose local key provider is sealed (needs no token; none is sent).
     * A wrong passphrase is KW_ERR_SERVER_UNSEAL_DENIED (401); not retried, since the
     * server limits attempts per address.
     */
    unseal: (passphrase: string) =>
      call<SealStatus>("POST", "/api/v1/sys/unseal", { passphrase }, { withToken: false, retry: false }),
    /** Seals the server's vault (needs `admin` on `_sys/seal`); reads answer 503 until it is unsealed. */
    seal: () => call<SealStatus>("POST", "/api/v1/sys/seal", undefined, { retry: false }),
    /** True when the server answers /readyz with 200 (no retries). */
    ready: async () => (await once("GET", "/readyz", undefined)).status === 200,
    /** Closes kept-alive connections. */
    close: () => {
      agent.destroy();
    },
  };
}

export type KeywardenClient = ReturnType<typeof createClient>;
