/**
 * `keywarden/client` against a real server over HTTPS (CA or pinned fingerprint), and against
 * plain HTTP fakes: retries on 429, 503, refused and reset connections, and a proxy's page.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createServer, type RequestListener } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { describe, test, type TestContext } from "node:test";
import { createClient, KeywardenClientError, type ClientOptions } from "../../../src/client/index.ts";
import { runCliInProcess } from "../../helpers/cli.ts";
import { createTestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { tempDir } from "../../helpers/tmp.ts";
import { makeKey } from "./fixtures.ts";

const sqlite = DIALECTS.find((d) => d.name === "sqlite") ?? DIALECTS[0]!;

/** A read's answer, as the fake servers below give it. */
const ANSWER = JSON.stringify({ path: "a/b/C", version: 1, value: "v", metadata: {} });

/** What `p` rejected with, or undefined when it resolved. */
const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** A client closed when the test ends. */
function clientFor(t: TestContext, options: ClientOptions) {
  const kw = createClient(options);
  t.after(() => {
    kw.close();
  });
  return kw;
}

/** A plain HTTP server on a free loopback port, closed when the test ends; its origin. */
async function fakeServer(t: TestContext, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("keywarden/client", () => {
  test("reads and writes over HTTPS with a CA or a pinned fingerprint; errors carry no secret", async (t) => {
    const s = await createTestServer(t, sqlite, { https: true });
    const { url, ca } = await s.listen();
    const token = await s.token([{ path: "payments/**", capabilities: ["read", "write", "list"] }]);
    const kw = clientFor(t, { url, token, ca });
    const value = makeKey();
    assert.equal((await kw.secrets.set("payments/prod/KEY", value, { cas: 0 })).version, 1);
    assert.equal((await kw.secrets.get("payments/prod/KEY")).value, value);
    assert.deepEqual(
      (await kw.secrets.list("payments/")).map((x) => x.path),
      ["payments/prod/KEY"],
    );
    assert.equal((await kw.tokens.self()).policies.length, 1);
    const conflict = await rejection(kw.secrets.set("payments/prod/KEY", makeKey(), { cas: 0 }));
    assert.ok(conflict instanceof KeywardenClientError);
    assert.equal(conflict.code, "KW_ERR_VAULT_CAS_CONFLICT");
    assert.equal(conflict.status, 409);
    assert.match(conflict.requestId ?? "", /^req_/);
    const denied = await rejection(kw.secrets.get("shipping/prod/KEY"));
    assert.ok(denied instanceof KeywardenClientError);
    assert.equal(denied.status, 403);
    for (const e of [conflict, denied]) {
      const text = `${e.message} ${e.stack ?? ""} ${JSON.stringify(e)}`;
      assert.ok(!text.includes(token) && !text.includes(value));
    }

    const fingerprint = new X509Certificate(ca!).fingerprint256;
    const pinned = clientFor(t, { url, token, fingerprint });
    assert.equal((await pinned.secrets.get("payments/prod/KEY")).value, value);
    const wrongPin = clientFor(t, { url, token, fingerprint: fingerprint.replace(/^../, "00"), retries: 0 });
    await assert.rejects(wrongPin.secrets.get("payments/prod/KEY"), /KW_ERR_CLIENT_TLS/);
    const untrusted = clientFor(t, { url, token, retries: 0 });
    await assert.rejects(untrusted.secrets.get("payments/prod/KEY"), /KW_ERR_CLIENT_NETWORK/);

    // A leaked token revoked by its text, by a client that holds no token of its own.
    const responder = clientFor(t, { url, ca });
    const revoked = await responder.tokens.revokeText(token);
    assert.match(revoked.id, /^tok_/);
    assert.equal(revoked.revoked, 1);
    const refused = await rejection(kw.secrets.get("payments/prod/KEY"));
    assert.ok(refused instanceof KeywardenClientError);
    assert.equal(refused.code, "KW_ERR_AUTH_REVOKED");
    const unknown = await rejection(responder.tokens.revokeText("kw_svc_no"));
    assert.ok(unknown instanceof KeywardenClientError);
    assert.equal(unknown.code, "KW_ERR_AUTH_MALFORMED");
  });

  test("retries 429 and 503, then gives up with the server's code", async (t) => {
    const script = [429, 503, 200, 503, 503, 503];
    const seen: string[] = [];
    const url = await fakeServer(t, (req, res) => {
      seen.push(String(req.headers.authorization));
      const status = script.shift() ?? 500;
      res.writeHead(status, {
        "content-type": "application/json",
        ...(status === 429 ? { "retry-after": "0" } : {}),
      });
      res.end(
        status === 200
          ? ANSWER
          : JSON.stringify({
              error: {
                code: status === 429 ? "KW_ERR_HTTP_RATE_LIMITED" : "KW_ERR_KMS_SEALED",
                message: "internal error",
                requestId: "req_x",
              },
            }),
      );
    });
    const token = `kw_svc_${"a".repeat(43)}_abcdef`;
    const kw = clientFor(t, { url, token, retries: 2, retryDelayMs: 1 });
    assert.equal((await kw.secrets.get("a/b/C")).value, "v");
    const e = await rejection(kw.secrets.get("a/b/C"));
    assert.ok(e instanceof KeywardenClientError);
    assert.equal(e.code, "KW_ERR_KMS_SEALED");
    assert.equal(e.status, 503);
    assert.ok(!e.message.includes(token));
    assert.equal(seen.length, 6, "3 attempts each");
  });

  test("an answer that is not Keywarden's API (a proxy's page) is a clear error that quotes nothing", async (t) => {
    const page = "<html><body>Sign in to the corporate proxy. session=portal-cookie-value</body></html>";
    const url = await fakeServer(t, (_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(page);
    });
    const token = `kw_svc_${"b".repeat(43)}_abcdef`;
    const kw = clientFor(t, { url, token, retries: 0 });
    const e = await rejection(kw.secrets.get("a/b/C"));
    assert.ok(e instanceof KeywardenClientError);
    assert.equal(e.code, "KW_ERR_CLIENT_PROTOCOL");
    assert.equal(e.status, 200);
    assert.match(e.message, /answered HTTP 200 \(content type text\/html\)/);
    assert.ok(!e.message.includes("portal-cookie-value") && !e.message.includes(token));
    // The CLI says the same, with what to check.
    const cli = await runCliInProcess(
      { KEYWARDEN_HOME: tempDir(t), KEYWARDEN_ADDR: url, KEYWARDEN_TOKEN: token },
      ["secrets", "get", "a/b/C"],
    );
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /KW_ERR_CLIENT_PROTOCOL: .*answered HTTP 200.*KEYWARDEN_ADDR/s);
    assert.ok(!cli.stderr.includes("portal-cookie-value") && !cli.stderr.includes(token));
  });

  test("a refused connection is tried again for any call, a reset one only for a read", async (t) => {
    let seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(String(req.method));
      // The first request of each call dies with its socket, as when a kept-alive socket is
      // closed by the server just as the request goes out.
      if (seen.length === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(ANSWER);
    });
    // A port nothing listens on yet: the first attempts are refused.
    const probe = createServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    t.after(() => server.close());
    const kw = clientFor(t, {
      url: `http://127.0.0.1:${port}`,
      token: `kw_svc_${"c".repeat(43)}_abcdef`,
      retries: 5,
      retryDelayMs: 40,
    });
    const read = kw.secrets.get("a/b/C");
    setTimeout(() => server.listen(port, "127.0.0.1"), 100);
    assert.equal((await read).value, "v", "refused, then reset, then answered");
    assert.deepEqual(seen, ["GET", "GET"]);

    seen = [];
    const write = await rejection(kw.secrets.set("a/b/C", "w"));
    assert.ok(write instanceof KeywardenClientError);
    assert.equal(write.code, "KW_ERR_CLIENT_NETWORK");
    assert.equal(write.errno, "ECONNRESET");
    assert.deepEqual(seen, ["PUT"], "a write that may have arrived is not sent twice");
  });
});
