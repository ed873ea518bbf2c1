import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { DIALECTS } from "../../helpers/storage.ts";
import { createTestVault } from "../../helpers/vault.ts";

const WRITER = join(import.meta.dirname, "../../helpers/crash-writer.ts");

for (const d of DIALECTS) {
  test(`a writer killed with SIGKILL mid-writes loses no committed version, and the ${d.name} vault verifies after`, async (t) => {
    const v = await createTestVault(t, d);
    const child = spawn(process.execPath, ["--import", "tsx", WRITER], {
      env: { ...process.env, KW_CRASH_HOME: v.home, KW_CRASH_URL: v.url, KW_CRASH_PASSPHRASE: v.passphrase },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const committed: { path: string; version: number; value: string }[] = [];
    let buffered = "";
    await new Promise<void>((resolve, reject) => {
      child.on("exit", () => {
        resolve();
      });
      child.on("error", reject);
      child.stdout.on("data", (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const l of lines) {
          const [, path, version, value] = l.split(" ");
          committed.push({ path: path!, version: Number(version), value: value! });
        }
        if (committed.length >= 40 && child.exitCode === null) child.kill("SIGKILL");
      });
    });
    assert.equal(child.signalCode, "SIGKILL");
    assert.ok(committed.length >= 40);
    const after = await v.reopen();
    for (const c of committed) {
      const got = await after.vault.get(v.ctx, c.path, { version: c.version });
      assert.equal(got.value.reveal(), c.value);
    }
    const report = await after.audit.verify();
    assert.deepEqual(report.issues, []);
    assert.ok(report.entries >= committed.length);
  });
}
