import assert from "node:assert/strict";
import { test } from "node:test";
import { Secret } from "../../../src/core/secret.ts";
import { groupRunner } from "../../../src/services/audit/group-commit.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { createTestVault } from "../../helpers/vault.ts";

test("one group at a time: jobs submitted while a group runs wait for it, then go together", async () => {
  const started: string[][] = [];
  const finish: (() => void)[] = [];
  const runner = groupRunner(async (jobs: readonly string[]) => {
    started.push([...jobs]);
    await new Promise<void>((resolve) => finish.push(resolve));
    return jobs.length;
  });
  const a = runner.submit("a");
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [["a"]]);
  const bc = [runner.submit("b"), runner.submit("c")];
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [["a"]], "b and c wait while a's group runs");
  finish.shift()!();
  assert.equal(await a, 1);
  for (let i = 0; i < 3 && started.length < 2; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [["a"], ["b", "c"]]);
  finish.shift()!();
  assert.deepEqual(await Promise.all(bc), [2, 2]);
});

test("jobs submitted by separate tasks of one loop turn share a group, even when commits finish at once", async () => {
  const groups: string[][] = [];
  // A commit that finishes within the turn, as SQLite's does without an fsync to wait for.
  const runner = groupRunner((jobs: readonly string[]) => {
    groups.push([...jobs]);
    return Promise.resolve(groups.length);
  });
  // Three requests of one turn, each in its own task (the server starts each in its own immediate).
  const results = await Promise.all(
    ["x", "y", "z"].map(
      (job) =>
        new Promise<number>((resolve) =>
          setImmediate(() => {
            resolve(runner.submit(job));
          }),
        ),
    ),
  );
  assert.deepEqual(groups, [["x", "y", "z"]]);
  assert.deepEqual(results, [1, 1, 1]);
});

for (const d of DIALECTS) {
  test(`group commit: a lone job commits alone, jobs arriving meanwhile share the next transaction, a failed group fails only its jobs (${d.name})`, async (t) => {
    const { storage } = await d.create(t);
    const groups: string[][] = [];
    const arrivedMeanwhile: Promise<number>[] = [];
    const committer = groupRunner((jobs: readonly string[]) =>
      storage.db.transaction().execute(async (trx) => {
        groups.push([...jobs]);
        if (jobs.includes("poison")) throw new Error("poisoned group");
        // Jobs submitted while this transaction runs wait for the next one.
        if (jobs.includes("a")) arrivedMeanwhile.push(committer.submit("f"), committer.submit("g"));
        await trx
          .insertInto("vault_meta")
          .values(
            jobs.map((name) => ({ name, kek_version: 1, wrapped: new Uint8Array([1]), created_at: "t" })),
          )
          .execute();
        return groups.length;
      }),
    );
    assert.equal(await committer.submit("a"), 1);
    assert.deepEqual(await Promise.all(arrivedMeanwhile), [2, 2]);
    const settled = await Promise.allSettled(["b", "c", "poison"].map((j) => committer.submit(j)));
    assert.deepEqual(
      settled.map((s) => s.status),
      ["rejected", "rejected", "rejected"],
    );
    assert.deepEqual(await Promise.all(["d", "e"].map((j) => committer.submit(j))), [4, 4]);
    assert.deepEqual(groups, [["a"], ["f", "g"], ["b", "c", "poison"], ["d", "e"]]);
    const names = await storage.db.selectFrom("vault_meta").select("name").orderBy("name").execute();
    assert.deepEqual(
      names.map((r) => r.name),
      ["a", "d", "e", "f", "g"],
    );
  });

  test(`concurrent audited reads: each returns only once its own entry is visible to another connection, and the chain verifies (${d.name})`, async (t) => {
    const v = await createTestVault(t, d);
    await v.kw.vault.set(v.ctx, "group/test/KEY", new Secret("group value"));
    const other = await v.reopen();
    const reads = Array.from({ length: 40 }, async (_, i) => {
      const ctx = { ...v.ctx, requestId: `req_group_${i}` };
      const r = await v.kw.vault.get(ctx, "group/test/KEY");
      // Another connection sees only committed rows.
      const seen = await other.storage.db
        .selectFrom("audit_log")
        .select("action")
        .where("request_id", "=", ctx.requestId)
        .execute();
      return [r.value.reveal(), seen.map((e) => e.action)];
    });
    for (const r of await Promise.all(reads)) assert.deepEqual(r, ["group value", ["secret.read"]]);
    const report = await v.kw.audit.verify();
    assert.deepEqual(report.issues, []);
    assert.equal((await v.kw.audit.query({ action: "secret.read" })).length, 40);
  });

  test(`group appends from two processes' handles, interleaved with single appends, keep one gapless chain (${d.name})`, async (t) => {
    const v = await createTestVault(t, d);
    await v.kw.vault.set(v.ctx, "group/test/KEY", new Secret("group value"));
    const other = await v.reopen();
    for (let round = 0; round < 4; round++) {
      // Each handle's remembered head is stale after the other one wrote: its
      // compare-and-set fails and it appends the locked way, then chains on its own again.
      // One handle at a time: two SQLite handles in one process would wait on each other's
      // lock synchronously (two processes do not).
      await Promise.all(Array.from({ length: 5 }, () => v.kw.vault.get(v.ctx, "group/test/KEY")));
      await Promise.all(Array.from({ length: 5 }, () => other.vault.get(v.ctx, "group/test/KEY")));
      await v.kw.audit.record(v.ctx, { action: "test.note", result: "ok" });
      await other.vault.get(v.ctx, "group/test/KEY");
      await other.vault.get(v.ctx, "group/test/KEY");
    }
    const report = await v.kw.audit.verify();
    assert.deepEqual(report.issues, []);
    const reads = await v.kw.audit.query({ action: "secret.read" });
    assert.equal(reads.length, 4 * 12);
    const all = await v.kw.audit.query({});
    assert.deepEqual(
      all.map((e) => e.seq),
      all.map((_, i) => all[0]!.seq + i),
      "gapless",
    );
    const meta = await v.kw.vault.describe(v.ctx, "group/test/KEY");
    assert.ok(meta.lastReadAt !== null, "last_read_at is touched by group appends");
  });
}
