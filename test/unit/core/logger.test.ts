import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger, urlForLog } from "../../../src/core/logger.ts";

function capture(): { stream: Writable & { isTTY?: boolean }; text: () => string } {
  const parts: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk.toString());
      cb();
    },
  });
  return { stream, text: () => parts.join("") };
}

test("logs are JSON off a terminal and redact secret fields at any common depth", () => {
  const out = capture();
  const log = createLogger({ level: "info", format: "auto", stream: out.stream });
  const value = ["ghp", "_", "x".repeat(8), "SeCrEt"].join("");
  log.info(
    {
      secretId: "sec_1",
      secret: value,
      req: { headers: { authorization: `Bearer ${value}` } },
      a: { b: { password: value } },
      token: value,
    },
    "read",
  );
  const line = out.text();
  const parsed = JSON.parse(line) as Record<string, unknown>;
  assert.equal(parsed.msg, "read");
  assert.equal(parsed.secretId, "sec_1");
  assert.equal(parsed.secret, "[redacted]");
  assert.ok(!line.includes(value), line);
});

test("pretty format is readable text and still redacts", () => {
  const out = capture();
  const log = createLogger({ level: "info", format: "pretty", stream: out.stream });
  log.info({ password: "correct-horse-battery-staple" }, "hello");
  const text = out.text();
  assert.match(text, /INFO.*hello/);
  assert.ok(!text.includes("correct-horse"));
  assert.throws(() => JSON.parse(text));
});

test("the level filters lower lines", () => {
  const out = capture();
  const log = createLogger({ level: "warn", format: "json", stream: out.stream });
  log.info("quiet");
  log.warn("loud");
  assert.ok(!out.text().includes("quiet"));
  assert.ok(out.text().includes("loud"));
});

test("a request's URL is logged with its query's names only, never its values", () => {
  assert.equal(urlForLog("/api/v1/secrets/a/b/C"), "/api/v1/secrets/a/b/C");
  assert.equal(urlForLog("/api/v1/audit?path=a/b&limit=5"), "/api/v1/audit?path=*&limit=*");
  assert.equal(urlForLog("/x?&flag&=v&k=a=b"), "/x?flag=*&=*&k=*");
  assert.equal(urlForLog("/x?"), "/x?");
  const out = capture();
  const log = createLogger({ level: "info", format: "json", stream: out.stream });
  const value = ["sk", "_live_", "q".repeat(20)].join("");
  log.info(
    { req: { method: "GET", url: `/api/v1/secrets/a/b/C?token=${value}`, ip: "10.0.0.7" } },
    "incoming",
  );
  const line = JSON.parse(out.text()) as { req: { url: string; method: string; remoteAddress: string } };
  assert.deepEqual(
    [line.req.method, line.req.url, line.req.remoteAddress],
    ["GET", "/api/v1/secrets/a/b/C?token=*", "10.0.0.7"],
  );
  assert.ok(!out.text().includes(value));
});
