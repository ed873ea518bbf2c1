import { createColors } from "picocolors";
import { forTerminal } from "../../core/terminal.ts";
import type { Finding } from "./finding.ts";
import type { ScanResult } from "./scan-service.ts";

export const REPORT_FORMATS = ["text", "json", "sarif", "csv"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  readonly format: ReportFormat;
  /** Print secrets in plaintext. Only ever set by an explicit --show-secrets. */
  readonly showSecrets: boolean;
  /** ANSI colours (text format only). */
  readonly color: boolean;
  readonly toolVersion: string;
}

const secretOf = (f: Finding, show: boolean): string => (show ? f.secret.reveal() : f.secret.masked());

/**
 * Renders a scan result in one of the report formats. Secrets are masked unless
 * `showSecrets`.
 *
 * @example
 *   process.stdout.write(renderReport(result, { format: "json", showSecrets: false, color: false, toolVersion }));
 */
export function renderReport(result: ScanResult, options: ReportOptions): string {
  switch (options.format) {
    case "json":
      return renderJson(result, options.showSecrets);
    case "sarif":
      return renderSarif(result, options);
    case "csv":
      return renderCsv(result, options.showSecrets);
    case "text":
      return renderText(result, options);
  }
}

function renderJson(result: ScanResult, show: boolean): string {
  const doc = {
    version: 1,
    findings: result.findings.map((f) => ({
      rule: f.rule,
      provider: f.provider,
      severity: f.severity,
      file: f.file,
      line: f.line,
      column: f.column,
      endLine: f.endLine,
      endColumn: f.endColumn,
      secret: secretOf(f, show),
      fingerprint: f.fingerprint,
      confidence: f.confidence,
      remediation: f.remediation,
      ...(f.commit === undefined
        ? {}
        : { commit: f.commit.commit, author: f.commit.author, email: f.commit.email, date: f.commit.date }),
      ...verifiedFields(f),
      ...(f.decoder === undefined ? {} : { decoder: f.decoder }),
    })),
    skipped: result.skipped,
    stats: result.stats,
  };
  return JSON.stringify(doc, null, 2) + "\n";
}

const csvCell = (v: string | number): string => {
  const s = String(v);
  // A leading =, +, - or @ would run as a formula in a spreadsheet.
  const safe = s.length > 1 && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

function renderCsv(result: ScanResult, show: boolean): string {
  const header =
    "rule,provider,severity,file,line,column,endLine,endColumn,secret,fingerprint,confidence,remediation,verified,decoder";
  const rows = result.findings.map((f) =>
    [
      f.rule,
      f.provider,
      f.severity,
      f.file,
      f.line,
      f.column,
      f.endLine,
      f.endColumn,
      secretOf(f, show),
      f.fingerprint,
      f.confidence,
      f.remediation,
      f.verified ?? "",
      f.decoder ?? "",
    ]
      .map(csvCell)
      .join(","),
  );
  return [header, ...rows].join("\n") + "\n";
}

/**
 * A finding's path as a relative URI reference: each segment percent-encoded, so that a '#',
 * '?' or ':' in a file name stays part of the path (encodeURI leaves them as they are, and a
 * consumer then reads a fragment, a query or a scheme).
 */
function fileUri(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

const SARIF_LEVEL = { critical: "error", high: "error", medium: "warning", low: "note" } as const;
const SECURITY_SEVERITY = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0" } as const;

function renderSarif(result: ScanResult, options: ReportOptions): string {
  const ruleIds = [...new Set(result.findings.map((f) => f.rule))];
  const byId = new Map(result.findings.map((f) => [f.rule, f]));
  const rules = ruleIds.map((id) => {
    const f = byId.get(id)!;
    return {
      id,
      name: id.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, c: string) => c.toUpperCase()),
      shortDescription: { text: f.description },
      fullDescription: { text: `${f.description} Provider: ${f.provider}.` },
      help: { text: f.remediation, markdown: `${f.remediation}\n\n[Provider documentation](${f.docs})` },
      helpUri: f.docs,
      defaultConfiguration: { level: SARIF_LEVEL[f.severity] },
      properties: {
        tags: ["security", "secret", f.provider],
        "security-severity": SECURITY_SEVERITY[f.severity],
      },
    };
  });
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "keywarden",
            version: options.toolVersion,
            informationUri: "https://github.com/keywarden/keywarden",
            rules,
          },
        },
        results: result.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ruleIds.indexOf(f.rule),
          level: SARIF_LEVEL[f.severity],
          message: {
            text: `${f.provider} secret found (${secretOf(f, options.showSecrets)}). ${f.remediation}`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: fileUri(f.file) },
                region: {
                  startLine: f.line,
                  startColumn: f.column,
                  endLine: f.endLine,
                  endColumn: f.endColumn,
                },
              },
            },
          ],
          partialFingerprints: { "keywarden/v1": f.fingerprint },
          properties: {
            confidence: f.confidence,
            severity: f.severity,
            ...(f.commit === undefined
              ? {}
              : { commit: f.commit.commit, author: f.commit.email, date: f.commit.date }),
            ...verifiedFields(f),
            ...(f.decoder === undefined ? {} : { decoder: f.decoder }),
          },
        })),
      },
    ],
  };
  return JSON.stringify(sarif, null, 2) + "\n";
}

