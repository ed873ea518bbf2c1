import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { test, type TestContext } from "node:test";
import pg from "pg";
import { createKeywarden, type Keywarden } from "../../../src/app.ts";
import { run } from "../../../src/cli/main.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { Secret } from "../../../src/core/secret.ts";
import type { KekStatus } from "../../../src/services/vault/kek-service.ts";
import { fixedClock } from "../../helpers/clock.ts";
import { DIALECTS, type TestDialect } from "../../helpers/storage.ts";
import { createTestVault, type TestVault } from "../../helpers/vault.ts";

const BIN = join(import.meta.dirname, "../../../src/cli/bin.ts");

/** Writes `count` secrets (a few with several versions, one version destroyed); returns path -> value per version. */
async function fill(v: TestVault, count: number): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  const put = async (path: string, value: string): Promise<void> => {
    const r = await v.kw.vault.set(v.ctx, path, new Secret(value));
    values.set(`${path}@${r.version}`, value);
  };
  for (let i = 0; i < count; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, (_, j) =>
        put(`kek/test/K${i + j}`, `value-${i + j}-${"x".repeat((i + j) % 7)}`),
      ),
    );
  }
  await put("kek/test/K0", "second value of K0");
  await put("kek/test/K1", "second value of K1");
  await v.kw.vault.destroy(v.ctx, "kek/test/K1", 1);
  values.delete("kek/test/K1@1");
  await v.kw.audit.checkpoint(); // creates the audit checkpoint key, a second vault key
  return values;
}

async function assertAllRead(kw: Keywarden, v: TestVault, values: Map<string, string>): Promise<void> {
  for (const [key, value] of values) {
    const [path, version] = key.split("@") as [string, string];
    const got = await kw.vault.get(v.ctx, path, { version: Number(version) });
    assert.equal(got.value.reveal(), value, key);
  }
}

async function kekVersions(kw: Keywarden): Promise<Map<number, number>> {
  const rows = await kw.storage.db.selectFrom("data_keys").select("kek_version").execute();
  const meta = await kw.storage.db.selectFrom("vault_meta").select("kek_version").execute();
  const m = new Map<number, number>();
  for (const r of [...rows, ...meta]) m.set(r.kek_version, (m.get(r.kek_version) ?? 0) + 1);
  return m;
}

