import assert from "node:assert/strict";
import { test } from "node:test";
import { Secret as OtpSecret } from "otpauth";
import { isKeywardenError, type ErrorCode } from "../../../src/core/errors.ts";
import { Secret } from "../../../src/core/secret.ts";
import { formatToken } from "../../../src/core/token-format.ts";
import type { RequestContext } from "../../../src/services/audit/audit-service.ts";
import { totpCode } from "../../../src/services/access/totp.ts";
import { principalContext, vaultAuthorizer } from "../../../src/services/access/vault-authorizer.ts";
import { createTestAccess, type TestAccess } from "../../helpers/access.ts";
import { DIALECTS } from "../../helpers/storage.ts";

const PASSWORD = "correct horse battery staple";
const MIN = 60_000;

function rejectsWith(code: ErrorCode) {
  return (e: unknown): boolean => {
    assert.ok(isKeywardenError(e), String(e));
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** Two policies in one role, bound to a machine identity. */
async function payments(a: TestAccess): Promise<void> {
  await a.access.putPolicy(a.ctx, "operator", "pay-read", [
    { path: "payments/prod/*", capabilities: ["read", "list"] },
    { path: "payments/prod/ROOT_*", capabilities: ["read"], effect: "deny" },
  ]);
  await a.access.putPolicy(a.ctx, "operator", "pay-write", [
    { path: "payments/prod/*", capabilities: ["write"] },
  ]);
  await a.access.putRole(a.ctx, "operator", "pay", ["pay-read", "pay-write"]);
  await a.access.addMachine(a.ctx, "operator", { name: "payments-api", roles: ["pay"] });
}

const api: RequestContext = { actor: "anonymous", source: "ip=10.1.2.3", requestId: "req_api" };

for (const d of DIALECTS) {
  test(`${d.name}: tokens are issued with least privilege and checked for format, checksum, expiry, revocation and IP`, async (t) => {
    const a = await createTestAccess(t, d);
    await payments(a);
    const { token, info } = await a.access.createToken(a.ctx, "operator", {
      identity: "payments-api",
      policies: ["pay-read"],
      allowIps: ["10.0.0.0/8"],
      description: "payments API",
    });
    const raw = token.reveal();
    assert.match(raw, /^kw_svc_[0-9A-Za-z]{43}_[0-9A-Za-z]{6}$/);
    assert.equal(info.expiresAt, "2025-03-31T12:00:00.000Z", "30 days by default");
    assert.equal(String(token), "[Secret]");

    const p = await a.access.authenticateToken(api, raw, "10.1.2.3");
    assert.equal(p.kind, "machine");
    assert.equal(p.name, "payments-api");
    assert.equal(p.tokenId, info.id);
    assert.deepEqual(p.policies, ["pay-read"], "only what was asked, though the role holds more");
    assert.equal(await a.access.can(p, "read", "payments/prod/STRIPE_KEY"), true);
    assert.equal(await a.access.can(p, "write", "payments/prod/STRIPE_KEY"), false);
    assert.equal(await a.access.can(p, "read", "payments/dev/STRIPE_KEY"), false, "a sibling path");
    assert.equal(await a.access.can(p, "read", "payments/prod/ROOT_KEY"), false, "deny wins");
    assert.equal(await a.access.can(p, "read", "billing/prod/X"), false, "another project");
    assert.equal(await a.access.canList(p, "payments/prod/"), true);
    assert.equal(await a.access.canList(p, "payments/"), false);

    await assert.rejects(
      a.access.authenticateToken(api, raw, "192.168.0.1"),
      rejectsWith("KW_ERR_AUTH_IP_NOT_ALLOWED"),
    );
    await assert.rejects(a.access.authenticateToken(api, "", "10.1.2.3"), rejectsWith("KW_ERR_AUTH_MISSING"));
    await assert.rejects(
      a.access.authenticateToken(api, "kw_svc_abc", "10.1.2.3"),
      rejectsWith("KW_ERR_AUTH_MALFORMED"),
    );
    const flipped = raw.slice(0, 10) + (raw[10] === "A" ? "B" : "A") + raw.slice(11);
    await assert.rejects(
      a.access.authenticateToken(api, flipped, "10.1.2.3"),
      rejectsWith("KW_ERR_AUTH_CHECKSUM"),
    );
    await assert.rejects(
      a.access.authenticateToken(api, formatToken("svc"), "10.1.2.3"),
      rejectsWith("KW_ERR_AUTH_UNKNOWN"),
    );

    // Never more than the identity holds; TTL within the configured maximum.
    await a.access.putPolicy(a.ctx, "operator", "other", [{ path: "**", capabilities: ["read"] }]);
    await assert.rejects(
      a.access.createToken(a.ctx, "operator", { identity: "payments-api", policies: ["other"] }),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    await assert.rejects(
      a.access.createToken(a.ctx, "operator", {
        identity: "payments-api",
        policies: ["pay-read"],
        ttlSeconds: 91 * 86400,
      }),
      rejectsWith("KW_ERR_ACCESS_INVALID"),
    );

    // Child tokens: minutes, within the parent's scope, allow-list and life.
    const child = await a.access.createChildToken(api, p, { ttlMinutes: 10, allowIps: ["10.1.0.0/16"] });
    assert.match(child.token.reveal(), /^kw_cld_/);
    assert.equal(child.info.parentId, info.id);
    assert.equal(child.info.expiresAt, "2025-03-01T12:10:00.000Z");
    const cp = await a.access.authenticateToken(api, child.token.reveal(), "10.1.2.3");
    assert.deepEqual(cp.policies, ["pay-read"]);
    await assert.rejects(
      a.access.createChildToken(api, p, { ttlMinutes: 61 }),
      rejectsWith("KW_ERR_ACCESS_INVALID"),
    );
    await assert.rejects(
      a.access.createChildToken(api, p, { ttlMinutes: 5, policies: ["pay-write"] }),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    await assert.rejects(
      a.access.createChildToken(api, p, { ttlMinutes: 5, allowIps: ["0.0.0.0/0"] }),
      rejectsWith("KW_ERR_ACCESS_INVALID"),
    );
    await assert.rejects(
      a.access.createChildToken(api, cp, { ttlMinutes: 5 }),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
      "a child cannot have children",
    );
    a.clock.advance(11 * MIN);
    await assert.rejects(
      a.access.authenticateToken(api, child.token.reveal(), "10.1.2.3"),
      rejectsWith("KW_ERR_AUTH_EXPIRED"),
    );
    await a.access.authenticateToken(api, raw, "10.1.2.3");

    // Revoking the parent revokes its live children, at once.
    const child2 = await a.access.createChildToken(api, p, { ttlMinutes: 30 });
    assert.equal(
      await a.access.revokeToken(a.ctx, "operator", info.id),
      3,
      "itself, the expired child and the live one",
    );
    await assert.rejects(
      a.access.authenticateToken(api, raw, "10.1.2.3"),
      rejectsWith("KW_ERR_AUTH_REVOKED"),
    );
    await assert.rejects(
      a.access.authenticateToken(api, child2.token.reveal(), "10.1.2.3"),
      rejectsWith("KW_ERR_AUTH_REVOKED"),
    );

    // A role taken away is gone from live tokens at once; a disabled identity's tokens die.
    const t2 = await a.access.createToken(a.ctx, "operator", {
      identity: "payments-api",
      policies: ["pay-write"],
    });
    await a.access.unbindRole(a.ctx, "operator", "pay", "payments-api");
    assert.deepEqual((await a.access.authenticateToken(api, t2.token.reveal(), "1.2.3.4")).policies, []);
    await a.access.bindRole(a.ctx, "operator", "pay", "payments-api");
    assert.deepEqual((await a.access.authenticateToken(api, t2.token.reveal(), "1.2.3.4")).policies, [
      "pay-write",
    ]);
    await a.access.setDisabled(a.ctx, "operator", "payments-api", true);
    await assert.rejects(
      a.access.authenticateToken(api, t2.token.reveal(), "1.2.3.4"),
      rejectsWith("KW_ERR_AUTH_REVOKED"),
    );
    await a.access.setDisabled(a.ctx, "operator", "payments-api", false);
    const t3 = await a.access.createToken(a.ctx, "operator", {
      identity: "payments-api",
      policies: ["pay-write"],
      ttlSeconds: 3600,
    });
    a.clock.advance(3600 * 1000);
    await assert.rejects(
      a.access.authenticateToken(api, t3.token.reveal(), "1.2.3.4"),
      rejectsWith("KW_ERR_AUTH_EXPIRED"),
    );
    const listed = await a.access.listTokens(a.ctx, "operator", { identity: "payments-api" });
    assert.equal(listed.length, 5);
    assert.deepEqual(
      await a.access.listTokens(a.ctx, "operator", { identity: "payments-api", active: true }),
      [],
    );
  });

  test(`${d.name}: a principal manages only within its own policies, and every denial and auth failure is audited without the token`, async (t) => {
    const a = await createTestAccess(t, d);
    await payments(a);
    await a.access.putPolicy(a.ctx, "operator", "ids-admin", [
      { path: "_sys/identities/**", capabilities: ["admin"] },
      { path: "_sys/roles/**", capabilities: ["admin"] },
    ]);
    await a.access.putRole(a.ctx, "operator", "ops", ["ids-admin", "pay-read"]);
    await a.access.addUser(a.ctx, "operator", {
      name: "olivia",
      password: new Secret(PASSWORD),
      roles: ["ops"],
    });
    const olivia = await a.access.login(api, { name: "olivia", password: PASSWORD, ip: "10.0.0.1" });
    const { token: adminToken } = await a.access.createToken(api, olivia, {
      policies: ["ids-admin", "pay-read"],
    });
    const admin = await a.access.authenticateToken(api, adminToken.reveal(), "10.0.0.1");

    // She may give payments-api a token with pay-read (she holds it), not pay-write.
    const ok = await a.access.createToken(api, admin, { identity: "payments-api", policies: ["pay-read"] });
    assert.ok(Date.parse(ok.info.expiresAt) <= Date.parse(admin.expiresAt!), "never outlives its creator");
    await assert.rejects(
      a.access.createToken(api, admin, { identity: "payments-api", policies: ["pay-write"] }),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    // Without an admin policy, not even a token for someone else.
    const reader = await a.access.authenticateToken(api, ok.token.reveal(), "1.1.1.1");
    await assert.rejects(
      a.access.createToken(api, reader, { identity: "olivia", policies: [] }),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    await assert.rejects(
      a.access.putPolicy(api, reader, "mine", [{ path: "**", capabilities: ["read"] }]),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    await assert.rejects(
      a.access.require(api, reader, "read", "payments/dev/STRIPE_KEY"),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    await a.access.require(api, reader, "read", "payments/prod/STRIPE_KEY");

    // Roles too: she hands out only what she holds.
    await assert.rejects(
      a.access.putRole(api, admin, "r2", ["pay-write"]),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    assert.deepEqual((await a.access.putRole(api, admin, "r2", ["pay-read"])).policies, ["pay-read"]);
    await assert.rejects(a.access.bindRole(api, admin, "pay", "olivia"), rejectsWith("KW_ERR_ACCESS_DENIED"));
    await assert.rejects(
      a.access.addMachine(api, admin, { name: "sneaky", roles: ["pay"] }),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    await a.access.bindRole(api, admin, "r2", "olivia");

    // A child token makes nothing; a token made with a token dies with it.
    const child = await a.access.createChildToken(api, admin, { ttlMinutes: 5 });
    const childP = await a.access.authenticateToken(api, child.token.reveal(), "10.0.0.1");
    await assert.rejects(
      a.access.createToken(api, childP, { policies: ["pay-read"] }),
      rejectsWith("KW_ERR_ACCESS_DENIED"),
    );
    const grand = await a.access.createToken(api, reader, { policies: ["pay-read"] });
    assert.equal(grand.info.parentId, ok.info.id);
    assert.equal(ok.info.parentId, admin.tokenId);
    await a.access.revokeToken(a.ctx, "operator", admin.tokenId!);
    for (const raw of [ok.token, grand.token, child.token])
      await assert.rejects(
        a.access.authenticateToken(api, raw.reveal(), "10.0.0.1"),
        rejectsWith("KW_ERR_AUTH_REVOKED"),
      );

    const tried: string[] = [formatToken("svc")];
    await a.access.authenticateToken(api, tried[0]!, "9.9.9.9").catch(() => undefined);
    await a.access.authenticateToken(api, "kw_svc_short", "9.9.9.9").catch(() => undefined);
    await a.access
      .login(api, { name: "olivia", password: "wrong password here", ip: "9.9.9.9" })
      .catch(() => undefined);

    const denied = await a.kw.audit.query({});
    const byAction = (action: string) => denied.filter((e) => e.action === action && e.result === "denied");
    assert.equal(byAction("access.token.create").length, 2);
    assert.equal(byAction("access.role.put").length, 1);
    assert.equal(byAction("access.role.bind").length, 2);
    assert.equal(byAction("access.admin").length, 2, "token for someone else, policy put");
    const read = byAction("access.read");
    assert.equal(read.length, 1);
    assert.equal(read[0]!.path, "payments/dev/STRIPE_KEY");
    assert.equal(read[0]!.actor, "anonymous");
    const auth = byAction("auth.token").map((e) => e.detail ?? "");
    assert.ok(auth.some((x) => x.startsWith("KW_ERR_AUTH_UNKNOWN")));
    assert.ok(auth.some((x) => x.startsWith("KW_ERR_AUTH_MALFORMED")));
    assert.ok(
      byAction("auth.login").some((e) => e.detail?.startsWith("KW_ERR_AUTH_BAD_CREDENTIALS") === true),
    );
    const everything = JSON.stringify(denied);
    for (const secret of [...tried, adminToken.reveal(), ok.token.reveal(), PASSWORD, "wrong password here"])
      assert.ok(!everything.includes(secret), "no token or password in the audit log");
    assert.equal((await a.kw.audit.verify()).ok, true);
  });

  test(`${d.name}: passwords lock out with exponential backoff; TOTP codes are checked once`, async (t) => {
    const a = await createTestAccess(t, d);
    await a.access.addUser(a.ctx, "operator", { name: "alice", password: PASSWORD });
    await assert.rejects(
      a.access.addUser(a.ctx, "operator", { name: "alice", password: PASSWORD }),
      rejectsWith("KW_ERR_ACCESS_EXISTS"),
    );
    await assert.rejects(
      a.access.addUser(a.ctx, "operator", { name: "bob", password: "short" }),
      rejectsWith("KW_ERR_ACCESS_INVALID"),
    );
    const login = (password: string, totp?: string) =>
      a.access.login(api, { name: "alice", password, totp, ip: "10.0.0.9" });
    assert.equal((await login(PASSWORD)).name, "alice");
    await assert.rejects(
      a.access.login(api, { name: "nobody", password: PASSWORD, ip: "10.0.0.9" }),
      rejectsWith("KW_ERR_AUTH_BAD_CREDENTIALS"),
    );

    // Threshold 3, 30 s, doubling.
    for (let i = 0; i < 3; i++)
      await assert.rejects(login("nope nope nope"), rejectsWith("KW_ERR_AUTH_BAD_CREDENTIALS"));
    await assert.rejects(login(PASSWORD), (e: unknown) => {
      assert.ok(isKeywardenError(e, "KW_ERR_AUTH_LOCKED_OUT"));
      assert.equal(e.params.lockedUntil, "2025-03-01T12:00:30.000Z");
      return true;
    });
    a.clock.advance(31_000);
    await assert.rejects(login("nope nope nope"), rejectsWith("KW_ERR_AUTH_BAD_CREDENTIALS"));
    await assert.rejects(login(PASSWORD), (e: unknown) => {
      assert.ok(isKeywardenError(e, "KW_ERR_AUTH_LOCKED_OUT"));
      assert.equal(e.params.lockedUntil, "2025-03-01T12:01:31.000Z", "the 4th failure locks for 60 s");
      return true;
    });
    a.clock.advance(61_000);
    assert.equal((await login(PASSWORD)).name, "alice", "a success after the lock resets the count");
    await assert.rejects(login("nope nope nope"), rejectsWith("KW_ERR_AUTH_BAD_CREDENTIALS"));
    assert.equal((await login(PASSWORD)).name, "alice", "one failure after a reset does not lock");

    const { uri } = await a.access.enrollTotp(a.ctx, "operator", "alice");
    const base32 = new URL(uri.reveal()).searchParams.get("secret")!;
    const secret = new Uint8Array(OtpSecret.fromBase32(base32).bytes);
    await assert.rejects(
      login(PASSWORD),
      rejectsWith("KW_ERR_AUTH_BAD_CREDENTIALS"),
      "the code is required now",
    );
    const code = totpCode(secret, a.clock.now().getTime());
    assert.equal((await login(PASSWORD, code)).name, "alice");
    await assert.rejects(login(PASSWORD, code), rejectsWith("KW_ERR_AUTH_BAD_CREDENTIALS"), "no replay");
    a.clock.advance(30_000);
    assert.equal((await login(PASSWORD, totpCode(secret, a.clock.now().getTime()))).name, "alice");
    await assert.rejects(
      login("nope nope nope", totpCode(secret, a.clock.now().getTime() + 30_000)),
      rejectsWith("KW_ERR_AUTH_BAD_CREDENTIALS"),
    );

    await a.access.setDisabled(a.ctx, "operator", "alice", true);
    a.clock.advance(30_000);
    await assert.rejects(
      login(PASSWORD, totpCode(secret, a.clock.now().getTime())),
      rejectsWith("KW_ERR_AUTH_DISABLED"),
    );
    // Concurrent guesses are counted one by one: no more than the threshold get a password check.
    await a.access.addUser(a.ctx, "operator", { name: "carol", password: PASSWORD });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        a.access.login(api, { name: "carol", password: "guess guess guess", ip: "10.0.0.9" }),
      ),
    );
    const codes = results.map((r) =>
      r.status === "rejected" && isKeywardenError(r.reason) ? r.reason.code : "?",
    );
    assert.equal(codes.filter((c) => c === "KW_ERR_AUTH_BAD_CREDENTIALS").length, 3, codes.join(" "));
    assert.equal(codes.filter((c) => c === "KW_ERR_AUTH_LOCKED_OUT").length, 7, codes.join(" "));

    const users = await a.access.listIdentities(a.ctx, "operator", "user");
    assert.deepEqual(
      users.map((u) => [u.name, u.disabled, u.totp]),
      [
        ["alice", true, true],
        ["carol", false, false],
      ],
    );
  });

  test(`${d.name}: dashboard sessions expire when idle and at their absolute limit`, async (t) => {
    const a = await createTestAccess(t, d);
    await a.access.addUser(a.ctx, "operator", { name: "alice", password: PASSWORD });
    const p = await a.access.login(api, { name: "alice", password: PASSWORD, ip: "10.0.0.9" });
    const s = await a.access.createSession(api, p);
    const sid = s.sessionId.reveal();
    assert.equal(s.idleExpiresAt, "2025-03-01T12:30:00.000Z");
    assert.equal(s.expiresAt, "2025-03-02T00:00:00.000Z");
    // Used every 29 minutes, it lives to its absolute limit and no further.
    for (let i = 0; i < 24; i++) {
      a.clock.advance(29 * MIN);
      assert.equal((await a.access.authenticateSession(api, sid, "10.0.0.9")).name, "alice", `use ${i}`);
    }
    a.clock.advance(29 * MIN);
    await assert.rejects(
      a.access.authenticateSession(api, sid, "10.0.0.9"),
      rejectsWith("KW_ERR_AUTH_EXPIRED"),
    );

    const idle = (await a.access.createSession(api, p)).sessionId.reveal();
    a.clock.advance(31 * MIN);
    await assert.rejects(
      a.access.authenticateSession(api, idle, "10.0.0.9"),
      rejectsWith("KW_ERR_AUTH_EXPIRED"),
    );

    const ended = (await a.access.createSession(api, p)).sessionId.reveal();
    await a.access.endSession(api, ended);
    await assert.rejects(
      a.access.authenticateSession(api, ended, "10.0.0.9"),
      rejectsWith("KW_ERR_AUTH_EXPIRED"),
    );
    await assert.rejects(
      a.access.authenticateSession(api, "x".repeat(43), "10.0.0.9"),
      rejectsWith("KW_ERR_AUTH_UNKNOWN"),
    );
  });

  test(`${d.name}: the vault authorizer lets a token's principal reach exactly its paths`, async (t) => {
    const a = await createTestAccess(t, d);
    await payments(a);
    for (const path of ["payments/prod/STRIPE_KEY", "payments/prod/ROOT_KEY", "payments/dev/STRIPE_KEY"])
      await a.kw.vault.set(a.ctx, path, new Secret(`value-of-${path}`));
    const kw = await a.reopen({ authorize: vaultAuthorizer(() => a.access) });
    const { token } = await a.access.createToken(a.ctx, "operator", {
      identity: "payments-api",
      policies: ["pay-read"],
    });
    const p = await a.access.authenticateToken(api, token.reveal(), "10.0.0.1");
    const ctx = principalContext(p, "ip=10.0.0.1", "req_1");
    assert.equal(
      (await kw.vault.get(ctx, "payments/prod/STRIPE_KEY")).value.reveal(),
      "value-of-payments/prod/STRIPE_KEY",
    );
    await assert.rejects(kw.vault.get(ctx, "payments/dev/STRIPE_KEY"), rejectsWith("KW_ERR_VAULT_DENIED"));
    await assert.rejects(kw.vault.get(ctx, "payments/prod/ROOT_KEY"), rejectsWith("KW_ERR_VAULT_DENIED"));
    await assert.rejects(
      kw.vault.set(ctx, "payments/prod/STRIPE_KEY", new Secret("x")),
      rejectsWith("KW_ERR_VAULT_DENIED"),
    );
    // payments/prod/ROOT_KEY is denied for read only, so listing the environment is allowed.
    assert.equal((await kw.vault.list(ctx, "payments/prod/")).length, 2);
    await assert.rejects(kw.vault.list(ctx, "payments/"), rejectsWith("KW_ERR_VAULT_DENIED"));
    await assert.rejects(kw.vault.list(ctx, ""), rejectsWith("KW_ERR_VAULT_DENIED"));
    // A context that carries no principal (or another actor's) is denied.
    await assert.rejects(kw.vault.get(a.ctx, "payments/prod/STRIPE_KEY"), rejectsWith("KW_ERR_VAULT_DENIED"));
    await assert.rejects(
      kw.vault.get({ ...ctx, actor: "mid_someone_else" }, "payments/prod/STRIPE_KEY"),
      rejectsWith("KW_ERR_VAULT_DENIED"),
    );
    const denials = (await kw.audit.query({ actor: p.id })).filter((e) => e.result === "denied");
    assert.ok(denials.length >= 5, "the vault audits each denial");
  });

  test(`${d.name}: an authenticated token is remembered only until anything it depends on changes, whoever changes it`, async (t) => {
    const a = await createTestAccess(t, d);
    await payments(a);
    const issue = async () =>
      (await a.access.createToken(a.ctx, "operator", { identity: "payments-api", policies: ["pay-read"] }))
        .token;
    const first = (await issue()).reveal();
    const p1 = await a.access.authenticateToken(api, first, "10.0.0.1");
    assert.equal(
      await a.access.authenticateToken(api, first, "10.0.0.1"),
      p1,
      "the second check is a cache hit",
    );
    const second = (await issue()).reveal();
    assert.equal(await a.access.authenticateToken(api, first, "10.0.0.1"), p1, "a new token changes nothing");

    // Plain SQL, as another server or process would commit it: the triggers bump the epoch.
    const db = a.kw.storage.db;
    await db
      .updateTable("policies")
      .set({ rules: JSON.stringify([{ path: "payments/dev/*", capabilities: ["read"] }]) })
      .where("name", "=", "pay-read")
      .execute();
    const p2 = await a.access.authenticateToken(api, first, "10.0.0.1");
    assert.notEqual(p2, p1);
    assert.equal(await a.access.can(p2, "read", "payments/prod/STRIPE_KEY"), false, "the new rules at once");
    assert.equal(await a.access.can(p2, "read", "payments/dev/STRIPE_KEY"), true);

    const row = await db
      .selectFrom("tokens")
      .select("id")
      .where("revoked_at", "is", null)
      .orderBy("created_at")
      .executeTakeFirstOrThrow();
    await db
      .updateTable("tokens")
      .set({ revoked_at: "2025-03-01T12:00:00.000Z" })
      .where("id", "=", row.id)
      .execute();
    await assert.rejects(
      a.access.authenticateToken(api, first, "10.0.0.1"),
      rejectsWith("KW_ERR_AUTH_REVOKED"),
    );

    await a.access.authenticateToken(api, second, "10.0.0.1");
    await db.deleteFrom("role_bindings").execute();
    assert.deepEqual(
      (await a.access.authenticateToken(api, second, "10.0.0.1")).policies,
      [],
      "the role is gone",
    );
    await db
      .updateTable("identities")
      .set({ disabled_at: "2025-03-01T12:00:00.000Z" })
      .where("name", "=", "payments-api")
      .execute();
    await assert.rejects(
      a.access.authenticateToken(api, second, "10.0.0.1"),
      rejectsWith("KW_ERR_AUTH_DISABLED"),
    );
    const denials = await a.kw.audit.query({ action: "auth.token" });
    assert.equal(
      denials.filter((e) => e.result === "denied").length,
      2,
      "refusals after a cache hit are audited",
    );
  });
}
