/**
 * Patient-level K-fold split for Flair Visibility: patients are shuffled with a seeded
 * generator and dealt into K folds (sizes differ by at most one, as scikit-learn's `KFold`), and
 * inside each fold a seeded validation proportion is marked (rounded, leaving at least one
 * patient of each fold unmarked). No patient lies in two folds.
 *
 * @example
 * ```ts
 * import { kfoldSplit } from "./folds.ts";
 * const s = kfoldSplit(["a", "b", "c", "d"], 2, 0.5, 0);
 * console.log(s.length); // 4
 * ```
 * @module
 */

/** One patient's place in the split. */
export interface FoldAssignment {
  patient: string;
  fold: number;
  isValid: boolean;
}

/** mulberry32: a small seeded generator in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], r: () => number): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Splits patients into `k` folds with a `validProportion` of each fold's patients marked for
 * validation; throws when `k` exceeds the number of patients or is below 2.
 *
 * @example
 * ```ts
 * import { kfoldSplit } from "./folds.ts";
 * console.log(kfoldSplit(["p1", "p2", "p3"], 3, 0, 1).map((a) => a.fold).sort()); // [0, 1, 2]
 * ```
 */
export function kfoldSplit(
  patients: readonly string[],
  k: number,
  validProportion: number,
  seed: number,
): FoldAssignment[] {
  if (new Set(patients).size !== patients.length) throw new Error("duplicate patient names");
  if (!Number.isInteger(k) || k < 2) throw new Error(`-k/--kfolds: ${k}: must be an integer >= 2`);
  if (k > patients.length) {
    throw new Error(`-k/--kfolds: ${k}: larger than the number of patients (${patients.length})`);
  }
  if (!(validProportion >= 0 && validProportion < 1)) {
    throw new Error(`-v/--valid_proportion: ${validProportion}: must be in [0, 1)`);
  }
  const r = rng(seed);
  const order = shuffle([...patients].sort(), r);
  const out: FoldAssignment[] = [];
  let start = 0;
  for (let f = 0; f < k; f++) {
    const size = Math.floor(order.length / k) + (f < order.length % k ? 1 : 0);
    const members = shuffle(order.slice(start, start + size), r);
    start += size;
    const nValid = Math.min(members.length - 1, Math.round(members.length * validProportion));
    members.forEach((p, i) => out.push({ patient: p, fold: f, isValid: i < nValid }));
  }
  return out;
}
