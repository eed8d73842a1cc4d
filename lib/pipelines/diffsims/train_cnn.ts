/**
 * Training diffsims XL's CNN on simulation files with the engine's trainer: Adam, batch 64,
 * categorical cross-entropy, test fraction 0.25; checkpoints and resume (lib/nn/trainer.ts), a
 * JSON-lines log, then the held-out confusion matrix with per-phase precision and recall, an
 * HTML report, `model.json` (the uuid4 `cnn_id`, phases, the ids of the simulations) and the
 * ONNX export, all in `<out>/model-<cnn_id>/`.
 *
 * @example
 * ```ts
 * import { trainCnn } from "./train_cnn.ts";
 * const r = await trainCnn({ sim: ["sims/"], out: "cnn_models", epochs: 2 });
 * console.log(r.cnnId, r.testAccuracy);
 * ```
 * @module
 */
import { latestCheckpoint } from "../../nn/run_dir.ts";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Adam } from "../../optim/adam.ts";
import { trainLoop } from "../../nn/trainer.ts";
import { loadCheckpoint } from "../../nn/checkpoint.ts";
import { exportOnnxFile } from "../../nn/onnx_export.ts";
import { openLog, readLog } from "../../run/log.ts";
import { writeTextAtomic } from "../../run/atomic.ts";
import { writeHtmlReport } from "../../viz/html_report.ts";
import { manualSeed } from "../../tensor/ops/random.ts";
import { LumenError } from "../../run/errors.ts";
import { buildCnn, cnnBatch, cnnEvaluate, cnnTrainStep } from "./cnn.ts";
import { SimSet } from "./sim_data.ts";
import type { Sequential } from "../../nn/layers.ts";

/** Options of {@link trainCnn}. */
export interface TrainCnnOptions {
  /** Simulation files or folders. */
  sim: string[];
  /** Folder that receives `model-<cnn_id>/`. */
  out: string;
  epochs?: number;
  batchSize?: number;
  testFraction?: number;
  lr?: number;
  seed?: number;
  /** Continue the run in this model folder (its latest checkpoint). */
  resume?: string;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, metrics: Record<string, number>) => void;
}

/** What {@link trainCnn} made. */
export interface TrainCnnResult {
  cnnId: string;
  dir: string;
  phases: string[];
  testAccuracy: number;
  confusion: number[][];
  net: Sequential;
}

/** The `model.json` of a trained network. */
export interface CnnModelInfo {
  cnn_id: string;
  phases: string[];
  sim_ids: string[];
  len: number;
  q_axis_px: number[];
  epochs: number;
  test_accuracy: number;
  confusion: number[][];
  checkpoint: string;
}

/**
 * Precision and recall per class from a confusion matrix (rows: truth, columns: prediction).
 * @example
 * ```ts
 * precisionRecall([[3, 1], [0, 2]]); // { precision: [1, 0.67], recall: [0.75, 1] }
 * ```
 */
export function precisionRecall(cm: number[][]): { precision: number[]; recall: number[] } {
  const n = cm.length;
  const precision = [], recall = [];
  for (let k = 0; k < n; k++) {
    const tp = cm[k][k];
    const col = cm.reduce((s, r) => s + r[k], 0), row = cm[k].reduce((s, v) => s + v, 0);
    precision.push(col ? tp / col : 0);
    recall.push(row ? tp / row : 0);
  }
  return { precision, recall };
}

/**
 * Trains (or resumes) a network; see the module doc.
 * @example
 * ```ts
 * const r = await trainCnn({ sim: ["sims/"], out: "cnn_models", epochs: 2 }); r.cnnId;
 * ```
 */
