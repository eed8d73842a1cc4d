/**
 * Evaluation of synthetic sets with the phase classifier: metrics on the real images, and per
 * synthetic set the share classified as its phase, the mean softmax entropy and the FID between
 * the real images of that phase and the set, from the classifier's penultimate features of every
 * image (counts reported; fewer than `minCount` per side refused). Writes `metrics.json` and
 * `report.html` with image grids.
 *
 * @example
 * ```ts
 * import { evaluateSynthetic } from "./evaluate.ts";
 * const r = await evaluateSynthetic(model, real, [{ name: "t2", set }], { out: "runs/eval" });
 * ```
 * @module
 */
import { writeTextAtomic } from "../../run/atomic.ts";
import { writeHtmlReport } from "../../viz/html_report.ts";
import { type ClassificationMetrics, classificationMetrics } from "./cls_metrics.ts";
import { type PhaseResNet, predictAll } from "./classifier.ts";
import type { ImageSet } from "./diffusion_data.ts";
import { mosaicPng } from "./diffusion_report.ts";
import { fid, type FidResult } from "./fid.ts";
import { PHASES } from "./dataset.ts";

/** One synthetic set's results. */
export interface SyntheticEvaluation {
  name: string;
  phase: string;
  /** Share of its images classified as its phase. */
  accuracy: number;
  entropy: number;
  fid: FidResult;
}

/** What {@link evaluateSynthetic} returns (also written as `metrics.json`). */
export interface EvaluationResult {
  real: ClassificationMetrics;
  synthetic: SyntheticEvaluation[];
}

/**
 * Evaluates; see the module doc.
 *
 * @example
 * ```ts
 * await evaluateSynthetic(model, real, sets, { out: "runs/eval", minCount: 64 });
 * ```
 */
export async function evaluateSynthetic(
  model: PhaseResNet,
  real: ImageSet,
  sets: readonly { name: string; set: ImageSet }[],
  o: { out: string; minCount?: number; batch?: number },
): Promise<EvaluationResult> {
  const C = model.cfg.classes;
  const r = await predictAll(model, real.images, o.batch ?? 50);
  const realMetrics = classificationMetrics(real.labels, r.probs, C);
  const synthetic: SyntheticEvaluation[] = [];
  const grids: { title: string; png: Uint8Array }[] = [];
  for (const { name, set } of sets) {
    const phase = set.labels[0];
    const s = await predictAll(model, set.images, o.batch ?? 50);
    const m = classificationMetrics(set.labels, s.probs, C);
    const idx = real.labels.flatMap((l, i) => (l === phase ? [i] : []));
    const realF = new Float32Array(idx.length * r.dims);
    idx.forEach((k, i) => realF.set(r.features.subarray(k * r.dims, (k + 1) * r.dims), i * r.dims));
    const f = fid(
      { rows: idx.length, cols: r.dims, data: realF },
      { rows: set.images.length, cols: s.dims, data: s.features },
      { minCount: o.minCount },
    );
    synthetic.push({
      name,
      phase: PHASES[phase],
      accuracy: m.accuracy,
      entropy: m.entropy,
      fid: f,
    });
    grids.push({
      title: `${name} (${PHASES[phase]}): real | synthetic`,
      png: mosaicPng(
        [...idx.slice(0, 8).map((k) => real.images[k]), ...set.images.slice(0, 8)],
        real.size,
        8,
      ),
    });
  }
  const result = { real: realMetrics, synthetic };
  await writeTextAtomic(`${o.out}/metrics.json`, JSON.stringify(result, null, 1) + "\n", {
    overwrite: true,
  });
  const present = PHASES.map((p, i) => [p, i] as const).filter(([, i]) =>
    realMetrics.support[i] > 0
  );
  await writeHtmlReport(`${o.out}/report.html`, {
    title: "NSW evaluation: phase classifier and synthetic sets",
    meta: {
      "real images": real.images.length,
      "balanced accuracy": realMetrics.balancedAccuracy.toFixed(4),
      "ROC-AUC (macro OvR)": realMetrics.rocAuc.toFixed(4),
      "mean softmax entropy": realMetrics.entropy.toFixed(4),
    },
    sections: [
      {
        heading: "Synthetic sets",
        text: "FID from the classifier's penultimate features of every image.",
        tables: [{
          columns: [
            "set",
            "phase",
            "classified as phase",
            "entropy",
            "FID",
            "n real",
            "n synthetic",
          ],
          rows: synthetic.map((
            s,
          ) => [s.name, s.phase, s.accuracy, s.entropy, s.fid.fid, s.fid.nReal, s.fid.nFake]),
        }],
        images: grids,
      },
      {
        heading: "Real images: per phase",
        tables: [{
          columns: ["phase", "support", "precision", "recall", "F1", "AUC"],
          rows: present.map(([p, i]) => [
            p,
            realMetrics.support[i],
            realMetrics.precision[i],
            realMetrics.recall[i],
            realMetrics.f1[i],
            realMetrics.auc[i],
          ]),
        }, {
          title: "Confusion matrix (rows: true phase)",
          columns: ["", ...present.map(([p]) => p)],
          rows: present.map((
            [p, i],
          ) => [p, ...present.map(([, j]) => realMetrics.confusion[i][j])]),
        }],
      },
    ],
  }, { overwrite: true });
  return result;
}
