/**
 * The `Rule` contract: one declarative description of one kind of secret.
 * See src/detect/NOTES.md for the invariants the catalogue test enforces.
 */

import type { VerifySpec } from "./verify.ts";

export type Severity = "critical" | "high" | "medium" | "low";

export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];

/** A positive example: a realistic line (or lines) of text and the secret inside it. */
export interface PositiveExample {
  readonly text: string;
  /** The exact secret the rule must report; it must occur in `text` exactly once. */
  readonly secret: string;
}

/**
 * A seeded generator for rule examples, so that the repository never holds a literal
 * live-looking key and every run builds the same examples.
 */
export interface ExampleGen {
  /** `n` characters drawn from `alphabet`. */
  chars(alphabet: string, n: number): string;
  /** `n` characters of [A-Za-z0-9]. */
  alnum(n: number): string;
  /** `n` lowercase hex digits. */
  hex(n: number): string;
  /** `n` uppercase hex digits. */
  hexUpper(n: number): string;
  /** `n` characters of [A-Z0-9]. */
  upperAlnum(n: number): string;
  /** `n` characters of [a-z0-9]. */
  lowerAlnum(n: number): string;
  /** `n` decimal digits. */
  digits(n: number): string;
  /** `n` characters of standard base64 ([A-Za-z0-9+/]) without padding. */
  base64(n: number): string;
  /** `n` characters of URL-safe base64 ([A-Za-z0-9_-]). */
  base64url(n: number): string;
  /** Standard base64 encoding of `bytes` random bytes, padded. */
  base64Bytes(bytes: number): string;
  /** One of the given values. */
  pick<T>(values: readonly T[]): T;
  /** A random version-4 UUID in lowercase. */
  uuid(): string;
  /** A random integer in [min, max]. */
  int(min: number, max: number): number;
}

/** Checks that only a real key passes, for formats that carry a checksum. */
export type Validator = (secret: string) => boolean;

/**
 * One detector. The pattern is bounded (no `*`, `+` or `{n,}`; star height one), and only
 * runs near one of the keywords, which are lowercase literals found by the prefilter.
 *
 * @example
 *   export const rules: Rule[] = [{ id: "npm-access-token", provider: "npm", ... }];
 */
export interface Rule {
  /** Unique, kebab-case, starting with the provider: `github-pat-classic`. */
  readonly id: string;
  /** The issuer's display name: `GitHub`. Several rules may share a provider. */
  readonly provider: string;
  /** What it matches, one short sentence for docs/rules.md. */
  readonly description: string;
  /** Lowercase literals, at least one of which occurs within the match's window. */
  readonly keywords: readonly string[];
  /** The bounded pattern. Flags other than `i`, `m`, `s` and `u` are ignored. */
  readonly pattern: RegExp;
  /** Index of the capture group that is the secret; 0 for the whole match. */
  readonly secretGroup: number;
  /** Minimum Shannon entropy of the secret in bits per character; 0 for none. */
  readonly entropy: number;
  /** A checksum or structure check run after the pattern matched. */
  readonly validate?: Validator;
  /**
   * True when `validate` checks a checksum: a value that passes it is a token of this format
   * (a placeholder does not carry a valid checksum), so the classifier's confidence never
   * suppresses the finding, whatever words its random part happens to spell.
   */
  readonly checksummed?: boolean;
  readonly severity: Severity;
  /** How to revoke and rotate this provider's key, in one to three sentences. */
  readonly remediation: string;
  /** Link to the provider's documentation on managing or revoking this credential. */
  readonly docs: string;
  /**
   * A catch-all rule (generic assignments, URIs with passwords). When a provider rule and a
   * generic rule report the same secret, only the provider rule's finding is kept.
   */
  readonly generic?: boolean;
  /** How far around a keyword occurrence (in characters) the pattern may match. */
  readonly window?: { readonly before: number; readonly after: number };
  /** How to check, with one read-only provider call, whether a found secret still works (opt-in). */
  readonly verify?: VerifySpec;
  readonly examples: {
    /** Built at run time from the seeded generator. At least one. */
    readonly positives: (gen: ExampleGen) => readonly PositiveExample[];
    /** Literal texts in which this rule must find nothing. At least one. */
    readonly negatives: readonly string[];
  };
}
