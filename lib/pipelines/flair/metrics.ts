/**
 * Flair Visibility's validation metrics: global Dice per structure (eps 1e-4) for the brain
 * mask, the stroke, the visible part and the not-visible part (stroke ∧ ¬visible) and their
 * mean; the checkpoint metric (mean of the visible and not-visible Dice); Cohen's κ on slice
 * classes; the patient-level ROC AUC of "FLAIR-visible" from voxel counts.
 *
 * Slice classes: 0 = stroke of at most 20 voxels (noise), 1 = visible part of at most 20
 * voxels, 2 = visible / stroke < 0.2, 3 = visible / stroke ≥ 0.2. A patient is positive when
 * its ground-truth visible volume exceeds 20 voxels; its score is the predicted visible voxel
 * count.
 *
 * @example
 * ```ts
 * import { SegEvaluator } from "./metrics.ts";
 * const ev = new SegEvaluator();
 * ev.add(logits, target, 256 * 256, [patientId]); // per batch
 * console.log(ev.result().diceMean);
 * ```
 * @module
 */

/** Voxels below or at this count are noise. */
export const NOISE_VOXELS = 20;
/** Visible/stroke ratio that separates classes 2 and 3. */
export const CLASS_THRESHOLD = 0.2;
const EPS = 1e-4;
const STRUCTS = ["mask", "stroke", "visible", "notVisible"] as const;

/** The metrics of one evaluation. */
export interface SegMetrics {
  dice: Record<(typeof STRUCTS)[number], number>;
  diceMean: number;
  /** Mean of the visible and not-visible Dice (the checkpoint metric). */
  visDice: number;
  kappa: number;
  auc: number;
  slices: number;
  patients: number;
}

/**
 * Slice class (0–3) from stroke and visible voxel counts.
 *
 * @example
 * ```ts
 * import { sliceClass } from "./metrics.ts";
 * console.log(sliceClass(5, 0), sliceClass(500, 300)); // 0 3
 * ```
 */
export function sliceClass(stroke: number, visible: number): number {
  if (stroke <= NOISE_VOXELS) return 0;
  if (visible <= NOISE_VOXELS) return 1;
  return visible / stroke < CLASS_THRESHOLD ? 2 : 3;
}

/**
 * Cohen's κ of two labelings with classes 0 … k−1 (1 when both agree on a single class).
 *
 * @example
 * ```ts
 * import { cohenKappa } from "./metrics.ts";
 * console.log(cohenKappa([0, 1, 1], [0, 1, 1], 2)); // 1
 * ```
 */
export function cohenKappa(a: readonly number[], b: readonly number[], k: number): number {
  const n = a.length;
  if (n === 0) return NaN;
  const ca = new Float64Array(k), cb = new Float64Array(k);
  let agree = 0;
  for (let i = 0; i < n; i++) ca[a[i]]++, cb[b[i]]++, agree += a[i] === b[i] ? 1 : 0;
  let pe = 0;
  for (let c = 0; c < k; c++) pe += (ca[c] / n) * (cb[c] / n);
  const po = agree / n;
  return pe === 1 ? 1 : (po - pe) / (1 - pe);
}

/**
 * ROC AUC by the Mann–Whitney statistic (ties count ½); NaN without both classes.
 *
 * @example
 * ```ts
 * import { rocAuc } from "./metrics.ts";
 * console.log(rocAuc([0.1, 0.9, 0.4], [false, true, true])); // 1
 * ```
 */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number {
  let s = 0, np = 0, nn = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    np++;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      s += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  for (const l of labels) if (!l) nn++;
  return np && nn ? s / (np * nn) : NaN;
}

/** Accumulates predictions (logits > 0) against targets, slice by slice. */
export class SegEvaluator {
  #inter = new Float64Array(4);
  #pred = new Float64Array(4);
  #gt = new Float64Array(4);
  #clsPred: number[] = [];
  #clsGt: number[] = [];
  #patients = new Map<number, { gt: number; pred: number }>();

  /**
   * Adds a batch: `logits` and `target` (N, 3, A) with A voxels per slice, and each slice's
   * patient id.
   */
  add(
    logits: ArrayLike<number>,
    target: ArrayLike<number>,
    A: number,
    patients: readonly number[],
  ) {
    for (let n = 0; n < patients.length; n++) {
      const o = n * 3 * A;
      let ps = 0, pv = 0, gs = 0, gv = 0;
      for (let i = 0; i < A; i++) {
        const pm = logits[o + i] > 0, gm = target[o + i] > 0.5;
        const pst = pm && logits[o + A + i] > 0, gst = target[o + A + i] > 0.5;
        const pvi = pst && logits[o + 2 * A + i] > 0, gvi = target[o + 2 * A + i] > 0.5;
        const pnv = pst && !pvi, gnv = gst && !gvi;
        const p = [pm, pst, pvi, pnv], g = [gm, gst, gvi, gnv];
        for (let s = 0; s < 4; s++) {
          if (p[s]) this.#pred[s]++;
          if (g[s]) this.#gt[s]++;
          if (p[s] && g[s]) this.#inter[s]++;
        }
        ps += pst ? 1 : 0, pv += pvi ? 1 : 0, gs += gst ? 1 : 0, gv += gvi ? 1 : 0;
      }
      this.#clsPred.push(sliceClass(ps, pv));
      this.#clsGt.push(sliceClass(gs, gv));
      const e = this.#patients.get(patients[n]) ?? { gt: 0, pred: 0 };
      e.gt += gv, e.pred += pv;
      this.#patients.set(patients[n], e);
    }
  }

  /** The metrics so far. */
  result(): SegMetrics {
    const dice = {} as SegMetrics["dice"];
    STRUCTS.forEach((s, i) => {
      dice[s] = (2 * this.#inter[i] + EPS) / (this.#pred[i] + this.#gt[i] + EPS);
    });
    const pts = [...this.#patients.values()];
    return {
      dice,
      diceMean: (dice.mask + dice.stroke + dice.visible) / 3,
      visDice: (dice.visible + dice.notVisible) / 2,
      kappa: cohenKappa(this.#clsPred, this.#clsGt, 4),
      auc: rocAuc(pts.map((p) => p.pred), pts.map((p) => p.gt > NOISE_VOXELS)),
      slices: this.#clsPred.length,
      patients: pts.length,
    };
  }
}
