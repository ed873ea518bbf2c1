/**
 * Identities, credentials, tokens, policies, roles and dashboard sessions, and the one
 * decision everything asks: may this principal do this capability on this path. Tokens
 * and session ids are stored only as SHA-256; passwords as Argon2id; TOTP secrets sealed
 * under a KEK-wrapped key. Every denial and every failed authentication is audited, never
 * with the token, password or code in it. Invariants: NOTES.md beside this file.
 */
import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import type { DeepReadonly } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import type { Clock } from "../../core/clock.ts";
import { KeywardenError, isKeywardenError, type ErrorCode } from "../../core/errors.ts";
import { newId } from "../../core/ids.ts";
import type { Logger } from "../../core/logger.ts";
import { Secret } from "../../core/secret.ts";
import { formatToken, isValidToken, type TokenKind } from "../../core/token-format.ts";
import { openBytes, sealBytes } from "../../crypto/aead.ts";
import { DEFAULT_ARGON2_PARAMS, hashPassword, verifyPassword, type Argon2Params } from "../../crypto/kdf.ts";
import { keyLookalike, maskKeys } from "../../detect/mask.ts";
import type { KeyProvider } from "../../kms/key-provider.ts";
import type { Storage } from "../../storage/database.ts";
import {
  advanceTotpStep,
  countLoginAttempt,
  findCredentials,
  findIdentityById,
  findIdentityByName,
  findLoginState,
  insertIdentityIfAbsent,
  listIdentities as listIdentityRows,
  lockLogin,
  noteLoginFailure,
  resetLogin,
  saveLoginState,
  setIdentityDisabled,
  upsertCredentials,
  type IdentityRow,
} from "../../storage/repos/identity-repo.ts";
import {
  bindRole as bindRoleRow,
  deletePolicy as deletePolicyRow,
  deleteRole as deleteRoleRow,
  findPoliciesByName,
  findPolicyByName,
  findRoleByName,
  insertRoleIfAbsent,
  listPolicies as listPolicyRows,
  listRoles as listRoleRows,
  policiesOfIdentity,
  policiesOfRole,
  policiesOfTokenHash,
  rolesOf,
  setRolePolicies,
  unbindRole as unbindRoleRow,
  upsertPolicy,
  type PolicyRow,
} from "../../storage/repos/policy-repo.ts";
import {
  findSessionByHash,
  insertSession,
  revokeIdentitySessions,
  revokeSession,
  touchSession,
} from "../../storage/repos/session-repo.ts";
import { accessEpoch } from "../../storage/repos/epoch-repo.ts";
import type { Executor } from "../../storage/repos/executor.ts";
import {
  findTokenById,
  findTokenByHash,
  insertToken,
  listTokens as listTokenRows,
  revokeIdentityTokens,
  revokeTokenTree,
  takeJwt,
  type TokenRow,
} from "../../storage/repos/token-repo.ts";
import type { AuditService, RequestContext } from "../audit/audit-service.ts";
import { metaKey } from "../vault/meta-keys.ts";
import type { AccessService, Capability, Policy, PolicyRule, Principal } from "./access-types.ts";
import { ipAllowed, parseCidr } from "./cidr.ts";
import { lockoutSeconds } from "./lockout.ts";
import { checkName, evaluate, parseRules, SYS, type MatchMode } from "./policy.ts";
import { newTotpSecret, totpUri, verifyTotp } from "./totp.ts";
import { principalContext } from "./vault-authorizer.ts";

/** Who performs a management operation: an authenticated principal, or the local operator (the CLI on the vault's own machine, who owns the database anyway). */
export type Actor = Principal | "operator";

export type AccessConfig = DeepReadonly<Config["access"]>;

export interface AccessDeps {
  readonly storage: Storage;
  readonly audit: AuditService;
  /** Needed only for TOTP (its secrets are sealed under a KEK-wrapped key). */
  readonly kms: KeyProvider;
  readonly clock: Clock;
  readonly config: AccessConfig;
  readonly logger?: Logger | undefined;
  /** Argon2id cost of user passwords; RFC 9106's second option by default. */
  readonly argon2?: Argon2Params | undefined;
}

export interface IdentityInfo {
  readonly id: string;
  readonly name: string;
  readonly kind: "user" | "machine";
  readonly disabled: boolean;
  readonly disabledAt: string | null;
  readonly createdAt: string;
  readonly roles: readonly string[];
  /** Users only: whether a TOTP second factor is enrolled. */
  readonly totp: boolean;
}

export interface TokenInfo {
  readonly id: string;
  readonly identityId: string;
  readonly kind: TokenKind;
  readonly description: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly revokedAt: string | null;
  readonly allowIps: readonly string[];
  readonly policies: readonly string[];
  readonly parentId: string | null;
}

export interface IssuedToken {
  /** The token text: shown once, never stored. */
  readonly token: Secret;
  readonly info: TokenInfo;
}

export interface CreateTokenInput {
  /** The identity the token acts as; defaults to the creator's own (a principal). */
  readonly identity?: string | undefined;
  /** Policy names; the token gets exactly these, each of which the identity (and a creating principal) must hold. */
  readonly policies: readonly string[];
  /** Life in seconds; access.tokenTtl by default, at most access.tokenMaxTtl. */
  readonly ttlSeconds?: number | undefined;
  /** CIDRs or addresses; empty allows any address. */
  readonly allowIps?: readonly string[] | undefined;
  readonly description?: string | undefined;
}

export interface CreateChildTokenInput {
  /** Life in minutes, at most access.childTokenMaxMinutes and never beyond the parent. */
  readonly ttlMinutes: number;
  /** A subset of the parent's policies; all of them by default. */
  readonly policies?: readonly string[] | undefined;
  /** Narrows the parent's allow-list (each entry must lie inside it when the parent has one). */
  readonly allowIps?: readonly string[] | undefined;
  readonly description?: string | undefined;
}

export interface FederatedTokenInput {
  /** The machine identity the token acts as. */
  readonly identity: string;
  /** Its policies: each one the identity must hold. */
  readonly policies: readonly string[];
  readonly ttlMinutes: number;
  readonly description: string;
  /**
   * A single-use trust's JWT: its digest and expiry. The token is made only if this JWT has
   * not logged in before (else KW_ERR_AUTH_JWT_USED), in the same transaction.
   */
  readonly once?: { readonly digest: string; readonly expiresAt: string } | undefined;
}

export interface RoleInfo {
  readonly id: string;
  readonly name: string;
  readonly policies: readonly string[];
  readonly createdAt: string;
}

export interface LoginInput {
  readonly name: string;
  readonly password: Secret | string;
  /** The current TOTP code, when the user enrolled one. */
  readonly totp?: string | undefined;
  readonly ip: string;
}

export interface IssuedSession {
  /** The session id for the cookie: shown once, stored only as a hash. */
  readonly sessionId: Secret;
  /** `ses_...`, for logs and the audit log. */
  readonly id: string;
  /** Absolute expiry. */
  readonly expiresAt: string;
  /** When the session expires if unused. */
  readonly idleExpiresAt: string;
}

