/**
 * Parallel detection for the scan service. The main thread keeps reading sources and doing
 * suppression and reports; worker threads run the per-chunk detection. Results are handed
 * back strictly in submission order, so a report never depends on worker timing.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { DeepReadonly } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { KeywardenError } from "../../core/errors.ts";
import { workerEntry } from "../../core/worker-entry.ts";
import type { DetectedMatch } from "../../detect/decode.ts";
import type { Rule } from "../../detect/rule.ts";
import type { TextChunk } from "../../sources/source.ts";
import type { ChunkDetector } from "./chunk-detector.ts";

/** A match as it crosses threads: the rule as its index in the catalogue (rules hold functions). */
export type WireMatch = Omit<DetectedMatch, "rule"> & { readonly rule: number };

/** What the pool hands a worker when it starts it. */
export interface ScanWorkerData {
  readonly config: DeepReadonly<Config>;
}

/** Main thread to worker: detect each text of a batch. */
export interface DetectRequest {
  readonly id: number;
  readonly texts: readonly string[];
}

/** Worker to main thread: first its catalogue's rule ids, then one reply per request. */
export type WorkerReply =
  | { readonly kind: "ready"; readonly rules: string }
  | { readonly kind: "result"; readonly id: number; readonly results: readonly (readonly WireMatch[])[] };

/**
 * Rule ids joined: the worker compiles its own catalogue from the config, and match rule
 * indexes are only meaningful if both threads list the same rules in the same order.
 *
 * @example
 *   ruleSignature(catalogue.rules) // "aws-access-key\naws-secret-key\n..."
 */
export function ruleSignature(rules: readonly Rule[]): string {
  return rules.map((r) => r.id).join("\n");
}

/** A batch closes at this many characters: many small files share one postMessage. */
const BATCH_CHARS = 256 * 1024;
/** ... or at this many texts. */
const BATCH_TEXTS = 512;
/** Batches in flight per worker: one being scanned, one waiting, so a worker never idles. */
const IN_FLIGHT_PER_WORKER = 2;
/** Workers start only once this many characters were submitted: small scans stay in one thread. */
const LAZY_START_CHARS = 2 * 1024 * 1024;
/** Text held by the pipeline (queued, in flight, or done but waiting for an earlier one), per worker. */
const PENDING_CHARS_PER_WORKER = 24 * 1024 * 1024;
/** ... and texts held, per worker (many tiny files). */
const PENDING_TEXTS_PER_WORKER = 4 * BATCH_TEXTS;

/**
 * The number of worker threads a `scan.jobs` value means: 0 is one per available core.
 *
 * @example
 *   resolveJobs(0) // os.availableParallelism(), e.g. 2
 *   resolveJobs(1) // 1: scan in the main thread
 */
export function resolveJobs(jobs: number): number {
  return jobs > 0 ? jobs : Math.max(1, availableParallelism());
}

/**
 * The entry of scan worker threads (see `workerEntry`).
 *
 * @example
 *   new Worker(scanWorkerEntry());
 */
export function scanWorkerEntry(): URL {
  return workerEntry(import.meta.url, "scan-worker");
}

interface Batch {
  readonly texts: string[];
  readonly done: ((matches: DetectedMatch[]) => void)[];
  chars: number;
}

interface Slot {
  readonly worker: Worker;
  inFlight: number;
}

/** The worker threads, fed with batches of texts. */
interface DetectPool {
  submit(text: string, done: (matches: DetectedMatch[]) => void): void;
  /** Sends the batch being filled now instead of waiting for more texts. */
  flush(): void;
  /** True when batches wait because every worker already has enough in flight. */
  readonly saturated: boolean;
  /** Throws the failure once a worker failed. */
  check(): void;
  /** Resolves when any batch completes; rejects once a worker failed. */
  nextCompletion(): Promise<void>;
  close(): Promise<void>;
}

