import assert from "node:assert/strict";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../../src/config/load.ts";
import { systemClock } from "../../src/core/clock.ts";
import { isKeywardenError } from "../../src/core/errors.ts";
import { fileSource } from "../../src/sources/file-source.ts";
import { gitSource } from "../../src/sources/git-source.ts";
import type { TextChunk } from "../../src/sources/source.ts";
import { createScanService, type ScanResult } from "../../src/services/scan/scan-service.ts";
import { createDetectPipeline, resolveJobs } from "../../src/services/scan/worker-pool.ts";
import { ACME_RULE_TOML, buildScanHistory, buildScanTree } from "../helpers/scan-tree.ts";
import { tempDir } from "../helpers/tmp.ts";

/** Counts worker threads started while `fn` runs (Node's built-in `worker_threads` channel). */
async function countingWorkers<T>(fn: () => Promise<T>): Promise<{ value: T; workers: number }> {
  let workers = 0;
  const onWorker = (): void => {
    workers++;
  };
  subscribe("worker_threads", onWorker);
  try {
    return { value: await fn(), workers };
  } finally {
    unsubscribe("worker_threads", onWorker);
  }
}

/** Everything a report shows, secrets revealed, and the stats apart from the duration. */
function comparable(r: ScanResult): unknown {
  return {
    findings: r.findings.map((f) => ({ ...f, secret: f.secret.reveal() })),
    skipped: r.skipped,
    suppressed: r.suppressed,
    files: r.stats.files,
    bytes: r.stats.bytes,
  };
}

async function scanFiles(dir: string, jobs: number) {
  const { config } = loadConfig({ cwd: dir, env: {}, flags: { "scan.jobs": jobs } });
  const scanner = createScanService({ config, clock: systemClock });
  return countingWorkers(() =>
    scanner.scan({
      sources: [
        fileSource({
          paths: ["."],
          cwd: dir,
          maxFileSize: config.scan.maxFileSize,
          gitignore: true,
          exclude: [],
          overlap: scanner.catalogue.maxWindow,
        }),
      ],
    }),
  );
}

test("scan.jobs 0 means one worker per available core", () => {
  assert.equal(resolveJobs(0), availableParallelism());
  assert.equal(resolveJobs(1), 1);
  assert.equal(resolveJobs(3), 3);
});

describe("scan.jobs over a realistic tree", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kw-jobs-"));
    buildScanTree(dir);
    writeFileSync(
      join(dir, "keywarden.toml"),
      `${ACME_RULE_TOML}\n[detect.allowlist]\npaths = ['''^vendor/allowlisted/''']\n`,
    );
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test("--jobs 1 and --jobs 2 give the same findings, order, skipped items and stats", async () => {
    const one = await scanFiles(dir, 1);
    const two = await scanFiles(dir, 2);
    assert.equal(one.workers, 0, "--jobs 1 starts no worker");
    assert.equal(two.workers, 2, "--jobs 2 starts two workers");
    assert.deepEqual(comparable(two.value), comparable(one.value));

    const r = one.value;
    assert.ok(r.findings.length > 300, `only ${r.findings.length} findings`);
    assert.ok(r.stats.files > 900);
    assert.ok(r.skipped.some((s) => s.path.endsWith("logo.bin")));
    assert.ok(r.suppressed.allowlist > 0 && r.suppressed.inline > 0);
    assert.ok(r.findings.filter((f) => f.decoder !== undefined).length >= 5, "keys found through decoders");
    // The user rule compiled in the workers too.
    assert.ok(two.value.findings.filter((f) => f.rule === "acme-internal").length === 11);
    // Keys in the chunked 9 MiB file, past the first 8 MiB chunk as well.
    const huge = r.findings.filter((f) => f.file === "dist/huge.js");
    const boundary = readFileSync(join(dir, "dist", "huge.js"))
      .subarray(0, 8 * 1024 * 1024)
      .toString("latin1")
      .split("\n").length;
    assert.ok(huge.length > 30, "keys in both chunks");
    assert.equal(
      huge.filter((f) => Math.abs(f.line - boundary) <= 1).length,
      1,
      "the key at the chunk boundary, once",
    );
    assert.ok(huge.some((f) => f.line > boundary + 1000));
  });

  test("a small scan with --jobs 2 starts no worker", async (t) => {
    const small = tempDir(t, "kw-jobs-small-");
    writeFileSync(join(small, "a.txt"), "hello\n");
    writeFileSync(join(small, "b.txt"), "token = process.env.TOKEN\n");
    writeFileSync(join(small, "c.txt"), "nothing here\n");
    const r = await scanFiles(small, 2);
    assert.equal(r.workers, 0);
    assert.equal(r.value.stats.files, 3);
  });
});

