/**
 * Rows of `identities` (users and machine identities), `user_credentials` and
 * `login_state` (failed logins and lockout).
 */
import { sql, type Selectable } from "kysely";
import type { IdentitiesTable, LoginStateTable, UserCredentialsTable } from "../schema.ts";
import { toBytes, type Executor } from "./executor.ts";

export type IdentityRow = Selectable<IdentitiesTable>;
export type CredentialRow = Selectable<UserCredentialsTable>;
export type LoginStateRow = Selectable<LoginStateTable>;

/**
 * Inserts unless the name exists; true when this call created it.
 *
 * @example
 *   if (!(await insertIdentityIfAbsent(db, row))) throw exists;
 */
export async function insertIdentityIfAbsent(db: Executor, row: IdentityRow): Promise<boolean> {
  const r = await db
    .insertInto("identities")
    .values(row)
    .onConflict((oc) => oc.column("name").doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** @example await findIdentityByName(db, "alice"); */
export async function findIdentityByName(db: Executor, name: string): Promise<IdentityRow | undefined> {
  return db.selectFrom("identities").selectAll().where("name", "=", name).executeTakeFirst();
}

/** @example await findIdentityById(db, "usr_01..."); */
export async function findIdentityById(db: Executor, id: string): Promise<IdentityRow | undefined> {
  return db.selectFrom("identities").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Identities in name order, optionally of one kind. @example await listIdentities(db, "user"); */
export async function listIdentities(db: Executor, kind?: string): Promise<IdentityRow[]> {
  let q = db.selectFrom("identities").selectAll();
  if (kind !== undefined) q = q.where("kind", "=", kind);
  return q.orderBy("name").execute();
}

/** Sets or clears `disabled_at`. @example await setIdentityDisabled(db, id, now); */
export async function setIdentityDisabled(db: Executor, id: string, at: string | null): Promise<void> {
  await db.updateTable("identities").set({ disabled_at: at }).where("id", "=", id).execute();
}

/** Inserts or replaces a user's credentials. @example await upsertCredentials(db, row); */
export async function upsertCredentials(db: Executor, row: CredentialRow): Promise<void> {
  await db
    .insertInto("user_credentials")
    .values(row)
    .onConflict((oc) =>
      oc.column("identity_id").doUpdateSet({
        password_hash: row.password_hash,
        totp_sealed: row.totp_sealed,
        totp_last_step: row.totp_last_step,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

/** @example const cred = await findCredentials(db, identityId); */
export async function findCredentials(db: Executor, identityId: string): Promise<CredentialRow | undefined> {
  const row = await db
    .selectFrom("user_credentials")
    .selectAll()
    .where("identity_id", "=", identityId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return { ...row, totp_sealed: row.totp_sealed === null ? null : toBytes(row.totp_sealed) };
}

/**
 * Moves `totp_last_step` forward only if no concurrent login used that step already; false
 * when the step was taken (a replayed code).
 *
 * @example
 *   if (!(await advanceTotpStep(db, id, step))) reject();
 */
export async function advanceTotpStep(db: Executor, identityId: string, step: number): Promise<boolean> {
  const r = await db
    .updateTable("user_credentials")
    .set({ totp_last_step: step })
    .where("identity_id", "=", identityId)
    .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** @example const state = await findLoginState(db, identityId); */
export async function findLoginState(db: Executor, identityId: string): Promise<LoginStateRow | undefined> {
  return db.selectFrom("login_state").selectAll().where("identity_id", "=", identityId).executeTakeFirst();
}

/** @example await saveLoginState(db, { identity_id, failures: 0, locked_until: null, last_failure_at: null }); */
export async function saveLoginState(db: Executor, row: LoginStateRow): Promise<void> {
  await db
    .insertInto("login_state")
    .values(row)
    .onConflict((oc) =>
      oc.column("identity_id").doUpdateSet({
        failures: row.failures,
        locked_until: row.locked_until,
        last_failure_at: row.last_failure_at,
      }),
    )
    .execute();
}

/**
 * Counts a login attempt before its password is checked, unless the account is locked at
 * `now`: returns the new count of attempts in a row, or undefined when locked. The update
 * holds the row until the caller's transaction ends (PostgreSQL row lock, SQLite's write
 * lock), so concurrent attempts are counted one after another and see each other's lock.
 *
 * @example
 *   const n = await countLoginAttempt(trx, identityId, now);
 */
export async function countLoginAttempt(
  db: Executor,
  identityId: string,
  now: string,
): Promise<number | undefined> {
  await db
    .insertInto("login_state")
    .values({ identity_id: identityId, failures: 0, locked_until: null, last_failure_at: null })
    .onConflict((oc) => oc.column("identity_id").doNothing())
    .execute();
  const row = await db
    .updateTable("login_state")
    .set({ failures: sql<number>`failures + 1` })
    .where("identity_id", "=", identityId)
    .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<=", now)]))
    .returning("failures")
    .executeTakeFirst();
  return row?.failures;
}

/** @example await lockLogin(trx, identityId, "2025-03-01T12:00:30.000Z"); */
export async function lockLogin(db: Executor, identityId: string, until: string): Promise<void> {
  await db
    .updateTable("login_state")
    .set({ locked_until: until })
    .where("identity_id", "=", identityId)
    .execute();
}

/** Records when the last counted attempt failed. @example await noteLoginFailure(db, identityId, now); */
export async function noteLoginFailure(db: Executor, identityId: string, at: string): Promise<void> {
  await db
    .updateTable("login_state")
    .set({ last_failure_at: at })
    .where("identity_id", "=", identityId)
    .execute();
}

/** Clears the count and any lock after a successful login. @example await resetLogin(trx, identityId); */
export async function resetLogin(db: Executor, identityId: string): Promise<void> {
  await db
    .updateTable("login_state")
    .set({ failures: 0, locked_until: null })
    .where("identity_id", "=", identityId)
    .execute();
}
