/**
 * OIDC federation (services/access/oidc.ts) against a local issuer that speaks what GitHub
 * Actions' does (discovery, JWKS, RS256 JWTs made at run time), on a real access service.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { isKeywardenError, type ErrorCode } from "../../../src/core/errors.ts";
import { formatToken } from "../../../src/core/token-format.ts";
import { sha256Hex } from "../../../src/services/access/access-service.ts";
import { checkTrusts, createOidcLogin, type OidcTrust } from "../../../src/services/access/oidc.ts";
import type { RequestContext } from "../../../src/services/audit/audit-service.ts";
import { createTestAccess, type TestAccess } from "../../helpers/access.ts";
import { startIssuer, type TestIssuer } from "../../helpers/oidc-issuer.ts";
import { runCliInProcess } from "../../helpers/cli.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { tempDir } from "../../helpers/tmp.ts";

const job: RequestContext = { actor: "anonymous", source: "ip=10.1.2.3", requestId: "req_job" };

function rejectsWith(code: ErrorCode) {
  return (e: unknown): boolean => {
    assert.ok(isKeywardenError(e), String(e));
    assert.equal(e.code, code, e.message);
    return true;
  };
}

/** A machine identity holding deploy-read, and the trust of acme/payments' main branch in it. */
async function setUp(a: TestAccess, issuer: TestIssuer, trust: Partial<OidcTrust> = {}) {
  await a.access.putPolicy(a.ctx, "operator", "deploy-read", [
    { path: "payments/prod/*", capabilities: ["read"] },
  ]);
  await a.access.putPolicy(a.ctx, "operator", "deploy-write", [
    { path: "payments/prod/*", capabilities: ["write"] },
  ]);
  await a.access.putRole(a.ctx, "operator", "deployer", ["deploy-read", "deploy-write"]);
  await a.access.addMachine(a.ctx, "operator", { name: "ci-deployer", roles: ["deployer"] });
  const main: OidcTrust = {
    identity: "ci-deployer",
    issuer: issuer.url,
    audience: "keywarden",
    claims: { repository: "acme/payments", ref: "refs/heads/main" },
    policies: ["deploy-read"],
    ttlMinutes: 15,
    jwksUrl: "",
    ...trust,
  };
  // A second trust of the same identity: release tags, by pattern.
  const tags: OidcTrust = { ...main, claims: { repository: "acme/payments", ref: "refs/tags/v*" } };
  return createOidcLogin({
    trusts: [main, tags],
    access: a.access,
    audit: a.kw.audit,
    nowSeconds: () => Math.floor(a.clock.now().getTime() / 1000),
    keyRefetchCooldownMs: 0,
  });
}

