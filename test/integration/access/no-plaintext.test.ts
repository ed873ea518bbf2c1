import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { sql } from "kysely";
import { Secret as OtpSecret } from "otpauth";
import { totpCode } from "../../../src/services/access/totp.ts";
import { createTestAccess } from "../../helpers/access.ts";
import { DIALECTS } from "../../helpers/storage.ts";

const TABLES = [
  "identities",
  "user_credentials",
  "login_state",
  "tokens",
  "policies",
  "roles",
  "role_policies",
  "role_bindings",
  "sessions",
  "audit_log",
] as const;

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

for (const d of DIALECTS) {
  test(`${d.name}: no token, password, TOTP secret or session id is stored in plaintext`, async (t) => {
    const a = await createTestAccess(t, d);
    const password = `pw-marker-${"z".repeat(16)}`;
    await a.access.putPolicy(a.ctx, "operator", "all", [{ path: "**", capabilities: ["read"] }]);
    await a.access.putRole(a.ctx, "operator", "r", ["all"]);
    await a.access.addUser(a.ctx, "operator", { name: "alice", password, roles: ["r"] });
    await a.access.addMachine(a.ctx, "operator", { name: "ci", roles: ["r"] });
    const { uri } = await a.access.enrollTotp(a.ctx, "operator", "alice");
    const base32 = new URL(uri.reveal()).searchParams.get("secret")!;
    const totpBytes = Buffer.from(OtpSecret.fromBase32(base32).bytes);
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++)
      tokens.push(
        (await a.access.createToken(a.ctx, "operator", { identity: "ci", policies: ["all"] })).token.reveal(),
      );
    const p = await a.access.authenticateToken(a.ctx, tokens[0]!, "127.0.0.1");
    tokens.push((await a.access.createChildToken(a.ctx, p, { ttlMinutes: 5 })).token.reveal());
    const user = await a.access.login(a.ctx, {
      name: "alice",
      password,
      totp: totpCode(new Uint8Array(totpBytes), a.clock.now().getTime()),
      ip: "127.0.0.1",
    });
    const session = (await a.access.createSession(a.ctx, user)).sessionId.reveal();
    await a.access
      .login(a.ctx, { name: "alice", password: `${password}-wrong`, ip: "127.0.0.1" })
      .catch(() => undefined);

    const needles: Buffer[] = [
      ...tokens.map((x) => Buffer.from(x)),
      ...tokens.map((x) => Buffer.from(x.slice(7, 50))), // the random part alone
      Buffer.from(password),
      Buffer.from(base32),
      totpBytes,
      Buffer.from(session),
    ];
    // Every row of every access table, as the database returns it (bytes included).
    const db = a.kw.storage.db;
    for (const table of TABLES) {
      const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db)).rows;
      assert.ok(rows.length > 0, `${table} has rows`);
      for (const row of rows)
        for (const [col, v] of Object.entries(row)) {
          const bytes = v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v));
          for (const n of needles) assert.ok(!bytes.includes(n), `${table}.${col} holds a secret`);
        }
    }
    const cred = (
      await sql<{ password_hash: string }>`select password_hash from user_credentials`.execute(db)
    ).rows[0]!;
    assert.match(cred.password_hash, /^\$argon2id\$v=19\$/);
    if (d.name === "sqlite") {
      for (const f of allFiles(a.home)) {
        const bytes = readFileSync(f);
        for (const n of needles) assert.ok(!bytes.includes(n), `${f} holds a secret`);
      }
    }
  });
}
