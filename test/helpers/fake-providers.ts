import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import { VERIFY_PROVIDERS, type VerifyProvider } from "../../src/detect/verify.ts";

/**
 * How the fake treats a registered credential. `ratelimit-once` answers 429 with Retry-After
 * first, then as `live`; `ratelimit` always 429 with a long Retry-After; `slow` never answers
 * (until the client gives up); `error` answers 503.
 */
export type FakeBehaviour = "live" | "revoked" | "ratelimit-once" | "ratelimit" | "slow" | "error";

interface Registered {
  behaviour: FakeBehaviour;
  /** AWS: the secret access key, to check the SigV4 signature; Twilio: the account SID. */
  secret?: string;
  sid?: string;
  shop?: string;
  hits: number;
}

export interface FakeProviders {
  /** `verify.baseUrls` entries pointing every provider at this server (`/p/<provider>`). */
  readonly baseUrls: Readonly<Record<VerifyProvider, string>>;
  /** Registers the credential a request carries (AWS: the access key id, with `secret`). */
  register(
    provider: VerifyProvider,
    credential: string,
    behaviour: FakeBehaviour,
    extra?: { secret?: string; sid?: string; shop?: string },
  ): void;
  /** Requests answered (or held) so far, all providers. */
  readonly requests: () => number;
  /** Requests that carried this credential. */
  readonly hitsOf: (provider: VerifyProvider, credential: string) => number;
  /** The most requests ever in flight at once. */
  readonly maxInFlight: () => number;
  /** Every request's method, path and headers, for checks that no secret went elsewhere. */
  readonly log: readonly { provider: string; method: string; path: string }[];
  /** Retry-After seconds sent with `ratelimit-once`. */
  retryAfterSeconds: number;
  /** Milliseconds each answer is held, so concurrent requests overlap measurably. */
  delayMs: number;
}

type Json = Record<string, unknown>;

