import assert from "node:assert/strict";
import { test } from "node:test";
import { listRequestOf } from "../../../src/server/plugins/list-verb.ts";

const raw = (s: string) => Buffer.from(s, "latin1");

test("a whole LIST request is read as the GET ?list=true it means", () => {
  assert.deepEqual(
    listRequestOf(raw("LIST /v1/secret/metadata/app HTTP/1.1\r\nHost: h\r\nX-Vault-Token: t\r\n\r\n")),
    {
      url: "/v1/secret/metadata/app?list=true",
      headers: { host: "h", "x-vault-token": "t" },
    },
  );
  assert.equal(
    listRequestOf(raw("LIST /v1/secret/metadata/app?x=1 HTTP/1.0\r\nA: 1\r\na: 2\r\n\r\n"))?.url,
    "/v1/secret/metadata/app?x=1&list=true",
  );
  assert.equal(listRequestOf(raw("LIST /v1/x HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n"))?.headers.a, "1, 2");
});

test("anything but exactly one whole LIST request is left to the 400", () => {
  for (const text of [
    "LIST /v1/x HTTP/1.1\r\nHost: h\r\n", // headers not complete
    "LIST /v1/x HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\n\r\n", // something after it
    "LIST /v1/x HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", // a body
    "LIST /v1/x HTTP/1.1\r\nContent-Length: 2\r\n\r\n", // a body still to come
    "LIST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    "LIST http://evil/v1/x HTTP/1.1\r\n\r\n", // not origin-form
    "LIST /v1/x y HTTP/1.1\r\n\r\n",
    "LIST /v1/x HTTP/2.0\r\n\r\n",
    "LIST /v1/x HTTP/1.1\r\n folded\r\n\r\n", // obs-fold
    "LIST /v1/x HTTP/1.1\r\nBad Name: v\r\n\r\n",
    "LIST /v1/x HTTP/1.1\r\nA: v\u0001\r\n\r\n",
    "LISTEN /v1/x HTTP/1.1\r\n\r\n",
    "FOO /v1/x HTTP/1.1\r\n\r\n",
    `LIST /v1/x HTTP/1.1\r\n${"A: 1\r\n".repeat(101)}\r\n`,
  ])
    assert.equal(listRequestOf(raw(text)), undefined, JSON.stringify(text));
  assert.equal(listRequestOf(undefined), undefined);
});
