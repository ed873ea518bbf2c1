import assert from "node:assert/strict";
import { test } from "node:test";
import { isKeywardenError } from "../../../src/core/errors.ts";
import type { PolicyRule } from "../../../src/services/access/access-types.ts";
import { evaluate, parseRules } from "../../../src/services/access/policy.ts";

const rules: PolicyRule[] = parseRules([
  { path: "payments/**", capabilities: ["read", "list"] },
  { path: "payments/prod/ROOT_*", capabilities: ["read"], effect: "deny" },
  { path: "payments/dev/*", capabilities: ["write"] },
]);

test("default deny: nothing is allowed without a matching allow rule", () => {
  assert.equal(evaluate([], "read", "payments/prod/X"), false);
  assert.equal(evaluate(rules, "read", "billing/prod/X"), false);
  assert.equal(evaluate(rules, "write", "payments/prod/X"), false);
  assert.equal(evaluate(rules, "destroy", "payments/dev/X"), false);
});

test("allow rules grant their capabilities on the paths they match", () => {
  assert.equal(evaluate(rules, "read", "payments/prod/STRIPE_KEY"), true);
  assert.equal(evaluate(rules, "write", "payments/dev/STRIPE_KEY"), true);
});

test("an explicit deny wins over any allow, in whatever order the rules come", () => {
  assert.equal(evaluate(rules, "read", "payments/prod/ROOT_KEY"), false);
  assert.equal(evaluate([...rules].reverse(), "read", "payments/prod/ROOT_KEY"), false);
  assert.equal(evaluate(rules, "list", "payments/prod/ROOT_KEY"), true, "the deny names read only");
});

test("capabilities are independent: admin does not imply read", () => {
  const admin = parseRules([{ path: "**", capabilities: ["admin"] }]);
  assert.equal(evaluate(admin, "admin", "_sys/policies/x"), true);
  assert.equal(evaluate(admin, "read", "payments/prod/X"), false);
});

test("listing a prefix needs list on every secret under it, and any reachable deny blocks it", () => {
  assert.equal(evaluate(rules, "list", "payments/", "prefix"), true);
  assert.equal(evaluate(rules, "list", "", "prefix"), false);
  const sibling = parseRules([{ path: "payments/prod/*", capabilities: ["list"] }]);
  assert.equal(evaluate(sibling, "list", "payments/prod/", "prefix"), true);
  assert.equal(evaluate(sibling, "list", "payments/", "prefix"), false);
  const withDeny = parseRules([
    { path: "payments/**", capabilities: ["list"] },
    { path: "payments/prod/HIDDEN", capabilities: ["list"], effect: "deny" },
  ]);
  assert.equal(evaluate(withDeny, "list", "payments/prod/", "prefix"), false);
  assert.equal(evaluate(withDeny, "list", "payments/dev/", "prefix"), true);
});

test("rules from untrusted input are checked and normalised", () => {
  const [r] = parseRules([{ path: "a/b/*", capabilities: ["list", "read", "read"] }]);
  assert.deepEqual(r, { path: "a/b/*", capabilities: ["read", "list"], effect: "allow" });
  const bad: unknown[] = [
    "not an array",
    [null],
    [{ path: "a/*" }],
    [{ path: "a/*", capabilities: [] }],
    [{ path: "a/*", capabilities: ["sudo"] }],
    [{ path: "a/*", capabilities: ["read"], effect: "maybe" }],
    [{ path: "a/*", capabilities: ["read"], extra: 1 }],
    [{ path: "", capabilities: ["read"] }],
  ];
  for (const input of bad)
    assert.throws(
      () => parseRules(input),
      (e) => isKeywardenError(e, "KW_ERR_ACCESS_INVALID"),
      JSON.stringify(input),
    );
});