for (const d of DIALECTS) {
  test(`${d.name}: a CI job's JWT logs it in as the identity that trusts its issuer and claims, for minutes`, async (t) => {
    const a = await createTestAccess(t, d);
    const issuer = await startIssuer(t);
    const oidc = await setUp(a, issuer);
    const now = Math.floor(a.clock.now().getTime() / 1000);

    const issued = await oidc.login(job, { identity: "ci-deployer", jwt: await issuer.sign({ now }) });
    assert.match(issued.token.reveal(), /^kw_svc_/);
    // Exactly the trust's policies (not the identity's other one), for its ttl, no parent.
    assert.deepEqual(issued.info.policies, ["deploy-read"]);
    assert.equal(issued.info.expiresAt, new Date((now + 15 * 60) * 1000).toISOString());
    assert.equal(issued.info.parentId, null);
    assert.match(issued.info.description, /^oidc repo:acme\/payments:ref:refs\/heads\/main$/);
    const principal = await a.access.authenticateToken(job, issued.token.reveal(), "10.1.2.3");
    assert.equal(principal.name, "ci-deployer");
    assert.equal(await a.access.can(principal, "read", "payments/prod/DB_URL"), true);
    assert.equal(await a.access.can(principal, "write", "payments/prod/DB_URL"), false);
    // The second trust takes a release tag by its pattern.
    const tagged = await issuer.sign({ now, claims: { ref: "refs/tags/v1.4.0" } });
    assert.ok(await oidc.login(job, { identity: "ci-deployer", jwt: tagged }));
    // Discovery and keys were fetched once for both logins.
    assert.deepEqual(issuer.fetched, { discovery: 1, jwks: 1 });

    // The issuer rotates its key: a JWT with the new key id makes Keywarden fetch the keys again.
    await issuer.rotate();
    assert.ok(await oidc.login(job, { identity: "ci-deployer", jwt: await issuer.sign({ now }) }));
    assert.equal(issuer.fetched.jwks, 2);

    // Each refusal is the same error to the caller, audited with why and no part of the JWT.
    const other = await issuer.foreignKey(false);
    const sameKid = await issuer.foreignKey(true);
    const refused: [string, string, RegExp][] = [
      [
        "another repository",
        await issuer.sign({ now, claims: { repository: "mallory/payments" } }),
        /claim repository does not match/,
      ],
      [
        "a feature branch",
        await issuer.sign({ now, claims: { ref: "refs/heads/feature" } }),
        /claim ref does not match/,
      ],
      [
        "a pull request, no ref",
        await issuer.sign({ now, claims: { ref: undefined } }),
        /claim ref does not match/,
      ],
      [
        "another audience",
        await issuer.sign({ now, audience: "vault" }),
        /ERR_JWT_CLAIM_VALIDATION_FAILED aud/,
      ],
      ["expired", await issuer.sign({ now: now - 600 }), /ERR_JWT_EXPIRED/],
      ["not yet valid", await issuer.sign({ now: now + 600 }), /ERR_JWT_CLAIM_VALIDATION_FAILED nbf/],
      ["a key it never published", await issuer.sign({ now, key: other }), /ERR_JWKS_NO_MATCHING_KEY/],
      [
        "a forged key under its key id",
        await issuer.sign({ now, key: sameKid }),
        /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
      ],
      [
        "another issuer",
        await issuer.sign({ now, issuer: "https://token.actions.githubusercontent.com" }),
        /no trust for this identity and issuer/,
      ],
      [
        "alg none",
        new UnsecuredJWT({ repository: "acme/payments", ref: "refs/heads/main" })
          .setIssuer(issuer.url)
          .setAudience("keywarden")
          .setExpirationTime(now + 300)
          .encode(),
        /ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID/,
      ],
      [
        "HS256 with a made-up secret",
        await new SignJWT({ repository: "acme/payments", ref: "refs/heads/main" })
          .setProtectedHeader({ alg: "HS256", kid: "key-2" })
          .setIssuer(issuer.url)
          .setAudience("keywarden")
          .setExpirationTime(now + 300)
          .sign(new TextEncoder().encode("a shared secret nobody should accept")),
        /ERR_JOSE_ALG_NOT_ALLOWED/,
      ],
      ["not a JWT", "eyJhbGciOi.not-a-jwt", /not a JWT/],
    ];
    for (const [why, jwt] of refused)
      await assert.rejects(
        oidc.login(job, { identity: "ci-deployer", jwt }),
        rejectsWith("KW_ERR_AUTH_OIDC"),
        why,
      );
    // An identity no trust names, with a good JWT.
    await a.access.addMachine(a.ctx, "operator", { name: "billing-app", roles: [] });
    await assert.rejects(
      oidc.login(job, { identity: "billing-app", jwt: await issuer.sign({ now }) }),
      rejectsWith("KW_ERR_AUTH_OIDC"),
    );
    // A key pasted as the identity is masked in the audit entry.
    const pasted = formatToken("svc");
    await assert.rejects(
      oidc.login(job, { identity: pasted, jwt: await issuer.sign({ now }) }),
      rejectsWith("KW_ERR_AUTH_OIDC"),
    );
    const denied = await a.kw.audit.query({ action: "auth.oidc", limit: 100 });
    assert.ok(!JSON.stringify(denied).includes(pasted));
    const details = denied.filter((e) => e.result === "denied").map((e) => e.detail);
    assert.equal(details.length, refused.length + 2);
    refused.forEach(([why, , reason], i) => {
      assert.match(details[i] ?? "", reason, why);
    });
    const log = JSON.stringify(denied);
    for (const [why, jwt] of refused)
      assert.ok(!log.includes(jwt.split(".")[1] ?? jwt), `${why}: JWT in the log`);
    // Logins are audited too, with the identity as actor.
    const ok = denied.filter((e) => e.result === "ok");
    assert.equal(ok.length, 3);
    assert.ok(
      ok.every((e) => e.actor.startsWith("mid_") || e.actor.startsWith("idn_")),
      JSON.stringify(ok),
    );

    // A disabled identity gets nothing, however good its JWT; nor one that lost the policy.
    await a.access.setDisabled(a.ctx, "operator", "ci-deployer", true);
    await assert.rejects(
      oidc.login(job, { identity: "ci-deployer", jwt: await issuer.sign({ now }) }),
      rejectsWith("KW_ERR_AUTH_OIDC"),
    );
    await a.access.setDisabled(a.ctx, "operator", "ci-deployer", false);
    await a.access.putRole(a.ctx, "operator", "deployer", ["deploy-write"]);
    await assert.rejects(
      oidc.login(job, { identity: "ci-deployer", jwt: await issuer.sign({ now }) }),
      rejectsWith("KW_ERR_AUTH_OIDC"),
    );
    // (The access service records the policy it refused, the login why it was refused.)
    const last = (await a.kw.audit.query({ action: "auth.oidc", limit: 100 })).slice(-3);
    assert.deepEqual(
      last.map((e) => e.detail),
      [
        "KW_ERR_AUTH_OIDC ci-deployer: trusted JWT, but KW_ERR_AUTH_DISABLED",
        "KW_ERR_ACCESS_DENIED ci-deployer does not hold deploy-read",
        "KW_ERR_AUTH_OIDC ci-deployer: trusted JWT, but KW_ERR_ACCESS_DENIED",
      ],
    );
  });
}

