import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isKeywardenError, type ErrorCode } from "../../../src/core/errors.ts";
import { Secret } from "../../../src/core/secret.ts";
import { formatToken } from "../../../src/core/token-format.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { createTestVault } from "../../helpers/vault.ts";

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  let caught: unknown;
  await assert.rejects(p, (e) => {
    caught = e;
    return isKeywardenError(e, code);
  });
  return caught as Error;
}

const s = (v: string): Secret => new Secret(v);

for (const d of DIALECTS) {
  describe(`vault on ${d.name}`, () => {
    test("every write is a new version; reads give the current or any version; history lists them", async (t) => {
      const { kw, ctx, clock } = await createTestVault(t, d);
      const token = formatToken("svc");
      assert.deepEqual(await kw.vault.set(ctx, "payments/prod/API_TOKEN", s(token)), {
        path: "payments/prod/API_TOKEN",
        version: 1,
        provider: "Keywarden",
        kind: "keywarden-api-token",
        createdAt: clock.now().toISOString(),
      });
      clock.advance(1000);
      const second = await kw.vault.set(ctx, "payments/prod/API_TOKEN", s("plain value two"));
      assert.equal(second.version, 2);
      assert.equal(second.provider, null);
      const current = await kw.vault.get(ctx, "payments/prod/API_TOKEN");
      assert.equal(current.version, 2);
      assert.equal(current.value.reveal(), "plain value two");
      assert.equal(String(current.value), "[Secret]");
      assert.equal(
        (await kw.vault.get(ctx, "payments/prod/API_TOKEN", { version: 1 })).value.reveal(),
        token,
      );
      await rejectsWith(
        kw.vault.get(ctx, "payments/prod/API_TOKEN", { version: 3 }),
        "KW_ERR_VAULT_VERSION_NOT_FOUND",
      );
      await rejectsWith(kw.vault.get(ctx, "payments/prod/NOPE"), "KW_ERR_VAULT_NOT_FOUND");
      await rejectsWith(kw.vault.set(ctx, "payments/API_TOKEN", s("x")), "KW_ERR_VAULT_PATH_INVALID");
      await rejectsWith(kw.vault.set(ctx, "payments/prod/API-TOKEN", s("x")), "KW_ERR_VAULT_PATH_INVALID");
      await rejectsWith(kw.vault.set(ctx, "payments/prod/EMPTY", s("")), "KW_ERR_VAULT_VALUE_INVALID");
      const h = await kw.vault.history(ctx, "payments/prod/API_TOKEN");
      assert.deepEqual(
        h.map((v) => [v.version, v.current, v.createdBy, v.createdAt]),
        [
          [1, false, "cli:tester", "2025-03-01T12:00:00.000Z"],
          [2, true, "cli:tester", "2025-03-01T12:00:01.000Z"],
        ],
      );
      const meta = await kw.vault.describe(ctx, "payments/prod/API_TOKEN");
      assert.equal(meta.lastReadAt, "2025-03-01T12:00:01.000Z");
    });

    test("check-and-set: a stale --cas is a conflict, and concurrent writers never lose an update", async (t) => {
      const { kw, ctx, ...v } = await createTestVault(t, d);
      const other = d.name === "sqlite" ? kw : await v.reopen();
      await kw.vault.set(ctx, "app/dev/KEY", s("v1"), { cas: 0 });
      const conflict = await rejectsWith(
        kw.vault.set(ctx, "app/dev/KEY", s("v2"), { cas: 0 }),
        "KW_ERR_VAULT_CAS_CONFLICT",
      );
      assert.match(conflict.message, /app\/dev\/KEY is at version 1, not 0/);

      // Ten writers all expect version 1: exactly one wins.
      const racers = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 === 0 ? kw : other).vault.set(ctx, "app/dev/KEY", s(`racer ${i}`), { cas: 1 }),
        ),
      );
      assert.equal(racers.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of racers)
        if (r.status === "rejected") assert.ok(isKeywardenError(r.reason, "KW_ERR_VAULT_CAS_CONFLICT"));

      // Without --cas every concurrent write lands as its own version.
      const values = Array.from({ length: 8 }, (_, i) => `writer ${i}`);
      const results = await Promise.all(
        values.map((v, i) => (i % 2 === 0 ? kw : other).vault.set(ctx, "app/dev/OTHER", s(v))),
      );
      assert.deepEqual(
        results.map((r) => r.version).sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      const stored = new Set<string>();
      for (let v = 1; v <= 8; v++)
        stored.add((await kw.vault.get(ctx, "app/dev/OTHER", { version: v })).value.reveal());
      assert.deepEqual([...stored].sort(), values);
    });

    test("restore makes an old value current as a new version; delete hides, undelete and new writes bring back", async (t) => {
      const { kw, ctx } = await createTestVault(t, d);
      await kw.vault.set(ctx, "app/prod/DB_PASSWORD", s("first"));
      await kw.vault.set(ctx, "app/prod/DB_PASSWORD", s("second"));
      const restored = await kw.vault.restore(ctx, "app/prod/DB_PASSWORD", 1);
      assert.equal(restored.version, 3);
      assert.equal((await kw.vault.get(ctx, "app/prod/DB_PASSWORD")).value.reveal(), "first");
      assert.equal((await kw.vault.history(ctx, "app/prod/DB_PASSWORD")).at(-1)?.restoredFrom, 1);
      await rejectsWith(
        kw.vault.restore(ctx, "app/prod/DB_PASSWORD", 1, { cas: 2 }),
        "KW_ERR_VAULT_CAS_CONFLICT",
      );

      await kw.vault.remove(ctx, "app/prod/DB_PASSWORD");
      await rejectsWith(kw.vault.get(ctx, "app/prod/DB_PASSWORD"), "KW_ERR_VAULT_DELETED");
      await rejectsWith(kw.vault.remove(ctx, "app/prod/DB_PASSWORD"), "KW_ERR_VAULT_DELETED");
      assert.deepEqual(await kw.vault.list(ctx, "app/"), []);
      assert.equal((await kw.vault.list(ctx, "app/", { includeDeleted: true })).length, 1);
      await kw.vault.undelete(ctx, "app/prod/DB_PASSWORD");
      assert.equal((await kw.vault.get(ctx, "app/prod/DB_PASSWORD")).value.reveal(), "first");
      await kw.vault.remove(ctx, "app/prod/DB_PASSWORD");
      assert.equal((await kw.vault.set(ctx, "app/prod/DB_PASSWORD", s("fourth"))).version, 4);
      assert.equal((await kw.vault.get(ctx, "app/prod/DB_PASSWORD")).value.reveal(), "fourth");
    });

    test("destroy deletes the version's data key and ciphertext for good; other versions still read", async (t) => {
      const { kw, ctx, home } = await createTestVault(t, d);
      await kw.vault.set(ctx, "app/prod/KEY", s("old secret value"));
      await kw.vault.set(ctx, "app/prod/KEY", s("new secret value"));
      const before = await kw.storage.db
        .selectFrom("data_keys")
        .innerJoin("secret_versions", "secret_versions.id", "data_keys.version_id")
        .select(["data_keys.wrapped", "secret_versions.ciphertext"])
        .where("secret_versions.version", "=", 1)
        .executeTakeFirstOrThrow();
      await kw.vault.destroy(ctx, "app/prod/KEY", 1);
      await rejectsWith(kw.vault.get(ctx, "app/prod/KEY", { version: 1 }), "KW_ERR_VAULT_VERSION_DESTROYED");
      await rejectsWith(kw.vault.restore(ctx, "app/prod/KEY", 1), "KW_ERR_VAULT_VERSION_DESTROYED");
      await rejectsWith(kw.vault.destroy(ctx, "app/prod/KEY", 1), "KW_ERR_VAULT_VERSION_DESTROYED");
      assert.equal((await kw.vault.get(ctx, "app/prod/KEY")).value.reveal(), "new secret value");
      const keys = await kw.storage.db.selectFrom("data_keys").select("version_id").execute();
      assert.equal(keys.length, 1);
      const h = await kw.vault.history(ctx, "app/prod/KEY");
      assert.equal(h[0]?.destroyedAt, "2025-03-01T12:00:00.000Z");
      if (d.name === "sqlite") {
        // secure_delete and the WAL checkpoint leave no copy of the wrapped key or ciphertext on disk.
        const files = readdirSync(home).map((f) => readFileSync(join(home, f)));
        for (const needle of [Buffer.from(before.wrapped), Buffer.from(before.ciphertext!)]) {
          assert.ok(!files.some((f) => f.includes(needle)), "destroyed key material is still on disk");
        }
      }
    });

    test("a ciphertext or data key copied to another row, or a flipped bit, fails naming the secret and version", async (t) => {
      const { kw, ctx } = await createTestVault(t, d);
      await kw.vault.set(ctx, "app/prod/A", s("value of a"));
      await kw.vault.set(ctx, "app/prod/B", s("value of b"));
      const rowOf = (path: string) =>
        kw.storage.db
          .selectFrom("secret_versions")
          .innerJoin("secrets", "secrets.id", "secret_versions.secret_id")
          .innerJoin("data_keys", "data_keys.version_id", "secret_versions.id")
          .select([
            "secret_versions.id",
            "secret_versions.ciphertext",
            "data_keys.wrapped",
            "data_keys.kek_version",
          ])
          .where("secrets.path", "=", path)
          .executeTakeFirstOrThrow();
      const a = await rowOf("app/prod/A");
      const b = await rowOf("app/prod/B");

      await kw.storage.db
        .updateTable("secret_versions")
        .set({ ciphertext: a.ciphertext })
        .where("id", "=", b.id)
        .execute();
      const e1 = await rejectsWith(kw.vault.get(ctx, "app/prod/B"), "KW_ERR_VAULT_TAMPERED");
      assert.match(e1.message, /version 1 of secret app\/prod\/B failed its integrity check/);
      await kw.storage.db
        .updateTable("data_keys")
        .set({ wrapped: a.wrapped })
        .where("version_id", "=", b.id)
        .execute();
      const e2 = await rejectsWith(kw.vault.get(ctx, "app/prod/B"), "KW_ERR_VAULT_TAMPERED");
      assert.match(e2.message, /app\/prod\/B.*data key/);
      assert.ok(!e2.message.includes("value of"));

      const flipped = Uint8Array.from(a.ciphertext!);
      flipped[flipped.length - 20]! ^= 1;
      await kw.storage.db
        .updateTable("secret_versions")
        .set({ ciphertext: flipped })
        .where("id", "=", a.id)
        .execute();
      await rejectsWith(kw.vault.get(ctx, "app/prod/A"), "KW_ERR_VAULT_TAMPERED");
      const failed = await kw.audit.query({ action: "secret.read" });
      assert.deepEqual(
        failed.map((e) => [e.path, e.result, e.detail]),
        [
          ["app/prod/B", "failed", "KW_ERR_VAULT_TAMPERED"],
          ["app/prod/B", "failed", "KW_ERR_VAULT_TAMPERED"],
          ["app/prod/A", "failed", "KW_ERR_VAULT_TAMPERED"],
        ],
      );
    });

    test("every operation, allowed, denied or failed, is audited without its value", async (t) => {
      const denyDestroy = (_ctx: unknown, permission: string) => permission !== "destroy";
      const v = await createTestVault(t, d, { authorize: denyDestroy });
      const { kw, ctx } = v;
      await kw.vault.set(ctx, "app/prod/K", s("audited value 1"));
      await kw.vault.get(ctx, "app/prod/K");
      await kw.vault.set(ctx, "app/prod/K", s("audited value 2"), { cas: 1 });
      await rejectsWith(
        kw.vault.set(ctx, "app/prod/K", s("audited value 3"), { cas: 1 }),
        "KW_ERR_VAULT_CAS_CONFLICT",
      );
      await kw.vault.restore(ctx, "app/prod/K", 1);
      await kw.vault.remove(ctx, "app/prod/K");
      await kw.vault.undelete(ctx, "app/prod/K");
      await rejectsWith(kw.vault.destroy(ctx, "app/prod/K", 1), "KW_ERR_VAULT_DENIED");
      await kw.vault.list(ctx, "app/");
      await kw.vault.history(ctx, "app/prod/K");
      await kw.vault.readEnvironment(ctx, "app/prod", "run");
      await kw.vault.matchValues(ctx, ["audited value 1", "unrelated"]);
      const sealed = await v.reopen({ sealed: true });
      await rejectsWith(sealed.unseal(ctx, "wrong passphrase"), "KW_ERR_KMS_WRONG_PASSPHRASE");
      await rejectsWith(sealed.vault.get(ctx, "app/prod/K"), "KW_ERR_KMS_SEALED");

      const entries = await kw.audit.query({});
      assert.deepEqual(
        entries.map((e) => [e.action, e.path, e.version, e.result, e.detail]),
        [
          ["vault.unseal", null, null, "ok", "local"],
          ["secret.write", "app/prod/K", 1, "ok", null],
          ["secret.read", "app/prod/K", 1, "ok", null],
          ["secret.write", "app/prod/K", 2, "ok", null],
          ["secret.write", "app/prod/K", null, "failed", "KW_ERR_VAULT_CAS_CONFLICT"],
          ["secret.restore", "app/prod/K", 3, "ok", "from v1"],
          ["secret.delete", "app/prod/K", 3, "ok", null],
          ["secret.undelete", "app/prod/K", 3, "ok", null],
          ["secret.destroy", "app/prod/K", 1, "denied", "KW_ERR_VAULT_DENIED"],
          ["secret.list", "app/", null, "ok", null],
          ["secret.history", "app/prod/K", null, "ok", null],
          ["secret.read", "app/prod/K", 3, "ok", "run"],
          ["vault.match", null, null, "ok", "2 values, 1 matched"],
          ["vault.unseal", null, null, "denied", "KW_ERR_KMS_WRONG_PASSPHRASE"],
          ["secret.read", "app/prod/K", null, "denied", "KW_ERR_KMS_SEALED"],
        ],
      );
      for (const e of entries) {
        assert.equal(e.actor, "cli:tester");
        assert.equal(e.source, "cli");
        assert.equal(e.requestId, "req_test");
        assert.ok(!JSON.stringify(e).includes("audited value"));
      }
      assert.equal((await kw.audit.verify()).ok, true);
    });

    test("list shows age and flags secrets past their maximum age or expiry; metadata is kept", async (t) => {
      const { kw, ctx, clock } = await createTestVault(t, d);
      await kw.vault.set(ctx, "app/prod/ROTATED", s("r"), {
        metadata: { maxAgeSeconds: 3600, owner: "team-a", tags: ["pci"] },
      });
      await kw.vault.set(ctx, "app/prod/EXPIRING", s("e"), {
        metadata: { expiresAt: "2025-03-01T13:30:00Z", consumers: ["api", "worker"] },
      });
      await kw.vault.set(ctx, "app/prod/PLAIN", s("p"));
      clock.advance(2 * 3600 * 1000);
      await kw.vault.set(ctx, "app/prod/PLAIN", s("p2"));
      const list = await kw.vault.list(ctx, "app/prod/");
      assert.deepEqual(
        list.map((x) => [x.path, x.ageSeconds, x.stale, x.expired]),
        [
          ["app/prod/EXPIRING", 7200, false, true],
          ["app/prod/PLAIN", 0, false, false],
          ["app/prod/ROTATED", 7200, true, false],
        ],
      );
      const rotated = list.find((x) => x.path === "app/prod/ROTATED")!;
      assert.equal(rotated.owner, "team-a");
      assert.deepEqual(rotated.tags, ["pci"]);
      assert.deepEqual(list.find((x) => x.path === "app/prod/EXPIRING")!.consumers, ["api", "worker"]);
      const updated = await kw.vault.updateMetadata(ctx, "app/prod/ROTATED", {
        maxAgeSeconds: null,
        owner: null,
      });
      assert.equal(updated.maxAgeSeconds, null);
      assert.equal(updated.owner, null);
      assert.deepEqual(updated.tags, ["pci"]);
    });

    test("keyed fingerprints tell which values are vault secrets without decrypting", async (t) => {
      const { kw, ctx, ...v } = await createTestVault(t, d);
      await kw.vault.set(ctx, "app/prod/A", s("leaked value one"));
      await kw.vault.set(ctx, "app/prod/A", s("leaked value two"));
      await kw.vault.set(ctx, "app/dev/A", s("leaked value one"));
      const other = await v.reopen();
      const hits = await other.vault.matchValues(ctx, [
        "leaked value one",
        "leaked value two",
        "never stored",
      ]);
      assert.deepEqual(hits.get("leaked value one"), [
        { fingerprint: hits.get("leaked value one")![0]!.fingerprint, path: "app/dev/A", version: 1 },
        { fingerprint: hits.get("leaked value one")![0]!.fingerprint, path: "app/prod/A", version: 1 },
      ]);
      assert.deepEqual(
        hits.get("leaked value two")?.map((h) => [h.path, h.version]),
        [["app/prod/A", 2]],
      );
      assert.equal(hits.has("never stored"), false);
      const fps = await kw.storage.db.selectFrom("secret_versions").select("fingerprint").execute();
      for (const { fingerprint } of fps) assert.match(fingerprint, /^[0-9a-f]{64}$/);
    });
  });
}
