/**
 * Rows of `sessions` (dashboard logins). A session is found by the SHA-256 of its id; the
 * id itself lives only in the browser's cookie.
 */
import type { Selectable } from "kysely";
import type { SessionsTable } from "../schema.ts";
import type { Executor } from "./executor.ts";

export type SessionRow = Selectable<SessionsTable>;

/** @example await insertSession(db, row); */
export async function insertSession(db: Executor, row: SessionRow): Promise<void> {
  await db.insertInto("sessions").values(row).execute();
}

/** @example const s = await findSessionByHash(db, sha256Hex(cookie)); */
export async function findSessionByHash(db: Executor, hash: string): Promise<SessionRow | undefined> {
  return db.selectFrom("sessions").selectAll().where("session_hash", "=", hash).executeTakeFirst();
}

/** @example await touchSession(db, id, now); */
export async function touchSession(db: Executor, id: string, at: string): Promise<void> {
  await db.updateTable("sessions").set({ last_seen_at: at }).where("id", "=", id).execute();
}

/** @example await revokeSession(db, id, now); */
export async function revokeSession(db: Executor, id: string, at: string): Promise<void> {
  await db
    .updateTable("sessions")
    .set({ revoked_at: at })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .execute();
}

/** Ends every session of an identity (disable, password change). @example await revokeIdentitySessions(db, id, now); */
export async function revokeIdentitySessions(db: Executor, identityId: string, at: string): Promise<void> {
  await db
    .updateTable("sessions")
    .set({ revoked_at: at })
    .where("identity_id", "=", identityId)
    .where("revoked_at", "is", null)
    .execute();
}
