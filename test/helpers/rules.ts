import type { Rule } from "../../src/detect/rule.ts";

/**
 * A rule for engine tests: the fields a test cares about, plain defaults for the rest.
 *
 * @example
 *   compileCatalogue([testRule({ id: "t-token", keywords: ["acme_"], pattern: /\b(acme_[a-z0-9]{16})\b/ })]);
 */
export function testRule(over: Partial<Rule> & Pick<Rule, "id" | "pattern" | "keywords">): Rule {
  return {
    provider: "Test",
    description: "a test rule",
    secretGroup: 1,
    entropy: 0,
    severity: "high",
    remediation: "revoke it",
    docs: "https://example.test/docs",
    examples: { positives: () => [], negatives: [] },
    ...over,
  };
}
