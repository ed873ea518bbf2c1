import type { DeepReadonly } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import type { Clock } from "../../core/clock.ts";
import { Secret } from "../../core/secret.ts";
import { classify } from "../../detect/classify/classify.ts";
import type { DetectedMatch } from "../../detect/decode.ts";
import type { Catalogue, Match } from "../../detect/engine.ts";
import { nearInputs } from "../../detect/verify.ts";
import type { SkippedItem, Source, TextChunk } from "../../sources/source.ts";
import { catalogueFor, chunkDetector } from "./chunk-detector.ts";
import { fingerprintOf, type Finding } from "./finding.ts";
import { createSuppressor, inlineAllowed } from "./suppression.ts";
import { createDetectPipeline, resolveJobs } from "./worker-pool.ts";

export interface ScanStats {
  readonly files: number;
  readonly bytes: number;
  readonly durationMs: number;
}

export interface ScanResult {
  readonly findings: readonly Finding[];
  readonly skipped: readonly SkippedItem[];
  readonly stats: ScanStats;
  /** How many findings suppression dropped, by reason. */
  readonly suppressed: Readonly<Record<SuppressReason, number>>;
}

export type SuppressReason = "inline" | "allowlist" | "baseline" | "confidence";

export interface ScanProgress {
  readonly files: number;
  readonly bytes: number;
  readonly findings: number;
}

export interface ScanRequest {
  readonly sources: readonly Source[];
  /** Report findings below detect.minConfidence too. */
  readonly all?: boolean;
  /** Fingerprints already known (a baseline): not reported. */
  readonly baseline?: ReadonlySet<string>;
  readonly onProgress?: (p: ScanProgress) => void;
  /** Verify findings live with their providers; defaults to `verify.enabled` (false). */
  readonly verify?: boolean;
}

// Lives beside the detection call so scan workers build their catalogue without loading this module.
export { catalogueFor };

/** Converts chunk-relative offsets to 1-based line and column, for offsets in increasing order. */
class Positioner {
  #offset = 0;
  #line: number;
  #column: number;
  readonly #text: string;

  constructor(chunk: TextChunk) {
    this.#text = chunk.text;
    this.#line = chunk.line;
    this.#column = chunk.column;
  }

