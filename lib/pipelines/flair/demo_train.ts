/**
 * The Flair demo's training recipe and its per-fold loop: train each fold of a prepared dataset
 * (train.ts), write its report, export it to ONNX and check onnxruntime-web against the engine.
 *
 * @example
 * ```ts
 * import { DEMO_RECIPE, trainDemoFolds } from "./demo_train.ts";
 * const r = await trainDemoFolds("demo_out/flair/prepared", "demo_out/flair", DEMO_RECIPE, 0);
 * console.log(r.parity); // ONNX − engine per fold
 * ```
 * @module
 */
import { join } from "node:path";
import { closeEngine, initEngine } from "../../tensor/engine.ts";
import { PreparedDataset } from "./dataset.ts";
import { trainFold } from "./train.ts";
import { writeTrainReport } from "./report.ts";
import { exportFold, loadFlairNet, onnxParity } from "./export.ts";

/** The demo's training settings (`flair-train` flags in brackets). */
export interface DemoRecipe {
  /** Epochs per fold (`-e`). */
  epochs: number;
  /** Training crops per epoch, each drawn with a new augmentation (`--epoch-slices`). */
  epochSlices: number;
  /** `-b`. */
  batchSize: number;
  /** Adam's learning rate (`--lr`). */
  lr: number;
  /** Training crop side (`--crop`; 0: whole slices). */
  crop: number;
  /** Share of crops centred on the stroke (`--stroke-bias`). */
  strokeBias: number;
  /** Batches re-estimating the batch-norm statistics before validation (`--bn-batches`). */
  bnBatches: number;
  /** What they are re-estimated on (`--bn-on`). */
  bnOn: "slices" | "crops";
  /** Weight of the visible term (`--visible-weight`; the original's 100). */
  visibleWeight: number;
  /** Network width and depth (the `demo` preset's 8 and 2 when absent). */
  width?: number;
  depth?: number;
}

/**
 * What `deno task demo flair` trains with: the `demo` U-Net on 48×48 crops, one epoch of 1280
 * crops (160 Adam steps) per fold, validated and its batch-norm statistics re-estimated once,
 * at the end, on training-like crops (the statistics the network was trained with).
 */
export const DEMO_RECIPE: DemoRecipe = {
  epochs: 1,
  epochSlices: 1280,
  batchSize: 8,
  lr: 1e-2,
  crop: 48,
  strokeBias: 0.5,
  bnBatches: 8,
  bnOn: "crops",
  visibleWeight: 100,
};

/** What {@link trainDemoFolds} made. */
export interface DemoFolds {
  /** The ONNX models' folder (`model<k+1>.onnx`). */
  onnx: string;
  /** Each fold's training report. */
  reports: string[];
  /** Each fold's largest |onnxruntime-web − engine| on two held-out slices. */
  parity: number[];
}

/**
 * Trains, reports and exports every fold of `prep` into `<out>/saved_models{,_ONNX}`.
 *
 * @example
 * ```ts
 * import { DEMO_RECIPE, trainDemoFolds } from "./demo_train.ts";
 * await trainDemoFolds("prepared", "out", { ...DEMO_RECIPE, epochs: 1, epochSlices: 16 }, 0);
 * ```
 */
export async function trainDemoFolds(
  prep: string,
  out: string,
  r: DemoRecipe,
  seed: number,
  o: { threads?: number; say?: (s: string) => void } = {},
): Promise<DemoFolds> {
  const models = join(out, "saved_models"), onnx = join(out, "saved_models_ONNX");
  const ds0 = PreparedDataset.open(prep);
  const K = ds0.kfolds;
  ds0.close();
  const parity: number[] = [], reports: string[] = [];
  await initEngine({ backend: "wasm", threads: o.threads ?? navigator.hardwareConcurrency });
  try {
    for (let k = 0; k < K; k++) {
      const t = await trainFold({
        data: prep,
        kfold: k,
        name: "FVV",
        saveDir: models,
        preset: "demo",
        ...r,
        seed,
        validMax: 4,
        onEpoch: (e, m) => o.say?.(`fold ${k} epoch ${e}: loss ${m.train_loss.toFixed(2)}`),
      });
      const rep = join(t.runDir, "report.html");
      await writeTrainReport(rep, `FVV fold ${k}`, t.history, {
        preset: "demo",
        crop: r.crop,
        visibleWeight: r.visibleWeight,
        bnOn: r.bnOn,
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
  return { onnx, reports, parity };
}
