import assert from "node:assert/strict";
import { test } from "node:test";
import { lockoutSeconds } from "../../../src/services/access/lockout.ts";

test("lockout starts at the threshold and doubles with every further failure up to the maximum", () => {
  const policy = { threshold: 3, baseSeconds: 30, maxSeconds: 600 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => lockoutSeconds(n, policy)),
    [0, 0, 30, 60, 120, 240, 480, 600, 600],
  );
});
