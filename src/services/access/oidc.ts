/**
 * OIDC federation: a CI job (GitHub Actions, GitLab CI, any OpenID Connect issuer) proves who
 * it is with the JWT its platform signed for it, and gets a short-lived token of the machine
 * identity that trusts that issuer, that audience and those claims. No long-lived Keywarden
 * token is kept in the CI system, so there is none there to leak.
 *
 * Trusts are configuration (`access.oidc`), reviewed like code. The JWT is checked with jose:
 * its signature against the issuer's published keys (found by OIDC discovery, or `jwksUrl`;
 * cached, refetched when a new key id appears), an asymmetric algorithm, `iss`, `aud`, `exp`
 * and `nbf` (30 s of clock skew), then every bound claim of the trust (`*` matches any run of
 * characters: `refs/heads/*`). A claim named with a leading `/` is a JSON pointer (RFC 6901)
 * into nested claims, as in Vault's bound claims: `/kubernetes.io/namespace` of a service
 * account token. A claim whose value is a list (`groups`) matches when one of its items does.
 * A trust must bind at least one claim beyond issuer and audience, since anyone can get a JWT
 * from a public CI platform's issuer.
 *
 * Whatever fails, the caller learns only that the login was refused (KW_ERR_AUTH_OIDC), also
 * when the JWT is good but the identity is gone, disabled or lost a policy; the audit log says
 * why, with no part of the JWT.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from "jose";
import { isKeywardenError, KeywardenError } from "../../core/errors.ts";
import { maskKeys } from "../../detect/mask.ts";
import type { AuditService, RequestContext } from "../audit/audit-service.ts";
import { sha256Hex, type AccessManager, type IssuedToken } from "./access-service.ts";

/** One trust: who may log in as `identity`, and with which policies. */
export interface OidcTrust {
  /** The machine identity a login acts as. */
  readonly identity: string;
  /** The issuer as its JWTs name it (`iss`): https, or http on a loopback address. */
  readonly issuer: string;
  /** The audience the JWT must be for (`aud`), e.g. the server's URL or "keywarden". */
  readonly audience: string;
  /**
   * Claims the JWT must carry, each matching its pattern (`*`: any run of characters); a name
   * starting with `/` is a JSON pointer into nested claims.
   */
  readonly claims: Readonly<Record<string, string>>;
  /** Policies of the token a login gets: the identity must hold each. */
  readonly policies: readonly string[];
  /** Life of that token in minutes. */
  readonly ttlMinutes: number;
  /** Where the issuer's keys are; empty: from its discovery document. */
  readonly jwksUrl: string;
  /**
   * Each JWT logs in once: a JWT seen in a job's log, copied after the job used it, gets
   * nothing (KW_ERR_AUTH_JWT_USED in the audit entry). For platforms that issue a JWT per
   * login (GitHub Actions, vault-action); not for tokens presented again by design
   * (a pod's service account token, a GitLab job's one id token used by several commands).
   */
  readonly singleUse?: boolean | undefined;
}

/** Asymmetric algorithms only: a JWT signed with a shared secret or none is refused. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
const CLOCK_SKEW_S = 30;
const FETCH_TIMEOUT_MS = 5000;
/** How long an issuer's discovery document (where its keys are) is kept. */
const DISCOVERY_TTL_MS = 3_600_000;
/** A JWT longer than this is not one a CI platform issues. */
export const MAX_JWT_LENGTH = 16_384;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Why a trust's URL is unusable, or undefined when it is fine. */
function badUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return "is not a URL";
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && LOOPBACK.has(url.hostname)) return undefined;
  return "must be https (http only on a loopback address)";
}

/**
 * Checks the trusts as configured: URLs, at least one bound claim, policies named. Throws
 * KW_ERR_CONFIG_INVALID naming the first problem.
 *
 * @example
 *   checkTrusts(config.access.oidc);
 */