function renderText(result: ScanResult, options: ReportOptions): string {
  const c = createColors(options.color);
  const sev = { critical: c.red, high: c.red, medium: c.yellow, low: c.dim } as const;
  const lines: string[] = [];
  const byFile = new Map<string, Finding[]>();
  for (const f of result.findings) {
    const list = byFile.get(f.file) ?? [];
    list.push(f);
    byFile.set(f.file, list);
  }
  // What came from the scanned files or repository goes through forTerminal.
  for (const [file, list] of byFile) {
    lines.push(c.bold(c.underline(forTerminal(file))));
    for (const f of list) {
      lines.push(
        `  ${c.dim(`${f.line}:${f.column}`)}  ${sev[f.severity](f.severity.padEnd(8))} ${c.cyan(f.rule)}  ${forTerminal(secretOf(f, options.showSecrets))}  ${c.dim(`confidence ${f.confidence.toFixed(2)}`)}${verifiedTag(f, c)}`,
      );
      if (f.commit !== undefined) {
        const { commit, author, email, date } = f.commit;
        lines.push(
          `      ${c.dim("commit:")} ${commit.slice(0, 12)} ${forTerminal(`${author} <${email}> ${date}`)}`,
        );
      }
      if (f.decoder !== undefined) lines.push(`      ${c.dim("decoded:")} ${f.decoder}`);
      // A user rule's remediation is keywarden.toml's text, which a scanned repository may carry.
      lines.push(`      ${c.dim("fix:")} ${forTerminal(f.remediation)}`);
    }
    lines.push("");
  }
  const n = result.findings.length;
  const summary = `${n} ${n === 1 ? "finding" : "findings"} in ${result.stats.files} files (${formatBytes(result.stats.bytes)}, ${result.stats.durationMs} ms)`;
  lines.push(n === 0 ? c.green(summary) : c.red(summary));
  const checked = result.findings.filter((f) => f.verified !== undefined);
  if (checked.length > 0) {
    const count = (s: string): number => checked.filter((f) => f.verified === s).length;
    lines.push(`verified: ${count("live")} live, ${count("revoked")} revoked, ${count("unknown")} unknown`);
  }
  if (result.skipped.length > 0)
    lines.push(c.dim(`${result.skipped.length} skipped (use --format json for the list)`));
  return lines.join("\n") + "\n";
}

/** The live-verification fields of a finding, present only when it was verified. */
function verifiedFields(f: Finding): { verified?: string; verifyReason?: string } {
  if (f.verified === undefined) return {};
  return f.verifyReason === undefined
    ? { verified: f.verified }
    : { verified: f.verified, verifyReason: f.verifyReason };
}

function verifiedTag(f: Finding, c: ReturnType<typeof createColors>): string {
  switch (f.verified) {
    case undefined:
      return "";
    case "live":
      return `  ${c.bold(c.red("[LIVE]"))}`;
    case "revoked":
      return `  ${c.green("[revoked]")}`;
    case "unknown":
      return `  ${c.yellow(`[unverified: ${forTerminal(f.verifyReason ?? "unknown")}]`)}`;
  }
}

/** @example formatBytes(1536) // "1.5 KiB" */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
