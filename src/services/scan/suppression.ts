import type { DeepReadonly } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";

/** Inline markers that let one line through: ours, and those of gitleaks and detect-secrets. */
const INLINE_ALLOW = /keywarden:allow|gitleaks:allow|pragma: ?allowlist secret/;

/** Allowlists from config, compiled once. */
export interface Suppressor {
  pathAllowed(path: string): boolean;
  secretAllowed(secret: string): boolean;
}

/**
 * @example
 *   const s = createSuppressor(config.detect.allowlist); s.secretAllowed("EXAMPLEKEY")
 */
export function createSuppressor(allowlist: DeepReadonly<Config["detect"]["allowlist"]>): Suppressor {
  const paths = allowlist.paths.map((p) => new RegExp(p));
  const regexes = allowlist.regexes.map((p) => new RegExp(p));
  const stopwords = allowlist.stopwords.map((w) => w.toLowerCase());
  return {
    pathAllowed: (path) => paths.some((r) => r.test(path)),
    secretAllowed: (secret) => {
      if (regexes.some((r) => r.test(secret))) return true;
      const lower = secret.toLowerCase();
      return stopwords.some((w) => lower.includes(w));
    },
  };
}

/**
 * True when the line holding `offset`, or the line above it, carries an allow marker.
 *
 * @example
 *   inlineAllowed('key = "..." # keywarden:allow', 8) // true
 */
export function inlineAllowed(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  let lineEnd = text.indexOf("\n", offset);
  if (lineEnd < 0) lineEnd = text.length;
  const prevStart = lineStart === 0 ? 0 : text.lastIndexOf("\n", lineStart - 2) + 1;
  return INLINE_ALLOW.test(text.slice(prevStart, lineEnd));
}
