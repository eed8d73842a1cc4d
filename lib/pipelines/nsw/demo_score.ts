/**
 * The NSW demo's scores: the phase classifier trained on real frames only (every annotated F+00
 * frame of the training videos), its top-1 accuracy on the held-out videos' frames and on the
 * samples (against chance, 1/16), and the FID on 4×4 pooled gray levels between two halves of the
 * real frames and between real frames and the samples.
 *
 * @example
 * ```ts
 * import { scoreDemo } from "./demo_score.ts";
 * const s = await scoreDemo({
 *   dataset: "demo_out/nsw/extracted", train: split.train, held: split.test,
 *   samples, labels, size: 16, seed: 0, out: "demo_out/nsw/classifier",
 * });
 * console.log(s.sample_accuracy >= 2 * s.chance);
 * ```
 * @module
 */
import { PHASES } from "./dataset.ts";
import { readVideoFrames } from "./diffusion_data.ts";
import { phaseAccuracy, trainClassifier } from "./classifier.ts";
import { fid, type FidResult } from "./fid.ts";
import { pooledFeatures } from "./pooled_features.ts";

/** What {@link scoreDemo} measures (written as the demo's `demo_metrics.json`). */
export interface DemoScores {
  classifier_real_frames: number;
  held_out_frames: number;
  held_out_accuracy: number;
  samples: number;
  sample_accuracy: number;
  chance: number;
  fid_real_real: number;
  fid_real_synthetic: number;
}

/** Options of {@link scoreDemo}. */
export interface DemoScoreOptions {
  dataset: string;
  /** Videos whose frames train the classifier, and the held-out ones. */
  train: readonly string[];
  held: readonly string[];
  samples: readonly Float32Array[];
  /** Phase index of each sample. */
  labels: readonly number[];
  size: number;
  seed: number;
  /** The classifier's run folder. */
  out: string;
  epochs?: number;
}

/**
 * Trains the classifier and scores; see the module doc. Also returns the two FID results.
 *
 * @example
 * ```ts
 * const { scores, fids } = await scoreDemo(options);
 * ```
 */
export async function scoreDemo(
  o: DemoScoreOptions,
): Promise<DemoScores & { fids: [string, FidResult][] }> {
  const real = await readVideoFrames(o.dataset, o.train, "F+00", o.size);
  const held = await readVideoFrames(o.dataset, o.held, "F+00", o.size);
  const cls = await trainClassifier({
    data: real,
    epochs: o.epochs ?? 20,
    seed: o.seed,
    out: o.out,
    cfg: { size: o.size, channels: [16, 32, 64], classes: PHASES.length },
  });
  const heldAcc = await phaseAccuracy(cls.model, held.images, held.labels);
  const sampleAcc = await phaseAccuracy(cls.model, o.samples, o.labels);
  const a = real.images.filter((_, i) => i % 2 === 0);
  const b = real.images.filter((_, i) => i % 2 === 1);
  const half = fid(pooledFeatures(a, o.size, 4), pooledFeatures(b, o.size, 4));
  const rs = fid(pooledFeatures(a, o.size, 4), pooledFeatures(o.samples, o.size, 4));
  return {
    classifier_real_frames: real.images.length,
    held_out_frames: held.images.length,
    held_out_accuracy: heldAcc,
    samples: o.samples.length,
    sample_accuracy: sampleAcc,
    chance: 1 / PHASES.length,
    fid_real_real: half.fid,
    fid_real_synthetic: rs.fid,
    fids: [["real half A vs real half B", half], ["real half A vs synthetic", rs]],
  };
}