export interface TotpEnrolment {
  /** The `otpauth://` URI to show as a QR code, once. */
  readonly uri: Secret;
}

/** What the access service offers beyond the server seam. */
export interface AccessManager extends AccessService {
  authenticateSession(ctx: RequestContext, rawSessionId: string, ip: string): Promise<Principal>;
  login(ctx: RequestContext, input: LoginInput): Promise<Principal>;
  createSession(ctx: RequestContext, principal: Principal): Promise<IssuedSession>;
  /**
   * After a password login (`login`), a token of that user for the CLI or a Vault client:
   * all the user's policies, as long-lived as a dashboard session (access.sessionMaxHours).
   */
  createLoginToken(ctx: RequestContext, principal: Principal): Promise<IssuedToken>;
  endSession(ctx: RequestContext, rawSessionId: string): Promise<void>;
  addUser(
    ctx: RequestContext,
    by: Actor,
    input: { name: string; password: Secret | string; roles?: readonly string[] },
  ): Promise<IdentityInfo>;
  addMachine(
    ctx: RequestContext,
    by: Actor,
    input: { name: string; roles?: readonly string[] },
  ): Promise<IdentityInfo>;
  listIdentities(ctx: RequestContext, by: Actor, kind?: "user" | "machine"): Promise<IdentityInfo[]>;
  getIdentity(ctx: RequestContext, by: Actor, name: string): Promise<IdentityInfo>;
  setDisabled(ctx: RequestContext, by: Actor, name: string, disabled: boolean): Promise<IdentityInfo>;
  setPassword(ctx: RequestContext, by: Actor, name: string, password: Secret | string): Promise<void>;
  enrollTotp(ctx: RequestContext, by: Actor, name: string): Promise<TotpEnrolment>;
  createToken(ctx: RequestContext, by: Actor, input: CreateTokenInput): Promise<IssuedToken>;
  createChildToken(
    ctx: RequestContext,
    parent: Principal,
    input: CreateChildTokenInput,
  ): Promise<IssuedToken>;
  /**
   * Vault's AppRole login: `secretId` a token of the machine identity named `role`; answers a
   * child of that token for `ttlMinutes` (as createChildToken makes). Every refusal is
   * KW_ERR_AUTH_APPROLE, audited (the token check's own entry, or `auth.approle` saying why).
   */
  approleLogin(
    ctx: RequestContext,
    input: { role: string; secretId: string; ip: string; ttlMinutes: number },
  ): Promise<IssuedToken>;
  /**
   * A short-lived token of a machine identity after a federated login its caller verified
   * (OIDC, services/access/oidc.ts): the given policies (each held by the identity), no parent,
   * no IP list; audited as `auth.oidc` with the identity as actor.
   */
  issueFederatedToken(ctx: RequestContext, input: FederatedTokenInput): Promise<IssuedToken>;
  listTokens(
    ctx: RequestContext,
    by: Actor,
    options?: { identity?: string; active?: boolean },
  ): Promise<TokenInfo[]>;
  revokeToken(ctx: RequestContext, by: Actor, tokenId: string): Promise<number>;
  /**
   * One token's record and its identity's name, for its own identity or an admin of that
   * identity (as listing its tokens needs).
   */
  describeToken(
    ctx: RequestContext,
    by: Actor,
    tokenId: string,
  ): Promise<TokenInfo & { identityName: string }>;
  /**
   * Revokes the token whose text is `token`, and its children: holding a token is enough to
   * revoke it (its holder could revoke it with itself), which is what a leaked one needs.
   * Malformed or unknown text fails as authentication does (KW_ERR_AUTH_*, audited).
   */
  revokeTokenValue(ctx: RequestContext, token: Secret): Promise<{ id: string; revoked: number }>;
  putPolicy(ctx: RequestContext, by: Actor, name: string, rules: unknown): Promise<Policy>;
  getPolicy(ctx: RequestContext, by: Actor, name: string): Promise<Policy>;
  listPolicies(ctx: RequestContext, by: Actor): Promise<Policy[]>;
  deletePolicy(ctx: RequestContext, by: Actor, name: string): Promise<void>;
  putRole(ctx: RequestContext, by: Actor, name: string, policies: readonly string[]): Promise<RoleInfo>;
  listRoles(ctx: RequestContext, by: Actor): Promise<RoleInfo[]>;
  deleteRole(ctx: RequestContext, by: Actor, name: string): Promise<void>;
  bindRole(ctx: RequestContext, by: Actor, role: string, identity: string): Promise<void>;
  unbindRole(ctx: RequestContext, by: Actor, role: string, identity: string): Promise<void>;
  /** Like `can`, for a list of a path prefix: true only when every secret under it is allowed. */
  canList(principal: Principal, prefix: string): Promise<boolean>;
  close(): void;
}

const MIN_PASSWORD = 12;
const MAX_PASSWORD = 1024;
const MAX_DESCRIPTION = 200;
const MAX_ALLOW_IPS = 64;
const SESSION_ID_BYTES = 32;
/** What a Keywarden token looks like: kw_<kind>_<43 random characters>_<6-character checksum>. */
const TOKEN_SHAPE = /^kw_(svc|usr|cld)_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}$/;

/** SHA-256 hex: how tokens and session ids are stored and looked up. @example sha256Hex(raw).length // 64 */
export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

function tokenKind(kind: string): TokenKind {
  return kind === "usr" || kind === "cld" ? kind : "svc";
}

function parseJsonList(text: string): string[] {
  const v: unknown = JSON.parse(text);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function toTokenInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    identityId: r.identity_id,
    kind: tokenKind(r.kind),
    description: r.description,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    allowIps: parseJsonList(r.ip_allow),
    policies: parseJsonList(r.scope),
    parentId: r.parent_id,
  };
}

function toPolicy(r: PolicyRow): Policy {
  return { id: r.id, name: r.name, rules: parseRules(JSON.parse(r.rules)) };
}

function reveal(p: Secret | string): string {
  return typeof p === "string" ? p : p.reveal();
}

/** The AAD of a sealed TOTP secret: bound to its identity so that rows cannot be swapped. */
function totpAad(identityId: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(["keywarden-totp-v1", identityId]));
}

/** Tokens a server keeps authenticated at most; past it the oldest entries go. */
const TOKEN_CACHE_SIZE = 10_000;
/** Decisions remembered per rule set (see `decisions`). */
const DECISIONS_PER_RULE_SET = 1024;

interface CachedToken {
  /** The access epoch read before the token's rows. */
  readonly epoch: string;
  readonly principal: Principal;
  /** The token's expiry in ms since the epoch (compared on every request: no date text made). */
  readonly expiresMs: number;
  readonly allowIps: readonly string[];
}

