import type { Match } from "./engine.ts";

const PLACEHOLDER_WORDS =
  /example|sample|dummy|placeholder|changeme|fake|redacted|xxxx|0000|1234|abcd|test|demo/i;

/**
 * A heuristic probability that a match is a real, live secret: provider rules with a
 * checksum score highest, generic rules lowest; placeholder words and low entropy margin
 * lower the score. The ML model of src/detect/classify/ will replace it.
 *
 * @example
 *   heuristicConfidence(match) // 0.9
 */
export function heuristicConfidence(match: Match): number {
  const { rule } = match;
  let score = rule.generic === true ? 0.6 : rule.validate !== undefined ? 0.9 : 0.8;
  const margin = rule.entropy > 0 ? match.entropy - rule.entropy : match.entropy - 3;
  score += Math.max(-0.2, Math.min(0.08, margin / 10));
  if (PLACEHOLDER_WORDS.test(match.secret)) score -= 0.3;
  if (rule.severity === "low") score -= 0.1;
  return Math.round(Math.max(0.01, Math.min(0.99, score)) * 100) / 100;
}
