/**
 * Rows of `policies`, `roles`, `role_policies` and `role_bindings`, and the one query
 * authorization needs: the policies an identity holds through its roles.
 */
import type { Selectable } from "kysely";
import type { PoliciesTable, RolesTable } from "../schema.ts";
import type { Executor } from "./executor.ts";
import { prepared } from "./prepared.ts";

export type PolicyRow = Selectable<PoliciesTable>;
export type RoleRow = Selectable<RolesTable>;

/**
 * Inserts a policy, or replaces the rules of the one with that name; returns the stored row.
 *
 * @example
 *   await upsertPolicy(db, { id, name: "payments-read", rules: "[...]", created_at: now, updated_at: now });
 */
export async function upsertPolicy(db: Executor, row: PolicyRow): Promise<PolicyRow> {
  await db
    .insertInto("policies")
    .values(row)
    .onConflict((oc) => oc.column("name").doUpdateSet({ rules: row.rules, updated_at: row.updated_at }))
    .execute();
  return db.selectFrom("policies").selectAll().where("name", "=", row.name).executeTakeFirstOrThrow();
}

/** @example await findPolicyByName(db, "payments-read"); */
export async function findPolicyByName(db: Executor, name: string): Promise<PolicyRow | undefined> {
  return db.selectFrom("policies").selectAll().where("name", "=", name).executeTakeFirst();
}

/** @example await findPoliciesByName(db, ["a", "b"]); */
export async function findPoliciesByName(db: Executor, names: readonly string[]): Promise<PolicyRow[]> {
  if (names.length === 0) return [];
  return db
    .selectFrom("policies")
    .selectAll()
    .where("name", "in", [...names])
    .orderBy("name")
    .execute();
}

/** @example await listPolicies(db); */
export async function listPolicies(db: Executor): Promise<PolicyRow[]> {
  return db.selectFrom("policies").selectAll().orderBy("name").execute();
}

/** Deletes a policy and its place in roles; false when there was none. @example await deletePolicy(db, "old"); */
export async function deletePolicy(db: Executor, name: string): Promise<boolean> {
  const row = await findPolicyByName(db, name);
  if (row === undefined) return false;
  await db.deleteFrom("role_policies").where("policy_id", "=", row.id).execute();
  await db.deleteFrom("policies").where("id", "=", row.id).execute();
  return true;
}

/**
 * Inserts unless the name exists; true when this call created it.
 *
 * @example
 *   await insertRoleIfAbsent(db, { id, name: "payments-ci", created_at: now });
 */
export async function insertRoleIfAbsent(db: Executor, row: RoleRow): Promise<boolean> {
  const r = await db
    .insertInto("roles")
    .values(row)
    .onConflict((oc) => oc.column("name").doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** @example await findRoleByName(db, "payments-ci"); */
export async function findRoleByName(db: Executor, name: string): Promise<RoleRow | undefined> {
  return db.selectFrom("roles").selectAll().where("name", "=", name).executeTakeFirst();
}

/** The policy names of one role, in name order. @example await policiesOfRole(db, role.id); */
export async function policiesOfRole(db: Executor, roleId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("role_policies")
    .innerJoin("policies", "policies.id", "role_policies.policy_id")
    .select("policies.name")
    .where("role_policies.role_id", "=", roleId)
    .orderBy("policies.name")
    .execute();
  return rows.map((r) => r.name);
}

/** Roles with their policy names, in name order. @example await listRoles(db); */
export async function listRoles(db: Executor): Promise<(RoleRow & { policies: string[] })[]> {
  const roles = await db.selectFrom("roles").selectAll().orderBy("name").execute();
  const links = await db
    .selectFrom("role_policies")
    .innerJoin("policies", "policies.id", "role_policies.policy_id")
    .select(["role_policies.role_id", "policies.name"])
    .orderBy("policies.name")
    .execute();
  return roles.map((r) => ({
    ...r,
    policies: links.filter((l) => l.role_id === r.id).map((l) => l.name),
  }));
}

/** Replaces a role's policies. @example await setRolePolicies(trx, roleId, [policyId]); */
export async function setRolePolicies(
  db: Executor,
  roleId: string,
  policyIds: readonly string[],
): Promise<void> {
  await db.deleteFrom("role_policies").where("role_id", "=", roleId).execute();
  if (policyIds.length > 0)
    await db
      .insertInto("role_policies")
      .values(policyIds.map((policy_id) => ({ role_id: roleId, policy_id })))
      .execute();
}

/** Deletes a role and its bindings; false when there was none. @example await deleteRole(db, "old"); */
export async function deleteRole(db: Executor, name: string): Promise<boolean> {
  const row = await findRoleByName(db, name);
  if (row === undefined) return false;
  await db.deleteFrom("role_bindings").where("role_id", "=", row.id).execute();
  await db.deleteFrom("role_policies").where("role_id", "=", row.id).execute();
  await db.deleteFrom("roles").where("id", "=", row.id).execute();
  return true;
}

/** @example await bindRole(db, roleId, identityId); */
export async function bindRole(db: Executor, roleId: string, identityId: string): Promise<void> {
  await db
    .insertInto("role_bindings")
    .values({ role_id: roleId, identity_id: identityId })
    .onConflict((oc) => oc.columns(["role_id", "identity_id"]).doNothing())
    .execute();
}

/** @example await unbindRole(db, roleId, identityId); */
export async function unbindRole(db: Executor, roleId: string, identityId: string): Promise<void> {
  await db
    .deleteFrom("role_bindings")
    .where("role_id", "=", roleId)
    .where("identity_id", "=", identityId)
    .execute();
}

/** Names of the roles bound to an identity. @example await rolesOf(db, identityId); */
export async function rolesOf(db: Executor, identityId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("role_bindings")
    .innerJoin("roles", "roles.id", "role_bindings.role_id")
    .select("roles.name")
    .where("role_bindings.identity_id", "=", identityId)
    .orderBy("roles.name")
    .execute();
  return rows.map((r) => r.name);
}

/**
 * The policies an identity holds through its roles (each once, in name order).
 *
 * @example
 *   const held = await policiesOfIdentity(db, identityId);
 */
export async function policiesOfIdentity(db: Executor, identityId: string): Promise<PolicyRow[]> {
  return db
    .selectFrom("policies")
    .selectAll()
    .where("id", "in", (eb) =>
      eb
        .selectFrom("role_policies")
        .innerJoin("role_bindings", "role_bindings.role_id", "role_policies.role_id")
        .select("role_policies.policy_id")
        .where("role_bindings.identity_id", "=", identityId),
    )
    .orderBy("name")
    .execute();
}

/**
 * The policies held (through roles) by the identity of the token whose hash is `tokenHash`:
 * what authentication needs, asked at the same time as the token itself.
 *
 * @example
 *   const [token, held] = await Promise.all([findTokenByHash(db, h), policiesOfTokenHash(db, h)]);
 */
export async function policiesOfTokenHash(db: Executor, tokenHash: string): Promise<PolicyRow[]> {
  return policiesByTokenHash(db, tokenHash);
}

/** Every authenticated request runs this: compiled once (prepared.ts). */
const policiesByTokenHash = prepared((db, tokenHash: string) =>
  db
    .selectFrom("policies")
    .selectAll()
    .where("id", "in", (eb) =>
      eb
        .selectFrom("role_policies")
        .innerJoin("role_bindings", "role_bindings.role_id", "role_policies.role_id")
        .innerJoin("tokens", "tokens.identity_id", "role_bindings.identity_id")
        .select("role_policies.policy_id")
        .where("tokens.token_hash", "=", tokenHash),
    )
    .orderBy("name"),
);
