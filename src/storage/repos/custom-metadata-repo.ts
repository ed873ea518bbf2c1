/**
 * Rows of `secret_custom_metadata`: a path's Vault KV custom metadata, a JSON object of
 * strings (migration 0007).
 */
import { sql } from "kysely";
import type { Executor } from "./executor.ts";

/**
 * A path's custom metadata row: its JSON and when it was last set.
 *
 * @example
 *   const row = await findCustomMetadata(db, "payments/prod/STRIPE_KEY"); // { data: '{"team":"a"}', updated_at }
 */
export async function findCustomMetadata(
  db: Executor,
  path: string,
): Promise<{ data: string; updated_at: string } | undefined> {
  return db
    .selectFrom("secret_custom_metadata")
    .select(["data", "updated_at"])
    .where("path", "=", path)
    .executeTakeFirst();
}

/**
 * Sets a path's custom metadata (its JSON), or removes it when `data` is undefined.
 *
 * @example
 *   await putCustomMetadata(trx, "payments/prod/STRIPE_KEY", '{"managed-by":"external-secrets"}', now);
 */
export async function putCustomMetadata(
  db: Executor,
  path: string,
  data: string | undefined,
  at: string,
): Promise<void> {
  if (data === undefined) {
    await db.deleteFrom("secret_custom_metadata").where("path", "=", path).execute();
    return;
  }
  await db
    .insertInto("secret_custom_metadata")
    .values({ path, data, updated_at: at })
    .onConflict((oc) => oc.column("path").doUpdateSet({ data, updated_at: at }))
    .execute();
}

/**
 * The paths under `prefix` that hold custom metadata, in order (a path may hold it before or
 * without a secret).
 *
 * @example
 *   await listCustomMetadataPaths(db, "payments/prod/");
 */
export async function listCustomMetadataPaths(db: Executor, prefix: string): Promise<string[]> {
  let q = db.selectFrom("secret_custom_metadata").select("path");
  // substr rather than LIKE, as listSecrets: no wildcard escaping.
  if (prefix !== "") q = q.where(sql<boolean>`substr(path, 1, ${Array.from(prefix).length}) = ${prefix}`);
  return (await q.orderBy("path").execute()).map((r) => r.path).filter((p) => p.startsWith(prefix));
}
