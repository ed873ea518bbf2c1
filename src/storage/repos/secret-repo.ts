/**
 * Rows of `secrets`: a path and its metadata. Versions are in secret-version-repo.ts.
 */
import { CompiledQuery, sql, type Selectable, type Updateable } from "kysely";
import type { SecretsTable } from "../schema.ts";
import { onPostgres, type Executor } from "./executor.ts";
import { prepared } from "./prepared.ts";

export type SecretRow = Selectable<SecretsTable>;
export type SecretPatch = Updateable<SecretsTable>;

/**
 * @example
 *   const row = await findSecretByPath(db, "payments/prod/STRIPE_KEY");
 */
export async function findSecretByPath(db: Executor, path: string): Promise<SecretRow | undefined> {
  return (await secretByPath(db, path))[0];
}

/** Every secret read runs this: compiled once (prepared.ts). */
const secretByPath = prepared((db, path: string) =>
  db.selectFrom("secrets").selectAll().where("path", "=", path),
);

/**
 * The row of a secret not yet written: no version, no metadata, never read.
 *
 * @example
 *   await insertSecretIfAbsent(trx, freshSecretRow("sec_01...", parseSecretPath(path), now));
 */
export function freshSecretRow(
  id: string,
  p: { readonly path: string; readonly project: string; readonly environment: string; readonly name: string },
  at: string,
): SecretRow {
  return {
    id,
    path: p.path,
    project: p.project,
    environment: p.environment,
    name: p.name,
    current_version: 0,
    deleted_at: null,
    provider: null,
    kind: null,
    owner: null,
    consumers: "[]",
    tags: "[]",
    expires_at: null,
    max_age_seconds: null,
    created_at: at,
    updated_at: at,
    last_read_at: null,
  };
}

/**
 * Inserts a new secret unless its path exists; true when this call created it.
 *
 * @example
 *   if (!(await insertSecretIfAbsent(db, row))) retry();
 */
export async function insertSecretIfAbsent(db: Executor, row: SecretRow): Promise<boolean> {
  const r = await db
    .insertInto("secrets")
    .values(row)
    .onConflict((oc) => oc.column("path").doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/**
 * Moves `current_version` from `expected` to `next` only if nobody else moved it: the
 * check-and-set every write goes through. False on a conflict.
 *
 * @example
 *   if (!(await advanceSecretVersion(db, id, 3, 4, { updated_at }))) throw conflict;
 */
export async function advanceSecretVersion(
  db: Executor,
  id: string,
  expected: number,
  next: number,
  patch: SecretPatch,
): Promise<boolean> {
  const r = await db
    .updateTable("secrets")
    .set({ ...patch, current_version: next })
    .where("id", "=", id)
    .where("current_version", "=", expected)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** @example await updateSecret(db, id, { owner: "team-payments", updated_at }); */
export async function updateSecret(db: Executor, id: string, patch: SecretPatch): Promise<void> {
  await db.updateTable("secrets").set(patch).where("id", "=", id).execute();
}

/**
 * SQLite's `last_read_at` touch, ids as one JSON array parameter: the same statement text for
 * any number of ids (also a step of the audit group script, audit-repo.ts).
 */
export const TOUCH_SQLITE =
  "update secrets set last_read_at = ? where id in (select value from json_each(?))";

/**
 * Sets `last_read_at` of several secrets at once (a group of audited reads).
 *
 * @example
 *   await touchSecrets(trx, ["sec_01...", "sec_02..."], now);
 */
export async function touchSecrets(db: Executor, ids: readonly string[], at: string): Promise<void> {
  if (ids.length === 0) return;
  // One JSON parameter: the same statement text for any number of ids.
  const json = JSON.stringify([...new Set(ids)]);
  if (onPostgres(db))
    await sql`update secrets set last_read_at = ${at} where id in (select jsonb_array_elements_text(${json}::jsonb))`.execute(
      db,
    );
  else await db.executeQuery(CompiledQuery.raw(TOUCH_SQLITE, [at, json]));
}

/**
 * Secrets whose path starts with `prefix`, in path order.
 *
 * @example
 *   await listSecrets(db, { prefix: "payments/", includeDeleted: false });
 */
export async function listSecrets(
  db: Executor,
  options: { prefix?: string; includeDeleted?: boolean },
): Promise<(SecretRow & { value_created_at: string | null })[]> {
  let q = db
    .selectFrom("secrets")
    .leftJoin("secret_versions as v", (j) =>
      j.onRef("v.secret_id", "=", "secrets.id").onRef("v.version", "=", "secrets.current_version"),
    )
    .selectAll("secrets")
    .select("v.created_at as value_created_at")
    .where("current_version", ">", 0);
  const prefix = options.prefix ?? "";
  // substr rather than LIKE: no wildcard escaping, whose default differs between engines.
  if (prefix !== "")
    q = q.where(sql<boolean>`substr(secrets.path, 1, ${Array.from(prefix).length}) = ${prefix}`);
  if (options.includeDeleted !== true) q = q.where("secrets.deleted_at", "is", null);
  return (await q.orderBy("secrets.path").execute()).filter((r) => r.path.startsWith(prefix));
}

/**
 * The live secrets of one environment (`project/environment`), in name order.
 *
 * @example
 *   await listEnvironment(db, "payments", "prod");
 */
export async function listEnvironment(
  db: Executor,
  project: string,
  environment: string,
): Promise<SecretRow[]> {
  return db
    .selectFrom("secrets")
    .selectAll()
    .where("project", "=", project)
    .where("environment", "=", environment)
    .where("deleted_at", "is", null)
    .where("current_version", ">", 0)
    .orderBy("name")
    .execute();
}

/** How many live secrets one environment holds. */
export interface EnvironmentCount {
  readonly project: string;
  readonly environment: string;
  readonly count: number;
}

/**
 * Live secrets per `project/environment` (of one project, or all), in name order.
 *
 * @example
 *   await countByEnvironment(db, "payments"); // [{ project: "payments", environment: "prod", count: 4 }]
 */
export async function countByEnvironment(db: Executor, project?: string): Promise<EnvironmentCount[]> {
  let q = db
    .selectFrom("secrets")
    .select(["project", "environment", (eb) => eb.fn.countAll<number | string | bigint>().as("n")])
    .where("deleted_at", "is", null)
    .where("current_version", ">", 0);
  if (project !== undefined) q = q.where("project", "=", project);
  const rows = await q.groupBy(["project", "environment"]).execute();
  const key = (r: { project: string; environment: string }): string => `${r.project}/${r.environment}`;
  // Sorted here: the engines' collations order text differently. pg returns a bigint count as text.
  return rows
    .map((r) => ({ project: r.project, environment: r.environment, count: Number(r.n) }))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
