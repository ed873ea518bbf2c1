/**
 * Rows of `tokens`. A token is found by the SHA-256 of its text; the text itself is never
 * stored.
 */
import type { Selectable } from "kysely";
import type { TokensTable } from "../schema.ts";
import type { Executor } from "./executor.ts";
import { prepared } from "./prepared.ts";

export type TokenRow = Selectable<TokensTable>;

/** A token with what authentication needs of its identity and parent, in one query. */
export interface TokenLookup extends TokenRow {
  readonly identity_name: string;
  readonly identity_kind: string;
  readonly identity_disabled_at: string | null;
  readonly parent_revoked_at: string | null;
  readonly parent_expires_at: string | null;
}

/** @example await insertToken(db, row); */
export async function insertToken(db: Executor, row: TokenRow): Promise<void> {
  await db.insertInto("tokens").values(row).execute();
}

/**
 * The token whose hash is `hash`, joined with its identity and parent.
 *
 * @example
 *   const t = await findTokenByHash(db, sha256Hex(raw));
 */
export async function findTokenByHash(db: Executor, hash: string): Promise<TokenLookup | undefined> {
  return (await tokenByHash(db, hash))[0];
}

/** Every authenticated request runs this: compiled once (prepared.ts). */
const tokenByHash = prepared((db, hash: string) =>
  db
    .selectFrom("tokens")
    .innerJoin("identities as i", "i.id", "tokens.identity_id")
    .leftJoin("tokens as p", "p.id", "tokens.parent_id")
    .selectAll("tokens")
    .select([
      "i.name as identity_name",
      "i.kind as identity_kind",
      "i.disabled_at as identity_disabled_at",
      "p.revoked_at as parent_revoked_at",
      "p.expires_at as parent_expires_at",
    ])
    .where("tokens.token_hash", "=", hash),
);

/** @example await findTokenById(db, "tok_01..."); */
export async function findTokenById(db: Executor, id: string): Promise<TokenRow | undefined> {
  return db.selectFrom("tokens").selectAll().where("id", "=", id).executeTakeFirst();
}

/**
 * Tokens, newest first; optionally of one identity, and without revoked or expired ones
 * when `activeAt` is given.
 *
 * @example
 *   await listTokens(db, { identityId, activeAt: now });
 */
export async function listTokens(
  db: Executor,
  options: { identityId?: string | undefined; activeAt?: string | undefined } = {},
): Promise<TokenRow[]> {
  let q = db.selectFrom("tokens").selectAll();
  if (options.identityId !== undefined) q = q.where("identity_id", "=", options.identityId);
  if (options.activeAt !== undefined)
    q = q.where("revoked_at", "is", null).where("expires_at", ">", options.activeAt);
  return q.orderBy("created_at", "desc").orderBy("id", "desc").execute();
}

/**
 * Revokes a token and every token descended from it (children, and tokens made with a
 * token), those not revoked yet; returns how many were revoked.
 *
 * @example
 *   await revokeTokenTree(db, "tok_01...", now);
 */
export async function revokeTokenTree(db: Executor, id: string, at: string): Promise<number> {
  const all = [id];
  let frontier = [id];
  // Breadth-first over parent_id; a chain is only as deep as tokens made with tokens.
  while (frontier.length > 0) {
    const rows = await db.selectFrom("tokens").select("id").where("parent_id", "in", frontier).execute();
    frontier = rows.map((r) => r.id).filter((x) => !all.includes(x));
    all.push(...frontier);
  }
  let n = 0;
  for (let i = 0; i < all.length; i += 500) {
    const r = await db
      .updateTable("tokens")
      .set({ revoked_at: at })
      .where("id", "in", all.slice(i, i + 500))
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    n += Number(r.numUpdatedRows);
  }
  return n;
}

/**
 * Revokes every live token of an identity (when it is disabled).
 *
 * @example
 *   await revokeIdentityTokens(db, identityId, now);
 */
export async function revokeIdentityTokens(db: Executor, identityId: string, at: string): Promise<number> {
  const r = await db
    .updateTable("tokens")
    .set({ revoked_at: at })
    .where("identity_id", "=", identityId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/**
 * Records that the JWT with `digest` logged in, unless it already has (then false, having
 * changed nothing); forgets JWTs expired by `now` first. Inside the transaction that issues
 * the token, so that a JWT is taken exactly when its token is made, however many servers
 * race for it.
 *
 * @example
 *   if (!(await takeJwt(trx, digest, expiresAt, now))) throw new KeywardenError("KW_ERR_AUTH_JWT_USED");
 */
export async function takeJwt(
  db: Executor,
  digest: string,
  expiresAt: string,
  now: string,
): Promise<boolean> {
  await db.deleteFrom("oidc_used_jwts").where("expires_at", "<", now).execute();
  const r = await db
    .insertInto("oidc_used_jwts")
    .values({ digest, expires_at: expiresAt })
    .onConflict((c) => c.column("digest").doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}
