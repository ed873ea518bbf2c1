/**
 * A running server signs the audit head into the checkpoint file on a timer
 * (`server.auditCheckpointSeconds`), not only when it stops: a server killed without a
 * graceful stop leaves its entries up to the last tick signed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { AUDIT_CHECKPOINT_FILE } from "../../../src/app.ts";
import { SQLITE_FILE_NAME } from "../../../src/storage/database.ts";
import { appVault, cliOk } from "../../helpers/app-vault.ts";
import { spawnServe } from "../../helpers/serve-process.ts";
import { makeKey } from "./fixtures.ts";

test("a running server signs the audit head every auditCheckpointSeconds", async (t) => {
  const { env, token } = await appVault(t, "", "app/**:read,write");
  const server = await spawnServe(t, { ...env, KEYWARDEN_SERVER_AUDIT_CHECKPOINT_SECONDS: "1" }, [
    "--insecure-http",
  ]);
  const secret = new URL("/api/v1/secrets/app/prod/KEY", server.url);
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  assert.equal(
    (await fetch(secret, { method: "PUT", headers, body: JSON.stringify({ value: makeKey() }) })).status,
    200,
  );
  assert.equal((await fetch(secret, { headers })).status, 200);
  // The path index is filled on the same timer (no command in between: a command fills it
  // as it closes), so a server's writes do not wait for it to stop to be found by path.
  const db = new DatabaseSync(join(env.KEYWARDEN_HOME!, SQLITE_FILE_NAME), { readOnly: true });
  const indexed = () => {
    const head = db.prepare("select seq from audit_head").get() as { seq: number };
    const index = db.prepare("select through from audit_path_index_head").get() as { through: number };
    return { head: head.seq, through: index.through };
  };
  const until = Date.now() + 10_000;
  while (indexed().through < indexed().head && Date.now() < until)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(indexed().through, indexed().head, JSON.stringify(indexed()));
  db.close();
  const entries = (await cliOk(env, ["audit", "log", "--format", "json"]))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { seq: number; action: string });
  const read = entries.findLast((e) => e.action === "secret.read");
  assert.ok(read !== undefined);

  // Signed while the server runs: no stop, no other command in between.
  const file = join(env.KEYWARDEN_HOME!, AUDIT_CHECKPOINT_FILE);
  const signedSeq = (): number => {
    try {
      return (JSON.parse(readFileSync(file, "utf8")) as { seq: number }).seq;
    } catch {
      return 0;
    }
  };
  const deadline = Date.now() + 10_000;
  while (signedSeq() < read.seq && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(signedSeq() >= read.seq, `checkpoint at ${signedSeq()}, read at ${read.seq}`);

  // Killed outright: what the timer signed stands.
  server.child.kill("SIGKILL");
  await server.exited;
  const report = await cliOk(env, ["audit", "verify"]);
  const m = /^audit log intact: \d+ entries, signed checkpoint at entry (\d+)/.exec(report);
  assert.ok(m !== null, report);
  assert.ok(Number(m[1]) >= read.seq);
});