for (const d of DIALECTS) {
  test(`kek rotate re-wraps every key without touching a ciphertext, then retire; status counts (${d.name})`, async (t) => {
    const v = await createTestVault(t, d);
    const values = await fill(v, 23);
    const dataKeys = values.size;

    const before = await v.kw.kek.status(v.ctx);
    assert.equal(before.kind, "local");
    assert.equal(before.currentVersion, 1);
    assert.equal(before.unfinished, false);
    assert.deepEqual(before.versions, [
      { version: 1, dataKeys, vaultKeys: 2, available: true, current: true },
    ]);
    const ciphertexts = await v.kw.storage.db
      .selectFrom("secret_versions")
      .select(["id", "ciphertext"])
      .orderBy("id")
      .execute();
    const wrappedBefore = await v.kw.storage.db
      .selectFrom("data_keys")
      .selectAll()
      .orderBy("version_id")
      .execute();

    const r = await v.kw.kek.rotate(v.ctx, { batchSize: 4 });
    assert.deepEqual(
      { ...r, kept: r.kept.map((k) => k.version) },
      { version: 2, resumed: false, dataKeys, vaultKeys: 2, left: 0, retired: [], kept: [1] },
    );
    // Only the wrapping changed: every ciphertext is byte for byte what it was.
    assert.deepEqual(
      await v.kw.storage.db
        .selectFrom("secret_versions")
        .select(["id", "ciphertext"])
        .orderBy("id")
        .execute(),
      ciphertexts,
    );
    const wrappedAfter = await v.kw.storage.db
      .selectFrom("data_keys")
      .selectAll()
      .orderBy("version_id")
      .execute();
    assert.equal(wrappedAfter.length, wrappedBefore.length);
    for (const [i, w] of wrappedAfter.entries()) {
      assert.equal(w.kek_version, 2);
      assert.notDeepEqual(Buffer.from(w.wrapped), Buffer.from(wrappedBefore[i]!.wrapped));
    }

    const mid = await v.kw.kek.status(v.ctx);
    assert.deepEqual(mid.versions, [
      { version: 1, dataKeys: 0, vaultKeys: 0, available: true, current: false },
      { version: 2, dataKeys, vaultKeys: 2, available: true, current: true },
    ]);
    // A fresh process (its own unseal of the rewritten key file) reads every version.
    await assertAllRead(await v.reopen(), v, values);

    assert.deepEqual(await v.kw.kek.retire(v.ctx), { retired: [1], kept: [] });
    const third = await v.kw.kek.rotate(v.ctx, { retire: true });
    assert.deepEqual([third.version, third.retired, third.kept], [3, [2], []]);
    const after = await v.kw.kek.status(v.ctx);
    assert.deepEqual(
      after.versions.map((x) => [x.version, x.dataKeys, x.vaultKeys, x.available]),
      [[3, dataKeys, 2, true]],
    );
    const fresh = await v.reopen();
    assert.deepEqual((await fresh.kms.status()).versions, [3]);
    await assertAllRead(fresh, v, values);
    // The retired versions are gone from the key file: a blob wrapped by v1 no longer opens.
    await assert.rejects(
      fresh.kms.unwrap({ kekVersion: 1, blob: wrappedBefore[0]!.wrapped }, new Uint8Array()),
      (e) => isKeywardenError(e, "KW_ERR_KMS_UNKNOWN_VERSION"),
    );

    const actions = (await v.kw.audit.query({})).filter((e) => e.action.startsWith("kek."));
    assert.deepEqual(
      actions.map((e) => [e.action, e.version, e.result]),
      [
        ["kek.status", 1, "ok"],
        ["kek.rotate.start", 2, "ok"],
        ["kek.rotate.finish", 2, "ok"],
        ["kek.status", 2, "ok"],
        ["kek.retire", 2, "ok"],
        ["kek.rotate.start", 3, "ok"],
        ["kek.rotate.finish", 3, "ok"],
        ["kek.status", 3, "ok"],
      ],
    );
    assert.match(
      actions[1]!.detail!,
      new RegExp(`^new version v2; ${dataKeys} data keys and 2 vault keys on v1$`),
    );
    assert.match(
      actions[2]!.detail!,
      new RegExp(`^v2: re-wrapped ${dataKeys} data keys and 2 vault keys; 0 left`),
    );
    assert.deepEqual((await v.kw.audit.verify()).issues, []);
  });

  test(`a rotation interrupted after the provider's new version, or before its end entry, is finished without a new version (${d.name})`, async (t) => {
    const v = await createTestVault(t, d);
    const values = await fill(v, 6);
    // Crash right after the provider made v2 durable, before any key moved.
    assert.equal(await v.kw.kms.rotate(), 2);
    assert.equal((await v.kw.kek.status(v.ctx)).unfinished, true);
    const r = await v.kw.kek.rotate(v.ctx);
    assert.deepEqual([r.version, r.resumed, r.dataKeys, r.vaultKeys], [2, true, values.size, 2]);
    assert.deepEqual(await kekVersions(v.kw), new Map([[2, values.size + 2]]));

    // Crash after the last batch, before the finish entry: the start entry is the journal.
    assert.equal(await v.kw.kms.rotate(), 3);
    await v.kw.kek.rotate(v.ctx); // resumes to v3 (keys on v2 are below it)
    await v.kw.audit.record(v.ctx, { action: "kek.rotate.start", version: 3, result: "ok", detail: "test" });
    assert.equal((await v.kw.kek.status(v.ctx)).unfinished, true);
    const again = await v.kw.kek.rotate(v.ctx, { retire: true });
    assert.deepEqual([again.version, again.resumed, again.dataKeys, again.retired], [3, true, 0, [1, 2]]);
    assert.equal((await v.kw.kek.status(v.ctx)).unfinished, false);
    await assertAllRead(await v.reopen(), v, values);
  });

  // On PostgreSQL the kill can land while the child's backend waits on the row lock used to
  // hold it mid-rotation; a backend waiting on a lock does not notice its client is gone. The
  // run once hung in CI on that (once in five runs, before session 7), so the killed child's
  // backends are ended as PostgreSQL ends a dead client's (pg_terminate_backend), and the test
  // never waits more than a minute. Re-enabled after 50 runs without a hang (42 alone, some
  // under CPU load, 8 in the whole suite).
  test(
    `kek rotate killed with SIGKILL mid-rotation is finished by a re-run: nothing lost, audit verifies (${d.name})`,
    { timeout: 60_000 },
    async (t) => {
      const v = await createTestVault(t, d);
      const values = await fill(v, 150);
      const total = values.size + 2;
      const freezer = await freezeWrites(t, d, v);
      const appName = `kw-kek-crash-${process.pid}`;
      const child = spawn(process.execPath, ["--import", "tsx", BIN, "kek", "rotate", "--batch-size", "1"], {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "/tmp",
          KEYWARDEN_HOME: v.home,
          KEYWARDEN_STORAGE_URL: v.url,
          KEYWARDEN_PASSPHRASE: v.passphrase,
          PGAPPNAME: appName,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (b: Buffer) => (output += b.toString()));
      child.stderr.on("data", (b: Buffer) => (output += b.toString()));
      const exited = new Promise<void>((resolve) =>
        child.on("exit", () => {
          resolve();
        }),
      );
      // Kill once the first batch is seen committed, with the child held mid-rotation (freezeWrites).
      for (;;) {
        if (child.exitCode !== null) assert.fail(`kek rotate ended before it was killed: ${output}`);
        if (((await kekVersions(v.kw)).get(2) ?? 0) > 0) break;
        await sleep(1);
      }
      const atKill = await freezer.freeze();
      child.kill("SIGKILL");
      await exited;
      await freezer.endBackends(appName);
      await freezer.release();
      assert.equal(child.signalCode, "SIGKILL", output);
      assert.ok(
        (atKill.get(1) ?? 0) > 0 && (atKill.get(2) ?? 0) > 0,
        `mid-rotation: ${[...atKill].join(" ")}`,
      );

      const after = await v.reopen();
      const s = await after.kek.status(v.ctx);
      assert.equal(s.currentVersion, 2);
      assert.equal(s.unfinished, true);
      const r = await after.kek.rotate(v.ctx, { retire: true });
      assert.equal(r.version, 2);
      assert.equal(r.resumed, true);
      assert.deepEqual(r.retired, [1]);
      assert.deepEqual(await kekVersions(after), new Map([[2, total]]));
      await assertAllRead(after, v, values);
      await after.close();
      const last = await v.reopen();
      await assertAllRead(last, v, values);
      const report = await last.audit.verify();
      assert.deepEqual(report.issues, []);
      const kek = (await last.audit.query({})).filter((e) => e.action.startsWith("kek.rotate"));
      assert.deepEqual(
        kek.map((e) => e.action),
        ["kek.rotate.start", "kek.rotate.start", "kek.rotate.finish"],
      );
    },
  );
}

/** Runs the CLI in process; returns its exit code and output. */
async function cli(v: TestVault, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (add: (s: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        add(chunk.toString());
        done();
      },
    });
  const code = await run(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: Readable.from([]),
    env: { KEYWARDEN_HOME: v.home, KEYWARDEN_STORAGE_URL: v.url, KEYWARDEN_PASSPHRASE: v.passphrase },
    cwd: v.home,
  });
  return { code, stdout, stderr };
}

