import { Option, type Command } from "commander";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import { forTerminal } from "../../core/terminal.ts";
import type { AuditEntry } from "../../services/audit/audit-service.ts";
import type { CliIO } from "../io.ts";
import { withBackend } from "../vault-backend.ts";
import { withPassphraseOption, withVault, type VaultFlags } from "../vault-context.ts";
import { parseDuration } from "./secrets.ts";

interface LogFlags {
  path?: string;
  actor?: string;
  action?: string;
  since?: string;
  format: "text" | "json";
}

/** `--since` as an ISO time: a date, or a duration back from now (24h, 7d). */
function sinceTime(text: string | undefined, now: Date): string | undefined {
  if (text === undefined) return undefined;
  if (/^\d+[smhdw]$/.test(text)) return new Date(now.getTime() - parseDuration(text) * 1000).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new KeywardenError("KW_ERR_USAGE", {
      reason: `--since ${text} is neither a date nor a duration like 24h`,
    });
  return new Date(t).toISOString();
}

function line(e: AuditEntry): string {
  const target = e.path === null ? "" : ` ${e.path}${e.version === null ? "" : `@v${e.version}`}`;
  const detail = e.detail === null ? "" : ` (${e.detail})`;
  // Entries hold what clients sent (names, sources): shown, never interpreted by the terminal.
  return `${forTerminal(`${e.at}  #${e.seq}  ${e.actor}  ${e.action}${target}  ${e.result}${detail}  ${e.source} ${e.requestId}`)}\n`;
}

/** `keywarden audit log` and `keywarden audit verify`. */
export function registerAudit(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const audit = program
    .command("audit")
    .description("read and verify the tamper-evident audit log")
    .addHelpText(
      "after",
      `
Examples:
  keywarden audit log --path payments/prod/STRIPE_SECRET_KEY --since 7d
  keywarden audit log --format json > audit.jsonl     JSON lines for a SIEM
  keywarden audit verify`,
    );

  audit
    .command("log")
    .description("print audit entries, oldest first")
    .option("--path <path>", "only this secret path")
    .option("--actor <actor>", "only this actor (cli:<user>)")
    .option("--action <action>", "only this action (secret.read, secret.write, vault.unseal, ...)")
    .option("--since <when>", "only entries from this date or duration ago (24h, 7d)")
    .addOption(
      new Option("--format <format>", "text, or JSON lines").choices(["text", "json"]).default("text"),
    )
    .action(async (flags: LogFlags, cmd: Command) => {
      await withBackend(io, cmd, {}, { unsealed: false }, async (vault) => {
        const since = sinceTime(flags.since, new Date());
        let afterSeq = 0;
        for (;;) {
          const page = await vault.auditQuery({
            path: flags.path,
            actor: flags.actor,
            action: flags.action,
            since,
            afterSeq,
            limit: 1000,
          });
          for (const e of page) io.stdout.write(flags.format === "json" ? JSON.stringify(e) + "\n" : line(e));
          if (page.length < 1000) break;
          afterSeq = page.at(-1)!.seq;
        }
      });
      setExit(EXIT.OK);
    });

  withPassphraseOption(
    audit
      .command("verify")
      .description(
        "check the hash chain and the signed checkpoint; exit 1 and name the entries if anything was changed",
      ),
  ).action(async (flags: VaultFlags, cmd: Command) => {
    const report = await withVault(io, cmd, flags, { unsealed: true }, ({ kw }) => kw.audit.verify());
    if (report.ok) {
      const cp =
        report.checkpoint === undefined
          ? "no signed checkpoint yet"
          : `signed checkpoint at entry ${report.checkpoint.seq} (${report.checkpoint.at})`;
      const tail =
        report.unsignedTail > 0
          ? `; ${report.unsignedTail} later entries are chained but not yet signed`
          : "";
      io.stdout.write(`audit log intact: ${report.entries} entries, ${cp}${tail}\n`);
      setExit(EXIT.OK);
      return;
    }
    io.stdout.write(
      `audit log TAMPERED: ${report.issues.length} problem${report.issues.length === 1 ? "" : "s"} in ${report.entries} entries\n`,
    );
    for (const i of report.issues) io.stdout.write(`  ${i.kind}: ${i.message}\n`);
    setExit(EXIT.FINDINGS);
  });
}
