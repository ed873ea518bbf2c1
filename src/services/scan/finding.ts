import { createHash } from "node:crypto";
import type { Secret } from "../../core/secret.ts";
import type { Severity } from "../../detect/rule.ts";
import type { VerifyStatus } from "../../detect/verify.ts";
import type { CommitInfo } from "../../sources/source.ts";

/** One reported secret. `secret` is wrapped: reports mask it unless --show-secrets. */
export interface Finding {
  readonly rule: string;
  readonly provider: string;
  readonly severity: Severity;
  readonly description: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly secret: Secret;
  readonly fingerprint: string;
  readonly confidence: number;
  readonly remediation: string;
  readonly docs: string;
  /** For history scans: the commit that introduced the secret. */
  readonly commit?: CommitInfo;
  /**
   * The decoders that revealed the secret ("base64", "url>base64"); absent when it was in
   * plain text. The position is then that of the encoded text.
   */
  readonly decoder?: string;
  /** Set only by live verification (`scan --verify`): what the provider said of the secret. */
  readonly verified?: VerifyStatus;
  /** Why verification could not decide, when `verified` is "unknown"; never holds the secret. */
  readonly verifyReason?: string;
  /**
   * Identifiers a verifier needs that were found next to the secret (a Twilio account SID, a
   * Shopify shop domain); never secrets, never reported.
   */
  readonly verifyContext?: Readonly<Record<string, string>>;
}

/**
 * The stable fingerprint of a finding: a hash of the rule id and the secret, so moving a
 * line keeps it and a different secret on the same line changes it. It identifies, it does
 * not protect: a baseline file holds fingerprints, never secrets.
 *
 * @example
 *   fingerprintOf("github-pat-classic", value) // "3f1c...": 32 hex characters
 */
export function fingerprintOf(ruleId: string, secret: string): string {
  return createHash("sha256")
    .update("keywarden-finding-v1\0")
    .update(ruleId)
    .update("\0")
    .update(secret)
    .digest("hex")
    .slice(0, 32);
}
