/**
 * Worker thread entry of a parallel scan (see worker-pool.ts). It compiles its own catalogue
 * from the config the pool hands it (rules hold functions, which cannot cross threads), runs
 * the scan's one detection call on each text of a batch and replies with matches whose rule
 * is an index into that catalogue. An exception here ends the worker, and the pool fails the
 * scan with KW_ERR_SCAN_WORKER: nothing is caught on purpose.
 *
 * The bundled CLI builds this file as dist/cli/scan-worker.js (scripts/bundle-cli.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { DetectedMatch } from "../../detect/decode.ts";
import type { Rule } from "../../detect/rule.ts";
import { catalogueFor, chunkDetector } from "./chunk-detector.ts";
import {
  ruleSignature,
  type DetectRequest,
  type ScanWorkerData,
  type WireMatch,
  type WorkerReply,
} from "./worker-pool.ts";

const port = parentPort;
if (port === null) throw new Error("scan-worker.ts runs as a worker thread only");

const { config } = workerData as ScanWorkerData;
const catalogue = catalogueFor(config);
const detect = chunkDetector(config, catalogue);
const ruleIndex = new Map<Rule, number>(catalogue.rules.map((r, i) => [r, i]));

function toWire(m: DetectedMatch): WireMatch {
  const rule = ruleIndex.get(m.rule);
  if (rule === undefined) throw new Error(`a match came from rule ${m.rule.id}, outside the catalogue`);
  return { ...m, rule };
}

port.on("message", (request: DetectRequest) => {
  const reply: WorkerReply = {
    kind: "result",
    id: request.id,
    results: request.texts.map((text) => detect(text).map(toWire)),
  };
  port.postMessage(reply);
});

const ready: WorkerReply = { kind: "ready", rules: ruleSignature(catalogue.rules) };
port.postMessage(ready);
