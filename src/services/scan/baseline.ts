import { readFileSync, writeFileSync } from "node:fs";
import { KeywardenError } from "../../core/errors.ts";
import { parseFailure } from "../../core/redact.ts";
import type { Finding } from "./finding.ts";

export const BASELINE_FILE = ".keywarden-baseline.json";

/**
 * Writes a baseline: the fingerprints of known findings with their location, never a secret.
 *
 * @example
 *   writeBaseline(".keywarden-baseline.json", result.findings, new Date())
 */
export function writeBaseline(file: string, findings: readonly Finding[], now: Date): void {
  const doc = {
    version: 1,
    createdAt: now.toISOString(),
    findings: findings.map((f) => ({ fingerprint: f.fingerprint, rule: f.rule, file: f.file, line: f.line })),
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + "\n", { mode: 0o644 });
}

/**
 * Reads a baseline's fingerprints; a missing or malformed file is KW_ERR_BASELINE_INVALID.
 *
 * @example
 *   const known = readBaseline(".keywarden-baseline.json");
 */
export function readBaseline(file: string): ReadonlySet<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new KeywardenError("KW_ERR_BASELINE_INVALID", {
      file,
      reason:
        e instanceof SyntaxError
          ? parseFailure(e, "JSON")
          : ((e as NodeJS.ErrnoException).code ?? "unreadable"),
    });
  }
  const findings = (doc as { findings?: unknown }).findings;
  if (!Array.isArray(findings))
    throw new KeywardenError("KW_ERR_BASELINE_INVALID", { file, reason: "no findings array" });
  const out = new Set<string>();
  for (const f of findings) {
    const fp = (f as { fingerprint?: unknown }).fingerprint;
    if (typeof fp !== "string" || !/^[0-9a-f]{32}$/.test(fp)) {
      throw new KeywardenError("KW_ERR_BASELINE_INVALID", {
        file,
        reason: "an entry has no valid fingerprint",
      });
    }
    out.add(fp);
  }
  return out;
}