  at(offset: number): { line: number; column: number } {
    if (offset < this.#offset) throw new Error("Positioner offsets must not decrease");
    let nl = this.#text.indexOf("\n", this.#offset);
    while (nl >= 0 && nl < offset) {
      this.#line++;
      this.#column = 1;
      this.#offset = nl + 1;
      nl = this.#text.indexOf("\n", this.#offset);
    }
    this.#column += offset - this.#offset;
    this.#offset = offset;
    return { line: this.#line, column: this.#column };
  }
}

/** Line and column just past the secret's last character (SARIF's exclusive end). */
function endOf(start: { line: number; column: number }, secret: string): { line: number; column: number } {
  const lastNl = secret.lastIndexOf("\n");
  if (lastNl < 0) return { line: start.line, column: start.column + secret.length };
  let lines = 0;
  for (let i = secret.indexOf("\n"); i >= 0; i = secret.indexOf("\n", i + 1)) lines++;
  return { line: start.line + lines, column: secret.length - lastNl };
}

/**
 * The scan pipeline: sources → engine → confidence → suppression (inline markers,
 * allowlists, baseline, confidence threshold) → findings, deduplicated per line.
 * Detection runs on `scan.jobs` worker threads (see worker-pool.ts), with results taken in
 * source order, so findings do not depend on the number of jobs. A `catalogue` passed in
 * (rather than built from the config) cannot be rebuilt in a worker: it scans in one thread.
 *
 * @example
 *   const scanner = createScanService({ config, clock });
 *   const result = await scanner.scan({ sources: [fileSource({...})] });
 */
export function createScanService(deps: {
  config: DeepReadonly<Config>;
  clock: Clock;
  catalogue?: Catalogue;
}) {
  const catalogue = deps.catalogue ?? catalogueFor(deps.config);
  // The per-chunk detection call is in chunk-detector.ts: the scan workers run the same one.
  const detect = chunkDetector(deps.config, catalogue);
  const jobs = resolveJobs(deps.config.scan.jobs);
  const suppressor = createSuppressor(deps.config.detect.allowlist);
  const minConfidence = deps.config.detect.minConfidence;

  async function scan(request: ScanRequest): Promise<ScanResult> {
    const started = deps.clock.monotonicMs();
    const findings: Finding[] = [];
    const skipped: SkippedItem[] = [];
    // History scans meet one secret in many blobs of one file: report its first commit only.
    const seenInHistory = new Set<string>();
    const suppressed: Record<SuppressReason, number> = {
      inline: 0,
      allowlist: 0,
      baseline: 0,
      confidence: 0,
    };
    let files = 0;
    let bytes = 0;
    // Called in source order whatever thread detected the chunk; null: its path is allowlisted.
    const onResult = (chunk: TextChunk, detected: readonly DetectedMatch[] | null): void => {
      if (detected !== null) {
        const matches = detected.filter((m) => m.start < chunk.ownedTo);
        if (matches.length > 0) {
          for (const f of toFindings(chunk, matches, request, suppressed)) {
            if (f.commit !== undefined) {
              const key = `${f.fingerprint}\0${f.file}`;
              if (seenInHistory.has(key)) continue;
              seenInHistory.add(key);
            }
            findings.push(f);
          }
        }
      } else if (chunk.first) suppressed.allowlist++;
      request.onProgress?.({ files, bytes, findings: findings.length });
    };
    const pipeline = createDetectPipeline({
      jobs,
      detect,
      workers: deps.catalogue === undefined ? { config: deps.config, rules: catalogue.rules } : undefined,
      onResult,
    });
    try {
      for (const source of request.sources) {
        for await (const item of source.items()) {
          if (item.kind === "skipped") {
            skipped.push(item.skipped);
            continue;
          }
          const chunk = item.chunk;
          if (chunk.first) files++;
          bytes += chunk.bytes;
          await pipeline.push(chunk, !suppressor.pathAllowed(chunk.path));
        }
      }
      await pipeline.end();
    } finally {
      await pipeline.close();
    }
    // The only place requests leave for providers: opt-in, never on by default (so its
    // request signing, the AWS SDK's, loads only then).
    let reported = findings;
    if (request.verify ?? deps.config.verify.enabled) {
      const { createVerifyService } = await import("../verify/verify-service.ts");
      reported = await createVerifyService({ config: deps.config, rules: catalogue.rules }).verify(findings);
    }
    return {
      findings: reported,
      skipped,
      suppressed,
      stats: { files, bytes, durationMs: Math.round(deps.clock.monotonicMs() - started) },
    };
  }

  function toFindings(
    chunk: TextChunk,
    matches: readonly DetectedMatch[],
    request: ScanRequest,
    suppressed: Record<SuppressReason, number>,
  ): Finding[] {
    const out: Finding[] = [];
    const seen = new Set<string>();
    const pos = new Positioner(chunk);
    const sorted = [...matches].sort((a, b) => a.start - b.start);
    for (const m of sorted) {
      const start = pos.at(m.start);
      // A decoded match's span is its encoded form in the text, longer than the secret.
      const end = endOf(start, m.decoder === undefined ? m.secret : chunk.text.slice(m.start, m.end));
      const key = `${m.rule.id}\0${start.line}\0${m.secret}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (inlineAllowed(chunk.text, m.start)) {
        suppressed.inline++;
        continue;
      }
      if (suppressor.secretAllowed(m.secret)) {
        suppressed.allowlist++;
        continue;
      }
      const fingerprint = fingerprintOf(m.rule.id, m.secret);
      if (request.baseline?.has(fingerprint) === true) {
        suppressed.baseline++;
        continue;
      }
      const confidence = classify(m, { text: chunk.text, path: chunk.path });
      // A valid checksum is proof of the format: never suppressed as a likely placeholder.
      if (confidence < minConfidence && request.all !== true && m.rule.checksummed !== true) {
        suppressed.confidence++;
        continue;
      }
      out.push({
        rule: m.rule.id,
        provider: m.rule.provider,
        severity: m.rule.severity,
        description: m.rule.description,
        file: chunk.path,
        line: start.line,
        column: start.column,
        endLine: end.line,
        endColumn: end.column,
        secret: new Secret(m.secret),
        fingerprint,
        confidence,
        remediation: m.rule.remediation,
        docs: m.rule.docs,
        ...(chunk.commit === undefined ? {} : { commit: chunk.commit }),
        ...(m.decoder === undefined ? {} : { decoder: m.decoder }),
        ...verifyContextOf(m, chunk.text),
      });
    }
    return out;
  }

  return { scan, catalogue };
}

/** The identifiers near a match that its rule's verifier needs (see detect/verify.ts). */
function verifyContextOf(m: Match, text: string): { verifyContext?: Readonly<Record<string, string>> } {
  if (m.rule.verify === undefined) return {};
  const context = nearInputs(m.rule.verify, text, m.start, m.end);
  return context === undefined ? {} : { verifyContext: context };
}

export type ScanService = ReturnType<typeof createScanService>;
