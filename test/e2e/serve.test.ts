/**
 * `keywarden serve` as a user runs it, through the built CLI: a token made with the CLI,
 * HTTPS with a generated self-signed certificate (key 0600, fingerprint printed and the one
 * served), TLS below 1.2 refused, plain HTTP refused off loopback, and a graceful stop on
 * SIGTERM that lets a request in flight finish.
 */
import assert from "node:assert/strict";
import { randomBytes, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { test, type TestContext } from "node:test";
import { CHEAP_ARGON2_ENV, runCli } from "../helpers/cli.ts";
import { spawnServe } from "../helpers/serve-process.ts";
import { freshPostgresSchema, postgresUrl } from "../helpers/storage.ts";
import { tempDir } from "../helpers/tmp.ts";

const PASSPHRASE = "e2e serve passphrase, not a real one";

function setUpVault(t: TestContext): { home: string; env: Record<string, string>; token: string } {
  const dir = tempDir(t);
  const home = join(dir, "home");
  const env = { KEYWARDEN_HOME: home, KEYWARDEN_PASSPHRASE: PASSPHRASE, ...CHEAP_ARGON2_ENV };
  const kw = (args: string[]) => {
    const r = runCli(args, { cwd: dir, env });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  kw(["init"]);
  kw(["machine", "add", "payments-api"]);
  kw(["policy", "put", "payments-rw", "--allow", "payments/prod/*:read,write,list"]);
  kw(["role", "put", "payments", "--policy", "payments-rw"]);
  kw(["role", "bind", "payments", "payments-api"]);
  const token = kw(["token", "create", "--identity", "payments-api", "--policy", "payments-rw"]).trim();
  return { home, env, token };
}

const serve = (t: TestContext, env: Record<string, string>, args: string[] = []) =>
  spawnServe(t, env, args, { built: true });

function tlsProbe(url: URL, options: { maxVersion?: "TLSv1.1" | "TLSv1.2" | "TLSv1.3" }) {
  return new Promise<{ protocol: string | null; fingerprint: string } | Error>((resolve) => {
    const socket = tlsConnect({
      host: url.hostname,
      port: Number(url.port),
      rejectUnauthorized: false,
      ciphers: "DEFAULT@SECLEVEL=0",
      minVersion: "TLSv1",
      ...options,
    });
    socket.once("secureConnect", () => {
      const r = { protocol: socket.getProtocol(), fingerprint: socket.getPeerCertificate().fingerprint256 };
      socket.end();
      resolve(r);
    });
    socket.once("error", (e: Error) => {
      resolve(e);
    });
  });
}

test("serve through the built CLI", async (top) => {
  // One vault for every case: the CLI commands that make it are the slow part.
  const { home, env, token } = setUpVault(top);

  await top.test("HTTPS with a generated certificate, a CLI-made token, graceful SIGTERM", async (t) => {
    const s = await serve(t, env);
    assert.equal(s.url.protocol, "https:");
    assert.match(s.stdout(), /self-signed, generated now/);
    // Started unsealed: the generated key is sealed by the vault, and home holds nothing
    // Keywarden's own scanner reports.
    assert.equal(statSync(join(home, "server-key.sealed")).mode & 0o777, 0o600);
    assert.equal(existsSync(join(home, "server-key.pem")), false);
    const scan = runCli(["scan", home], { env: CHEAP_ARGON2_ENV });
    assert.equal(scan.code, 0, scan.stdout);

    const probe = await tlsProbe(s.url, {});
    assert.ok(!(probe instanceof Error), probe instanceof Error ? probe.message : "");
    assert.equal(probe.fingerprint, s.fingerprint, "the printed fingerprint is the served certificate's");
    assert.equal(
      await tlsProbe(s.url, { maxVersion: "TLSv1.1" }).then((r) => r instanceof Error),
      true,
      "TLS 1.1 is refused",
    );
    assert.equal(
      await tlsProbe(s.url, { maxVersion: "TLSv1.2" }).then((r) => (r instanceof Error ? "" : r.protocol)),
      "TLSv1.2",
    );

    // A write whose body is still arriving when SIGTERM comes: it must complete.
    const value = `sk_${randomBytes(18).toString("base64url")}`;
    const body = JSON.stringify({ value });
    const req = httpsRequest({
      host: s.url.hostname,
      port: s.url.port,
      method: "PUT",
      path: "/api/v1/secrets/payments/prod/STRIPE_KEY",
      rejectUnauthorized: false,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      },
    });
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      req.on("response", (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, text });
        });
      });
      req.on("error", reject);
    });
    req.write(body.slice(0, 10));
    await s.waitFor(/"msg":"incoming request"/);
    s.child.kill("SIGTERM");
    await s.waitFor(/stopping: finishing requests in flight/);
    req.end(body.slice(10));
    const r = await response;
    assert.equal(r.status, 200, r.text);
    assert.equal((JSON.parse(r.text) as { version: number }).version, 1);
    assert.equal(await s.exited, 0, s.stderr());
    assert.match(s.stdout(), /keywarden stopped/);
    // Request ids in every request log line; never the token or the value.
    const lines = s
      .stderr()
      .split("\n")
      .filter((l) => l.includes('"req"') || l.includes("request completed"));
    assert.ok(lines.length >= 2);
    for (const l of lines) assert.match(l, /"reqId":"req_[0-9A-Z]{26}"/);
    assert.ok(!s.stderr().includes(token) && !s.stderr().includes(value));

    // Restarted, the same certificate is reused and the value is there.
    const again = await serve(t, env);
    assert.equal(again.fingerprint, s.fingerprint);
    assert.doesNotMatch(again.stdout(), /generated now/);
    const got = await fetchJson(again.url, "/api/v1/secrets/payments/prod/STRIPE_KEY", token);
    assert.equal(got.value, value);
    again.child.kill("SIGTERM");
    assert.equal(await again.exited, 0);
  });

  await top.test(
    "a restart serves the same certificate; a sealed start cannot open its key and says why",
    async (t) => {
      const first = readFileSync(join(home, "server-cert.pem"), "utf8");
      const s = await serve(t, env);
      assert.doesNotMatch(s.stdout(), /generated now/);
      assert.equal(s.fingerprint, new X509Certificate(first).fingerprint256);
      const probe = await tlsProbe(s.url, {});
      assert.equal(probe instanceof Error ? probe.message : probe.fingerprint, s.fingerprint);
      assert.equal(await s.stop(), 0);

      // It exits (code 2) before it listens, with the reason and what to do.
      await assert.rejects(
        serve(t, env, ["--sealed"]),
        /KW_ERR_SERVER_TLS_KEY_SEALED.*sealed by the vault, and this server starts sealed.*server\.tlsCert and server\.tlsKey/s,
      );
    },
  );

  await top.test(
    "a server that starts sealed keeps its generated key in the clear, sealed at the next unsealed start",
    async (t) => {
      const { KEYWARDEN_PASSPHRASE: _, ...sealedEnv } = env;
      const other = join(tempDir(t), "home");
      const init = runCli(["init"], { env: { ...env, KEYWARDEN_HOME: other } });
      assert.equal(init.code, 0, init.stderr);
      const sealed = await serve(t, { ...sealedEnv, KEYWARDEN_HOME: other });
      await sealed.waitFor(/generated TLS key is kept in the clear/);
      assert.equal(statSync(join(other, "server-key.pem")).mode & 0o777, 0o600);
      assert.equal(
        await sealed.stop(),
        0,
        `${sealed.child.signalCode} ${sealed.stderr()} ${sealed.stdout()}`,
      );

      const unsealed = await serve(t, { ...env, KEYWARDEN_HOME: other });
      assert.equal(unsealed.fingerprint, sealed.fingerprint, "the same key, now sealed");
      await unsealed.waitFor(/generated TLS key is now sealed by the vault/);
      assert.equal(existsSync(join(other, "server-key.pem")), false);
      assert.equal(statSync(join(other, "server-key.sealed")).mode & 0o777, 0o600);
      assert.equal(runCli(["scan", other], { env: CHEAP_ARGON2_ENV }).code, 0);
      assert.equal(await unsealed.stop(), 0);
    },
  );

  await top.test("plain HTTP only on loopback and only when asked", async (t) => {
    const refused = runCli(["serve", "--insecure-http", "--host", "0.0.0.0", "--port", "0"], { env });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /KW_ERR_SERVER_INSECURE/);
    const s = await serve(t, env, ["--insecure-http"]);
    assert.equal(s.url.protocol, "http:");
    assert.equal(s.fingerprint, "");
    const ready = await fetch(new URL("/readyz", s.url));
    assert.equal(ready.status, 200);
    // A second server on the same port says so, and what to do.
    const taken = runCli(["serve", "--insecure-http", "--port", s.url.port], { env });
    assert.equal(taken.code, 2);
    assert.match(
      taken.stderr,
      /KW_ERR_SERVER_LISTEN: cannot listen on 127\.0\.0\.1 port \d+: EADDRINUSE\. .*--port/,
    );
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0);
  });

  await top.test("started sealed, /readyz answers 503", async (t) => {
    const { KEYWARDEN_PASSPHRASE: _, ...sealedEnv } = env;
    const s = await serve(t, sealedEnv, ["--insecure-http"]);
    const ready = await fetch(new URL("/readyz", s.url));
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { error: { code: string } }).error.code, "KW_ERR_SERVER_NOT_READY");
    assert.equal((await fetch(new URL("/healthz", s.url))).status, 200);
    s.child.kill("SIGTERM");
    assert.equal(await s.exited, 0);
  });
});

