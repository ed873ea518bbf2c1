import type { UserRule } from "../config/schema.ts";
import { KeywardenError } from "../core/errors.ts";
import { checkBoundedPattern } from "./pattern-check.ts";
import type { Rule } from "./rule.ts";

/** Translates Go/PCRE inline flags at the start of a gitleaks pattern, such as `(?i)`. */
function splitInlineFlags(source: string): { source: string; flags: string } {
  const m = /^\(\?([imsx]+)\)/.exec(source);
  if (m === null) return { source, flags: "" };
  return { source: source.slice(m[0].length), flags: m[1]!.replace(/x/g, "") };
}

/**
 * Turns a `[[detect.rules]]` entry into a Rule, or throws KW_ERR_RULE_INVALID when its
 * pattern does not compile, is unbounded, or it has no keywords to prefilter on.
 *
 * @example
 *   compileUserRule({ id: "acme-key", regex: "acme_[a-z0-9]{32}", keywords: ["acme_"], ... })
 */
export function compileUserRule(u: UserRule): Rule {
  const { source, flags } = splitInlineFlags(u.regex);
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, flags);
  } catch (e) {
    throw new KeywardenError("KW_ERR_RULE_INVALID", {
      rule: u.id,
      reason: `regex does not compile: ${(e as Error).message}`,
    });
  }
  const problem = checkBoundedPattern(source);
  if (problem !== undefined) {
    throw new KeywardenError("KW_ERR_RULE_INVALID", {
      rule: u.id,
      reason: `regex is not bounded: ${problem}; use {m,n} instead of * and +`,
    });
  }
  const groups = new RegExp(`${source}|`, flags).exec("")!.length - 1;
  if (u.secretGroup > groups) {
    throw new KeywardenError("KW_ERR_RULE_INVALID", {
      rule: u.id,
      reason: `secretGroup ${u.secretGroup} but the regex has ${groups} groups`,
    });
  }
  if (u.keywords.length === 0) {
    throw new KeywardenError("KW_ERR_RULE_INVALID", {
      rule: u.id,
      reason:
        "keywords is empty; give at least one literal that occurs in every match (the prefilter needs it)",
    });
  }
  return {
    id: u.id,
    provider: u.provider,
    description: u.description === "" ? `User rule ${u.id}` : u.description,
    keywords: u.keywords.map((k) => k.toLowerCase()),
    pattern,
    secretGroup: u.secretGroup,
    entropy: u.entropy,
    severity: u.severity,
    remediation: u.remediation,
    docs: "https://github.com/keywarden/keywarden/blob/main/docs/config.md",
    examples: { positives: () => [], negatives: [] },
  };
}
