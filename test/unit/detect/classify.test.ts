import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { classify, shippedModel } from "../../../src/detect/classify/classify.ts";
import {
  FAMILIES,
  FEATURE_NAMES,
  FEATURE_VERSION,
  type Features,
} from "../../../src/detect/classify/features.ts";
import { predict, type SliceMetrics } from "../../../src/detect/classify/model.ts";
import { builtinCatalogue } from "../../../src/detect/catalogue.ts";
import { scanText } from "../../../src/detect/engine.ts";
import { createExampleGen } from "../../../src/detect/example-gen.ts";
import Value from "typebox/value";
import { ConfigSchema } from "../../../src/config/schema.ts";

const ROOT = join(import.meta.dirname, "../../..");
const TOLERANCE = 0.005;

interface Heldout {
  readonly featureVersion: number;
  readonly rows: readonly number[][];
}

function heldoutMetrics(): {
  overall: SliceMetrics;
  families: Record<string, { tp: number; fp: number; fn: number }>;
} {
  const model = shippedModel();
  const heldout = JSON.parse(readFileSync(join(ROOT, "ml/heldout.json"), "utf8")) as Heldout;
  assert.equal(heldout.featureVersion, FEATURE_VERSION, "ml/heldout.json is stale: run npm run ml:train");
  const d = FEATURE_NAMES.length;
  const scored = heldout.rows.map((row) => {
    const f: Features = { dense: Float64Array.from(row.slice(2, 2 + d)), sparse: row.slice(2 + d) };
    return { y: row[0]!, family: FAMILIES[row[1]!]!, p: Math.round(predict(model.model, f) * 100) / 100 };
  });
  const families: Record<string, { tp: number; fp: number; fn: number }> = {};
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const s of scored) {
    const fam = (families[s.family] ??= { tp: 0, fp: 0, fn: 0 });
    const hit = s.p >= model.threshold;
    if (hit && s.y === 1) {
      tp++;
      fam.tp++;
    } else if (hit) {
      fp++;
      fam.fp++;
    } else if (s.y === 1) {
      fn++;
      fam.fn++;
    }
  }
  const precision = tp / (tp + fp);
  const recall = tp / (tp + fn);
  return {
    overall: {
      n: scored.length,
      positives: tp + fn,
      precision,
      recall,
      f1: (2 * precision * recall) / (precision + recall),
      prAuc: 0,
    },
    families,
  };
}

test("the shipped model reproduces its documented held-out metrics and meets the targets", () => {
  const model = shippedModel();
  const { overall, families } = heldoutMetrics();
  const documented = model.metrics.overall;
  assert.equal(overall.n, documented.n);
  assert.ok(
    Math.abs(overall.precision - documented.precision) <= TOLERANCE,
    `precision ${overall.precision} vs ${documented.precision}`,
  );
  assert.ok(
    Math.abs(overall.recall - documented.recall) <= TOLERANCE,
    `recall ${overall.recall} vs ${documented.recall}`,
  );
  assert.ok(overall.precision >= 0.97, `held-out precision ${overall.precision} < 0.97`);
  assert.ok(overall.recall >= 0.95, `held-out recall ${overall.recall} < 0.95`);
  for (const [family, m] of Object.entries(model.metrics.families)) {
    const c = families[family]!;
    const recall = c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
    assert.ok(Math.abs(recall - m.recall) <= TOLERANCE, `${family} recall ${recall} vs ${m.recall}`);
  }
  // docs/model.md is generated from the same numbers.
  const doc = readFileSync(join(ROOT, "docs/model.md"), "utf8");
  assert.ok(
    doc.includes(
      `| overall | ${documented.n} | ${documented.positives} | ${documented.precision.toFixed(4)} | ${documented.recall.toFixed(4)} |`,
    ),
  );
});

test("detect.minConfidence defaults to the model's threshold", () => {
  const defaults = Value.Default(ConfigSchema, {}) as { detect: { minConfidence: number } };
  assert.equal(defaults.detect.minConfidence, shippedModel().threshold);
});

test("the model is small enough to ship", () => {
  const bytes = readFileSync(join(ROOT, "src/detect/classify/model.json")).length;
  assert.ok(bytes < 2 * 1024 * 1024, `model.json is ${bytes} bytes`);
});

/** Confidence of the one candidate `rule` finds on `value` in `text` at `path`. */
function confidenceOf(text: string, value: string, path: string): number {
  const m = scanText(text, builtinCatalogue()).find((x) => x.secret === value);
  assert.ok(m !== undefined, `no candidate for the planted value in ${path}`);
  return classify(m, { text, path });
}

test("a live-looking key scores above the threshold; test-mode, documentation and fixture keys below", () => {
  const g = createExampleGen("classify-test");
  const t = shippedModel().threshold;
  const live = "sk_" + "live_" + g.alnum(24);
  const testMode = "sk_" + "test_" + g.alnum(24);
  const docId = "AKIA" + "IOSFODNN7" + "EXAMPLE";
  const env = (v: string): string => `APP_ENV=production\nSTRIPE_SECRET_KEY=${v}\nLOG_LEVEL=info\n`;
  assert.ok(confidenceOf(env(live), live, ".env") >= t, "live key in .env");
  assert.ok(confidenceOf(env(testMode), testMode, ".env") < t, "test-mode key");
  const fixture = `describe("billing", () => {\n  it("charges", () => {\n    const key = "${live}";\n    assert.ok(charge(key));\n  });\n});\n`;
  assert.ok(confidenceOf(fixture, live, "test/billing.test.ts") < t, "key in a test file");
  const aws = `[default]\naws_access_key_id = ${docId}\n`;
  const found = scanText(aws, builtinCatalogue()).find((x) => x.secret === docId);
  // The engine may already drop the documentation key; when it does not, the model must.
  if (found !== undefined)
    assert.ok(classify(found, { text: aws, path: ".aws/credentials" }) < t, "documentation key");
});

test("classification is deterministic and does not depend on where a package is installed", () => {
  const g = createExampleGen("classify-determinism");
  const key = "sk_" + "live_" + g.alnum(24);
  const text = `STRIPE_SECRET_KEY=${key}\n`;
  const a = confidenceOf(text, key, "lib/config.env");
  assert.equal(confidenceOf(text, key, "lib/config.env"), a);
  assert.equal(confidenceOf(text, key, "node_modules/@acme/pkg/lib/config.env"), a);
});
