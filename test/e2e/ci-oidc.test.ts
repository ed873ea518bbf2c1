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
import { loadOrCreateTls } from "../../src/server/tls.ts";

/**
 * A server home (made with the built CLI) whose identity ci-deployer may read
 * payments/prod/DB_URL, trusting `issuer` for acme/payments' main branch; its env and the value.
 */
function serverHome(dir: string, issuer: string) {
  const serverEnv = {
    KEYWARDEN_HOME: join(dir, "server"),
    KEYWARDEN_PASSPHRASE: "e2e oidc passphrase, not a real one",
    KEYWARDEN_ACCESS_OIDC: JSON.stringify([
      {
        identity: "ci-deployer",
        issuer,
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
  return { serverEnv, value };
}

/** A GitLab-style job's environment: its JWT in KEYWARDEN_OIDC_TOKEN, the server pinned. */
function jobWithJwt(dir: string, server: { url: URL; fingerprint: string }, jwt: string) {
  return {
    KEYWARDEN_HOME: join(dir, "job"),
    KEYWARDEN_ADDR: server.url.origin,
    KEYWARDEN_FINGERPRINT: server.fingerprint,
    KEYWARDEN_OIDC_IDENTITY: "ci-deployer",
    KEYWARDEN_OIDC_TOKEN: jwt,
  };
}

test("a CI job logs in with its OIDC token and reads its secrets, with no Keywarden token stored", async (t) => {
  const dir = tempDir(t);
  const issuer = await startIssuer(t);
  const { serverEnv, value } = serverHome(dir, issuer.url);
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
  const gitlab = await runCliInProcess(jobWithJwt(dir, server, jwt), [
    "secrets",
    "get",
    "payments/prod/DB_URL",
  ]);
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

test("an issuer behind an internal CA (a self-hosted GitLab's) is trusted with NODE_EXTRA_CA_CERTS", async (t) => {
  const dir = tempDir(t);
  // A certificate no public CA signed, for 127.0.0.1.
  const tls = await loadOrCreateTls({ tlsCert: "", tlsKey: "" }, join(dir, "issuer-tls"), ["127.0.0.1"]);
  const issuer = await startIssuer(t, { tls });
  assert.match(issuer.url, /^https:/);
  const caFile = join(dir, "internal-ca.pem");
  writeFileSync(caFile, tls.cert);
  const { serverEnv, value } = serverHome(dir, issuer.url);
  const jwt = await issuer.sign({ now: Math.floor(Date.now() / 1000) });
  const read = (server: { url: URL; fingerprint: string }) =>
    runCliInProcess(jobWithJwt(dir, server, jwt), ["secrets", "get", "payments/prod/DB_URL"]);

  // Without the CA the issuer's certificate is refused, so is the login.
  const untrusting = await spawnServe(t, serverEnv, [], { built: true });
  const refused = await read(untrusting);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /KW_ERR_AUTH_OIDC/);
  assert.equal(await untrusting.stop(), 0);
  const audit = runCli(["audit", "log", "--action", "auth.oidc", "--format", "json"], {
    cwd: dir,
    env: serverEnv,
  });
  assert.match(audit.stdout, /KW_ERR_AUTH_OIDC ci-deployer: fetch failed/);

  // With it, Node trusts the issuer for discovery and keys alike.
  const trusting = await spawnServe(t, { ...serverEnv, NODE_EXTRA_CA_CERTS: caFile }, [], { built: true });
  const got = await read(trusting);
  assert.equal(got.code, 0, got.stderr);
  assert.equal(got.stdout, value);
  assert.deepEqual(issuer.fetched, { discovery: 1, jwks: 1 });
});
