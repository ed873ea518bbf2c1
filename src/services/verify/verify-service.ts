import type { DeepReadonly } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import type { Rule } from "../../detect/rule.ts";
import { classifyResponse, type VerifySpec, type VerifyStatus } from "../../detect/verify.ts";
import type { Finding } from "../scan/finding.ts";
import { prepareRequest } from "./verify-request.ts";

/** What one verification concluded; `reason` only for unknown, never holding the secret. */
export interface VerifyResult {
  readonly status: VerifyStatus;
  readonly reason?: string;
}

export interface VerifyServiceDeps {
  readonly config: DeepReadonly<Config>;
  /** The rules whose `verify` specs apply, by id (the scan's catalogue). */
  readonly rules: readonly Rule[];
  /** Monotonic milliseconds; performance.now by default. */
  readonly now?: () => number;
}

/** Response bodies are read up to this size: enough for any status document, bounded for memory. */
const MAX_BODY = 64 * 1024;

const unknown = (reason: string): VerifyResult => ({ status: "unknown", reason });

/** A counting semaphore: at most `limit` holders at once, FIFO. */
function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      // The slot passes straight to the next waiter, so `active` never exceeds the limit.
      if (next !== undefined) next();
      else active--;
    }
  };
}

/** Retry-After in milliseconds (delta-seconds or an HTTP date), or undefined. */
function retryAfterMs(value: string | null, nowEpochMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowEpochMs);
}

async function readCapped(response: Response): Promise<string> {
  if (response.body === null) return "";
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts).subarray(0, MAX_BODY).toString("utf8");
}

/** A short reason for a failed fetch: an error code at most, never the error's message. */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  const code = typeof cause?.code === "string" && /^[A-Z0-9_]{2,40}$/.test(cause.code) ? cause.code : "";
  return code === "" ? "network error" : `network error (${code})`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The live verifier (opt-in; see src/detect/verify.ts for the specs). One request per
 * distinct secret and inputs per run, at most `verify.concurrency` in flight, each bounded
 * by `verify.timeoutMs` and all by `verify.deadlineMs`. 5xx, timeouts, network errors and
 * responses the spec does not describe are `unknown`; a 429 is retried once after its
 * Retry-After when that still fits in the deadline. Errors never carry the secret.
 *
 * @example
 *   const verifier = createVerifyService({ config, rules: catalogue.rules });
 *   const checked = await verifier.verify(result.findings); // findings with `verified` set
 */