/** What each provider documents for a working and a dead credential. */
const ANSWERS: Record<VerifyProvider, { live: [number, Json | string]; revoked: [number, Json | string] }> = {
  aws: {
    live: [
      200,
      {
        GetCallerIdentityResponse: {
          GetCallerIdentityResult: {
            Account: "123456789012",
            Arn: "arn:aws:iam::123456789012:user/ci",
            UserId: "AIDAEXAMPLEUSERID",
          },
          ResponseMetadata: { RequestId: "c6104cbe-af31-11e0-8154-cbc7ccf896c7" },
        },
      },
    ],
    revoked: [
      403,
      {
        Error: {
          Code: "InvalidClientTokenId",
          Message: "The security token included in the request is invalid.",
          Type: "Sender",
        },
      },
    ],
  },
  github: {
    live: [200, { login: "octocat", id: 1, type: "User" }],
    revoked: [
      401,
      { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" },
    ],
  },
  gitlab: {
    live: [200, { id: 42, name: "ci", revoked: false, active: true, scopes: ["read_api"] }],
    revoked: [401, { message: "401 Unauthorized" }],
  },
  slack: {
    live: [200, { ok: true, url: "https://acme.slack.com/", team: "Acme", user: "bot", team_id: "T1" }],
    revoked: [200, { ok: false, error: "token_revoked" }],
  },
  stripe: {
    live: [200, { object: "balance", available: [{ amount: 0, currency: "usd" }], livemode: true }],
    revoked: [
      401,
      { error: { message: "Invalid API Key provided: sk_****", type: "invalid_request_error" } },
    ],
  },
  openai: {
    live: [200, { object: "list", data: [{ id: "gpt-4o", object: "model", owned_by: "system" }] }],
    revoked: [
      401,
      {
        error: {
          message:
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      },
    ],
  },
  anthropic: {
    live: [200, { data: [{ type: "model", id: "claude-sonnet-4-5" }], has_more: false }],
    revoked: [401, { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }],
  },
  sendgrid: {
    live: [200, { scopes: ["mail.send", "scopes.read"] }],
    revoked: [401, { errors: [{ field: null, message: "authorization required" }] }],
  },
  twilio: {
    live: [200, { sid: "", friendly_name: "Acme", status: "active", type: "Full" }],
    revoked: [
      401,
      {
        code: 20003,
        message: "Authenticate",
        more_info: "https://www.twilio.com/docs/errors/20003",
        status: 401,
      },
    ],
  },
  mailgun: {
    live: [200, { total_count: 1, items: [{ name: "mg.example.com", state: "active" }] }],
    revoked: [401, "Forbidden"],
  },
  npm: {
    live: [200, { username: "ci-bot" }],
    revoked: [401, { error: "You must be logged in to do that" }],
  },
  huggingface: {
    live: [200, { type: "user", name: "ci-bot", auth: { type: "access_token" } }],
    revoked: [401, { error: "Invalid credentials in Authorization header" }],
  },
  datadog: {
    live: [200, { valid: true }],
    revoked: [403, { errors: ["Forbidden"] }],
  },
  shopify: {
    live: [200, { shop: { id: 1, name: "Acme", myshopify_domain: "acme.myshopify.com" } }],
    revoked: [
      401,
      { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" },
    ],
  },
  discord: {
    live: [200, { id: "80351110224678912", username: "ci-bot", bot: true }],
    revoked: [401, { message: "401: Unauthorized", code: 0 }],
  },
};

/** Where each provider expects its credential, and its documented method and path. */
interface Extracted {
  readonly credential?: string;
  readonly error?: string;
  readonly sid?: string;
  readonly shop?: string;
}

const bearer = (req: IncomingMessage, scheme = "Bearer"): string | undefined => {
  const h = req.headers.authorization ?? "";
  return h.startsWith(`${scheme} `) ? h.slice(scheme.length + 1) : undefined;
};

const basic = (req: IncomingMessage): [string, string] | undefined => {
  const h = req.headers.authorization ?? "";
  if (!h.startsWith("Basic ")) return undefined;
  const decoded = Buffer.from(h.slice(6), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  return i < 0 ? undefined : [decoded.slice(0, i), decoded.slice(i + 1)];
};

const sha256 = (s: string | Buffer): string => createHash("sha256").update(s).digest("hex");
const hmac = (key: string | Buffer, s: string): Buffer => createHmac("sha256", key).update(s).digest();

/**
 * Checks an AWS SigV4 Authorization header the way STS does (an implementation independent of
 * the one under test), given the secret registered for its key id.
 */
function sigV4Valid(req: IncomingMessage, path: string, body: Buffer, secret: string): boolean {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? "",
    );
  if (m === null) return false;
  const [, , date, region, service, signedHeaders, signature] = m as unknown as string[];
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  const canonicalHeaders = signedHeaders!
    .split(";")
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const url = new URL(path, "http://x");
  const query = [...url.searchParams]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort()
    .join("&");
  const canonical = [req.method, url.pathname, query, canonicalHeaders, signedHeaders, sha256(body)].join(
    "\n",
  );
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key: Buffer = hmac(`AWS4${secret}`, date!);
  key = hmac(key, region!);
  key = hmac(key, service!);
  key = hmac(key, "aws4_request");
  return createHmac("sha256", key).update(toSign).digest("hex") === signature;
}

function extract(provider: VerifyProvider, req: IncomingMessage, rest: string): Extracted {
  const get = req.method === "GET";
  const bad = (error: string): Extracted => ({ error });
  switch (provider) {
    case "aws": {
      if (req.method !== "POST" || rest !== "/") return bad("STS is POST /");
      const id = /Credential=([A-Z0-9]{20})\//.exec(req.headers.authorization ?? "")?.[1];
      return id === undefined ? bad("no SigV4 credential") : { credential: id };
    }
    case "github":
      return get && rest === "/user" ? { credential: bearer(req) } : bad("GitHub: GET /user");
    case "gitlab":
      return get && rest === "/api/v4/personal_access_tokens/self"
        ? { credential: header(req, "private-token") }
        : bad("GitLab: GET /api/v4/personal_access_tokens/self");
    case "slack":
      return req.method === "POST" && rest === "/api/auth.test"
        ? { credential: bearer(req) }
        : bad("Slack: POST /api/auth.test");
    case "stripe":
      return get && rest === "/v1/balance" ? { credential: bearer(req) } : bad("Stripe: GET /v1/balance");
    case "openai":
      return get && rest === "/v1/models" ? { credential: bearer(req) } : bad("OpenAI: GET /v1/models");
    case "anthropic":
      if (!(get && rest === "/v1/models")) return bad("Anthropic: GET /v1/models");
      if (req.headers["anthropic-version"] !== "2023-06-01") return bad("anthropic-version header required");
      return { credential: header(req, "x-api-key") };
    case "sendgrid":
      return get && rest === "/v3/scopes" ? { credential: bearer(req) } : bad("SendGrid: GET /v3/scopes");
    case "twilio": {
      const m = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\.json$/.exec(rest);
      const pair = basic(req);
      if (!get || m === null || pair === undefined) return bad("Twilio: GET /2010-04-01/Accounts/{sid}.json");
      return pair[0] === m[1]
        ? { credential: pair[1], sid: m[1] }
        : bad("basic user must be the account SID");
    }
    case "mailgun": {
      const pair = basic(req);
      if (!get || !rest.startsWith("/v3/domains") || pair?.[0] !== "api")
        return bad("Mailgun: GET /v3/domains");
      return { credential: pair[1] };
    }
    case "npm":
      return get && rest === "/-/whoami" ? { credential: bearer(req) } : bad("npm: GET /-/whoami");
    case "huggingface":
      return get && rest === "/api/whoami-v2" ? { credential: bearer(req) } : bad("HF: GET /api/whoami-v2");
    case "datadog":
      return get && rest === "/api/v1/validate"
        ? { credential: header(req, "dd-api-key") }
        : bad("Datadog: GET /api/v1/validate");
    case "shopify": {
      const m = /^\/([a-z0-9-]+\.myshopify\.com)\/admin\/api\/\d{4}-\d{2}\/shop\.json$/.exec(rest);
      return get && m !== null
        ? { credential: header(req, "x-shopify-access-token"), shop: m[1] }
        : bad("Shopify: GET /admin/api/<version>/shop.json");
    }
    case "discord":
      return get && rest === "/api/v10/users/@me"
        ? { credential: bearer(req, "Bot") }
        : bad("Discord: GET /api/v10/users/@me");
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === "string" ? v : undefined;
}

function send(
  res: ServerResponse,
  status: number,
  body: Json | string,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain" : "application/json",
    ...headers,
  });
  res.end(text);
}

/**
 * One local HTTP server on 127.0.0.1 that answers as each of the verified providers
 * documents, keyed by the credential it receives. Closed when the test ends.
 *
 * @example
 *   const fake = await startFakeProviders(t);
 *   fake.register("github", token, "live");
 *   // config: verify.baseUrls = fake.baseUrls
 */
export async function startFakeProviders(t: TestContext): Promise<FakeProviders> {
  const registry = new Map<string, Registered>();
  const log: { provider: string; method: string; path: string }[] = [];
  let requests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const held = new Set<ServerResponse>();
  const state = { retryAfterSeconds: 1, delayMs: 0 };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on("close", () => {
        inFlight--;
        held.delete(res);
      });
      const answer = (): void => {
        const body = Buffer.concat(chunks);
        const m = /^\/p\/([a-z]+)(\/.*)$/.exec(req.url ?? "");
        const provider = m?.[1] as VerifyProvider | undefined;
        if (m === null || provider === undefined || !VERIFY_PROVIDERS.includes(provider)) {
          send(res, 404, { error: "no such provider" });
          return;
        }
        log.push({ provider, method: req.method ?? "", path: m[2]! });
        const got = extract(provider, req, m[2]!);
        if (got.error !== undefined || got.credential === undefined) {
          send(res, 400, { error: got.error ?? "no credential" });
          return;
        }
        const entry = registry.get(`${provider}\0${got.credential}`);
        const answers = ANSWERS[provider];
        if (entry === undefined) {
          const [status, doc] = answers.revoked;
          send(res, status, doc);
          return;
        }
        entry.hits++;
        if (provider === "aws" && !sigV4Valid(req, req.url ?? "/", body, entry.secret ?? "")) {
          send(res, 403, {
            Error: {
              Code: "SignatureDoesNotMatch",
              Message: "The request signature we calculated does not match",
            },
          });
          return;
        }
        if (entry.sid !== undefined && got.sid !== entry.sid) {
          send(res, 401, answers.revoked[1]);
          return;
        }
        if (entry.shop !== undefined && got.shop !== entry.shop) {
          send(res, 404, { errors: "Not Found" });
          return;
        }
        switch (entry.behaviour) {
          case "slow":
            held.add(res);
            return;
          case "error":
            send(res, 503, { error: "service unavailable" });
            return;
          case "ratelimit":
            send(res, 429, { error: "rate limited" }, { "retry-after": "3600" });
            return;
          case "ratelimit-once":
            if (entry.hits === 1) {
              send(res, 429, { error: "rate limited" }, { "retry-after": String(state.retryAfterSeconds) });
              return;
            }
            send(res, ...answers.live);
            return;
          case "live":
            send(res, ...answers.live);
            return;
          case "revoked":
            send(res, ...answers.revoked);
            return;
        }
      };
      if (state.delayMs > 0) setTimeout(answer, state.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  t.after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  const baseUrls = Object.fromEntries(
    VERIFY_PROVIDERS.map((p) => [p, p === "shopify" ? `${origin}/p/shopify/{shop}` : `${origin}/p/${p}`]),
  ) as Record<VerifyProvider, string>;
  return {
    baseUrls,
    register: (provider, credential, behaviour, extra = {}) => {
      registry.set(`${provider}\0${credential}`, { behaviour, hits: 0, ...extra });
    },
    requests: () => requests,
    hitsOf: (provider, credential) => registry.get(`${provider}\0${credential}`)?.hits ?? 0,
    maxInFlight: () => maxInFlight,
    log,
    get retryAfterSeconds() {
      return state.retryAfterSeconds;
    },
    set retryAfterSeconds(v: number) {
      state.retryAfterSeconds = v;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(v: number) {
      state.delayMs = v;
    },
  };
}
