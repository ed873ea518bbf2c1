import assert from "node:assert/strict";
import { test } from "node:test";
import { BASE62 } from "../../../src/core/base62.ts";
import {
  formatToken,
  isValidToken,
  TOKEN_CHECKSUM_LENGTH,
  TOKEN_RANDOM_LENGTH,
} from "../../../src/core/token-format.ts";

test("the random part carries at least 256 bits", () => {
  assert.ok(TOKEN_RANDOM_LENGTH * Math.log2(BASE62.length) >= 256);
  const t = formatToken("svc");
  assert.match(
    t,
    new RegExp(`^kw_svc_[0-9A-Za-z]{${TOKEN_RANDOM_LENGTH}}_[0-9A-Za-z]{${TOKEN_CHECKSUM_LENGTH}}$`),
  );
});

test("random characters are uniform over base62 (chi-square) and tokens never repeat", () => {
  const n = 2000;
  const counts = new Map<string, number>();
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const t = formatToken("svc");
    seen.add(t);
    for (const ch of t.slice(7, 7 + TOKEN_RANDOM_LENGTH)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  assert.equal(seen.size, n);
  assert.equal(counts.size, 62);
  const expected = (n * TOKEN_RANDOM_LENGTH) / 62;
  let chi2 = 0;
  for (const c of counts.values()) chi2 += (c - expected) ** 2 / expected;
  // 61 degrees of freedom: a fair source exceeds 130 with probability below 1e-6; a
  // modulo-biased one (randomBytes % 62) lands far above it at this sample size.
  assert.ok(chi2 < 130, `chi-square ${chi2.toFixed(1)}`);
});

test("the checksum catches any single changed character", () => {
  const t = formatToken("usr");
  assert.equal(isValidToken(t), true);
  for (let i = 7; i < t.length; i++) {
    if (t[i] === "_") continue;
    const other = t[i] === "A" ? "B" : "A";
    assert.equal(isValidToken(t.slice(0, i) + other + t.slice(i + 1)), false, `position ${i}`);
  }
});