export function checkTrusts(trusts: readonly OidcTrust[]): void {
  trusts.forEach((t, i) => {
    const fail = (reason: string) => {
      throw new KeywardenError("KW_ERR_CONFIG_INVALID", {
        key: `access.oidc[${i}]`,
        where: `the trust of ${t.identity}`,
        reason,
      });
    };
    const issuer = badUrl(t.issuer);
    if (issuer !== undefined) fail(`issuer ${issuer}`);
    if (t.jwksUrl !== "") {
      const jwks = badUrl(t.jwksUrl);
      if (jwks !== undefined) fail(`jwksUrl ${jwks}`);
    }
    if (Object.keys(t.claims).length === 0)
      fail("bind at least one claim (e.g. repository): anyone can get a JWT from a public issuer");
    for (const [name, pattern] of Object.entries(t.claims)) {
      if (/^\**$/.test(pattern)) fail(`claim ${name} = "${pattern}" binds nothing`);
      if (name.startsWith("/") && pointerSegments(name) === undefined)
        fail(`claim ${name} is not a JSON pointer to a claim (segments after /, ~0 for ~ and ~1 for /)`);
    }
    if (t.policies.length === 0) fail("name the policies a login gets");
  });
}

/**
 * The reference tokens of a JSON pointer (RFC 6901) naming a claim, unescaped; undefined
 * when `pointer` is not one (the empty pointer, the whole payload, names no claim).
 *
 * @example
 *   pointerSegments("/kubernetes.io/serviceaccount/name") // ["kubernetes.io", "serviceaccount", "name"]
 */
