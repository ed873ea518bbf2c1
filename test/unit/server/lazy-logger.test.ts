import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../../src/core/logger.ts";
import { lazyChildLogger } from "../../../src/server/plugins/lazy-logger.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

test("a lazy request logger logs with its bindings at enabled levels, nothing below, and redacts like its parent", () => {
  const { lines, stream } = capture();
  const parent = createLogger({ level: "warn", format: "json", stream: stream });
  const log = lazyChildLogger(parent, { reqId: "req_1" }, {});
  log.info("not at warn");
  log.debug({ x: 1 }, "nor this");
  assert.equal(log.level, "warn");
  log.warn({ token: "kw_svc_should_not_appear" }, "slow");
  log.child({ part: "auth" }).error("denied");
  assert.deepEqual(
    lines.map((l) => [l.msg, l.reqId, l.part]),
    [
      ["slow", "req_1", undefined],
      ["denied", "req_1", "auth"],
    ],
  );
  assert.ok(!JSON.stringify(lines).includes("kw_svc_should_not_appear"), "the parent's redaction applies");
  // A child asked for its own level is an ordinary child.
  const verbose = lazyChildLogger(parent, { reqId: "req_2" }, { level: "debug" });
  verbose.debug("now shown");
  assert.equal(lines.at(-1)?.msg, "now shown");
});
