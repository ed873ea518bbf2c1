import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { sql } from "kysely";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { SQLITE_FILE_NAME } from "../../../src/storage/database.ts";
import { GENESIS_HASH, migrateToLatest, migrationNames } from "../../../src/storage/migrations.ts";
import {
  claimAuditSeq,
  insertAuditRow,
  queryAudit,
  readAuditHead,
  setAuditHead,
} from "../../../src/storage/repos/audit-repo.ts";
import {
  advanceSecretVersion,
  findSecretByPath,
  insertSecretIfAbsent,
  listSecrets,
} from "../../../src/storage/repos/secret-repo.ts";
import {
  countDataKeysByKekVersion,
  destroyVersion,
  findByFingerprints,
  findVersion,
  insertVersion,
} from "../../../src/storage/repos/secret-version-repo.ts";
import { findMeta, insertMetaIfAbsent } from "../../../src/storage/repos/vault-meta-repo.ts";
import { DIALECTS, secretRow } from "../../helpers/storage.ts";

const NOW = "2025-03-01T12:00:00.000Z";

for (const d of DIALECTS) {
  describe(`storage on ${d.name}`, () => {
    test("migrations apply once, are idempotent, and run safely from two handles at once", async (t) => {
      const fresh = await d.create(t, { migrate: false });
      const other = await fresh.peer();
      const [a, b] = await Promise.all([
        migrateToLatest(fresh.storage.db, fresh.storage.caps),
        migrateToLatest(other.db, other.caps),
      ]);
      assert.deepEqual([...a.applied, ...b.applied].sort(), migrationNames(fresh.storage.caps));
      assert.deepEqual(a.current, migrationNames(fresh.storage.caps));
      const again = await migrateToLatest(fresh.storage.db, fresh.storage.caps);
      assert.deepEqual(again.applied, []);
      assert.deepEqual(await readAuditHead(fresh.storage.db), { seq: 0, hash: GENESIS_HASH });
    });

    test("a database migrated by a newer Keywarden is refused", async (t) => {
      const { storage } = await d.create(t);
      await storage.db
        .insertInto("kw_migration" as never)
        .values({ name: "9999_future", timestamp: NOW })
        .execute();
      await assert.rejects(migrateToLatest(storage.db, storage.caps), (e) =>
        isKeywardenError(e, "KW_ERR_STORAGE_SCHEMA_NEWER"),
      );
    });

    test("byte strings round-trip exactly, and versions are unique per secret", async (t) => {
      const { storage } = await d.create(t);
      const db = storage.db;
      assert.equal(await insertSecretIfAbsent(db, secretRow("p/e/A")), true);
      const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
      const version = {
        id: "ver_1",
        secret_id: "sec_peA",
        version: 1,
        ciphertext: bytes,
        fingerprint: "ab".repeat(32),
        created_at: NOW,
        created_by: "me",
        restored_from: null,
        destroyed_at: null,
        encoding: null,
      };
      await insertVersion(db, version, { version_id: "ver_1", kek_version: 1, wrapped: bytes.slice(0, 60) });
      const found = await findVersion(db, "sec_peA", 1);
      assert.ok(found);
      assert.ok(found.ciphertext instanceof Uint8Array);
      assert.deepEqual(Array.from(found.ciphertext), Array.from(bytes));
      assert.deepEqual(found.dataKey && Array.from(found.dataKey.wrapped), Array.from(bytes.slice(0, 60)));
      await assert.rejects(
        insertVersion(
          db,
          { ...version, id: "ver_2" },
          { version_id: "ver_2", kek_version: 1, wrapped: bytes },
        ),
      );
      assert.deepEqual(await countDataKeysByKekVersion(db), new Map([[1, 1]]));

      assert.equal(await destroyVersion(db, "ver_1", NOW), true);
      assert.equal(await destroyVersion(db, "ver_1", NOW), false);
      const destroyed = await findVersion(db, "sec_peA", 1);
      assert.equal(destroyed?.ciphertext, null);
      assert.equal(destroyed.dataKey, undefined);
      assert.deepEqual(await findByFingerprints(db, ["ab".repeat(32), "cd".repeat(32)]), [
        { fingerprint: "ab".repeat(32), path: "p/e/A", version: 1 },
      ]);
    });

    test("check-and-set lets exactly one of two concurrent writers advance a version", async (t) => {
      const fresh = await d.create(t);
      const other = await fresh.peer();
      await insertSecretIfAbsent(fresh.storage.db, secretRow("p/e/B"));
      const results = await Promise.all(
        [fresh.storage.db, other.db].map((db) =>
          db.transaction().execute((trx) => advanceSecretVersion(trx, "sec_peB", 0, 1, { updated_at: NOW })),
        ),
      );
      assert.deepEqual(results.sort(), [false, true]);
      assert.equal((await findSecretByPath(fresh.storage.db, "p/e/B"))?.current_version, 1);
      assert.equal(await insertSecretIfAbsent(other.db, secretRow("p/e/B", "sec_other")), false);
    });

    test("concurrent audit appends from two handles get distinct, gapless sequence numbers", async (t) => {
      const fresh = await d.create(t);
      const other = await fresh.peer();
      const append = (db: typeof other.db, i: number) =>
        db.transaction().execute(async (trx) => {
          const { seq, prevHash } = await claimAuditSeq(trx);
          const hash = `h${seq}`;
          await insertAuditRow(trx, {
            seq,
            id: `aud_${i}`,
            at: NOW,
            actor: "a",
            action: "x",
            path: null,
            version: null,
            result: "ok",
            source: "test",
            request_id: "req",
            detail: null,
            prev_hash: prevHash,
            hash,
          });
          await setAuditHead(trx, hash);
        });
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => append(i % 2 === 0 ? fresh.storage.db : other.db, i)),
      );
      const rows = await queryAudit(fresh.storage.db, {});
      assert.deepEqual(
        rows.map((r) => r.seq),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      rows.forEach((r, i) => {
        assert.equal(r.prev_hash, i === 0 ? GENESIS_HASH : `h${i}`);
      });
      assert.deepEqual(await readAuditHead(fresh.storage.db), { seq: 20, hash: "h20" });
    });

    test("prefix listing matches literally, wildcards included", async (t) => {
      const { storage } = await d.create(t);
      for (const p of ["pay_x/prod/A", "payAx/prod/B", "pay%/prod/C", "other/prod/D"]) {
        await insertSecretIfAbsent(storage.db, secretRow(p));
        await advanceSecretVersion(storage.db, `sec_${p.replace(/\W/g, "")}`, 0, 1, { updated_at: NOW });
      }
      assert.deepEqual(
        (await listSecrets(storage.db, { prefix: "pay_" })).map((r) => r.path),
        ["pay_x/prod/A"],
      );
      assert.deepEqual(
        (await listSecrets(storage.db, { prefix: "pay%" })).map((r) => r.path),
        ["pay%/prod/C"],
      );
      assert.equal((await listSecrets(storage.db, {})).length, 4);
    });

    test("vault meta rows are created once", async (t) => {
      const fresh = await d.create(t);
      const other = await fresh.peer();
      const row = (b: number) => ({
        name: "fingerprint-key",
        kek_version: 1,
        wrapped: Uint8Array.of(b),
        created_at: NOW,
      });
      const created = await Promise.all([
        insertMetaIfAbsent(fresh.storage.db, row(1)),
        insertMetaIfAbsent(other.db, row(2)),
      ]);
      assert.deepEqual(created.sort(), [false, true]);
      const stored = await findMeta(other.db, "fingerprint-key");
      assert.equal(stored?.wrapped.length, 1);
    });
  });
}

