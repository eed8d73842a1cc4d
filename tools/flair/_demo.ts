/**
 * Flair Visibility's demo, end to end on synthetic patients (phantom heads with lesions of
 * known volume, DWI-like b0/b1000 contrast, anisotropic voxels, 128×96 / 256×256 / 320×320 /
 * 200×176 matrices, oblique affines):
 *
 * 1. writes 4 patients and a new one as NIfTI (lib/pipelines/flair/synth.ts);
 * 2. prepares them into a 2-fold dataset (`flair-prepare`'s library call);
 * 3. trains the `demo` U-Net (width 8, 2 poolings) on each fold (`flair-train`'s): 5 epochs of
 *    96 augmented 64×64 crops centred in the brain mask (half of them on the stroke), batch 8,
 *    Adam 1e-2, the original's loss (visible weight 100), and the batch-norm statistics
 *    re-estimated on 3 whole-slice batches before each validation, so the model runs on
 *    256×256 slices (`flair-train --preset demo --crop 64 --stroke-bias 0.5 --bn-batches 3
 *    -b 8 --lr 0.01 -e 5 --epoch-slices 96`);
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
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { flairDemoReport } from "../../lib/pipelines/flair/demo_report.ts";
import { writeTextAtomic } from "../../lib/run/atomic.ts";
import {
  exportFold,
  inferOutOfFold,
  inferPatient,
  loadFlairNet,
  onnxParity,
  prepareDataset,
  PreparedDataset,
  trainFold,
  writeDemoCohort,
  writeTrainReport,
} from "../../lib/pipelines/flair/mod.ts";

/** Options of {@link runDemo}; the training settings default to the demo's. */
export interface DemoOptions {
  quiet: boolean;
  seed: number;
  /** wasm threads (default: all cores, like `--threads`). */
  threads?: number;
  /** Epochs per fold (default 5). */
  epochs?: number;
  /** Training crops per epoch, drawn again with new augmentations (default 96, 8 passes). */
  epochSlices?: number;
  /** Default 8 crops of 64×64. */
  batchSize?: number;
  /** Adam's learning rate (default 1e-2). */
  lr?: number;
  /** b0 brightening of the lesions' FLAIR-visible part (synth.ts). */
  visibleB0?: number;
  /** Network width and depth instead of the `demo` preset's (8, 2 poolings). */
  width?: number;
  depth?: number;
  /** Training crop side (default 64; 0: whole slices). */
  crop?: number;
  /** Share of crops centred on the stroke (default 0.5). */
  strokeBias?: number;
  /** Batches re-estimating the batch-norm statistics before validation (default 3). */
  bnBatches?: number;
  /** Weight of the visible term (default the original's 100). */
  visibleWeight?: number;
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
  await initEngine({ backend: "wasm", threads: f.threads ?? navigator.hardwareConcurrency });
  const models = join(out, "saved_models"), onnx = join(out, "saved_models_ONNX");
  const parity: number[] = [];
  const reports: string[] = [];
  try {
    for (let k = 0; k < 2; k++) {
      const r = await trainFold({
        data: prep,
        kfold: k,
        name: "FVV",
        saveDir: models,
        preset: "demo",
        width: f.width,
        depth: f.depth,
        epochs: f.epochs ?? 5,
        epochSlices: f.epochSlices ?? 96,
        batchSize: f.batchSize ?? 8,
        lr: f.lr ?? 1e-2,
        crop: f.crop ?? 64,
        strokeBias: f.strokeBias ?? 0.5,
        bnBatches: f.bnBatches ?? 3,
        visibleWeight: f.visibleWeight,
        seed: f.seed,
        validMax: 4,
        onEpoch: (e, m) => say(`fold ${k} epoch ${e}: loss ${m.train_loss.toFixed(2)}`),
      });
      const rep = join(r.runDir, "report.html");
      await writeTrainReport(rep, `FVV fold ${k}`, r.history, {
        preset: "demo",
        crop: f.crop ?? 64,
        visibleWeight: f.visibleWeight ?? 100,
      });
      reports.push(rep);
      const ex = await exportFold(models, "FVV", k, onnx);
      const ds = PreparedDataset.open(prep);
      const idx = ds.foldSlices(k).test.slice(0, 2);
      const { x } = ds.batch(idx);
      ds.close();
      parity.push(await onnxParity(ex.path, await loadFlairNet(ex.checkpoint), x, idx.length));
    }
  } finally {
    closeEngine();
  }
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
