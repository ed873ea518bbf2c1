/**
 * A CI job with no stored token: `keywarden serve` trusts a (local) OIDC issuer for the
 * identity ci-deployer, and the CLI, given KEYWARDEN_OIDC_IDENTITY, gets the job's JWT from
 * GitHub Actions' token service (a local server speaking its documented request and answer)
 * or from KEYWARDEN_OIDC_TOKEN (GitLab's id_tokens), trades it for a short-lived token at the
 * server and reads the secrets it may.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CHEAP_ARGON2_ENV, type CliRun, runCli, runCliInProcess } from "../helpers/cli.ts";
import { startIssuer } from "../helpers/oidc-issuer.ts";
import { spawnServe } from "../helpers/serve-process.ts";
import { tempDir } from "../helpers/tmp.ts";

test("a CI job logs in with its OIDC token and reads its secrets, with no Keywarden token stored", async (t) => {
  const dir = tempDir(t);
  const issuer = await startIssuer(t);
  const serverEnv = {
    KEYWARDEN_HOME: join(dir, "server"),
    KEYWARDEN_PASSPHRASE: "e2e oidc passphrase, not a real one",
    KEYWARDEN_ACCESS_OIDC: JSON.stringify([
      {
        identity: "ci-deployer",
        issuer: issuer.url,
        audience: "keywarden",
        claims: { repository: "acme/payments", ref: "refs/heads/main" },
        policies: ["deploy-read"],
        ttlMinutes: 5,
      },
    ]),
    ...CHEAP_ARGON2_ENV,
  };
  const ok = (args: string[], input = ""): string => {
    const r = runCli(args, { cwd: dir, env: serverEnv, input });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  ok(["init"]);
  ok(["policy", "put", "deploy-read", "--allow", "payments/prod/*:read"]);
  ok(["role", "put", "deployer", "--policy", "deploy-read"]);
  ok(["machine", "add", "ci-deployer", "--role", "deployer"]);
  const value = `pg://deploy:${randomBytes(12).toString("hex")}@db/payments`;
  ok(["secrets", "set", "payments/prod/DB_URL"], value);
  const server = await spawnServe(t, serverEnv, [], { built: true });

  // GitHub Actions' token service: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=..., with the
  // job's request token as a bearer, answers { count, value }.
  const requestToken = randomBytes(24).toString("hex");
  const asked: string[] = [];
  const service = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    asked.push(url.searchParams.get("audience") ?? "");
    if (req.headers.authorization !== `bearer ${requestToken}`) {
      res.writeHead(403, { "content-type": "application/json" });
      res.end('{"message":"Forbidden"}');
      return;
    }
    void issuer
      .sign({ now: Math.floor(Date.now() / 1000), audience: url.searchParams.get("audience") ?? "" })
      .then((jwt) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ count: jwt.length, value: jwt }));
      });
  });
  service.listen(0, "127.0.0.1");
  await once(service, "listening");
  t.after(
    () =>
      new Promise<void>((r) =>
        service.close(() => {
          r();
        }),
      ),
  );
  const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/_apis/token?api-version=2.0`;

  const job = {
    KEYWARDEN_HOME: join(dir, "job"),
    KEYWARDEN_ADDR: server.url.origin,
    KEYWARDEN_FINGERPRINT: server.fingerprint,
    KEYWARDEN_OIDC_IDENTITY: "ci-deployer",
    ACTIONS_ID_TOKEN_REQUEST_URL: serviceUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
  };
  const leaks = (r: CliRun): void => {
    assert.ok(!`${r.stdout}${r.stderr}`.includes(requestToken), "the request token in the output");
  };

  const got = await runCliInProcess(job, ["secrets", "get", "payments/prod/DB_URL"]);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, value);
  assert.deepEqual(asked, ["keywarden"], "the JWT was asked for the trust's audience");
  const exported = await runCliInProcess(job, ["export", "payments/prod", "--format", "json"]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.deepEqual(JSON.parse(exported.stdout), { DB_URL: value });

  // GitLab's way: the JWT itself in KEYWARDEN_OIDC_TOKEN.
  const jwt = await issuer.sign({ now: Math.floor(Date.now() / 1000) });
  const gitlab = await runCliInProcess(
    {
      KEYWARDEN_HOME: join(dir, "job"),
      KEYWARDEN_ADDR: server.url.origin,
      KEYWARDEN_FINGERPRINT: server.fingerprint,
      KEYWARDEN_OIDC_IDENTITY: "ci-deployer",
      KEYWARDEN_OIDC_TOKEN: jwt,
    },
    ["secrets", "get", "payments/prod/DB_URL"],
  );
  assert.equal(gitlab.stdout, value, gitlab.stderr);

  // Refused: the JWT for another audience, an identity no trust names, a request token the
  // service refuses, no JWT at all. Each exits 2 with its code, echoing no token.
  const otherAudience = await runCliInProcess({ ...job, KEYWARDEN_OIDC_AUDIENCE: "vault" }, [
    "secrets",
    "get",
    "payments/prod/DB_URL",
  ]);
  assert.equal(otherAudience.code, 2);
  assert.match(otherAudience.stderr, /KW_ERR_AUTH_OIDC: OIDC login refused/);
  leaks(otherAudience);
  const stranger = await runCliInProcess({ ...job, KEYWARDEN_OIDC_IDENTITY: "billing-app" }, [
    "secrets",
    "get",
    "payments/prod/DB_URL",
  ]);
  assert.match(stranger.stderr, /KW_ERR_AUTH_OIDC/);
  const forbidden = await runCliInProcess({ ...job, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "wrong" }, [
    "secrets",
    "get",
    "payments/prod/DB_URL",
  ]);
  assert.equal(forbidden.code, 2);
  assert.match(forbidden.stderr, /KW_ERR_REMOTE_OIDC: .*GitHub's token service answered 403/);
  const nothing = await runCliInProcess(
    {
      KEYWARDEN_HOME: join(dir, "job"),
      KEYWARDEN_ADDR: server.url.origin,
      KEYWARDEN_FINGERPRINT: server.fingerprint,
      KEYWARDEN_OIDC_IDENTITY: "ci-deployer",
    },
    ["secrets", "get", "payments/prod/DB_URL"],
  );
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /KW_ERR_REMOTE_OIDC: .*permissions: id-token: write/);
  for (const r of [got, exported, gitlab, otherAudience, stranger, forbidden, nothing]) {
    leaks(r);
    assert.ok(!r.stderr.includes(jwt.split(".")[1]!), "a JWT in the output");
  }

  // Neither the server's home (its database included) nor its log holds a JWT, a token or
  // the value: Keywarden's own scanner finds nothing there.
  assert.equal(await server.stop(), 0);
  writeFileSync(join(serverEnv.KEYWARDEN_HOME, "serve.log"), `${server.stdout()}\n${server.stderr()}`);
  const scan = runCli(["scan", "--no-gitignore", serverEnv.KEYWARDEN_HOME], {
    cwd: dir,
    env: CHEAP_ARGON2_ENV,
  });
  assert.equal(scan.code, 0, scan.stdout);
  assert.match(scan.stdout, /^0 findings in [1-9]\d* files/);
  assert.ok(!server.stderr().includes(jwt.split(".")[1]!) && !server.stderr().includes(value));
});
