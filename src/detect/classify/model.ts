import type { Features } from "./features.ts";

/**
 * The two model families the trainer compares (scripts/ml-train.ts). Both are plain data,
 * so a model file is JSON and inference is a few hundred multiply-adds per candidate.
 */

/** Logistic regression over standardised dense features plus hashed sparse indicators. */
export interface LogisticModel {
  readonly kind: "logistic";
  readonly mean: readonly number[];
  readonly scale: readonly number[];
  readonly dense: readonly number[];
  readonly sparse: readonly number[];
  readonly bias: number;
}

/**
 * One regression tree, as parallel arrays over its nodes (root at 0). An inner node sends
 * x to `left` when x[feature] <= threshold; a leaf has feature -1 and adds `value`.
 */
export interface Tree {
  readonly feature: readonly number[];
  readonly threshold: readonly number[];
  readonly left: readonly number[];
  readonly right: readonly number[];
  readonly value: readonly number[];
}

/** Gradient-boosted regression trees on the dense features, logistic loss. */
export interface BoostedTreesModel {
  readonly kind: "gbdt";
  readonly base: number;
  readonly trees: readonly Tree[];
}

export type ModelBody = LogisticModel | BoostedTreesModel;

/** Metrics of one slice of an evaluation split. */
export interface SliceMetrics {
  readonly n: number;
  readonly positives: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly prAuc: number;
}

/** The model file: the chosen model, its threshold and the metrics docs/model.md reports. */
export interface ModelFile {
  readonly format: 1;
  readonly featureVersion: number;
  readonly featureCount: number;
  readonly hashBuckets: number;
  /** Default detect.minConfidence: chosen on the validation split. */
  readonly threshold: number;
  readonly model: ModelBody;
  /** Held-out (test split) metrics at `threshold`, overall and per rule family. */
  readonly metrics: {
    readonly overall: SliceMetrics;
    readonly families: Readonly<Record<string, SliceMetrics>>;
  };
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * The model's raw probability for one feature vector.
 *
 * @example
 *   predict(file.model, extractFeatures(match, ctx)) // 0.93
 */
export function predict(model: ModelBody, f: Features): number {
  if (model.kind === "logistic") {
    let z = model.bias;
    for (let i = 0; i < f.dense.length; i++)
      z += model.dense[i]! * ((f.dense[i]! - model.mean[i]!) / model.scale[i]!);
    for (const s of f.sparse) z += model.sparse[s]!;
    return sigmoid(z);
  }
  let z = model.base;
  for (const t of model.trees) {
    let node = 0;
    while (t.feature[node]! >= 0)
      node = f.dense[t.feature[node]!]! <= t.threshold[node]! ? t.left[node]! : t.right[node]!;
    z += t.value[node]!;
  }
  return sigmoid(z);
}