function pointerSegments(pointer: string): string[] | undefined {
  if (!pointer.startsWith("/") || pointer.length < 2) return undefined;
  const raw = pointer.slice(1).split("/");
  if (raw.some((s) => s === "" || /~(?![01])/.test(s))) return undefined;
  return raw.map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** The claim `name` of `payload`: a top-level claim, or the value a JSON pointer names. */
function claimValue(payload: JWTPayload, name: string): unknown {
  if (!name.startsWith("/")) return payload[name];
  let value: unknown = payload;
  for (const segment of pointerSegments(name) ?? []) {
    if (Array.isArray(value) && /^(0|[1-9]\d*)$/.test(segment)) value = value[Number(segment)];
    else if (typeof value === "object" && value !== null && !Array.isArray(value))
      value = Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
    else return undefined;
  }
  return value;
}

/**
 * `pattern` with `*` as any run of characters, matched against the whole of `value`, or of
 * one item of it when it is a list. Objects never match.
 */
function claimMatches(pattern: string, value: unknown): boolean {
  const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "s");
  const one = (v: unknown) =>
    (typeof v === "string" || typeof v === "number" || typeof v === "boolean") && re.test(String(v));
  return Array.isArray(value) ? value.some(one) : one(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * What a single-use trust keeps of a JWT that logged in: the SHA-256 of its signed part
 * (header and payload; the signature is left out, since ECDSA lets anyone holding a JWT make
 * a second valid signature of the same claims), until it expires (with the clock skew allowed).
 */
function usedJwt(jwt: string, claims: JWTPayload): { digest: string; expiresAt: string } {
  const signed = jwt.slice(0, jwt.lastIndexOf("."));
  // jwtVerify required exp; a number of seconds.
  const exp = typeof claims.exp === "number" ? claims.exp : 0;
  return {
    digest: sha256Hex(signed),
    expiresAt: new Date((exp + CLOCK_SKEW_S) * 1000).toISOString(),
  };
}

/**
 * A refusal's reason for the audit log: jose's error code (and the claim it names), or the
 * message of a check here or of fetch; never any part of the JWT.
 */
function reasonOf(e: unknown): string {
  if (!(e instanceof Error)) return "error";
  if ("code" in e && typeof e.code === "string" && e.code.startsWith("ERR_")) {
    const claim = "claim" in e && typeof e.claim === "string" ? ` ${e.claim}` : "";
    return `${e.code}${claim}`;
  }
  return e.message.slice(0, 120);
}

/** How JWTs are checked: the clock, and how often unknown key ids may fetch keys again. */
export interface VerifyOptions {
  /** The clock jose checks exp and nbf by (seconds); the system's by default. */
  readonly nowSeconds?: () => number;
  /**
   * How long after fetching an issuer's keys a JWT with an unknown key id may not make it
   * fetch them again (jose's cooldown, 30 s by default): a stream of made-up key ids cannot
   * turn into a stream of fetches.
   */
  readonly keyRefetchCooldownMs?: number;
}

export interface OidcDeps extends VerifyOptions {
  readonly trusts: readonly OidcTrust[];
  readonly access: AccessManager;
  readonly audit: Pick<AuditService, "record">;
}

/** Checks JWTs against trusts, with the issuers' discovery documents and keys cached. */
function createVerifier(options: VerifyOptions) {
  const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  const discovered = new Map<string, { readonly at: number; readonly jwksUrl: Promise<string> }>();

  /** The issuer's JWKS URL from its discovery document, fetched again after an hour. */
  function jwksUrlOf(trust: OidcTrust): Promise<string> {
    if (trust.jwksUrl !== "") return Promise.resolve(trust.jwksUrl);
    const cached = discovered.get(trust.issuer);
    if (cached !== undefined && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.jwksUrl;
    const jwksUrl = (async () => {
      const url = `${trust.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
      const r = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: "error" });
      if (!r.ok) throw new Error(`discovery answered ${r.status}`);
      // Its own words, not the parser's: those would quote the document.
      const doc = (await r.json().catch(() => {
        throw new Error("discovery is not JSON");
      })) as { issuer?: unknown; jwks_uri?: unknown } | null;
      if (doc?.issuer !== trust.issuer) throw new Error("discovery names another issuer");
      if (typeof doc.jwks_uri !== "string" || badUrl(doc.jwks_uri) !== undefined)
        throw new Error("discovery has no usable jwks_uri");
      return doc.jwks_uri;
    })();
    discovered.set(trust.issuer, { at: Date.now(), jwksUrl });
    // A failed discovery is tried again at the next login, not remembered.
    jwksUrl.catch(() => discovered.delete(trust.issuer));
    return jwksUrl;
  }

  async function keysOf(trust: OidcTrust) {
    const url = await jwksUrlOf(trust);
    let set = keySets.get(url);
    if (set === undefined) {
      set = createRemoteJWKSet(new URL(url), {
        timeoutDuration: FETCH_TIMEOUT_MS,
        ...(options.keyRefetchCooldownMs === undefined
          ? {}
          : { cooldownDuration: options.keyRefetchCooldownMs }),
      });
      keySets.set(url, set);
    }
    return set;
  }

  /** The JWT's claims when it verifies against `trust` and matches its claims; throws why not. */
  async function verify(trust: OidcTrust, jwt: string): Promise<JWTPayload> {
    const { payload } = await jwtVerify(jwt, await keysOf(trust), {
      issuer: trust.issuer,
      audience: trust.audience,
      algorithms: ALGORITHMS,
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ["exp"],
      ...(options.nowSeconds === undefined ? {} : { currentDate: new Date(options.nowSeconds() * 1000) }),
    });
    for (const [name, pattern] of Object.entries(trust.claims))
      if (!claimMatches(pattern, claimValue(payload, name)))
        throw new Error(`claim ${name} does not match ${pattern}`);
    return payload;
  }

  return { verify };
}

/** What one trust says of a JWT (`explainJwt`). */
export interface TrustCheck {
  /** Its place in access.oidc. */
  readonly index: number;
  readonly trust: OidcTrust;
  /** Undefined when the JWT passes every check of this trust. */
  readonly refused: string | undefined;
}

/**
 * What each trust of `identity` says of `jwt`, without logging in: for an operator setting
 * trusts up (`keywarden oidc check`). `claims` are the JWT's own, unverified, for display;
 * undefined when it is not a JWT.
 *
 * @example
 *   const { checks } = await explainJwt(config.access.oidc, "ci-deployer", jwt);
 */
export async function explainJwt(
  trusts: readonly OidcTrust[],
  identity: string,
  jwt: string,
  options: VerifyOptions = {},
): Promise<{ claims: JWTPayload | undefined; checks: TrustCheck[] }> {
  checkTrusts(trusts);
  let claims: JWTPayload | undefined;
  try {
    claims = decodeJwt(jwt);
  } catch {
    claims = undefined;
  }
  const verifier = createVerifier(options);
  const checks: TrustCheck[] = [];
  for (const [index, trust] of trusts.entries()) {
    if (trust.identity !== identity) continue;
    let refused: string | undefined;
    if (claims === undefined) refused = "not a JWT";
    else if (claims.iss !== trust.issuer) refused = `the JWT's issuer is not ${trust.issuer}`;
    else
      try {
        await verifier.verify(trust, jwt);
      } catch (e) {
        refused = reasonOf(e);
      }
    checks.push({ index, trust, refused });
  }
  return { claims, checks };
}

/**
 * @example
 *   const oidc = createOidcLogin({ trusts: config.access.oidc, access, audit });
 *   const issued = await oidc.login(ctx, { identity: "ci-deployer", jwt });
 */
export function createOidcLogin(deps: OidcDeps) {
  checkTrusts(deps.trusts);
  const { verify } = createVerifier(deps);

  /**
   * Logs `identity` in with `jwt`: a short-lived token with the trust's policies. Throws
   * KW_ERR_AUTH_OIDC for any refusal (audited as `auth.oidc`, denied, with the reason).
   */
  async function login(ctx: RequestContext, input: { identity: string; jwt: string }): Promise<IssuedToken> {
    const refuse = async (reason: string): Promise<never> => {
      await deps.audit.record(ctx, {
        action: "auth.oidc",
        result: "denied",
        // The identity is whatever the caller sent, maybe a key pasted in the wrong field.
        detail: `KW_ERR_AUTH_OIDC ${maskKeys(input.identity.slice(0, 64))}: ${reason}`.slice(0, 300),
      });
      throw new KeywardenError("KW_ERR_AUTH_OIDC");
    };
    if (input.jwt.length > MAX_JWT_LENGTH) return refuse("JWT too long");
    let iss: unknown;
    try {
      iss = decodeJwt(input.jwt).iss;
    } catch {
      return refuse("not a JWT");
    }
    // Only the trusts of that identity for that issuer: no fetch for anyone else's keys.
    const candidates = deps.trusts.filter((t) => t.identity === input.identity && t.issuer === iss);
    if (candidates.length === 0) return refuse("no trust for this identity and issuer");
    const reasons: string[] = [];
    for (const trust of candidates) {
      let claims: JWTPayload;
      try {
        claims = await verify(trust, input.jwt);
      } catch (e) {
        reasons.push(reasonOf(e));
        continue;
      }
      const subject = typeof claims.sub === "string" ? claims.sub.slice(0, 200) : "";
      try {
        return await deps.access.issueFederatedToken(ctx, {
          identity: trust.identity,
          policies: trust.policies,
          ttlMinutes: trust.ttlMinutes,
          description: `oidc ${subject}`.slice(0, 200),
          once: trust.singleUse === true ? usedJwt(input.jwt, claims) : undefined,
        });
      } catch (e) {
        // The JWT is good but the access service refuses (an identity that is gone or
        // disabled, a policy it no longer holds): refused all the same, its code audited.
        if (!isKeywardenError(e) || e.httpStatus >= 500) throw e;
        return refuse(`trusted JWT, but ${e.code}`);
      }
    }
    return refuse([...new Set(reasons)].join("; "));
  }

  return { login };
}

export type OidcLogin = ReturnType<typeof createOidcLogin>;
