import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { systemClock } from "../../core/clock.ts";
import { EXIT, KeywardenError } from "../../core/errors.ts";
import { writeSecretText } from "../../kms/atomic-file.ts";
import { fileSource } from "../../sources/file-source.ts";
import { gitSource, stagedSource } from "../../sources/git-source.ts";
import type { Source } from "../../sources/source.ts";
import { streamSource } from "../../sources/stream-source.ts";
import { readBaseline } from "../../services/scan/baseline.ts";
import { formatBytes, REPORT_FORMATS, renderReport, type ReportFormat } from "../../services/scan/report.ts";
import { createScanService, type ScanProgress, type ScanResult } from "../../services/scan/scan-service.ts";
import { commandContext, type CommandContext } from "../context.ts";
import { packageVersion, useColor, type CliIO } from "../io.ts";
import { annotateWithVault, vaultHitsFor } from "./scan-vault.ts";

interface ScanFlags {
  format?: ReportFormat;
  output?: string;
  showSecrets?: boolean;
  all?: boolean;
  baseline?: string;
  minConfidence?: string;
  maxFileSize?: string;
  gitignore?: boolean;
  archives?: boolean;
  exclude?: string[];
  git?: boolean;
  staged?: boolean;
  since?: string;
  branch?: string;
  maxCommits?: string;
  preReceive?: boolean;
  vault?: boolean;
  passphraseFile?: string;
  verify?: boolean;
  onlyVerified?: boolean;
  jobs?: string;
}

/** What part of a git repository to scan instead of the files on disk. */
export interface HistoryOptions {
  readonly mode: "git" | "staged";
  readonly since?: string | undefined;
  readonly branch?: string | undefined;
  readonly maxCommits?: number | undefined;
  readonly revisions?: readonly string[] | undefined;
}

/** Shared by `scan` and `baseline create`: builds sources and runs the scan with progress. */
export async function runScan(
  ctx: CommandContext,
  paths: readonly string[],
  options: { all?: boolean; baseline?: ReadonlySet<string>; history?: HistoryOptions },
): Promise<ScanResult> {
  const { config } = ctx.loaded;
  const scanner = createScanService({ config, clock: systemClock });
  const overlap = scanner.catalogue.maxWindow;
  const list = paths.length === 0 ? ["."] : paths;
  const history = options.history;
  const sources: Source[] = list.map((p) => {
    const repo = resolve(ctx.io.cwd, p);
    if (history?.mode === "git") {
      return gitSource({
        repo,
        since: history.since,
        branch: history.branch,
        maxCommits: history.maxCommits,
        revisions: history.revisions,
        maxFileSize: config.scan.maxFileSize,
        onWarning: (message) => {
          ctx.logger.warn(message);
        },
      });
    }
    if (history?.mode === "staged") return stagedSource({ repo });
    if (p === "-") return streamSource(ctx.io.stdin, "-", overlap);
    return fileSource({
      paths: [p],
      cwd: ctx.io.cwd,
      maxFileSize: config.scan.maxFileSize,
      gitignore: config.scan.gitignore,
      exclude: config.scan.exclude,
      archives: config.scan.archives,
      overlap,
    });
  });
  const progress = createProgress(ctx.io);
  try {
    return await scanner.scan({
      sources,
      all: options.all,
      baseline: options.baseline,
      onProgress: progress.update,
    });
  } finally {
    progress.done();
  }
}

/**
 * The commits a push brings, from pre-receive's stdin (`<old> <new> <ref>` per line): every
 * new tip, minus what any existing ref already reaches. Deleted refs bring nothing.
 */
async function pushedRevisions(io: CliIO): Promise<string[]> {
  let input = "";
  for await (const data of io.stdin) input += String(data);
  const tips = input
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && /^[0-9a-f]{40,64}$/.test(f[1]!) && !/^0+$/.test(f[1]!))
    .map((f) => f[1]!);
  return tips.length === 0 ? [] : [...tips, "--not", "--all"];
}

/** A one-line progress display on stderr, only on a terminal and only after a second. */
function createProgress(io: CliIO): { update: (p: ScanProgress) => void; done: () => void } {
  if (io.stderr.isTTY !== true) return { update: () => undefined, done: () => undefined };
  const started = performance.now();
  let last = 0;
  let shown = false;
  return {
    update: (p) => {
      const now = performance.now();
      if (now - started < 1000 || now - last < 100) return;
      last = now;
      shown = true;
      io.stderr.write(`\r\x1b[2Kscanning: ${p.files} files, ${formatBytes(p.bytes)}, ${p.findings} findings`);
    },
    done: () => {
      if (shown) io.stderr.write("\r\x1b[2K");
    },
  };
}