for (const d of DIALECTS) {
  test(`keywarden kek status, rotate and retire print what they did (${d.name})`, async (t) => {
    const v = await createTestVault(t, d);
    const values = await fill(v, 5);
    const n = values.size;
    const status = await cli(v, ["kek", "status"]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^key provider: local, key file .*master\.key \(sealed\)\ncurrent KEK version: v1\n/,
    );
    assert.match(status.stdout, new RegExp(`\\nv1 +${n} +2  current\\n`));

    const rotated = await cli(v, ["kek", "rotate"]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.equal(
      rotated.stdout,
      `rotated the KEK to version v2\nre-wrapped ${n} data keys and 2 vault keys; no secret was decrypted\n` +
        "older versions kept: v1 (retire them with `keywarden kek retire` once no backup needs them)\n",
    );
    const json = await cli(v, ["kek", "status", "--format", "json"]);
    const parsed = JSON.parse(json.stdout) as KekStatus;
    assert.deepEqual(
      parsed.versions.map((x) => [x.version, x.dataKeys, x.vaultKeys, x.current]),
      [
        [1, 0, 0, false],
        [2, n, 2, true],
      ],
    );
    assert.match(
      (await cli(v, ["kek", "status"])).stdout,
      /\nv1 +0 +0 {2}older, unused \(can be retired\)\n/,
    );
    assert.equal((await cli(v, ["kek", "retire"])).stdout, "retired v1\n");
    assert.equal((await cli(v, ["kek", "retire"])).stdout, "no older KEK version to retire\n");
    const bad = await cli(v, ["kek", "rotate", "--batch-size", "0"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--batch-size takes a positive integer/);
    const verify = await cli(v, ["audit", "verify"]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    await assertAllRead(await v.reopen(), v, values);
  });

  test(`with the env provider, kek rotate says how to add a version, then re-wraps to the one deployed (${d.name})`, async (t) => {
    const { url, home, storage } = await d.create(t, { migrate: false });
    await storage.close();
    const v1 = randomBytes(32).toString("base64");
    const open = async (env: Record<string, string>): Promise<Keywarden> => {
      const { config } = loadConfig({
        cwd: home,
        env: {},
        flags: { home, "storage.url": url, "kms.provider": "env" },
      });
      const kw = await createKeywarden({ config, home, env, clock: fixedClock("2025-03-01T12:00:00.000Z") });
      t.after(() => kw.close());
      return kw;
    };
    const ctx = { actor: "cli:tester", source: "cli", requestId: "req_env" };
    const first = await open({ KEYWARDEN_MASTER_KEY: v1 });
    await first.vault.set(ctx, "env/test/A", new Secret("value a"));
    await assert.rejects(first.kek.rotate(ctx), (e) => isKeywardenError(e, "KW_ERR_KMS_ROTATE_UNSUPPORTED"));
    assert.deepEqual(
      (await first.audit.query({ action: "kek.rotate" })).map((e) => [e.result, e.detail]),
      [["failed", "KW_ERR_KMS_ROTATE_UNSUPPORTED"]],
    );
    await first.close();
    const second = await open({
      KEYWARDEN_MASTER_KEY: v1,
      KEYWARDEN_MASTER_KEY_V2: randomBytes(32).toString("base64"),
    });
    assert.equal((await second.kek.status(ctx)).unfinished, true);
    const r = await second.kek.rotate(ctx, { retire: true });
    assert.deepEqual([r.version, r.resumed, r.dataKeys, r.retired], [2, true, 1, []]);
    assert.match(r.kept[0]!.reason, /remove KEYWARDEN_MASTER_KEY from the environment/);
    assert.equal((await second.vault.get(ctx, "env/test/A")).value.reveal(), "value a");
  });
}

/**
 * Holds the rotation in the middle, whatever the machine's speed. PostgreSQL: the last data
 * key (in the order rotation takes them) is locked FOR UPDATE before the child starts, so it
 * can never finish, and is killed blocked inside a batch's transaction. SQLite: once the
 * first batch is seen committed, the write lock is taken from another connection, so the
 * child is stuck before its next batch. `freeze` returns how many keys each KEK version
 * wraps at that moment.
 */
async function freezeWrites(
  t: TestContext,
  d: TestDialect,
  v: TestVault,
): Promise<{
  freeze(): Promise<Map<number, number>>;
  /** Ends the database sessions of a killed process (PostgreSQL; SQLite has none). */
  endBackends(applicationName: string): Promise<void>;
  release(): Promise<void>;
}> {
  const count = (rows: readonly { kek_version: number }[]): Map<number, number> => {
    const m = new Map<number, number>();
    for (const r of rows) m.set(r.kek_version, (m.get(r.kek_version) ?? 0) + 1);
    return m;
  };
  const q = "select kek_version from data_keys union all select kek_version from vault_meta";
  if (d.name === "sqlite") {
    const db = new DatabaseSync(join(v.home, "keywarden.db"), { timeout: 10_000 });
    t.after(() => {
      db.close();
    });
    return {
      freeze() {
        db.exec("begin immediate");
        return Promise.resolve(count(db.prepare(q).all() as unknown as { kek_version: number }[]));
      },
      endBackends() {
        return Promise.resolve();
      },
      release() {
        db.exec("rollback");
        return Promise.resolve();
      },
    };
  }
  const client = new pg.Client({ connectionString: v.url });
  await client.connect();
  t.after(() => client.end());
  await client.query("begin");
  await client.query("select version_id from data_keys order by version_id desc limit 1 for update");
  return {
    async freeze() {
      return count((await client.query<{ kek_version: number }>(q)).rows);
    },
    async endBackends(applicationName) {
      const other = new pg.Client({ connectionString: v.url });
      await other.connect();
      try {
        await other.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
          [applicationName],
        );
      } finally {
        await other.end();
      }
    },
    async release() {
      await client.query("rollback");
    },
  };
}