export async function trainCnn(o: TrainCnnOptions): Promise<TrainCnnResult> {
  const seed = o.seed ?? 10, bs = o.batchSize ?? 64, epochs = o.epochs ?? 2;
  const set = await SimSet.open(o.sim, { testFraction: o.testFraction ?? 0.25, seed });
  let cnnId: string = crypto.randomUUID();
  let dir = join(o.out, `model-${cnnId}`);
  let resume: string | undefined;
  if (o.resume) {
    dir = o.resume;
    if (!existsSync(join(dir, "run.json"))) throw new LumenError(dir, "", "not a model folder");
    cnnId = JSON.parse(Deno.readTextFileSync(join(dir, "run.json"))).cnn_id;
    resume = latestCheckpoint(dir, "ckpt")?.path.replace(/\.json$/, "") ?? undefined;
  }
  mkdirSync(dir, { recursive: true });
  await writeTextAtomic(
    join(dir, "run.json"),
    JSON.stringify({ cnn_id: cnnId, phases: set.phases, sim_ids: set.files.map((f) => f.id) }),
    { overwrite: true },
  );
  manualSeed(seed);
  const net = buildCnn(set.phases.length, set.len, seed);
  const opt = new Adam(net.parameters(), { lr: o.lr ?? 1e-3 });
  const log = openLog(join(dir, "train.log.jsonl"));
  try {
    await trainLoop({
      epochs,
      batches: (e) => set.batches("train", e, bs),
      step: (b) => cnnTrainStep(net, opt, cnnBatch(b.x, b.labels, set.len)),
      validation: (e) => set.batches("test", e, 256),
      validate: async (b) => {
        const r = await cnnEvaluate(net, cnnBatch(b.x, b.labels, set.len));
        return { loss: r.loss, acc: r.acc };
      },
      endEpoch: (e, train, val) => {
        const m = (xs: number[] = []) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
        o.onEpoch?.(e, { loss: m(train.loss), acc: m(train.acc), val_loss: m(val.loss) });
      },
      checkpoint: {
        dir,
        every: 1,
        parts: () => ({ modules: { net }, optimizers: { adam: opt } }),
        extra: { cnn_id: cnnId, phases: set.phases },
      },
      resume,
      log: (r) => log.write(r),
    });
  } finally {
    log.close();
  }
  const n = set.phases.length;
  const cm = Array.from({ length: n }, () => new Array(n).fill(0));
  for await (const b of set.batches("test", 0, 256)) {
    const r = await cnnEvaluate(net, cnnBatch(b.x, b.labels, set.len));
    b.labels.forEach((t, i) => cm[t][r.pred[i]]++);
  }
  const total = cm.flat().reduce((a, b) => a + b, 0);
  const acc = total ? cm.reduce((s, r, k) => s + r[k], 0) / total : 0;
  const info: CnnModelInfo = {
    cnn_id: cnnId,
    phases: set.phases,
    sim_ids: set.files.map((f) => f.id),
    len: set.len,
    q_axis_px: [...set.qAxis],
    epochs,
    test_accuracy: acc,
    confusion: cm,
    checkpoint: `ckpt_${epochs}`,
  };
  await writeTextAtomic(join(dir, "model.json"), JSON.stringify(info, null, 1), {
    overwrite: true,
  });
  await exportOnnxFile(net, join(dir, "model.onnx"), {
    inputShape: [1, set.len],
    metadata: { cnn_id: cnnId, phases: JSON.stringify(set.phases) },
  });
  const pr = precisionRecall(cm);
  await writeHtmlReport(join(dir, "report.html"), {
    title: `diffsims CNN model-${cnnId}`,
    meta: {
      phases: set.phases.join(", "),
      simulations: set.files.length,
      train_rows: set.count("train"),
      test_rows: set.count("test"),
      test_accuracy: acc.toFixed(4),
    },
    losses: await readLog(join(dir, "train.log.jsonl")),
    sections: [{
      heading: "Held-out profiles",
      tables: [
        {
          title: "Confusion (rows: truth)",
          columns: ["", ...set.phases],
          rows: cm.map((r, k) => [set.phases[k], ...r]),
        },
        {
          title: "Per phase",
          columns: ["phase", "precision", "recall"],
          rows: set.phases.map((p, k) => [p, pr.precision[k], pr.recall[k]]),
        },
      ],
    }],
  }, { overwrite: true });
  return { cnnId, dir, phases: set.phases, testAccuracy: acc, confusion: cm, net };
}

/**
 * Loads a trained network from its model folder.
 * @example
 * ```ts
 * const { net, info } = await loadCnn("cnn_models/model-<uuid>"); info.phases;
 * ```
 */
export async function loadCnn(dir: string): Promise<{ net: Sequential; info: CnnModelInfo }> {
  const p = join(dir, "model.json");
  if (!existsSync(p)) throw new LumenError(dir, "", "no model.json: not a trained model folder");
  const info = JSON.parse(Deno.readTextFileSync(p)) as CnnModelInfo;
  const net = buildCnn(info.phases.length, info.len);
  await loadCheckpoint(join(dir, info.checkpoint), { modules: { net } });
  return { net, info };
}