export function createVerifyService(deps: VerifyServiceDeps) {
  const settings = deps.config.verify;
  const now = deps.now ?? (() => performance.now());
  const specs = new Map<string, VerifySpec>();
  for (const r of deps.rules) if (r.verify !== undefined) specs.set(r.id, r.verify);

  /** Resolves a spec's inputs for one finding: carried context, or the nearest paired finding. */
  function inputsFor(
    finding: Finding,
    spec: VerifySpec,
    all: readonly Finding[],
  ): { values: Record<string, string>; partners: Finding[] } | { missing: string } {
    const values: Record<string, string> = {};
    const partners: Finding[] = [];
    for (const input of spec.inputs ?? []) {
      let value = finding.verifyContext?.[input.name];
      if (value === undefined && input.rule !== undefined) {
        const sameFile = all.filter(
          (f) =>
            f.rule === input.rule &&
            f.file === finding.file &&
            (input.accept === undefined || input.accept.test(f.secret.reveal())),
        );
        const sameCommit = sameFile.filter((f) => f.commit?.commit === finding.commit?.commit);
        const pool = sameCommit.length > 0 ? sameCommit : sameFile;
        let best: Finding | undefined;
        for (const f of pool) {
          if (best === undefined || Math.abs(f.line - finding.line) < Math.abs(best.line - finding.line))
            best = f;
        }
        if (best !== undefined) {
          value = best.secret.reveal();
          partners.push(best);
        }
      }
      if (value === undefined) return { missing: `no ${input.label} near the secret` };
      values[input.name] = value;
    }
    return { values, partners };
  }

  async function verify(findings: readonly Finding[]): Promise<Finding[]> {
    const started = now();
    const deadline = started + settings.deadlineMs;
    const limit = createLimiter(settings.concurrency);
    const cache = new Map<string, Promise<VerifyResult>>();

    /** Sends the request (and at most one retry after a 429) under the limiter. */
    async function call(
      spec: VerifySpec,
      secret: string,
      inputs: Record<string, string>,
    ): Promise<VerifyResult> {
      const configured = settings.baseUrls[spec.provider];
      const baseUrl = configured === "" ? spec.baseUrl : configured;
      let prepared;
      try {
        prepared = await prepareRequest(spec, baseUrl, secret, inputs);
      } catch {
        return unknown("cannot build the request (check verify.baseUrls)");
      }
      for (let attempt = 0; ; attempt++) {
        const left = deadline - now();
        if (left <= 0) return unknown("verification deadline reached");
        const budget = Math.min(settings.timeoutMs, left);
        const controller = new AbortController();
        const timer = setTimeout(() => {
          controller.abort();
        }, budget);
        let status: number;
        let retryAfter: string | null;
        let body: string;
        try {
          const response = await fetch(prepared.url, {
            method: prepared.method,
            headers: prepared.headers,
            ...(prepared.body === undefined ? {} : { body: prepared.body }),
            // Never carry the credential to wherever a redirect points.
            redirect: "manual",
            signal: controller.signal,
          });
          status = response.status;
          retryAfter = response.headers.get("retry-after");
          body = await readCapped(response);
        } catch (e) {
          if (controller.signal.aborted) {
            return unknown(budget < settings.timeoutMs ? "verification deadline reached" : "timed out");
          }
          return unknown(networkReason(e));
        } finally {
          clearTimeout(timer);
        }
        const classified = classifyResponse(spec, status, body);
        if (classified !== undefined) return classified;
        if (status === 429) {
          const wait = retryAfterMs(retryAfter, Date.now());
          if (attempt === 0 && wait !== undefined && now() + wait < deadline) {
            await sleep(wait);
            continue;
          }
          return unknown("rate limited (http 429)");
        }
        if (status >= 300 && status < 400) return unknown(`redirected (http ${status})`);
        return unknown(`http ${status}`);
      }
    }

    const results = new Map<Finding, VerifyResult>();
    const partnerResults = new Map<Finding, VerifyStatus[]>();
    await Promise.all(
      findings.map(async (finding) => {
        const spec = specs.get(finding.rule);
        if (spec === undefined) return;
        const resolved = inputsFor(finding, spec, findings);
        if ("missing" in resolved) {
          results.set(finding, unknown(resolved.missing));
          return;
        }
        const inputKey = Object.entries(resolved.values)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => `${k}=${v}`)
          .join("\0");
        const key = `${finding.fingerprint}\0${inputKey}`;
        let pending = cache.get(key);
        if (pending === undefined) {
          pending = limit(() => call(spec, finding.secret.reveal(), resolved.values));
          cache.set(key, pending);
        }
        const result = await pending;
        results.set(finding, result);
        for (const p of resolved.partners) {
          const list = partnerResults.get(p) ?? [];
          list.push(result.status);
          partnerResults.set(p, list);
        }
      }),
    );
    // A key id has no verifier of its own: it is as live as the secret it pairs with.
    for (const [partner, statuses] of partnerResults) {
      if (results.has(partner) || specs.has(partner.rule)) continue;
      if (statuses.includes("live")) results.set(partner, { status: "live" });
      else if (statuses.includes("revoked")) results.set(partner, { status: "revoked" });
    }
    return findings.map((f) => {
      const r = results.get(f);
      if (r === undefined) return f;
      return { ...f, verified: r.status, ...(r.reason === undefined ? {} : { verifyReason: r.reason }) };
    });
  }

  return { verify };
}

export type VerifyService = ReturnType<typeof createVerifyService>;