if (DIALECTS.some((d) => d.name === "sqlite")) {
  test("the embedded database is 0600 in a 0700 home, in WAL mode with foreign keys on", async (t) => {
    const sqlite = DIALECTS.find((d) => d.name === "sqlite")!;
    const { storage, home } = await sqlite.create(t);
    assert.equal(statSync(home).mode & 0o777, 0o700);
    await insertSecretIfAbsent(storage.db, secretRow("p/e/W"));
    for (const f of [SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}-wal`, `${SQLITE_FILE_NAME}-shm`]) {
      assert.equal(statSync(join(home, f)).mode & 0o777, 0o600, f);
    }
    const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(storage.db);
    assert.equal(mode.rows[0]?.journal_mode, "wal");
    const fk = await sql<{ foreign_keys: number }>`PRAGMA foreign_keys`.execute(storage.db);
    assert.equal(fk.rows[0]?.foreign_keys, 1);
    await assert.rejects(
      insertVersion(
        storage.db,
        {
          id: "ver_x",
          secret_id: "sec_missing",
          version: 1,
          ciphertext: null,
          fingerprint: "",
          created_at: NOW,
          created_by: "me",
          restored_from: null,
          destroyed_at: null,
          encoding: null,
        },
        { version_id: "ver_x", kek_version: 1, wrapped: Uint8Array.of(1) },
      ),
    );
  });
}
