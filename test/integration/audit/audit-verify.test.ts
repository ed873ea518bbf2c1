import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { AUDIT_CHECKPOINT_FILE } from "../../../src/app.ts";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { entryHash } from "../../../src/services/audit/audit-chain.ts";
import type { AuditRow } from "../../../src/storage/repos/audit-repo.ts";
import { DIALECTS, type TestDialect } from "../../helpers/storage.ts";
import { createTestVault, type TestVault } from "../../helpers/vault.ts";

/** A vault whose log holds `n` entries (the unseal is entry 1), all covered by a checkpoint. */
async function chain(t: TestContext, d: TestDialect, n = 10): Promise<TestVault> {
  const v = await createTestVault(t, d);
  for (let i = 2; i <= n; i++) {
    await v.kw.audit.record(v.ctx, {
      action: "secret.read",
      path: `app/prod/K${i}`,
      version: i,
      result: "ok",
    });
  }
  await v.kw.audit.checkpoint();
  return v;
}

async function rows(v: TestVault): Promise<AuditRow[]> {
  return v.kw.storage.db.selectFrom("audit_log").selectAll().orderBy("seq").execute();
}

/** Moves a row to another seq (delete and reinsert, as an attacker with SQL access could). */
async function moveRow(v: TestVault, from: number, to: number): Promise<void> {
  const row = (await rows(v)).find((r) => r.seq === from)!;
  await v.kw.storage.db.deleteFrom("audit_log").where("seq", "=", from).execute();
  await v.kw.storage.db
    .insertInto("audit_log")
    .values({ ...row, seq: to })
    .execute();
}

async function issuesOf(v: TestVault): Promise<[string, number | undefined][]> {
  const report = await v.kw.audit.verify();
  assert.equal(report.ok, report.issues.length === 0);
  return report.issues.map((i) => [i.kind, i.seq]);
}

