import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileCatalogue, scanText } from "../../../src/detect/engine.ts";
import { createExampleGen } from "../../../src/detect/example-gen.ts";
import { checkBoundedPattern } from "../../../src/detect/pattern-check.ts";
import { SEVERITIES } from "../../../src/detect/rule.ts";
import { BUILTIN_RULES } from "../../../src/detect/rules/index.ts";

const catalogue = compileCatalogue(BUILTIN_RULES);

test("the catalogue has at least 200 rules across at least 150 providers", () => {
  const providers = new Set(BUILTIN_RULES.map((r) => r.provider));
  assert.ok(BUILTIN_RULES.length >= 200, `only ${BUILTIN_RULES.length} rules`);
  assert.ok(providers.size >= 150, `only ${providers.size} providers`);
});

test("rule ids are unique kebab-case", () => {
  const seen = new Set<string>();
  for (const r of BUILTIN_RULES) {
    assert.match(r.id, /^[a-z0-9]+(?:-[a-z0-9]+)*$/, r.id);
    assert.ok(!seen.has(r.id), `duplicate id ${r.id}`);
    seen.add(r.id);
  }
});

/** Inputs built to make a backtracking pattern explode: long runs of the characters keys are made of. */
function adversarialInputs(keywords: readonly string[]): string[] {
  const k = keywords[0]!;
  const runs = ["a", "A", "0", "-", "_", "=", " ", "/", "+", ".", ":", "\\n", "aA0", "a-", "a."];
  const out = runs.map((r) => `${k}${r.repeat(Math.ceil(20_000 / r.length))}!`);
  out.push(`${k} `.repeat(4_000), `${k}=`.repeat(4_000), `"${k}": "`.repeat(2_000));
  return out;
}

for (const rule of BUILTIN_RULES) {
  describe(`rule ${rule.id}`, () => {
    test("is documented: description, remediation, https docs link, severity, lowercase keywords", () => {
      assert.ok(rule.description.length >= 10, "description too short");
      assert.ok(rule.remediation.length >= 40, "remediation must say how to revoke and rotate");
      assert.match(rule.docs, /^https:\/\/\S+$/);
      assert.ok(SEVERITIES.includes(rule.severity));
      assert.ok(rule.provider.length > 0);
      for (const k of rule.keywords) assert.equal(k, k.toLowerCase(), `keyword ${k} must be lowercase`);
    });

    test("pattern is bounded", () => {
      assert.equal(checkBoundedPattern(rule.pattern.source), undefined);
    });

    test("finds every positive at its exact span", () => {
      const positives = rule.examples.positives(createExampleGen(rule.id));
      assert.ok(positives.length >= 1, "needs at least one positive");
      for (const p of positives) {
        const start = p.text.indexOf(p.secret);
        assert.ok(
          start >= 0 && p.text.indexOf(p.secret, start + 1) < 0,
          `secret must occur once in ${JSON.stringify(p.text)}`,
        );
        const found = scanText(p.text, catalogue).filter((m) => m.rule.id === rule.id);
        assert.deepEqual(
          found.map((m) => [m.start, m.end]),
          [[start, start + p.secret.length]],
          `positive not found at its span: ${JSON.stringify(p.text)}`,
        );
      }
    });

    test("finds nothing in any negative, with any rule", () => {
      assert.ok(rule.examples.negatives.length >= 1, "needs at least one negative");
      for (const n of rule.examples.negatives) {
        const found = scanText(n, catalogue).map((m) => m.rule.id);
        assert.deepEqual(found, [], `negative ${JSON.stringify(n)} matched`);
      }
    });

    test("finishes in bounded time on adversarial input", () => {
      const only = compileCatalogue([rule]);
      for (const input of adversarialInputs(rule.keywords)) {
        const t0 = performance.now();
        scanText(input, only);
        const ms = performance.now() - t0;
        // Generous: a linear scan takes about a millisecond; catastrophic backtracking takes seconds.
        assert.ok(ms < 1_000, `took ${ms.toFixed(0)} ms on ${JSON.stringify(input.slice(0, 40))}...`);
      }
    });
  });
}