for (const d of DIALECTS) {
  test(`${d.name}: a single-use trust takes each JWT once, also when two logins race for it; a reusable one does not`, async (t) => {
    const a = await createTestAccess(t, d);
    const issuer = await startIssuer(t);
    const oidc = await setUp(a, issuer, { singleUse: true });
    const now = Math.floor(a.clock.now().getTime() / 1000);
    const jwt = await issuer.sign({ now });
    assert.ok(await oidc.login(job, { identity: "ci-deployer", jwt }));
    // Copied from the job's log after use: nothing.
    await assert.rejects(oidc.login(job, { identity: "ci-deployer", jwt }), rejectsWith("KW_ERR_AUTH_OIDC"));
    const [entry] = (await a.kw.audit.query({ action: "auth.oidc", limit: 100 })).slice(-1);
    assert.equal(entry?.detail, "KW_ERR_AUTH_OIDC ci-deployer: trusted JWT, but KW_ERR_AUTH_JWT_USED");
    assert.equal((await a.access.listTokens(a.ctx, "operator", { identity: "ci-deployer" })).length, 1);
    // Kept: the SHA-256 of the signed part until the JWT expires, nothing of the JWT itself.
    const kept = await a.kw.storage.db.selectFrom("oidc_used_jwts").selectAll().execute();
    assert.deepEqual(kept, [
      {
        digest: sha256Hex(jwt.slice(0, jwt.lastIndexOf("."))),
        expires_at: new Date((now + 300 + 30) * 1000).toISOString(),
      },
    ]);
    for (const part of jwt.split(".")) assert.ok(!JSON.stringify(kept).includes(part));

    // Two logins with one new JWT at once: one token.
    const raced = await issuer.sign({ now });
    const results = await Promise.allSettled([
      oidc.login(job, { identity: "ci-deployer", jwt: raced }),
      oidc.login(job, { identity: "ci-deployer", jwt: raced }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);

    // Past their expiry the JWTs are forgotten at the next login.
    a.clock.advance(331_000);
    const later = Math.floor(a.clock.now().getTime() / 1000);
    assert.ok(await oidc.login(job, { identity: "ci-deployer", jwt: await issuer.sign({ now: later }) }));
    assert.equal((await a.kw.storage.db.selectFrom("oidc_used_jwts").selectAll().execute()).length, 1);

    // A reusable trust (the default, as Vault's) takes the same JWT again and keeps nothing.
    const reusable = await setUp(await createTestAccess(t, d), issuer);
    const again = await issuer.sign({ now });
    assert.ok(await reusable.login(job, { identity: "ci-deployer", jwt: again }));
    assert.ok(await reusable.login(job, { identity: "ci-deployer", jwt: again }));
  });
}

test("nested claims by JSON pointer and list claims by any item: a pod's service account token", async (t) => {
  const a = await createTestAccess(t, DIALECTS[0]!);
  const issuer = await startIssuer(t);
  // A Kubernetes service account token nests its namespace and account; a group list as Azure's.
  const oidc = await setUp(a, issuer, {
    claims: {
      "/kubernetes.io/namespace": "orders",
      "/kubernetes.io/serviceaccount/name": "api-*",
      "/a~1b/c~0d": "escaped",
      groups: "deployers",
    },
  });
  const now = Math.floor(a.clock.now().getTime() / 1000);
  const pod = (over: Record<string, unknown> = {}) =>
    issuer.sign({
      now,
      claims: {
        "kubernetes.io": { namespace: "orders", serviceaccount: { name: "api-v2", uid: "7f3c" } },
        "a/b": { "c~d": "escaped" },
        groups: ["readers", "deployers"],
        ...over,
      },
    });
  assert.ok(await oidc.login(job, { identity: "ci-deployer", jwt: await pod() }));
  const refused: [string, Record<string, unknown>, RegExp][] = [
    [
      "another namespace",
      { "kubernetes.io": { namespace: "billing", serviceaccount: { name: "api-v2" } } },
      /claim \/kubernetes.io\/namespace does not match orders/,
    ],
    [
      "another account",
      { "kubernetes.io": { namespace: "orders", serviceaccount: { name: "worker" } } },
      /claim \/kubernetes.io\/serviceaccount\/name does not match/,
    ],
    [
      "the namespace at the top level, not nested",
      { "kubernetes.io": undefined, namespace: "orders" },
      /claim \/kubernetes.io\/namespace does not match/,
    ],
    ["an object where a value is bound", { "kubernetes.io": { namespace: { name: "orders" } } }, /namespace/],
    ["no group of the list", { groups: ["readers", "auditors"] }, /claim groups does not match deployers/],
    ["a list of objects", { groups: [{ name: "deployers" }] }, /claim groups does not match/],
    [
      "the escaped name unescaped",
      { "a/b": undefined, a: { b: { "c~d": "escaped" } } },
      /claim \/a~1b\/c~0d/,
    ],
  ];
  for (const [why, over, reason] of refused) {
    await assert.rejects(
      oidc.login(job, { identity: "ci-deployer", jwt: await pod(over) }),
      rejectsWith("KW_ERR_AUTH_OIDC"),
      why,
    );
    const [entry] = (await a.kw.audit.query({ action: "auth.oidc", limit: 1000 })).slice(-1);
    assert.match(entry?.detail ?? "", reason, why);
  }
});

test("an issuer that does not answer refuses the login, and the next login tries again", async (t) => {
  const a = await createTestAccess(t, DIALECTS[0]!);
  const issuer = await startIssuer(t);
  const oidc = await setUp(a, issuer);
  const now = Math.floor(a.clock.now().getTime() / 1000);
  const jwt = await issuer.sign({ now });
  issuer.down = true;
  await assert.rejects(oidc.login(job, { identity: "ci-deployer", jwt }), rejectsWith("KW_ERR_AUTH_OIDC"));
  const [entry] = await a.kw.audit.query({ action: "auth.oidc", limit: 1 });
  assert.match(entry?.detail ?? "", /discovery answered 503/);
  issuer.down = false;
  assert.ok(await oidc.login(job, { identity: "ci-deployer", jwt }));
});

test("a trust that binds no claim, or is reached over plain HTTP elsewhere than loopback, is refused at start", () => {
  const base: OidcTrust = {
    identity: "ci",
    issuer: "https://token.actions.githubusercontent.com",
    audience: "keywarden",
    claims: { repository: "acme/payments" },
    policies: ["deploy-read"],
    ttlMinutes: 15,
    jwksUrl: "",
  };
  checkTrusts([base]);
  checkTrusts([{ ...base, issuer: "http://127.0.0.1:8080" }]);
  const refusals: [Partial<OidcTrust>, RegExp][] = [
    [{ claims: {} }, /bind at least one claim/],
    [{ claims: { repository: "acme/payments", ref: "*" } }, /claim ref = "\*" binds nothing/],
    [{ claims: { "/": "x" } }, /claim \/ is not a JSON pointer/],
    [{ claims: { "/a//b": "x" } }, /claim \/a\/\/b is not a JSON pointer/],
    [{ claims: { "/a~2": "x" } }, /claim \/a~2 is not a JSON pointer/],
    [{ issuer: "http://issuer.example" }, /issuer must be https/],
    [{ jwksUrl: "ftp://issuer.example/jwks" }, /jwksUrl must be https/],
    [{ issuer: "not a url" }, /issuer is not a URL/],
    [{ policies: [] }, /name the policies/],
  ];
  for (const [change, reason] of refusals)
    assert.throws(
      () => {
        checkTrusts([base, { ...base, ...change }]);
      },
      (e: unknown) => {
        assert.ok(isKeywardenError(e, "KW_ERR_CONFIG_INVALID"));
        assert.match(e.message, /access\.oidc\[1\]/);
        assert.match(e.message, reason);
        return true;
      },
    );
});

test("keywarden oidc check: the JWT's claims, and what each trust of the identity says of it", async (t) => {
  const issuer = await startIssuer(t);
  const base = {
    identity: "ci-deployer",
    issuer: issuer.url,
    audience: "keywarden",
    policies: ["deploy-read"],
  };
  const env = {
    KEYWARDEN_HOME: tempDir(t),
    KEYWARDEN_ACCESS_OIDC: JSON.stringify([
      { ...base, claims: { repository: "acme/payments", ref: "refs/heads/main" } },
      { ...base, claims: { repository: "acme/payments", ref: "refs/tags/v*" } },
      { ...base, identity: "other", claims: { repository: "acme/other" } },
    ]),
  };
  const now = Math.floor(Date.now() / 1000);
  const check = (jwt: string, identity = "ci-deployer") =>
    runCliInProcess(env, ["oidc", "check", identity], jwt);

  const main = await issuer.sign({ now });
  const ok = await check(main);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`^JWT of ${issuer.url} for keywarden, issued \\S+, expires \\S+\\n`));
  assert.match(ok.stdout, /\n {2}ref = refs\/heads\/main\n/);
  assert.match(ok.stdout, /\n {2}repository = acme\/payments\n/);
  assert.match(ok.stdout, /access\.oidc\[0\] \(http:\/\/127\.0\.0\.1:\d+\): ok\n/);
  assert.match(ok.stdout, /access\.oidc\[1\] \(\S+\): claim ref does not match refs\/tags\/v\*\n/);
  assert.ok(!ok.stdout.includes("access.oidc[2]"), "only the identity's trusts");
  assert.ok(!ok.stdout.includes(main.split(".")[2]!), "the JWT is not printed");

  const fork = await check(await issuer.sign({ now, claims: { repository: "mallory/payments" } }));
  assert.equal(fork.code, 1, "no trust accepts it");
  assert.match(fork.stdout, /access\.oidc\[0\] \(\S+\): claim repository does not match acme\/payments/);
  const expired = await check(await issuer.sign({ now: now - 3600 }));
  assert.match(expired.stdout, /access\.oidc\[0\] \(\S+\): ERR_JWT_EXPIRED exp/);
  const garbage = await check("not a jwt");
  assert.equal(garbage.code, 1);
  assert.match(garbage.stdout, /^access\.oidc\[0\] \(\S+\): not a JWT\n/);
  const nobody = await check(main, "billing-app");
  assert.equal(nobody.code, 2);
  assert.match(nobody.stderr, /no trust in access\.oidc names the identity billing-app/);
});
