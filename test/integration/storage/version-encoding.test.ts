/**
 * Migration 0006: versions of secrets that carried the old Vault-map tag keep the old
 * reading (`kv-map-legacy`); every other version is the string itself (null).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { migrateToLatest, migrateUpTo } from "../../../src/storage/migrations.ts";
import { DIALECTS, secretRow } from "../../helpers/storage.ts";

for (const d of DIALECTS) {
  test(`versions of secrets tagged as Vault maps are marked legacy maps; others stay plain (${d.name})`, async (t) => {
    const { storage } = await d.create(t, { migrate: false });
    const db = storage.db;
    await migrateUpTo(db, storage.caps, "0005_audit_path_index");
    const secrets = [
      { ...secretRow("p/e/MAP", "sec_map"), tags: JSON.stringify(["team", "vault-kv:json"]) },
      { ...secretRow("p/e/PLAIN", "sec_plain"), tags: JSON.stringify(["vault-kv:jsonish"]) },
    ];
    for (const s of secrets) {
      await db
        .insertInto("secrets")
        .values({ ...s, current_version: 1 })
        .execute();
      await db
        .insertInto("secret_versions")
        .values({
          id: `ver_${s.id}`,
          secret_id: s.id,
          version: 1,
          ciphertext: Uint8Array.of(1),
          fingerprint: s.id,
          created_at: "2026-01-01T00:00:00.000Z",
          created_by: "test",
          restored_from: null,
          destroyed_at: null,
        })
        .execute();
    }
    await migrateToLatest(db, storage.caps);
    const rows = await db
      .selectFrom("secret_versions")
      .select(["secret_id", "encoding"])
      .orderBy("secret_id")
      .execute();
    assert.deepEqual(rows, [
      { secret_id: "sec_map", encoding: "kv-map-legacy" },
      { secret_id: "sec_plain", encoding: null },
    ]);
  });
}