/** `keywarden scan [PATH ...]` */
export function registerScan(program: Command, io: CliIO, setExit: (code: number) => void): void {
  program
    .command("scan")
    .description("find leaked secrets in files, folders or stdin (-)")
    .argument("[paths...]", "files and folders to scan, or - for stdin", [])
    .addOption(new Option("-f, --format <format>", "report format").choices([...REPORT_FORMATS]))
    .option("-o, --output <file>", "write the report to a file instead of stdout")
    .option("--show-secrets", "print secrets in plaintext (never the default)")
    .option("--all", "also report findings below detect.minConfidence")
    .option("--baseline <file>", "report only findings whose fingerprint is not in this baseline")
    .option("--min-confidence <n>", "drop findings below this confidence (0..1)")
    .option("--max-file-size <bytes>", "skip files larger than this")
    .option("--no-gitignore", "scan files that .gitignore excludes")
    .option("--exclude <pattern...>", "gitignore-style patterns to skip")
    .option("--no-archives", "do not look inside zip, jar, tar, tar.gz, gzip and Docker image files")
    .option("-j, --jobs <n>", "worker threads for detection (default: one per core; 1: no workers)")
    .option("--git", "scan the git history of the repository at PATH (every commit on every ref)")
    .option("--since <rev>", "with --git: only commits after this revision")
    .option("--branch <ref>", "with --git: only commits reachable from this branch")
    .option("--max-commits <n>", "with --git: at most this many commits")
    .option("--staged", "scan only the lines added in the git index (for a pre-commit hook)")
    .option(
      "--pre-receive",
      "with --git: read pre-receive hook lines (old new ref) on stdin and scan only the pushed commits",
    )
    .option(
      "--vault",
      "mark findings whose value is a secret in the vault (keyed fingerprints; needs the passphrase)",
    )
    .option("--verify", "check each finding with one read-only call to its provider (sends the key to it)")
    .option("--only-verified", "report only findings verified live (implies --verify)")
    .option(
      "--passphrase-file <file>",
      "with --vault: read the vault passphrase from a file (or set KEYWARDEN_PASSPHRASE)",
    )
    .addHelpText(
      "after",
      `
Examples:
  keywarden scan                      scan the current folder
  keywarden scan src config.yaml      scan some paths
  cat app.log | keywarden scan -      scan stdin
  keywarden scan --format sarif -o keywarden.sarif
  keywarden scan --baseline .keywarden-baseline.json
  keywarden scan --git                every commit of the repository here
  keywarden scan --staged             what is about to be committed
  keywarden scan --verify             also ask each provider whether the key still works

Exit codes: 0 no findings, 1 findings, 2 usage or fatal error.`,
    )
    .action(async (paths: string[], flags: ScanFlags, cmd: Command) => {
      const ctx = commandContext(io, cmd, {
        "scan.format": flags.format,
        "scan.maxFileSize": flags.maxFileSize,
        "scan.gitignore": flags.gitignore === false ? false : undefined,
        "scan.archives.enabled": flags.archives === false ? false : undefined,
        "scan.exclude": flags.exclude,
        "detect.minConfidence": flags.minConfidence,
        "verify.enabled": flags.verify === true || flags.onlyVerified === true ? true : undefined,
        "scan.jobs": flags.jobs,
      });
      const baseline = flags.baseline === undefined ? undefined : readBaseline(flags.baseline);
      if (flags.git === true && flags.staged === true) {
        throw new KeywardenError("KW_ERR_USAGE", { reason: "--git and --staged cannot be combined" });
      }
      const maxCommits = flags.maxCommits === undefined ? undefined : Number(flags.maxCommits);
      if (maxCommits !== undefined && !(Number.isInteger(maxCommits) && maxCommits > 0)) {
        throw new KeywardenError("KW_ERR_USAGE", { reason: "--max-commits takes a positive whole number" });
      }
      const revisions = flags.preReceive === true ? await pushedRevisions(io) : undefined;
      if (revisions !== undefined && revisions.length === 0) {
        setExit(EXIT.OK);
        return;
      }
      const history: HistoryOptions | undefined =
        flags.git === true || flags.preReceive === true
          ? { mode: "git", since: flags.since, branch: flags.branch, maxCommits, revisions }
          : flags.staged === true
            ? { mode: "staged" }
            : undefined;
      const scanned = await runScan(ctx, paths, { all: flags.all, baseline, history });
      const result =
        flags.onlyVerified === true
          ? { ...scanned, findings: scanned.findings.filter((f) => f.verified === "live") }
          : scanned;
      for (const s of result.skipped) ctx.logger.debug({ path: s.path, reason: s.reason }, "skipped");
      const format = ctx.loaded.config.scan.format;
      const hits = flags.vault === true ? await vaultHitsFor(io, cmd, flags, result) : undefined;
      const rendered = renderReport(result, {
        format,
        showSecrets: flags.showSecrets === true,
        color:
          flags.output === undefined && format === "text" && useColor(io.stdout, io.env, ctx.globals.color),
        toolVersion: packageVersion(),
      });
      const { report, notes } =
        hits === undefined
          ? { report: rendered, notes: "" }
          : annotateWithVault(rendered, format, result, hits);
      if (notes !== "") io.stderr.write(notes);
      if (flags.output !== undefined) {
        try {
          // A report with the secrets in it is a new 0600 file, as an export is; one without
          // them (masked) is an ordinary file, often a CI artifact.
          if (flags.showSecrets === true) writeSecretText(flags.output, report);
          else writeFileSync(flags.output, report);
        } catch (e) {
          throw new KeywardenError("KW_ERR_SCAN_OUTPUT", {
            file: flags.output,
            reason: (e as NodeJS.ErrnoException).code ?? "error",
          });
        }
      } else io.stdout.write(report);
      setExit(result.findings.length > 0 ? EXIT.FINDINGS : EXIT.OK);
    });
}
