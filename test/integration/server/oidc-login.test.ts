/**
 * A CI job's OIDC login over HTTPS: Keywarden's `POST /api/v1/auth/oidc` and Vault's
 * `/v1/auth/jwt/login` (as hashicorp/vault-action's `method: jwt` and node-vault's `jwtLogin`
 * call it), against a local issuer speaking GitHub Actions' documents, on both databases.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import nodeVault from "node-vault";
import { createTestServer, bearer } from "../../helpers/server.ts";
import { startIssuer } from "../../helpers/oidc-issuer.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

for (const dialect of DIALECTS) {
  describe(`OIDC login (${dialect.name})`, () => {
    test("a CI job's JWT gets a short-lived token through the REST and the Vault API; refusals tell nothing", async (t) => {
      const issuer = await startIssuer(t);
      const trust = {
        identity: "ci-deployer",
        issuer: issuer.url,
        audience: "keywarden",
        claims: { repository: "acme/payments", ref: "refs/heads/main" },
        policies: ["deploy-read"],
        ttlMinutes: 10,
      };
      // A pod's service account in a cluster whose issuer this also is (EKS, GKE, AKS publish one).
      const pod = {
        identity: "orders-api",
        issuer: issuer.url,
        audience: "https://kubernetes.default.svc",
        claims: { sub: "system:serviceaccount:orders:api" },
        policies: ["deploy-read"],
        ttlMinutes: 10,
      };
      const s = await createTestServer(t, dialect, {
        https: true,
        flags: { "access.oidc": [trust, pod], "server.authFailureLimit": 6 },
      });
      const ctx = s.ctx;
      await s.kw.access.putPolicy(ctx, "operator", "deploy-read", [
        { path: "payments/prod/*", capabilities: ["read"] },
      ]);
      await s.kw.access.putRole(ctx, "operator", "deployer", ["deploy-read"]);
      await s.kw.access.addMachine(ctx, "operator", { name: "ci-deployer", roles: ["deployer"] });
      await s.kw.access.addMachine(ctx, "operator", { name: "orders-api", roles: ["deployer"] });
      const value = makeKey();
      const admin = await s.rootToken();
      const write = await s.app.inject({
        method: "PUT",
        url: "/api/v1/secrets/payments/prod/DEPLOY_KEY",
        headers: bearer(admin),
        payload: { value },
      });
      assert.equal(write.statusCode, 200, write.body);
      const now = Math.floor(s.clock.now().getTime() / 1000);
      const jwt = await issuer.sign({ now });

      // Keywarden's own route: the token and its record, as token create answers.
      const rest = await s.app.inject({
        method: "POST",
        url: "/api/v1/auth/oidc",
        payload: { identity: "ci-deployer", jwt },
      });
      assert.equal(rest.statusCode, 201, rest.body);
      const issued = rest.json<{ token: string; info: { policies: string[]; expiresAt: string } }>();
      assert.deepEqual(issued.info.policies, ["deploy-read"]);
      assert.equal(issued.info.expiresAt, new Date((now + 600) * 1000).toISOString());
      const read = await s.app.inject({
        url: "/api/v1/secrets/payments/prod/DEPLOY_KEY",
        headers: bearer(issued.token),
      });
      assert.equal(read.json<{ value: string }>().value, value);

      // Vault's route, through node-vault over HTTPS: it keeps the token it is given.
      const { url, ca } = await s.listen();
      const vault = nodeVault({ endpoint: url, requestOptions: { ca } });
      const login = (await vault.jwtLogin({ role: "ci-deployer", jwt })) as {
        auth: { client_token: string; policies: string[]; lease_duration: number; metadata: unknown };
      };
      assert.match(login.auth.client_token, /^kw_svc_/);
      assert.deepEqual(login.auth.policies, ["deploy-read"]);
      assert.equal(login.auth.lease_duration, 600);
      assert.deepEqual(login.auth.metadata, { role: "ci-deployer" });
      const viaVault = (await vault.read("secret/data/payments/prod/DEPLOY_KEY")) as {
        data: { data: { value: string } };
      };
      assert.equal(viaVault.data.data.value, value);
      // As Go's api sends it: a PUT.
      const put = (await nodeVault({ endpoint: url, requestOptions: { ca } }).request({
        path: "/auth/jwt/login",
        method: "PUT",
        json: { role: "ci-deployer", jwt },
      })) as { auth: { client_token: string } };
      assert.match(put.auth.client_token, /^kw_svc_/);
      // Vault's Kubernetes login (the Agent injector, the CSI provider): the pod's token.
      const saToken = (namespace: string) =>
        issuer.sign({
          now,
          audience: "https://kubernetes.default.svc",
          claims: {
            sub: `system:serviceaccount:${namespace}:api`,
            "kubernetes.io": { namespace, serviceaccount: { name: "api", uid: "c0ffee" } },
          },
        });
      const k8s = nodeVault({ endpoint: url, requestOptions: { ca } });
      const podLogin = (await k8s.kubernetesLogin({
        role: "orders-api",
        jwt: await saToken("orders"),
        kubernetesPath: "kubernetes",
      })) as { auth: { client_token: string; policies: string[] } };
      assert.deepEqual(podLogin.auth.policies, ["deploy-read"]);
      assert.ok(await k8s.read("secret/data/payments/prod/DEPLOY_KEY"));
      await assert.rejects(
        k8s.kubernetesLogin({
          role: "orders-api",
          jwt: await saToken("default"),
          kubernetesPath: "kubernetes",
        }),
        /OIDC login refused/,
      );

      // Refused: one error, no part of the JWT in it, whichever check failed.
      const forked = await issuer.sign({ now, claims: { repository: "mallory/payments" } });
      const refusedRest = await s.app.inject({
        method: "POST",
        url: "/api/v1/auth/oidc",
        payload: { identity: "ci-deployer", jwt: forked },
      });
      assert.equal(refusedRest.statusCode, 401);
      assert.equal(refusedRest.json<{ error: { code: string } }>().error.code, "KW_ERR_AUTH_OIDC");
      assert.ok(!refusedRest.body.includes(forked.split(".")[1]!));
      await assert.rejects(
        nodeVault({ endpoint: url, requestOptions: { ca } }).jwtLogin({ role: "ci-deployer", jwt: forked }),
        (e: Error & { response?: { statusCode: number; body: { errors: string[] } } }) => {
          assert.equal(e.response?.statusCode, 401);
          assert.deepEqual(e.response.body.errors, ["OIDC login refused"]);
          return true;
        },
      );
      // Malformed requests are 400 before any check, and echo nothing.
      const noJwt = await s.app.inject({
        method: "POST",
        url: "/api/v1/auth/oidc",
        payload: { identity: "ci-deployer" },
      });
      assert.equal(noJwt.statusCode, 400);
      const extra = await s.app.inject({
        method: "POST",
        url: "/api/v1/auth/oidc",
        payload: { identity: "ci-deployer", jwt, policies: ["root"] },
      });
      assert.equal(extra.statusCode, 400);
      assert.ok(!extra.body.includes(jwt.split(".")[1]!));
      // Junk: JSON that does not parse, a JWT longer than any platform issues, a body past
      // server.bodyLimit, a form. Each a clear 4xx that quotes nothing it was sent.
      const raw = (payload: string, type = "application/json") =>
        s.app.inject({
          method: "POST",
          url: "/api/v1/auth/oidc",
          payload,
          headers: { "content-type": type },
        });
      const junk = [
        [await raw(`{"identity":"ci-deployer","jwt":"${jwt}`), 400],
        [await raw(JSON.stringify({ identity: "ci-deployer", jwt: `${jwt}.${"A".repeat(16_384)}` })), 400],
        [await raw(JSON.stringify({ identity: "ci-deployer", jwt: "x".repeat(300 * 1024) })), 413],
        [await raw(`identity=ci-deployer&jwt=${jwt}`, "application/x-www-form-urlencoded"), 415],
      ] as const;
      for (const [r, status] of junk) {
        assert.equal(r.statusCode, status, r.body);
        assert.ok(!r.body.includes(jwt.split(".")[1]!) && !r.body.includes("xxxxxxxx"), r.body);
      }

      // Refusals count against server.authFailureLimit (6 here) per address, with the token
      // failures of every other route: past it even a good JWT waits.
      for (let i = 0; i < 3; i++) {
        const r = await s.app.inject({
          method: "POST",
          url: "/api/v1/auth/oidc",
          payload: { identity: "ci-deployer", jwt: forked },
        });
        assert.equal(r.statusCode, 401);
      }
      const blocked = await s.app.inject({
        method: "POST",
        url: "/api/v1/auth/oidc",
        payload: { identity: "ci-deployer", jwt },
      });
      assert.equal(blocked.statusCode, 429, blocked.body);
      const entries = await s.kw.audit.query({ action: "auth.oidc", limit: 100 });
      assert.equal(entries.filter((e) => e.result === "ok").length, 4);
      assert.equal(entries.filter((e) => e.result === "denied").length, 6);
      assert.ok(!JSON.stringify(entries).includes(jwt.split(".")[1]!));
    });

    test("a trust that cannot be used stops the server from starting", async (t) => {
      await assert.rejects(
        createTestServer(t, dialect, {
          flags: {
            "access.oidc": [
              {
                identity: "ci",
                issuer: "https://token.actions.githubusercontent.com",
                audience: "keywarden",
                claims: {},
                policies: ["deploy-read"],
              },
            ],
          },
        }),
        /access\.oidc\[0\].*bind at least one claim/,
      );
    });
  });
}