test("scan --git with 1 and 2 jobs gives the same findings and stats", async (t) => {
  const dir = tempDir(t, "kw-jobs-git-");
  buildScanHistory(dir);
  writeFileSync(join(dir, "keywarden.toml"), ACME_RULE_TOML);
  const scan = async (jobs: number) => {
    const { config } = loadConfig({ cwd: dir, env: {}, flags: { "scan.jobs": jobs } });
    const scanner = createScanService({ config, clock: systemClock });
    return countingWorkers(() =>
      scanner.scan({ sources: [gitSource({ repo: dir, maxFileSize: config.scan.maxFileSize })] }),
    );
  };
  const one = await scan(1);
  const two = await scan(2);
  assert.equal(two.workers, 2);
  assert.deepEqual(comparable(two.value), comparable(one.value));
  assert.ok(one.value.findings.length > 100, `only ${one.value.findings.length} findings`);
  assert.ok(one.value.findings.some((f) => f.rule === "acme-internal" && f.commit !== undefined));
});

describe("a failing worker fails the scan with a clear error", () => {
  const chunk = (i: number): TextChunk => {
    const text = `line ${i}\n`.repeat(64 * 1024);
    return { path: `f${i}`, text, line: 1, column: 1, ownedTo: text.length, bytes: text.length, first: true };
  };
  const { config } = loadConfig({ cwd: "/", env: {} });

  async function runWith(workerSource: string, t: Parameters<typeof tempDir>[0]): Promise<unknown> {
    const dir = tempDir(t, "kw-worker-");
    const entry = join(dir, "worker.mjs");
    writeFileSync(entry, workerSource);
    const pipeline = createDetectPipeline({
      jobs: 2,
      detect: () => [],
      workers: { config, rules: [], entry: pathToFileURL(entry) },
      onResult: () => undefined,
    });
    try {
      for (let i = 0; i < 40; i++) await pipeline.push(chunk(i), true);
      await pipeline.end();
      return undefined;
    } catch (e) {
      return e;
    } finally {
      await pipeline.close();
    }
  }

  for (const [name, source, reason] of [
    [
      "an exception",
      `import { parentPort } from "node:worker_threads";
       parentPort.on("message", () => { throw new Error("detector exploded"); });`,
      /a scan worker thread failed: detector exploded/,
    ],
    [
      "an exit",
      `import { parentPort } from "node:worker_threads";
       parentPort.on("message", () => process.exit(3));`,
      /a scan worker thread failed: the worker exited with code 3/,
    ],
    [
      "an entry that does not load",
      `import "./missing-module.mjs";`,
      /a scan worker thread failed: .*missing-module/,
    ],
    [
      "a different catalogue",
      `import { parentPort } from "node:worker_threads";
       parentPort.postMessage({ kind: "ready", rules: "other-rule" });
       parentPort.on("message", () => undefined);`,
      /different rule catalogue/,
    ],
  ] as const) {
    test(name, async (t) => {
      const e = await runWith(source, t);
      assert.ok(isKeywardenError(e, "KW_ERR_SCAN_WORKER"), String(e));
      assert.match(e.message, reason);
    });
  }
});

test("backpressure: the pipeline holds a bounded amount of text on a fast, long source", async () => {
  const { config } = loadConfig({ cwd: "/", env: {}, flags: { "scan.jobs": 2 } });
  const scanner = createScanService({ config, clock: systemClock });
  const text = "x".repeat(1024 * 1024);
  let pushed = 0;
  let delivered = 0;
  let maxHeld = 0;
  const source = {
    async *items() {
      for (let i = 0; i < 64; i++) {
        // A source that is always ready: only the pipeline's backpressure can slow it down.
        await Promise.resolve();
        maxHeld = Math.max(maxHeld, pushed - delivered);
        pushed++;
        yield {
          kind: "chunk" as const,
          chunk: {
            path: `f${i}`,
            text,
            line: 1,
            column: 1,
            ownedTo: text.length,
            bytes: text.length,
            first: true,
          },
        };
      }
    },
  };
  const { value } = await countingWorkers(() =>
    scanner.scan({
      sources: [source],
      onProgress: () => {
        delivered++;
      },
    }),
  );
  assert.equal(value.stats.files, 64);
  assert.equal(delivered, 64);
  // 2 workers x 24 MiB of held text, plus the chunk being pushed: far below the 64 MiB read.
  assert.ok(maxHeld <= 49, `held ${maxHeld} MiB at once`);
});