/**
 * Authenticated tokens by SHA-256 hash (never the token), so that a request with a known
 * token costs one read of the access epoch instead of the token and policy queries. An
 * entry is used only while the epoch is the one it was read at: any change to tokens,
 * identities, policies or roles, by any process, bumps the epoch in the same transaction
 * (migration 0003), so revocation and policy changes are in force at once. Expiry and the
 * IP allow-list are checked on every request; a failure goes the full way and is audited.
 */
function tokenCache(max: number) {
  const entries = new Map<string, CachedToken>();
  return {
    get: (tokenHash: string): CachedToken | undefined => entries.get(tokenHash),
    set(tokenHash: string, entry: CachedToken): void {
      entries.delete(tokenHash);
      entries.set(tokenHash, entry);
      if (entries.size > max) entries.delete(entries.keys().next().value!);
    },
  };
}

/**
 * @example
 *   const access = createAccessService({ storage, audit, kms, clock, config: config.access });
 *   const principal = await access.authenticateToken(ctx, raw, "10.0.0.7");
 *   await access.require(ctx, principal, "read", "payments/prod/STRIPE_KEY");
 */
export function createAccessService(deps: AccessDeps): AccessManager {
  const { storage, audit, clock, config } = deps;
  const db = storage.db;
  const argon2 = deps.argon2 ?? DEFAULT_ARGON2_PARAMS;
  /** The rules behind each principal this service built, so that `can` needs no query. */
  const rulesOf = new WeakMap<Principal, readonly PolicyRule[]>();
  const parsedPolicies = new Map<string, readonly PolicyRule[]>();
  /**
   * Decisions by rule set: `evaluate` is a pure function of the rules, capability, path and
   * mode, and a rule set is never changed (a policy change builds new principals), so a hot
   * path is matched once instead of on every request (twice per secret read: the route and
   * the vault authorize).
   */
  const decisions = new WeakMap<readonly PolicyRule[], Map<string, boolean>>();
  /** Tokens that authenticated, by hash, valid while the access epoch is (see `tokenCache`). */
  const tokens = tokenCache(TOKEN_CACHE_SIZE);
  let totpKey: Uint8Array | undefined;
  let dummyHash: Promise<string> | undefined;

  const now = (): Date => clock.now();
  const iso = (d: Date = now()): string => d.toISOString();

  async function deny(ctx: RequestContext, action: string, code: ErrorCode, detail: string, path?: string) {
    try {
      // A denied path is whatever the caller sent, maybe a key pasted where a name goes.
      const shown = path === undefined ? undefined : maskKeys(path);
      await audit.record(ctx, { action, path: shown, result: "denied", detail: `${code} ${detail}`.trim() });
    } catch (e) {
      deps.logger?.error({ err: e, action }, "could not record a denial in the audit log");
    }
  }

  /**
   * Requires `policy` to be among `allowed` (what an identity holds, what a creator or parent
   * has): else audits the denial (`action`, `why`, the policy's path) and throws
   * KW_ERR_ACCESS_DENIED, `actor` may not `capability` it.
   */
  async function requirePolicy(
    ctx: RequestContext,
    policy: string,
    allowed: ReadonlySet<string>,
    refusal: { action: string; why: string; actor: string; capability: string },
  ): Promise<void> {
    if (allowed.has(policy)) return;
    const path = SYS.policy(policy);
    await deny(ctx, refusal.action, "KW_ERR_ACCESS_DENIED", refusal.why, path);
    throw new KeywardenError("KW_ERR_ACCESS_DENIED", {
      actor: refusal.actor,
      capability: refusal.capability,
      path,
    });
  }

  /** Revokes a token and its children at once, audited; returns how many were in force. */
  function revokeTree(ctx: RequestContext, tokenId: string, how: string): Promise<number> {
    const t = iso();
    return db.transaction().execute(async (trx) => {
      const n = await revokeTokenTree(trx, tokenId, t);
      await audit.append(trx, ctx, {
        action: "access.token.revoke",
        path: SYS.token(tokenId),
        result: "ok",
        detail: `${n} ${how}`,
      });
      return n;
    });
  }

  async function fail(
    ctx: RequestContext,
    action: string,
    code: ErrorCode,
    params: Record<string, string | number>,
    detail = "",
  ): Promise<never> {
    await deny(ctx, action, code, detail);
    throw new KeywardenError(code, params);
  }

  async function principalFor(
    identity: { id: string; name: string; kind: string },
    scope: readonly string[] | undefined,
    extra: { tokenId?: string; expiresAt?: string },
    prefetched?: readonly PolicyRow[],
  ): Promise<Principal> {
    const held = prefetched ?? (await policiesOfIdentity(db, identity.id));
    // A token never has more than its scope, and loses a policy at once when the identity does.
    const wanted = scope === undefined ? undefined : new Set(scope);
    const inForce = held.filter((p) => wanted === undefined || wanted.has(p.name));
    const principal: Principal = Object.freeze({
      id: identity.id,
      kind: identity.kind === "user" ? "user" : "machine",
      name: identity.name,
      tokenId: extra.tokenId,
      policies: Object.freeze(inForce.map((p) => p.name)),
      expiresAt: extra.expiresAt,
    });
    rulesOf.set(principal, Object.freeze(inForce.flatMap((p) => parsedRules(p.rules))));
    return principal;
  }

  /**
   * A policy's rules parsed from its stored text, memoised by that text: every request
   * re-reads the policy rows (so a change is in force at once), but parses a text only once.
   */
  function parsedRules(text: string): readonly PolicyRule[] {
    let rules = parsedPolicies.get(text);
    if (rules === undefined) {
      rules = Object.freeze(parseRules(JSON.parse(text)));
      if (parsedPolicies.size >= 1000) parsedPolicies.clear();
      parsedPolicies.set(text, rules);
    }
    return rules;
  }

  async function rulesFor(principal: Principal): Promise<readonly PolicyRule[]> {
    const known = rulesOf.get(principal);
    if (known !== undefined) return known;
    // A principal built elsewhere: trust only its policy names, and only those its identity holds now.
    const held = new Set((await policiesOfIdentity(db, principal.id)).map((p) => p.name));
    const rows = await findPoliciesByName(
      db,
      principal.policies.filter((n) => held.has(n)),
    );
    const rules = rows.flatMap((p) => toPolicy(p).rules);
    rulesOf.set(principal, rules);
    return rules;
  }

  async function decide(principal: Principal, capability: Capability, path: string, mode: MatchMode) {
    const rules = await rulesFor(principal);
    let memo = decisions.get(rules);
    if (memo === undefined) {
      memo = new Map();
      decisions.set(rules, memo);
    }
    const key = `${mode} ${capability} ${path}`;
    let allowed = memo.get(key);
    if (allowed === undefined) {
      allowed = evaluate(rules, capability, path, mode);
      // Bounded: paths come from requests.
      if (memo.size >= DECISIONS_PER_RULE_SET) memo.clear();
      memo.set(key, allowed);
    }
    return allowed;
  }

  async function requireCap(
    ctx: RequestContext,
    principal: Principal,
    capability: Capability,
    path: string,
  ): Promise<void> {
    if (await decide(principal, capability, path, "exact")) return;
    await deny(ctx, `access.${capability}`, "KW_ERR_ACCESS_DENIED", "", path);
    throw new KeywardenError("KW_ERR_ACCESS_DENIED", {
      actor: principal.id,
      capability,
      path: maskKeys(path),
    });
  }

  async function requireAdmin(ctx: RequestContext, by: Actor, path: string): Promise<void> {
    if (by !== "operator") await requireCap(ctx, by, "admin", path);
  }

  /** A principal hands out only policies it holds itself (the operator is not limited). */
  async function requireHeld(
    ctx: RequestContext,
    by: Actor,
    policies: readonly string[],
    action: string,
  ): Promise<void> {
    if (by === "operator") return;
    const own = new Set(by.policies);
    const missing = policies.find((p) => !own.has(p));
    if (missing === undefined) return;
    await deny(ctx, action, "KW_ERR_ACCESS_DENIED", "beyond the actor's own policies", SYS.policy(missing));
    throw new KeywardenError("KW_ERR_ACCESS_DENIED", {
      actor: by.id,
      capability: "grant",
      path: SYS.policy(missing),
    });
  }

  function actorId(ctx: RequestContext, by: Actor): string {
    return by === "operator" ? ctx.actor : by.id;
  }

  async function identityOrThrow(name: string): Promise<IdentityRow> {
    const row = await findIdentityByName(db, name);
    if (row === undefined) throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "identity", name });
    return row;
  }

  /** A role binding's two ends, after checking `by` administers both. */
  async function bindingTarget(
    ctx: RequestContext,
    by: Actor,
    role: string,
    identity: string,
  ): Promise<{ r: { id: string }; i: IdentityRow }> {
    await requireAdmin(ctx, by, SYS.role(role));
    await requireAdmin(ctx, by, SYS.identity(identity));
    const r = await findRoleByName(db, role);
    if (r === undefined) throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "role", name: role });
    return { r, i: await identityOrThrow(identity) };
  }

  async function identityInfo(row: IdentityRow): Promise<IdentityInfo> {
    const cred = row.kind === "user" ? await findCredentials(db, row.id) : undefined;
    return {
      id: row.id,
      name: row.name,
      kind: row.kind === "user" ? "user" : "machine",
      disabled: row.disabled_at !== null,
      disabledAt: row.disabled_at,
      createdAt: row.created_at,
      roles: await rolesOf(db, row.id),
      totp: cred?.totp_sealed !== null && cred?.totp_sealed !== undefined,
    };
  }

  function checkPassword(password: string): void {
    if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD)
      throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
        what: "password",
        reason: `it must be ${MIN_PASSWORD}-${MAX_PASSWORD} characters long`,
      });
  }

  async function key(): Promise<Uint8Array> {
    totpKey ??= await metaKey(db, deps.kms, clock, "totp-key");
    return totpKey;
  }

  async function addIdentity(
    ctx: RequestContext,
    by: Actor,
    kind: "user" | "machine",
    name: string,
    roles: readonly string[],
    password: string | undefined,
  ): Promise<IdentityInfo> {
    checkName(kind === "user" ? "user" : "machine identity", name);
    await requireAdmin(ctx, by, SYS.identity(name));
    if (by !== "operator" && roles.length > 0) {
      const all = await listRoleRows(db);
      for (const r of roles) {
        await requireAdmin(ctx, by, SYS.role(r));
        await requireHeld(ctx, by, all.find((x) => x.name === r)?.policies ?? [], "access.role.bind");
      }
    }
    const passwordHash = password === undefined ? undefined : await hashPassword(password, argon2);
    const row: IdentityRow = {
      id: newId(kind, clock),
      name,
      kind,
      disabled_at: null,
      created_at: iso(),
      created_by: actorId(ctx, by),
    };
    await db.transaction().execute(async (trx) => {
      if (!(await insertIdentityIfAbsent(trx, row)))
        throw new KeywardenError("KW_ERR_ACCESS_EXISTS", { what: "identity", name });
      if (passwordHash !== undefined)
        await upsertCredentials(trx, {
          identity_id: row.id,
          password_hash: passwordHash,
          totp_sealed: null,
          totp_last_step: null,
          updated_at: row.created_at,
        });
      for (const r of roles) {
        const role = await findRoleByName(trx, r);
        if (role === undefined)
          throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "role", name: r });
        await bindRoleRow(trx, role.id, row.id);
      }
      await audit.append(trx, ctx, {
        action: `access.${kind}.add`,
        path: SYS.identity(name),
        result: "ok",
        detail: row.id,
      });
    });
    return identityInfo(row);
  }

  function ttlFor(seconds: number | undefined): number {
    const ttl = seconds ?? config.tokenTtl;
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > config.tokenMaxTtl)
      throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
        what: "token TTL",
        reason: `it must be 60-${config.tokenMaxTtl} seconds (access.tokenMaxTtl)`,
      });
    return ttl;
  }

  function checkAllowIps(list: readonly string[] | undefined): string[] {
    const cidrs = (list ?? []).map(parseCidr);
    if (cidrs.length > MAX_ALLOW_IPS)
      throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
        what: "IP allow-list",
        reason: `at most ${MAX_ALLOW_IPS} entries`,
      });
    return [...new Set(cidrs)];
  }

  function checkDescription(d: string | undefined): string {
    const text = d ?? "";
    if (text.length > MAX_DESCRIPTION || /\p{Cc}/u.test(text))
      throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
        what: "description",
        reason: `at most ${MAX_DESCRIPTION} printable characters`,
      });
    // Descriptions are kept and listed in the clear.
    const key = keyLookalike(text);
    if (key !== undefined)
      throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
        what: "description",
        reason: `it holds what looks like ${key}; a description is kept in the clear`,
      });
    return text;
  }

  async function issue(
    ctx: RequestContext,
    row: Omit<TokenRow, "token_hash">,
    action: string,
    first?: (trx: Executor) => Promise<void>,
  ): Promise<IssuedToken> {
    const raw = formatToken(tokenKind(row.kind));
    const full: TokenRow = { ...row, token_hash: sha256Hex(raw) };
    await db.transaction().execute(async (trx) => {
      await first?.(trx);
      await insertToken(trx, full);
      await audit.append(trx, ctx, {
        action,
        path: SYS.token(row.id),
        result: "ok",
        detail: `${row.identity_id} expires ${row.expires_at}`,
      });
    });
    return { token: new Secret(raw), info: toTokenInfo(full) };
  }

  /**
   * A token an identity gets by logging in itself (a password, an OIDC JWT): made by that
   * identity, no parent, no IP list, `policies` for `minutes`.
   */
  function issueOwn(
    ctx: RequestContext,
    action: string,
    t: {
      identityId: string;
      kind: TokenKind;
      description: string;
      minutes: number;
      policies: readonly string[];
    },
    first?: (trx: Executor) => Promise<void>,
  ): Promise<IssuedToken> {
    const at = now();
    return issue(
      ctx,
      {
        id: newId("token", clock),
        identity_id: t.identityId,
        kind: t.kind,
        description: t.description,
        created_at: iso(at),
        created_by: t.identityId,
        expires_at: iso(new Date(at.getTime() + t.minutes * 60_000)),
        revoked_at: null,
        ip_allow: "[]",
        scope: JSON.stringify([...new Set(t.policies)].sort()),
        parent_id: null,
      },
      action,
      first,
    );
  }

  async function sessionPrincipal(ctx: RequestContext, raw: string, touch: boolean): Promise<Principal> {
    const row = /^[A-Za-z0-9_-]{43}$/.test(raw) ? await findSessionByHash(db, sha256Hex(raw)) : undefined;
    const action = "auth.session";
    if (row === undefined) return fail(ctx, action, "KW_ERR_AUTH_UNKNOWN", {});
    if (row.revoked_at !== null)
      return fail(ctx, action, "KW_ERR_AUTH_EXPIRED", { what: "session", expiresAt: row.revoked_at }, row.id);
    const t = now();
    const idleEnd = new Date(Date.parse(row.last_seen_at) + config.sessionIdleMinutes * 60_000);
    const end = new Date(Math.min(Date.parse(row.expires_at), idleEnd.getTime()));
    if (t.getTime() >= end.getTime())
      return fail(ctx, action, "KW_ERR_AUTH_EXPIRED", { what: "session", expiresAt: iso(end) }, row.id);
    const identity = await db
      .selectFrom("identities")
      .selectAll()
      .where("id", "=", row.identity_id)
      .executeTakeFirstOrThrow();
    if (identity.disabled_at !== null)
      return fail(ctx, action, "KW_ERR_AUTH_DISABLED", { identity: identity.name }, row.id);
    if (touch) await touchSession(db, row.id, iso(t));
    return principalFor(identity, undefined, { expiresAt: row.expires_at });
  }

  /**
   * Counts the attempt and, from the threshold on, locks the account before the password
   * is checked: concurrent guesses cannot all slip in before the first failure is recorded.
   * Returns the lock in force instead when the account is locked.
   */
  async function claimAttempt(identityId: string): Promise<{ lockedUntil?: string }> {
    const t = now();
    return db.transaction().execute(async (trx) => {
      const n = await countLoginAttempt(trx, identityId, iso(t));
      if (n === undefined)
        return { lockedUntil: (await findLoginState(trx, identityId))?.locked_until ?? iso(t) };
      const seconds = lockoutSeconds(n, {
        threshold: config.lockoutThreshold,
        baseSeconds: config.lockoutBaseSeconds,
        maxSeconds: config.lockoutMaxSeconds,
      });
      if (seconds > 0) await lockLogin(trx, identityId, iso(new Date(t.getTime() + seconds * 1000)));
      return {};
    });
  }

  const service: AccessManager = {
    async authenticateToken(ctx, rawToken, ip) {
      const action = "auth.token";
      const raw = rawToken.trim();
      if (raw === "") return fail(ctx, action, "KW_ERR_AUTH_MISSING", {}, `ip=${ip}`);
      const tokenHash = sha256Hex(raw);
      // Only checked tokens are cached, so text whose hash is cached has passed the shape and
      // checksum checks: it skips them (about 0.4 µs of every request). Other text is checked
      // first, as before: a malformed token is refused before any read.
      if (tokens.get(tokenHash) === undefined) {
        if (!TOKEN_SHAPE.test(raw)) return fail(ctx, action, "KW_ERR_AUTH_MALFORMED", {}, `ip=${ip}`);
        if (!isValidToken(raw)) return fail(ctx, action, "KW_ERR_AUTH_CHECKSUM", {}, `ip=${ip}`);
      }
      // The epoch first: a change committed after this read makes the entry cached below stale.
      const epoch = await accessEpoch(db);
      const hit = tokens.get(tokenHash);
      if (
        hit !== undefined &&
        hit.epoch === epoch &&
        hit.expiresMs > now().getTime() &&
        ipAllowed(ip, hit.allowIps)
      )
        return hit.principal;
      // Both queries at once: on PostgreSQL that is one round trip of latency, not two.
      const [row, held] = await Promise.all([
        findTokenByHash(db, tokenHash),
        policiesOfTokenHash(db, tokenHash),
      ]);
      // The lookup is by hash, so its timing says nothing about the token; the comparison
      // below guards against an index that matched on something else.
      if (row === undefined || !timingSafeEqual(Buffer.from(row.token_hash), Buffer.from(tokenHash)))
        return fail(ctx, action, "KW_ERR_AUTH_UNKNOWN", {}, `ip=${ip}`);
      const detail = `${row.id} ip=${ip}`;
      if (row.revoked_at !== null)
        return fail(ctx, action, "KW_ERR_AUTH_REVOKED", { revokedAt: row.revoked_at }, detail);
      if (row.parent_revoked_at !== null)
        return fail(ctx, action, "KW_ERR_AUTH_REVOKED", { revokedAt: row.parent_revoked_at }, detail);
      const t = iso();
      if (row.expires_at <= t)
        return fail(ctx, action, "KW_ERR_AUTH_EXPIRED", { what: "token", expiresAt: row.expires_at }, detail);
      if (row.identity_disabled_at !== null)
        return fail(ctx, action, "KW_ERR_AUTH_DISABLED", { identity: row.identity_name }, detail);
      const allowIps = parseJsonList(row.ip_allow);
      if (!ipAllowed(ip, allowIps)) return fail(ctx, action, "KW_ERR_AUTH_IP_NOT_ALLOWED", { ip }, detail);
      const principal = await principalFor(
        { id: row.identity_id, name: row.identity_name, kind: row.identity_kind },
        parseJsonList(row.scope),
        { tokenId: row.id, expiresAt: row.expires_at },
        held,
      );
      tokens.set(tokenHash, { epoch, principal, expiresMs: Date.parse(row.expires_at), allowIps });
      return principal;
    },

    can(principal, capability, path) {
      return decide(principal, capability, path, "exact");
    },

    canList(principal, prefix) {
      return decide(principal, "list", prefix, "prefix");
    },

    require: requireCap,

    authenticateSession(ctx, rawSessionId, _ip) {
      return sessionPrincipal(ctx, rawSessionId, true);
    },

    async login(ctx, input) {
      const action = "auth.login";
      const password = reveal(input.password);
      const identity = await findIdentityByName(db, input.name);
      const cred = identity?.kind === "user" ? await findCredentials(db, identity.id) : undefined;
      if (identity === undefined || cred === undefined) {
        // Spend the time a real check takes, so that timing does not tell which names exist.
        dummyHash ??= hashPassword("keywarden-dummy-password", argon2);
        await verifyPassword(await dummyHash, password);
        return fail(ctx, action, "KW_ERR_AUTH_BAD_CREDENTIALS", {}, `ip=${input.ip}`);
      }
      const detail = `${identity.id} ip=${input.ip}`;
      const { lockedUntil } = await claimAttempt(identity.id);
      if (lockedUntil !== undefined) {
        // As slow as a real check: a quick refusal would tell that the name exists.
        await verifyPassword(cred.password_hash, password);
        return fail(ctx, action, "KW_ERR_AUTH_LOCKED_OUT", { lockedUntil }, detail);
      }
      let ok = await verifyPassword(cred.password_hash, password);
      let step: number | undefined;
      if (ok && cred.totp_sealed !== null) {
        const secret = openBytes(await key(), cred.totp_sealed, totpAad(identity.id));
        step = verifyTotp(secret, input.totp ?? "", now().getTime(), cred.totp_last_step);
        secret.fill(0);
        ok = step !== undefined && (await advanceTotpStep(db, identity.id, step));
      }
      if (!ok) {
        // Only this column: the count and the lock belong to claimAttempt's locked update.
        await noteLoginFailure(db, identity.id, iso());
        const locked = (await findLoginState(db, identity.id))?.locked_until ?? null;
        return fail(
          ctx,
          action,
          "KW_ERR_AUTH_BAD_CREDENTIALS",
          {},
          locked === null ? detail : `${detail} locked until ${locked}`,
        );
      }
      if (identity.disabled_at !== null)
        return fail(ctx, action, "KW_ERR_AUTH_DISABLED", { identity: identity.name }, detail);
      await db.transaction().execute(async (trx) => {
        await resetLogin(trx, identity.id);
        await audit.append(
          trx,
          { ...ctx, actor: identity.id },
          { action, result: "ok", detail: `ip=${input.ip}` },
        );
      });
      return principalFor(identity, undefined, {});
    },

    createLoginToken(ctx, principal) {
      return issueOwn(ctx, "auth.login.token", {
        identityId: principal.id,
        kind: "usr",
        description: "password login",
        minutes: config.sessionMaxHours * 60,
        policies: principal.policies,
      });
    },

    async createSession(ctx, principal) {
      const raw = randomBytes(SESSION_ID_BYTES).toString("base64url");
      const t = now();
      const row = {
        id: newId("session", clock),
        session_hash: sha256Hex(raw),
        identity_id: principal.id,
        created_at: iso(t),
        last_seen_at: iso(t),
        expires_at: iso(new Date(t.getTime() + config.sessionMaxHours * 3_600_000)),
        revoked_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await insertSession(trx, row);
        await audit.append(trx, ctx, { action: "auth.session.create", result: "ok", detail: row.id });
      });
      const idle = new Date(
        Math.min(t.getTime() + config.sessionIdleMinutes * 60_000, Date.parse(row.expires_at)),
      );
      return { sessionId: new Secret(raw), id: row.id, expiresAt: row.expires_at, idleExpiresAt: iso(idle) };
    },

    async endSession(ctx, rawSessionId) {
      const row = /^[A-Za-z0-9_-]{43}$/.test(rawSessionId)
        ? await findSessionByHash(db, sha256Hex(rawSessionId))
        : undefined;
      if (row === undefined) return;
      await db.transaction().execute(async (trx) => {
        await revokeSession(trx, row.id, iso());
        await audit.append(trx, ctx, { action: "auth.session.end", result: "ok", detail: row.id });
      });
    },

    async addUser(ctx, by, input) {
      const password = reveal(input.password);
      checkPassword(password);
      return addIdentity(ctx, by, "user", input.name, input.roles ?? [], password);
    },

    addMachine(ctx, by, input) {
      return addIdentity(ctx, by, "machine", input.name, input.roles ?? [], undefined);
    },

    async listIdentities(ctx, by, kind) {
      await requireAdmin(ctx, by, "_sys/identities");
      const rows = await listIdentityRows(db, kind);
      const out: IdentityInfo[] = [];
      for (const r of rows) out.push(await identityInfo(r));
      return out;
    },

    async getIdentity(ctx, by, name) {
      if (by === "operator" || by.name !== name) await requireAdmin(ctx, by, SYS.identity(name));
      return identityInfo(await identityOrThrow(name));
    },

    async setDisabled(ctx, by, name, disabled) {
      await requireAdmin(ctx, by, SYS.identity(name));
      const row = await identityOrThrow(name);
      const at = disabled ? iso() : null;
      await db.transaction().execute(async (trx) => {
        await setIdentityDisabled(trx, row.id, at);
        if (at !== null) {
          // Disabling ends everything the identity holds, at once and for good.
          await revokeIdentityTokens(trx, row.id, at);
          await revokeIdentitySessions(trx, row.id, at);
        }
        await audit.append(trx, ctx, {
          action: disabled ? "access.identity.disable" : "access.identity.enable",
          path: SYS.identity(name),
          result: "ok",
          detail: row.id,
        });
      });
      return identityInfo({ ...row, disabled_at: at });
    },

    async setPassword(ctx, by, name, password) {
      const text = reveal(password);
      if (by === "operator" || by.name !== name) await requireAdmin(ctx, by, SYS.identity(name));
      checkPassword(text);
      const row = await identityOrThrow(name);
      if (row.kind !== "user")
        throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
          what: "identity",
          reason: `${name} is not a user`,
        });
      const cred = await findCredentials(db, row.id);
      const passwordHash = await hashPassword(text, argon2);
      const t = iso();
      await db.transaction().execute(async (trx) => {
        await upsertCredentials(trx, {
          identity_id: row.id,
          password_hash: passwordHash,
          totp_sealed: cred?.totp_sealed ?? null,
          totp_last_step: cred?.totp_last_step ?? null,
          updated_at: t,
        });
        await revokeIdentitySessions(trx, row.id, t);
        await saveLoginState(trx, {
          identity_id: row.id,
          failures: 0,
          locked_until: null,
          last_failure_at: null,
        });
        await audit.append(trx, ctx, {
          action: "access.user.password",
          path: SYS.identity(name),
          result: "ok",
          detail: row.id,
        });
      });
    },

    async enrollTotp(ctx, by, name) {
      if (by === "operator" || by.name !== name) await requireAdmin(ctx, by, SYS.identity(name));
      const row = await identityOrThrow(name);
      const cred = await findCredentials(db, row.id);
      if (row.kind !== "user" || cred === undefined)
        throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
          what: "identity",
          reason: `${name} is not a user with a password`,
        });
      const secret = newTotpSecret();
      const sealed = sealBytes(await key(), secret, totpAad(row.id));
      const uri = totpUri(secret, name);
      secret.fill(0);
      await db.transaction().execute(async (trx) => {
        await upsertCredentials(trx, {
          ...cred,
          totp_sealed: sealed,
          totp_last_step: null,
          updated_at: iso(),
        });
        await audit.append(trx, ctx, {
          action: "access.user.totp",
          path: SYS.identity(name),
          result: "ok",
          detail: row.id,
        });
      });
      return { uri: new Secret(uri) };
    },

    async createToken(ctx, by, input) {
      const name = input.identity ?? (by === "operator" ? undefined : by.name);
      if (name === undefined)
        throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
          what: "token",
          reason: "name the identity it acts as",
        });
      if (by === "operator" || by.name !== name) await requireAdmin(ctx, by, SYS.identity(name));
      const creatorToken =
        by === "operator" || by.tokenId === undefined ? undefined : await findTokenById(db, by.tokenId);
      if (creatorToken?.kind === "cld") {
        // A CI job's child token stays a leaf: whatever it made would outlive a revocation of its parent's tree.
        await deny(ctx, "access.token.create", "KW_ERR_ACCESS_DENIED", "a child token may not create tokens");
        throw new KeywardenError("KW_ERR_ACCESS_DENIED", {
          actor: actorId(ctx, by),
          capability: "create a token with",
          path: SYS.token(creatorToken.id),
        });
      }
      const identity = await identityOrThrow(name);
      if (identity.disabled_at !== null)
        throw new KeywardenError("KW_ERR_AUTH_DISABLED", { identity: identity.name });
      const policies = [...new Set(input.policies)].sort();
      const held = new Set((await policiesOfIdentity(db, identity.id)).map((p) => p.name));
      const creator = by === "operator" ? undefined : new Set(by.policies);
      for (const p of policies) {
        // Least privilege: exactly what is asked, and never more than the creator has.
        await requirePolicy(ctx, p, held, {
          action: "access.token.create",
          why: `${identity.name} does not hold ${p}`,
          actor: identity.name,
          capability: "use policy",
        });
        if (creator !== undefined)
          await requirePolicy(ctx, p, creator, {
            action: "access.token.create",
            why: "beyond the creator's own policies",
            actor: actorId(ctx, by),
            capability: "grant",
          });
      }
      const ttl = ttlFor(input.ttlSeconds);
      const t = now();
      let expires = new Date(t.getTime() + ttl * 1000);
      // A token made with a token never outlives it.
      if (by !== "operator" && by.expiresAt !== undefined && Date.parse(by.expiresAt) < expires.getTime())
        expires = new Date(by.expiresAt);
      return issue(
        ctx,
        {
          id: newId("token", clock),
          identity_id: identity.id,
          kind: identity.kind === "user" ? "usr" : "svc",
          description: checkDescription(input.description),
          created_at: iso(t),
          created_by: actorId(ctx, by),
          expires_at: iso(expires),
          revoked_at: null,
          ip_allow: JSON.stringify(checkAllowIps(input.allowIps)),
          scope: JSON.stringify(policies),
          // Made with a token: revoking that token revokes this one too.
          parent_id: creatorToken?.id ?? null,
        },
        "access.token.create",
      );
    },

    async approleLogin(ctx, input) {
      let principal: Principal;
      try {
        // Audited by the token check when refused, as any token.
        principal = await service.authenticateToken(ctx, input.secretId, input.ip);
      } catch (e) {
        if (!isKeywardenError(e) || e.httpStatus !== 401) throw e;
        throw new KeywardenError("KW_ERR_AUTH_APPROLE");
      }
      const as = principalContext(principal, ctx.source, ctx.requestId);
      // A child token makes no child; a user's token is no app's role.
      const why =
        principal.kind !== "machine"
          ? "secret_id is not a machine identity's token"
          : principal.name !== input.role
            ? "role_id is not the token's identity"
            : input.secretId.trim().startsWith("kw_cld_")
              ? "secret_id is a child token"
              : undefined;
      if (why !== undefined) {
        await deny(as, "auth.approle", "KW_ERR_AUTH_APPROLE", why);
        throw new KeywardenError("KW_ERR_AUTH_APPROLE");
      }
      return service.createChildToken(as, principal, {
        ttlMinutes: input.ttlMinutes,
        description: "approle login",
      });
    },

    async issueFederatedToken(ctx, input) {
      const identity = await identityOrThrow(input.identity);
      const as = { ...ctx, actor: identity.id };
      if (identity.kind !== "machine")
        throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
          what: "federated login",
          reason: `${identity.name} is not a machine identity`,
        });
      if (identity.disabled_at !== null)
        throw new KeywardenError("KW_ERR_AUTH_DISABLED", { identity: identity.name });
      const held = new Set((await policiesOfIdentity(db, identity.id)).map((p) => p.name));
      const policies = [...new Set(input.policies)].sort();
      for (const p of policies)
        await requirePolicy(as, p, held, {
          action: "auth.oidc",
          why: `${identity.name} does not hold ${p}`,
          actor: identity.name,
          capability: "use policy",
        });
      const once = input.once;
      return issueOwn(
        as,
        "auth.oidc",
        {
          identityId: identity.id,
          kind: "svc",
          description: checkDescription(input.description),
          minutes: input.ttlMinutes,
          policies,
        },
        once === undefined
          ? undefined
          : async (trx) => {
              if (!(await takeJwt(trx, once.digest, once.expiresAt, iso())))
                throw new KeywardenError("KW_ERR_AUTH_JWT_USED");
            },
      );
    },

    async createChildToken(ctx, parent, input) {
      const parentRow = parent.tokenId === undefined ? undefined : await findTokenById(db, parent.tokenId);
      if (parentRow === undefined || parentRow.kind === "cld") {
        await deny(
          ctx,
          "access.token.child",
          "KW_ERR_ACCESS_DENIED",
          "only a (non-child) token may create a child",
        );
        throw new KeywardenError("KW_ERR_ACCESS_DENIED", {
          actor: parent.id,
          capability: "create a child token of",
          path: parent.tokenId === undefined ? "a session" : SYS.token(parent.tokenId),
        });
      }
      const minutes = input.ttlMinutes;
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > config.childTokenMaxMinutes)
        throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
          what: "child token TTL",
          reason: `it must be 1-${config.childTokenMaxMinutes} minutes (access.childTokenMaxMinutes)`,
        });
      const inForce = new Set(parent.policies);
      const policies = [...new Set(input.policies ?? parent.policies)].sort();
      for (const p of policies)
        await requirePolicy(ctx, p, inForce, {
          action: "access.token.child",
          why: "beyond the parent's policies",
          actor: parent.id,
          capability: "grant",
        });
      const parentIps = parseJsonList(parentRow.ip_allow);
      const ips = input.allowIps === undefined ? parentIps : checkAllowIps(input.allowIps);
      if (parentIps.length > 0) {
        // Each child entry must lie inside the parent's list: its first and only address, or the network it names.
        for (const c of ips) {
          const [addr = ""] = c.split("/");
          const bits = Number(c.split("/")[1]);
          const parentCovers = parentIps.some((pc) => {
            const pbits = Number(pc.split("/")[1]);
            return pbits <= bits && ipAllowed(addr, [pc]);
          });
          if (!parentCovers)
            throw new KeywardenError("KW_ERR_ACCESS_INVALID", {
              what: "IP allow-list",
              reason: `${c} is outside the parent token's allow-list`,
            });
        }
      }
      const t = now();
      const expires = Math.min(t.getTime() + minutes * 60_000, Date.parse(parentRow.expires_at));
      return issue(
        ctx,
        {
          id: newId("token", clock),
          identity_id: parentRow.identity_id,
          kind: "cld",
          description: checkDescription(input.description),
          created_at: iso(t),
          created_by: parent.id,
          expires_at: iso(new Date(expires)),
          revoked_at: null,
          ip_allow: JSON.stringify(ips),
          scope: JSON.stringify(policies),
          parent_id: parentRow.id,
        },
        "access.token.child",
      );
    },

    async listTokens(ctx, by, options = {}) {
      const name = options.identity;
      let identityId: string | undefined;
      if (name !== undefined) {
        if (by === "operator" || by.name !== name) await requireAdmin(ctx, by, SYS.identity(name));
        identityId = (await identityOrThrow(name)).id;
      } else if (by !== "operator") {
        // Without a name: the caller's own tokens, or every token for an admin of all identities.
        if (!(await decide(by, "admin", "_sys/identities", "exact"))) identityId = by.id;
      }
      const rows = await listTokenRows(db, {
        identityId,
        activeAt: options.active === true ? iso() : undefined,
      });
      return rows.map(toTokenInfo);
    },

    async describeToken(ctx, by, tokenId) {
      const row = await findTokenById(db, tokenId);
      const identity = row === undefined ? undefined : await findIdentityById(db, row.identity_id);
      if (row === undefined || identity === undefined)
        throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "token", name: tokenId });
      if (by !== "operator" && identity.id !== by.id)
        await requireAdmin(ctx, by, SYS.identity(identity.name));
      return { ...toTokenInfo(row), identityName: identity.name };
    },

    async revokeToken(ctx, by, tokenId) {
      const row = await findTokenById(db, tokenId);
      if (row === undefined)
        throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "token", name: tokenId });
      if (by !== "operator" && row.identity_id !== by.id)
        await requireCap(ctx, by, "revoke", SYS.token(tokenId));
      return revokeTree(ctx, tokenId, "revoked");
    },

    async revokeTokenValue(ctx, token) {
      const action = "access.token.revoke";
      const raw = token.reveal().trim();
      if (!TOKEN_SHAPE.test(raw)) return fail(ctx, action, "KW_ERR_AUTH_MALFORMED", {}, "by value");
      if (!isValidToken(raw)) return fail(ctx, action, "KW_ERR_AUTH_CHECKSUM", {}, "by value");
      const row = await findTokenByHash(db, sha256Hex(raw));
      if (row === undefined) return fail(ctx, action, "KW_ERR_AUTH_UNKNOWN", {}, "by value");
      return { id: row.id, revoked: await revokeTree(ctx, row.id, "revoked by value") };
    },

    async putPolicy(ctx, by, name, rules) {
      checkName("policy", name);
      await requireAdmin(ctx, by, SYS.policy(name));
      const parsed = parseRules(rules);
      const t = iso();
      const row = await db.transaction().execute(async (trx) => {
        const stored = await upsertPolicy(trx, {
          id: newId("policy", clock),
          name,
          rules: JSON.stringify(parsed),
          created_at: t,
          updated_at: t,
        });
        await audit.append(trx, ctx, { action: "access.policy.put", path: SYS.policy(name), result: "ok" });
        return stored;
      });
      return toPolicy(row);
    },

    async getPolicy(ctx, by, name) {
      await requireAdmin(ctx, by, SYS.policy(name));
      const row = await findPolicyByName(db, name);
      if (row === undefined) throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "policy", name });
      return toPolicy(row);
    },

    async listPolicies(ctx, by) {
      await requireAdmin(ctx, by, "_sys/policies");
      return (await listPolicyRows(db)).map(toPolicy);
    },

    async deletePolicy(ctx, by, name) {
      await requireAdmin(ctx, by, SYS.policy(name));
      await db.transaction().execute(async (trx) => {
        if (!(await deletePolicyRow(trx, name)))
          throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "policy", name });
        await audit.append(trx, ctx, {
          action: "access.policy.delete",
          path: SYS.policy(name),
          result: "ok",
        });
      });
    },

    async putRole(ctx, by, name, policies) {
      checkName("role", name);
      await requireAdmin(ctx, by, SYS.role(name));
      const unique = [...new Set(policies)].sort();
      await requireHeld(ctx, by, unique, "access.role.put");
      return db.transaction().execute(async (trx) => {
        await insertRoleIfAbsent(trx, { id: newId("role", clock), name, created_at: iso() });
        const role = (await findRoleByName(trx, name))!;
        const rows = await findPoliciesByName(trx, unique);
        const missing = unique.filter((p) => !rows.some((r) => r.name === p));
        if (missing.length > 0)
          throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "policy", name: missing.join(", ") });
        await setRolePolicies(
          trx,
          role.id,
          rows.map((r) => r.id),
        );
        await audit.append(trx, ctx, {
          action: "access.role.put",
          path: SYS.role(name),
          result: "ok",
          detail: unique.join(","),
        });
        return { id: role.id, name, policies: unique, createdAt: role.created_at };
      });
    },

    async listRoles(ctx, by) {
      await requireAdmin(ctx, by, "_sys/roles");
      return (await listRoleRows(db)).map((r) => ({
        id: r.id,
        name: r.name,
        policies: r.policies,
        createdAt: r.created_at,
      }));
    },

    async deleteRole(ctx, by, name) {
      await requireAdmin(ctx, by, SYS.role(name));
      await db.transaction().execute(async (trx) => {
        if (!(await deleteRoleRow(trx, name)))
          throw new KeywardenError("KW_ERR_ACCESS_NOT_FOUND", { what: "role", name });
        await audit.append(trx, ctx, { action: "access.role.delete", path: SYS.role(name), result: "ok" });
      });
    },

    async bindRole(ctx, by, role, identity) {
      const { r, i } = await bindingTarget(ctx, by, role, identity);
      await requireHeld(ctx, by, await policiesOfRole(db, r.id), "access.role.bind");
      await db.transaction().execute(async (trx) => {
        await bindRoleRow(trx, r.id, i.id);
        await audit.append(trx, ctx, {
          action: "access.role.bind",
          path: SYS.identity(identity),
          result: "ok",
          detail: role,
        });
      });
    },

    async unbindRole(ctx, by, role, identity) {
      const { r, i } = await bindingTarget(ctx, by, role, identity);
      await db.transaction().execute(async (trx) => {
        await unbindRoleRow(trx, r.id, i.id);
        await audit.append(trx, ctx, {
          action: "access.role.unbind",
          path: SYS.identity(identity),
          result: "ok",
          detail: role,
        });
      });
    },

    close() {
      totpKey?.fill(0);
      totpKey = undefined;
    },
  };
  return service;
}

/** True when `e` is one of the access service's authentication failures (401). @example if (isAuthError(e)) reply.code(401); */
export function isAuthError(e: unknown): e is KeywardenError {
  return isKeywardenError(e) && e.code.startsWith("KW_ERR_AUTH_");
}
