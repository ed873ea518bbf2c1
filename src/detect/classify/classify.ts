import type { Match } from "../engine.ts";
import {
  extractFeatures,
  FEATURE_NAMES,
  FEATURE_VERSION,
  HASH_BUCKETS,
  type CandidateContext,
} from "./features.ts";
import { predict, type ModelFile } from "./model.ts";
import shipped from "./model.json" with { type: "json" };

/*
 * The shipped candidate classifier: model.json is written by `npm run ml:train` (see
 * docs/model.md for how it was trained and how well it does).
 */

const MODEL = shipped as unknown as ModelFile;

function checked(model: ModelFile): ModelFile {
  // A model trained on other features would give confident nonsense: refuse it loudly.
  if (
    model.featureVersion !== FEATURE_VERSION ||
    model.featureCount !== FEATURE_NAMES.length ||
    model.hashBuckets !== HASH_BUCKETS
  ) {
    throw new Error(
      `classifier model.json was trained on feature version ${model.featureVersion} (${model.featureCount} features); this build has ${FEATURE_VERSION} (${FEATURE_NAMES.length}): run npm run ml:train`,
    );
  }
  return model;
}

let loaded: ModelFile | undefined;

/**
 * The shipped model file, checked against this build's features.
 *
 * @example
 *   shippedModel().threshold // 0.5
 */
export function shippedModel(): ModelFile {
  loaded ??= checked(MODEL);
  return loaded;
}

/**
 * The probability (0..1, two decimals) that a candidate is a real, live-looking secret,
 * from the value, the text around it, the path and the rule that fired. Deterministic.
 *
 * @example
 *   classify(match, { text: chunk.text, path: chunk.path }) // 0.97
 */
export function classify(match: Match, ctx: CandidateContext, model: ModelFile = shippedModel()): number {
  const p = predict(model.model, extractFeatures(match, ctx));
  return Math.round(p * 100) / 100;
}
