/**
 * Phase-classifier metrics: the confusion matrix (rows: true phase), balanced accuracy (mean
 * recall over the phases present), per-class precision/recall/F1 — both the usual ones and the
 * original's (precision and recall read from the row-normalised matrix) —, one-vs-rest ROC-AUC
 * (Mann–Whitney, ties counted half; macro over phases with positives and negatives) and the
 * mean softmax entropy.
 *
 * @example
 * ```ts
 * import { classificationMetrics } from "./cls_metrics.ts";
 * const m = classificationMetrics([0, 1, 1], probs, 2); // probs: 3 × 2 softmax rows
 * console.log(m.balancedAccuracy, m.rocAuc);
 * ```
 * @module
 */

/** What {@link classificationMetrics} computes. */
export interface ClassificationMetrics {
  /** `classes × classes` counts, row = true class. */
  confusion: number[][];
  accuracy: number;
  balancedAccuracy: number;
  precision: number[];
  recall: number[];
  f1: number[];
  /** The original's precision: of the row-normalised matrix's columns. */
  precisionRowNormalised: number[];
  /** One-vs-rest AUC per class (NaN where a class has no positive or no negative). */
  auc: number[];
  /** Macro mean of the defined AUCs. */
  rocAuc: number;
  /** Mean of −Σ p log p over the samples (nats). */
  entropy: number;
  /** Samples per true class. */
  support: number[];
}

/**
 * Area under the ROC curve of `scores` for the `positive` flags (ties count ½).
 *
 * @example
 * ```ts
 * rocAuc([0.1, 0.9, 0.5], [false, true, true]); // 1
 * ```
 */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  const ranks = new Float64Array(scores.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    for (let k = i; k <= j; k++) ranks[idx[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let np = 0, sum = 0;
  positive.forEach((p, i) => {
    if (p) {
      np++;
      sum += ranks[i];
    }
  });
  const nn = scores.length - np;
  if (np === 0 || nn === 0) return NaN;
  return (sum - np * (np + 1) / 2) / (np * nn);
}

/**
 * All metrics from true labels and softmax rows (`labels.length × classes`, row-major).
 *
 * @example
 * ```ts
 * classificationMetrics([0, 1], [0.9, 0.1, 0.2, 0.8], 2).accuracy; // 1
 * ```
 */
export function classificationMetrics(
  labels: readonly number[],
  probs: ArrayLike<number>,
  classes: number,
): ClassificationMetrics {
  const n = labels.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let entropy = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const p = probs[i * classes + c];
      if (p > probs[i * classes + best]) best = c;
      if (p > 0) entropy -= p * Math.log(p);
    }
    confusion[labels[i]][best]++;
    if (best === labels[i]) correct++;
  }
  const support = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const colSum = (m: number[][], c: number) => m.reduce((s, r) => s + r[c], 0);
  const recall = confusion.map((r, c) => (support[c] ? r[c] / support[c] : 0));
  const precision = confusion.map((r, c) => {
    const s = colSum(confusion, c);
    return s ? r[c] / s : 0;
  });
  const f1 = precision.map((p, c) => (p + recall[c] ? 2 * p * recall[c] / (p + recall[c]) : 0));
  const rowNorm = confusion.map((r, c) => r.map((v) => (support[c] ? v / support[c] : 0)));
  const precisionRowNormalised = rowNorm.map((r, c) => {
    const s = colSum(rowNorm, c);
    return s ? r[c] / s : 0;
  });
  const present = support.map((s, c) => [s, c]).filter(([s]) => s > 0).map(([, c]) => c);
  const auc = Array.from({ length: classes }, (_, c) =>
    rocAuc(
      labels.map((_, i) => probs[i * classes + c]),
      labels.map((l) => l === c),
    ));
  const defined = auc.filter((a) => !Number.isNaN(a));
  return {
    confusion,
    accuracy: n ? correct / n : 0,
    balancedAccuracy: present.length
      ? present.reduce((s, c) => s + recall[c], 0) / present.length
      : 0,
    precision,
    recall,
    f1,
    precisionRowNormalised,
    auc,
    rocAuc: defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : NaN,
    entropy: n ? entropy / n : 0,
    support,
  };
}