function createDetectPool(options: {
  readonly size: number;
  readonly config: DeepReadonly<Config>;
  readonly rules: readonly Rule[];
  readonly entry: URL;
}): DetectPool {
  const slots: Slot[] = [];
  const backlog: Batch[] = [];
  const inFlight = new Map<number, { batch: Batch; slot: Slot }>();
  const expected = ruleSignature(options.rules);
  let current: Batch = { texts: [], done: [], chars: 0 };
  let nextId = 0;
  let failure: KeywardenError | undefined;
  let closing = false;
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  function fail(reason: string): void {
    if (failure !== undefined || closing) return;
    failure = new KeywardenError("KW_ERR_SCAN_WORKER", { reason });
    for (const w of waiters) w.reject(failure);
    waiters = [];
    for (const s of slots) void s.worker.terminate();
  }

  function completed(): void {
    for (const w of waiters) w.resolve();
    waiters = [];
  }

  function onReply(slot: Slot, reply: WorkerReply): void {
    if (failure !== undefined) return;
    if (reply.kind === "ready") {
      if (reply.rules !== expected) fail("the worker compiled a different rule catalogue from the config");
      return;
    }
    const entry = inFlight.get(reply.id);
    if (entry === undefined) {
      fail(`reply to an unknown batch ${reply.id}`);
      return;
    }
    inFlight.delete(reply.id);
    slot.inFlight--;
    const { batch } = entry;
    for (let i = 0; i < batch.done.length; i++) {
      const wire = reply.results[i] ?? [];
      const matches: DetectedMatch[] = [];
      for (const w of wire) {
        const rule = options.rules[w.rule];
        if (rule === undefined) {
          fail(`a match names rule #${w.rule}, outside the catalogue`);
          return;
        }
        matches.push({ ...w, rule });
      }
      batch.done[i]!(matches);
    }
    pump();
    completed();
  }

  function start(): void {
    for (let i = 0; i < options.size; i++) {
      const workerData: ScanWorkerData = { config: options.config };
      const worker = new Worker(options.entry, { workerData, name: `keywarden-scan-${i}` });
      const slot: Slot = { worker, inFlight: 0 };
      worker.on("message", (reply: WorkerReply) => {
        onReply(slot, reply);
      });
      worker.on("error", (e: Error) => {
        fail(e.message);
      });
      worker.on("messageerror", (e: Error) => {
        fail(`a reply could not be read: ${e.message}`);
      });
      worker.on("exit", (code) => {
        fail(`the worker exited with code ${code}`);
      });
      slots.push(slot);
    }
  }

  function pump(): void {
    if (failure !== undefined) return;
    if (slots.length === 0 && backlog.length > 0) start();
    while (backlog.length > 0) {
      let best: Slot | undefined;
      for (const s of slots) if (best === undefined || s.inFlight < best.inFlight) best = s;
      if (best === undefined || best.inFlight >= IN_FLIGHT_PER_WORKER) return;
      const batch = backlog.shift()!;
      const id = nextId++;
      inFlight.set(id, { batch, slot: best });
      best.inFlight++;
      const request: DetectRequest = { id, texts: batch.texts };
      best.worker.postMessage(request);
    }
  }

  function flush(): void {
    if (current.texts.length === 0) return;
    backlog.push(current);
    current = { texts: [], done: [], chars: 0 };
    pump();
  }

  return {
    submit(text, done) {
      current.texts.push(text);
      current.done.push(done);
      current.chars += text.length;
      if (current.chars >= BATCH_CHARS || current.texts.length >= BATCH_TEXTS) flush();
    },
    flush,
    get saturated() {
      return backlog.length > 0;
    },
    check() {
      if (failure !== undefined) throw failure;
    },
    nextCompletion() {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<void>((resolve, reject) => {
        waiters.push({ resolve, reject });
      });
    },
    async close() {
      closing = true;
      completed();
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

interface Pending {
  readonly chunk: TextChunk;
  /** Undefined until detection is done; null for a chunk that skips detection. */
  matches: DetectedMatch[] | null | undefined;
}

/** Ordered detection over a stream of chunks, in the main thread or on worker threads. */
export interface DetectPipeline {
  /**
   * Queues a chunk (with `detect` false it only keeps its place in the order). Resolves when
   * the pipeline has room for the next chunk: awaiting it is the backpressure.
   */
  push(chunk: TextChunk, detect: boolean): Promise<void>;
  /** Waits until every queued chunk's result was handed to `onResult`. */
  end(): Promise<void>;
  /** Stops the workers; call it in a `finally`, also after a failure. */
  close(): Promise<void>;
}

/**
 * Runs detection for a scan and calls `onResult` once per chunk, in push order, with its
 * matches (`null` when the chunk skipped detection). With `jobs` 1, or without `workers`
 * (a catalogue that did not come from the config cannot be rebuilt in a worker), everything
 * runs in the calling thread. Otherwise the first LAZY_START_CHARS are scanned in this
 * thread, so a small scan never pays for starting workers, and the rest goes to `jobs`
 * workers in batches, with at most IN_FLIGHT_PER_WORKER batches each and a bounded amount
 * of text held. A failing worker rejects `push` or `end` with KW_ERR_SCAN_WORKER.
 *
 * @example
 *   const pipeline = createDetectPipeline({ jobs: 2, detect, workers: { config, rules }, onResult });
 *   try {
 *     for await (const chunk of chunks) await pipeline.push(chunk, true);
 *     await pipeline.end();
 *   } finally {
 *     await pipeline.close();
 *   }
 */
export function createDetectPipeline(options: {
  readonly jobs: number;
  /** The detection this thread runs: the same function the workers run. */
  readonly detect: ChunkDetector;
  readonly workers?: {
    readonly config: DeepReadonly<Config>;
    readonly rules: readonly Rule[];
    readonly entry?: URL;
  };
  readonly onResult: (chunk: TextChunk, matches: readonly DetectedMatch[] | null) => void;
}): DetectPipeline {
  const { jobs, detect, onResult } = options;
  const workers = jobs > 1 ? options.workers : undefined;
  let pool: DetectPool | undefined;
  let inlineChars = 0;
  // Chunks waiting for their turn to be delivered; entries before `head` are spent.
  const queue: (Pending | undefined)[] = [];
  let head = 0;
  let pendingChars = 0;
  const maxChars = jobs * PENDING_CHARS_PER_WORKER;
  const maxTexts = jobs * PENDING_TEXTS_PER_WORKER;

  function deliverDone(): void {
    while (head < queue.length && queue[head]!.matches !== undefined) {
      const p = queue[head]!;
      queue[head++] = undefined;
      pendingChars -= p.chunk.text.length;
      onResult(p.chunk, p.matches ?? null);
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024) {
      queue.splice(0, head);
      head = 0;
    }
  }

  /** Waits for results until `fits()` holds. */
  async function drain(fits: () => boolean): Promise<void> {
    pool!.check();
    deliverDone();
    while (!fits()) {
      // With nothing waiting to be sent, the oldest chunk may sit in the batch being filled:
      // send it, or nothing progresses. Otherwise a worker is busy and will reply.
      if (!pool!.saturated) pool!.flush();
      await pool!.nextCompletion();
      deliverDone();
    }
  }

  const roomy = (): boolean => !pool!.saturated && pendingChars < maxChars && queue.length - head < maxTexts;

  return {
    async push(chunk, wantDetect) {
      if (pool === undefined) {
        if (!wantDetect) {
          onResult(chunk, null);
          return;
        }
        if (workers === undefined || inlineChars < LAZY_START_CHARS) {
          inlineChars += chunk.text.length;
          onResult(chunk, detect(chunk.text));
          return;
        }
        pool = createDetectPool({
          size: jobs,
          config: workers.config,
          rules: workers.rules,
          entry: workers.entry ?? scanWorkerEntry(),
        });
      }
      const p: Pending = { chunk, matches: wantDetect ? undefined : null };
      queue.push(p);
      pendingChars += chunk.text.length;
      if (wantDetect)
        pool.submit(chunk.text, (m) => {
          p.matches = m;
        });
      await drain(roomy);
    },
    async end() {
      if (pool !== undefined) await drain(() => head === queue.length);
    },
    async close() {
      await pool?.close();
    },
  };
}
