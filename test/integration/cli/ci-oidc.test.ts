/**
 * The CI job's JWT (cli/ci-oidc.ts) from a local server speaking GitHub Actions' token service:
 * what it asks, and every way the answer can be wrong, each a clear KW_ERR_REMOTE_OIDC that
 * quotes no token.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { ciIdToken } from "../../../src/cli/ci-oidc.ts";
import { isKeywardenError } from "../../../src/core/errors.ts";

const REQUEST_TOKEN = "request-token-of-the-job";

async function service(t: TestContext, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/_apis/token?api-version=2.0`;
}

const refused = (reason: RegExp) => (e: unknown) => {
  assert.ok(isKeywardenError(e, "KW_ERR_REMOTE_OIDC"), String(e));
  assert.match(e.message, reason);
  assert.ok(!e.message.includes(REQUEST_TOKEN));
  return true;
};

test("the JWT from KEYWARDEN_OIDC_TOKEN, or asked of GitHub's token service for the audience", async (t) => {
  assert.equal((await ciIdToken({ KEYWARDEN_OIDC_TOKEN: " a.b.c\n" })).reveal(), "a.b.c");
  const asked: { audience: string | null; apiVersion: string | null; auth: string | undefined }[] = [];
  const url = await service(t, (req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    asked.push({
      audience: u.searchParams.get("audience"),
      apiVersion: u.searchParams.get("api-version"),
      auth: req.headers.authorization,
    });
    res.end(JSON.stringify({ count: 5, value: "h.p.s" }));
  });
  const env = { ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN };
  assert.equal((await ciIdToken(env)).reveal(), "h.p.s");
  assert.equal(
    (await ciIdToken({ ...env, KEYWARDEN_OIDC_AUDIENCE: "https://vault.internal" })).reveal(),
    "h.p.s",
  );
  assert.deepEqual(asked, [
    { audience: "keywarden", apiVersion: "2.0", auth: `bearer ${REQUEST_TOKEN}` },
    { audience: "https://vault.internal", apiVersion: "2.0", auth: `bearer ${REQUEST_TOKEN}` },
  ]);
});

test("a missing, refused, redirected, non-JSON or empty answer is a clear error", async (t) => {
  await assert.rejects(ciIdToken({}), refused(/permissions: id-token: write/));
  const answers: Record<string, RequestListener> = {
    forbidden: (_q, r) => {
      r.writeHead(403);
      r.end("{}");
    },
    redirected: (_q, r) => {
      r.writeHead(302, { location: "http://elsewhere.invalid/" });
      r.end();
    },
    html: (_q, r) => r.end("<html>sign in</html>"),
    empty: (_q, r) => r.end(JSON.stringify({ count: 0 })),
  };
  const expected: Record<string, RegExp> = {
    forbidden: /answered 403/,
    redirected: /answered 302/,
    html: /something other than JSON/,
    empty: /answered no token/,
  };
  for (const [name, handler] of Object.entries(answers)) {
    const url = await service(t, handler);
    await assert.rejects(
      ciIdToken({ ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN }),
      refused(expected[name]!),
      name,
    );
  }
  await assert.rejects(
    ciIdToken({ ACTIONS_ID_TOKEN_REQUEST_URL: "not a url", ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN }),
    refused(/is not a URL/),
  );
  // Nothing listens there.
  const gone = await service(t, (_q, r) => r.end());
  await assert.rejects(
    ciIdToken({
      ACTIONS_ID_TOKEN_REQUEST_URL: gone.replace(/:\d+\//, ":1/"),
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
    }),
    refused(/did not answer/),
  );
});
