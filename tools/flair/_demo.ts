/**
 * Flair Visibility's demo, end to end on synthetic patients (phantom heads with lesions of
 * known volume, DWI-like b0/b1000 contrast, anisotropic voxels, 128×96 / 256×256 / 320×320 /
 * 200×176 matrices, oblique affines):
 *
 * 1. writes 4 patients and a new one as NIfTI (lib/pipelines/flair/synth.ts);
 * 2. prepares them into a 2-fold dataset (`flair-prepare`'s library call);
 * 3. trains the `demo` U-Net (width 8, 2 poolings) on each fold (`flair-train`'s), with the
 *    recipe of lib/pipelines/flair/demo_train.ts (`DEMO_RECIPE`): one epoch of 1280 augmented
 *    48×48 crops centred in the brain mask (half of them on the stroke), batch 8, Adam 1e-2,
 *    the original's loss (visible weight 100), the batch-norm statistics re-estimated at the end
 *    on 8 batches of training-like crops (`flair-train --preset demo --crop 48 --stroke-bias 0.5
 *    --bn-batches 8 --bn-on crops -b 8 --lr 0.01 -e 1 --epoch-slices 1280`); the network is
 *    fully convolutional and runs on 256×256 slices;
 * 4. exports each fold to ONNX and checks onnxruntime-web against the engine (`flair-export`'s);
 * 5. infers each fold's held-out patients and the new patient with both models
 *    (`flair-infer`'s), volumes in mL against the truth;
 * 6. writes an HTML page with the tables, the training reports and the key slices.
 *
 * @example
 * ```ts
 * import { runDemo } from "./_demo.ts";
 * const r = await runDemo("demo_out/flair", { quiet: true, seed: 0 });
 * console.log(r.index);
 * ```
 * @module
 */
import { join } from "node:path";
import type { DemoResult } from "../../lib/run/demo.ts";
import { flairDemoReport } from "../../lib/pipelines/flair/demo_report.ts";
import { writeTextAtomic } from "../../lib/run/atomic.ts";
import {
  DEMO_RECIPE,
  type DemoRecipe,
  inferOutOfFold,
  inferPatient,
  prepareDataset,
  trainDemoFolds,
  writeDemoCohort,
} from "../../lib/pipelines/flair/mod.ts";

/** Options of {@link runDemo}; the training settings default to {@link DEMO_RECIPE}'s. */
export interface DemoOptions extends Partial<DemoRecipe> {
  quiet: boolean;
  seed: number;
  /** wasm threads (default: all cores, like `--threads`). */
  threads?: number;
  /** b0 brightening of the lesions' FLAIR-visible part (synth.ts). */
  visibleB0?: number;
}

/** The demo's result with its scores. */
export interface FlairDemoResult extends DemoResult {
  scores: {
    /** Mean held-out stroke Dice. */
    meanDice: number;
    /** Worst held-out relative visible-volume error. */
    worstVis: number;
    /** Per held-out patient: stroke Dice and relative visible-volume error. */
    patients: { patient: string; dice: number; visibleError: number }[];
    accepted: boolean;
  };
}

/** Runs the demo into `out` and returns its page and a summary. */
export async function runDemo(
  out: string,
  f: DemoOptions,
): Promise<FlairDemoResult> {
  const say = (s: string) => f.quiet || console.error(`flair demo: ${s}`);
  const t0 = performance.now();
  const { truth, fresh } = await writeDemoCohort(out, f.seed, f.visibleB0);
  const prep = join(out, "prepared");
  const pr = await prepareDataset(join(out, "input_data"), prep, {
    kfolds: 2,
    valid: 0,
    seed: f.seed,
    overwrite: true,
  });
  say(`prepared ${pr.patients.length} patients, ${pr.slices} slices`);
  const recipe: DemoRecipe = { ...DEMO_RECIPE };
  for (const k of Object.keys(recipe) as (keyof DemoRecipe)[]) {
    if (f[k] !== undefined) (recipe as unknown as Record<string, unknown>)[k] = f[k];
  }
  if (f.width !== undefined) recipe.width = f.width;
  if (f.depth !== undefined) recipe.depth = f.depth;
  const { onnx, reports, parity } = await trainDemoFolds(prep, out, recipe, f.seed, {
    threads: f.threads,
    say,
  });
  const results = join(out, "results");
  const rows = await inferOutOfFold(prep, onnx, results, { overwrite: true });
  const np = await inferPatient(join(out, "new_patient", "NEW"), onnx, join(results, "NEW"), {
    overwrite: true,
  });
  const secs = (performance.now() - t0) / 1000;
  const { html, meanDice, worstVis, accepted, patients } = await flairDemoReport({
    rows,
    newPatient: np,
    truth,
    fresh,
    results,
    reports,
    parity,
    out,
    seconds: secs,
    seed: f.seed,
  });
  const index = join(out, "index.html");
  await writeTextAtomic(index, html, { overwrite: true });
  return {
    index,
    scores: { meanDice, worstVis, patients, accepted },
    summary: [
      `${rows.length} held-out patients, mean stroke Dice ${meanDice.toFixed(3)}`,
      `held-out visible mL within ${(100 * worstVis).toFixed(1)} % of the truth (worst); ` +
      `target stroke Dice ≥ 0.8 and visible within 15 %: ${accepted ? "met" : "not met"}`,
      `new patient: visible ${np.visibleMlMean.toFixed(2)} mL (truth ${
        fresh.visibleMl.toFixed(2)
      } mL)`,
      `ONNX vs engine ≤ ${Math.max(...parity).toExponential(1)}; ${Math.round(secs)} s`,
    ],
  };
}
