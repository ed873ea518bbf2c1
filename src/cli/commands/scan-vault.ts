/**
 * `keywarden scan --vault`: marks findings whose value is (or was) a vault secret, by the
 * vault's keyed fingerprints, without decrypting anything.
 */
import type { Command } from "commander";
import type { ScanResult } from "../../services/scan/scan-service.ts";
import type { FingerprintHit } from "../../storage/repos/secret-version-repo.ts";
import type { CliIO } from "../io.ts";
import { withVault, type VaultFlags } from "../vault-context.ts";

export type VaultHits = ReadonlyMap<string, readonly FingerprintHit[]>;

/**
 * Looks every finding's value up in the vault.
 *
 * @example
 *   const hits = await vaultHitsFor(io, cmd, flags, result);
 */
export async function vaultHitsFor(
  io: CliIO,
  cmd: Command,
  flags: VaultFlags,
  result: ScanResult,
): Promise<VaultHits> {
  if (result.findings.length === 0) return new Map();
  return withVault(io, cmd, flags, { unsealed: true }, ({ kw, request }) =>
    kw.vault.matchValues(
      request,
      result.findings.map((f) => f.secret.reveal()),
    ),
  );
}

function where(hits: readonly FingerprintHit[]): string {
  return hits.map((h) => `${h.path}@v${h.version}`).join(", ");
}

/**
 * Adds the vault matches to a rendered report: a `vault` field per finding in JSON, a
 * section at the end of text; for SARIF and CSV the section goes to `notes` (stderr).
 *
 * @example
 *   const { report, notes } = annotateWithVault(report, "json", result, hits);
 */
export function annotateWithVault(
  report: string,
  format: string,
  result: ScanResult,
  hits: VaultHits,
): { report: string; notes: string } {
  const matched = result.findings
    .map((f, i) => ({ f, i, hits: hits.get(f.secret.reveal()) ?? [] }))
    .filter((m) => m.hits.length > 0);
  if (format === "json") {
    const doc = JSON.parse(report) as { findings: Record<string, unknown>[]; vaultMatches?: number };
    for (const m of matched)
      doc.findings[m.i]!.vault = m.hits.map((h) => ({ path: h.path, version: h.version }));
    doc.vaultMatches = matched.length;
    return { report: JSON.stringify(doc, null, 2) + "\n", notes: "" };
  }
  const section =
    matched.length === 0
      ? "vault: none of the findings is a vault secret\n"
      : `vault: ${matched.length} finding${matched.length === 1 ? " is a vault secret" : "s are vault secrets"}: rotate ${matched.length === 1 ? "it" : "them"} now\n` +
        matched.map((m) => `  ${m.f.file}:${m.f.line} ${m.f.rule} -> ${where(m.hits)}\n`).join("");
  return format === "text" ? { report: report + section, notes: "" } : { report, notes: section };
}