for (const d of DIALECTS) {
  describe(`audit verify on ${d.name}`, () => {
    test("an intact chain verifies; entries after the checkpoint are reported as unsigned, not as tampering", async (t) => {
      const v = await chain(t, d);
      const report = await v.kw.audit.verify();
      assert.equal(report.ok, true);
      assert.equal(report.entries, 10);
      assert.equal(report.checkpoint?.seq, 10);
      assert.equal(report.unsignedTail, 0);
      await v.kw.audit.record(v.ctx, { action: "secret.read", path: "app/prod/X", result: "ok" });
      const later = await v.kw.audit.verify();
      assert.equal(later.ok, true);
      assert.equal(later.unsignedTail, 1);
    });

    test("a modified entry is named", async (t) => {
      const v = await chain(t, d);
      await v.kw.storage.db
        .updateTable("audit_log")
        .set({ actor: "cli:mallory" })
        .where("seq", "=", 4)
        .execute();
      assert.deepEqual(await issuesOf(v), [["modified", 4]]);
    });

    test("an entry rewritten with a recomputed hash breaks the next link; a rewritten chain fails the signed checkpoint", async (t) => {
      const v = await chain(t, d);
      const all = await rows(v);
      const forged = { ...all[3]!, result: "ok", actor: "cli:mallory" };
      await v.kw.storage.db
        .updateTable("audit_log")
        .set({ actor: forged.actor, hash: entryHash(forged) })
        .where("seq", "=", 4)
        .execute();
      assert.deepEqual(await issuesOf(v), [["modified", 4]]);
      // Rehash every later entry and the head too: only the checkpoint still knows.
      let prev = entryHash(forged);
      for (const r of all.slice(4)) {
        const next = { ...r, prev_hash: prev };
        prev = entryHash(next);
        await v.kw.storage.db
          .updateTable("audit_log")
          .set({ prev_hash: next.prev_hash, hash: prev })
          .where("seq", "=", r.seq)
          .execute();
      }
      await v.kw.storage.db.updateTable("audit_head").set({ hash: prev }).where("id", "=", 1).execute();
      assert.deepEqual(await issuesOf(v), [["modified", 10]]);
    });

    test("a deleted entry is named, whether or not later entries were renumbered", async (t) => {
      const v = await chain(t, d);
      await v.kw.storage.db.deleteFrom("audit_log").where("seq", "=", 5).execute();
      assert.deepEqual(await issuesOf(v), [["deleted", 5]]);
      for (let s = 6; s <= 10; s++) await moveRow(v, s, s - 1);
      const issues = await issuesOf(v);
      assert.deepEqual(issues[0], ["deleted", 5]);
      assert.ok(
        issues.slice(1).every(([kind]) => kind === "truncated"),
        JSON.stringify(issues),
      );
    });

    test("an inserted entry is named, at the end or in the middle", async (t) => {
      const v = await chain(t, d);
      const all = await rows(v);
      const tail = all.at(-1)!;
      const base = { ...tail, id: "aud_forged", actor: "cli:mallory", seq: 11, prev_hash: tail.hash };
      await v.kw.storage.db
        .insertInto("audit_log")
        .values({ ...base, hash: entryHash(base) })
        .execute();
      assert.deepEqual(await issuesOf(v), [["inserted", 11]]);
      await v.kw.storage.db.deleteFrom("audit_log").where("seq", "=", 11).execute();

      for (let s = 10; s >= 5; s--) await moveRow(v, s, s + 1);
      const mid = { ...all[4]!, id: "aud_forged2", actor: "cli:mallory", prev_hash: all[3]!.hash };
      await v.kw.storage.db
        .insertInto("audit_log")
        .values({ ...mid, hash: entryHash(mid) })
        .execute();
      const issues = await issuesOf(v);
      assert.deepEqual(issues[0], ["inserted", 6]);
    });

    test("two swapped entries are reported as reordered", async (t) => {
      const v = await chain(t, d);
      await moveRow(v, 4, 100);
      await moveRow(v, 5, 4);
      await moveRow(v, 100, 5);
      assert.deepEqual(await issuesOf(v), [
        ["reordered", 4],
        ["reordered", 5],
      ]);
    });

    test("a truncated log is caught by the signed checkpoint even when the head row is rolled back", async (t) => {
      const v = await chain(t, d);
      const all = await rows(v);
      await v.kw.storage.db.deleteFrom("audit_log").where("seq", ">", 7).execute();
      assert.deepEqual(await issuesOf(v), [
        ["truncated", 8],
        ["truncated", 8],
      ]);
      await v.kw.storage.db
        .updateTable("audit_head")
        .set({ seq: 7, hash: all[6]!.hash })
        .where("id", "=", 1)
        .execute();
      assert.deepEqual(await issuesOf(v), [["truncated", 8]]);
    });

    test("a modified checkpoint file is reported", async (t) => {
      const v = await chain(t, d);
      const file = join(v.home, AUDIT_CHECKPOINT_FILE);
      const cp = JSON.parse(readFileSync(file, "utf8")) as { seq: number };
      writeFileSync(file, JSON.stringify({ ...cp, seq: 3 }));
      const report = await v.kw.audit.verify();
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.issues.map((i) => i.kind),
        ["checkpoint"],
      );
      assert.match(report.issues[0]!.message, /signature does not verify/);
    });

    test("a checkpoint file that does not verify is kept as evidence, not signed over", async (t) => {
      const v = await chain(t, d);
      const file = join(v.home, AUDIT_CHECKPOINT_FILE);
      // Truncate the tail and spoil the checkpoint that would show it.
      await v.kw.storage.db.deleteFrom("audit_log").where("seq", ">", 7).execute();
      writeFileSync(file, "garbage{");
      await assert.rejects(v.kw.audit.checkpoint(), (e) =>
        isKeywardenError(e, "KW_ERR_AUDIT_CHECKPOINT_INVALID"),
      );
      // Closing (as every command does) warns instead of replacing it.
      await v.kw.close();
      assert.equal(readFileSync(file, "utf8"), "garbage{");
      const again = await v.reopen();
      const report = await again.audit.verify();
      assert.equal(report.ok, false);
      assert.ok(report.issues.some((i) => i.kind === "checkpoint" && /not JSON/.test(i.message)));
      // Moved away on purpose: the next checkpoint signs the current head (the gap stays visible).
      rmSync(file);
      await again.audit.checkpoint();
      const after = await again.audit.verify();
      assert.ok(!after.issues.some((i) => i.kind === "checkpoint"));
      assert.ok(after.issues.length > 0, "the deleted entries are still found by the chain");
    });
  });
}
