import assert from "node:assert/strict";
import { test } from "node:test";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { checkGlob, globCoversPrefix, globMatches } from "../../../src/services/access/path-glob.ts";

test("* matches within one segment, ** across segments, the rest literally", () => {
  const cases: [string, string, boolean][] = [
    ["payments/prod/*", "payments/prod/STRIPE_KEY", true],
    ["payments/prod/*", "payments/prod/", true],
    ["payments/prod/*", "payments/prod/a/b", false],
    ["payments/prod/*", "payments/dev/STRIPE_KEY", false],
    ["payments/prod/*", "payments/production/X", false],
    ["payments/**", "payments/prod/X", true],
    ["payments/**", "payments/", true],
    ["payments/**", "paymentsX/prod/X", false],
    ["payments/*/STRIPE_*", "payments/dev/STRIPE_KEY", true],
    ["payments/*/STRIPE_*", "payments/dev/OTHER", false],
    ["payments/prod/STRIPE_KEY", "payments/prod/STRIPE_KEY", true],
    ["payments/prod/STRIPE_KEY", "payments/prod/STRIPE_KEYX", false],
    // Regex metacharacters are literal.
    ["a.b/c/*", "axb/c/D", false],
    ["a.b/c/*", "a.b/c/D", true],
    ["a+/c/(x)", "a+/c/(x)", true],
    ["**", "anything/at/all", true],
    ["*", "one", true],
    ["*", "two/segments", false],
  ];
  for (const [glob, path, want] of cases) assert.equal(globMatches(glob, path), want, `${glob} vs ${path}`);
});

test("a glob covers a list prefix only when every secret under the prefix matches", () => {
  assert.equal(globCoversPrefix("payments/prod/*", "payments/prod/"), true);
  assert.equal(globCoversPrefix("payments/prod/*", "payments/prod/ST"), true);
  assert.equal(
    globCoversPrefix("payments/prod/*", "payments/prod"),
    false,
    "payments/production/* is under it",
  );
  assert.equal(globCoversPrefix("payments/prod/*", "payments/"), false);
  assert.equal(globCoversPrefix("payments/prod/*", ""), false);
  assert.equal(globCoversPrefix("payments/prod/STRIPE_*", "payments/prod/"), false);
  assert.equal(globCoversPrefix("payments/**", "payments/"), true);
  assert.equal(globCoversPrefix("payments/**", "payments"), false, "paymentsX/... is under it");
  assert.equal(globCoversPrefix("payments/*/*", "payments/"), true);
  assert.equal(globCoversPrefix("**", ""), true);
  assert.equal(globCoversPrefix("*", ""), false, "a one-segment glob covers no secret path");
});

test("bad globs are refused with KW_ERR_ACCESS_INVALID", () => {
  for (const bad of ["", "a b/*", "x/***", "é/*", "a".repeat(300)])
    assert.throws(
      () => {
        checkGlob(bad);
      },
      (e) => isKeywardenError(e, "KW_ERR_ACCESS_INVALID"),
      JSON.stringify(bad),
    );
});

test("matching is linear: a pathological glob against a long path finishes at once", () => {
  const glob = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const path = "a".repeat(200);
  const started = process.hrtime.bigint();
  assert.equal(globMatches(glob, path), false);
  // Not a timing assertion on speed, only a guard against exponential blow-up (seconds).
  assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
});