function fetchJson(base: URL, path: string, token: string): Promise<{ value: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: base.hostname,
        port: base.port,
        path,
        rejectUnauthorized: false,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => {
          resolve(JSON.parse(text) as { value: string });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("a database password on the command line is masked in the process list, with a warning", async (t) => {
  const url = await postgresUrl(await freshPostgresSchema(t));
  const password = `NotAPassword${randomBytes(4).toString("hex")}`;
  const withPassword = url.replace(/^postgres:\/\/([^@/]+)@/, `postgres://$1:${password}@`);
  const home = join(tempDir(t), "home");
  const env = { KEYWARDEN_HOME: home, KEYWARDEN_PASSPHRASE: PASSPHRASE, ...CHEAP_ARGON2_ENV };
  assert.equal(runCli(["init"], { env: { ...env, KEYWARDEN_STORAGE_URL: url } }).code, 0);
  const s = await serve(t, env, ["--insecure-http", "--database", withPassword]);
  const cmdline = readFileSync(`/proc/${s.child.pid}/cmdline`, "utf8");
  assert.ok(!cmdline.includes(password), cmdline);
  assert.match(cmdline, /--database\0?\s*postgres:\/\/[^:]+:\*\*\*\*@/);
  assert.match(s.stderr(), /a URL on the command line holds a password/);
  assert.equal(await s.stop(), 0);
});
