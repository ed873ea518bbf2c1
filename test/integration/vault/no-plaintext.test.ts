import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Secret } from "../../../src/core/secret.ts";
import { formatToken } from "../../../src/core/token-format.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { createTestVault } from "../../helpers/vault.ts";

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

for (const d of DIALECTS) {
  test(`no value reaches any file under home while the ${d.name} vault is open (database, WAL, journal, checkpoint)`, async (t) => {
    const { kw, ctx, home } = await createTestVault(t, d);
    const values = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0 ? formatToken("svc") : `plain-marker-${i}-${"q".repeat(20)}`,
    );
    for (const [i, v] of values.entries()) await kw.vault.set(ctx, `app/prod/S${i}`, new Secret(v));
    for (let i = 0; i < values.length; i++) await kw.vault.get(ctx, `app/prod/S${i}`);
    await kw.vault.readEnvironment(ctx, "app/prod", "export");
    await kw.audit.checkpoint();
    const files = allFiles(home);
    if (d.name === "sqlite")
      assert.ok(
        files.some((f) => f.endsWith("-wal")),
        "the WAL is open and checked too",
      );
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const v of values) {
        assert.ok(!bytes.includes(Buffer.from(v)), `${f} holds a value`);
        assert.ok(!bytes.includes(Buffer.from(v, "utf16le")), `${f} holds a value (UTF-16)`);
      }
    }
  });
}
