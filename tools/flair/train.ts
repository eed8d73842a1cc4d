/**
 * `flair-train`: trains the Flair Visibility 2.5D U-Net on one fold of a prepared dataset
 * (`--kfold k`, the original's `2a-Training.py`), every fold in turn (`--kfolds`, the original's
 * `2b-TrainingKFolds.py`), or the folds of a SLURM array task (`--shard i/N`). Per fold:
 * `<save-dir>/<name>-k<fold>-epoch<N>` checkpoints whenever a metric improves,
 * `<name>-k<fold>.best.json`, and the run folder `<name>-k<fold>.run/` (log.jsonl, a full
 * checkpoint per epoch for `--resume`, report.html).
 *
 * @module
 */
import { join } from "node:path";
import { BACKEND, defineTool, SEED, THREADS, UsageError } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { parseShard, shardRange } from "../../lib/run/shard.ts";
import { readLog } from "../../lib/run/log.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { PreparedDataset } from "../../lib/pipelines/flair/dataset.ts";
import { type EpochRecord, runDirOf, trainFold } from "../../lib/pipelines/flair/train.ts";
import { writeTrainReport } from "../../lib/pipelines/flair/report.ts";
import { type Preset, PRESETS } from "../../lib/pipelines/flair/model.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "flair/train",
  summary: "train the Flair Visibility 2.5D segmentation network on k-fold splits",
  description: "2.5D input (2 channels × 7 slices) → [brain mask, stroke, visible] logits. " +
    "BCE(mask) + BCE(stroke in mask) + 100·BCE(visible in mask), label smoothing 0.01, Adam, " +
    "ReduceLROnPlateau(0.1, patience 6), the original's augmentations. -e counts passes over " +
    "the fold's training slices; --epoch-slices 16384 gives the original's fixed epoch.",
  permissions: ["--allow-read", "--allow-write=SAVE_DIR"],
  task: "flair-train",
  flags: {
    data: { type: "string", arg: "DIR", default: "prepared", help: "prepared dataset folder" },
    kfold: { type: "int", short: "k", min: 0, help: "fold to train (default 0)" },
    kfolds: { type: "boolean", help: "train every fold in turn" },
    shard: { type: "string", arg: "i/N", help: "train the folds of SLURM array task i of N" },
    merge: { type: "int", min: 1, arg: "N", help: "after a SLURM array: check every fold ended" },
    name: { type: "string", short: "n", default: "FVV", help: "run name" },
    epochs: {
      type: "int",
      short: "e",
      default: 75,
      min: 1,
      help: "passes over the training slices",
    },
    epochSlices: { type: "int", min: 1, arg: "N", help: "slices per epoch instead of one pass" },
    preset: {
      type: "choice",
      choices: Object.keys(PRESETS),
      default: "paper",
      help: "network size (paper: width 32, 4 levels; small; tiny for tests; demo)",
    },
    batchSize: { type: "int", short: "b", default: 32, min: 1, help: "batch size" },
    lr: { type: "number", default: 1e-3, min: 0, help: "Adam learning rate" },
    saveDir: { type: "string", arg: "DIR", default: "saved_models", help: "checkpoint folder" },
    noAugment: { type: "boolean", help: "no augmentation" },
    crop: {
      type: "int",
      min: 16,
      arg: "PX",
      help: "train on PX×PX crops centred in the brain mask (validation stays 256×256)",
    },
    strokeBias: {
      type: "number",
      min: 0,
      max: 1,
      help: "share of crops centred on a stroke voxel (with --crop; default 0)",
    },
    bnBatches: {
      type: "int",
      min: 0,
      default: 0,
      arg: "N",
      help: "re-estimate batch-norm statistics on N training batches before validation " +
        "(the original: 21)",
    },
    visibleWeight: {
      type: "number",
      min: 0,
      default: 100,
      help: "weight of the visible term of the loss (the original: 100)",
    },
    resume: { type: "boolean", help: "continue each fold from its run folder's last checkpoint" },
    seed: SEED,
    backend: BACKEND,
    threads: THREADS,
  },
  examples: [
    "--data prepared --kfold 0 -n FVV -e 75 --preset paper --save-dir saved_models",
    "--data prepared --kfolds -n FVV",
  ],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const ds = PreparedDataset.open(f.data);
    const K = ds.kfolds;
    ds.close();
    if (f.merge !== undefined) {
      const missing = [...Array(K).keys()].filter((k) => {
        try {
          Deno.statSync(join(f.saveDir, `${f.name}-k${k}.best.json`));
          return false;
        } catch {
          return true;
        }
      });
      if (missing.length) {
        throw new UsageError("--merge", `folds ${missing.join(", ")} have no best checkpoint`);
      }
      if (!f.quiet) console.log(`${f.saveDir}: ${K} folds trained`);
      return;
    }
    let folds = [f.kfold ?? 0];
    if (f.kfolds) folds = [...Array(K).keys()];
    if (f.shard !== undefined) {
      const [a, b] = shardRange(K, parseShard(f.shard));
      folds = [...Array(b - a).keys()].map((i) => a + i);
    }
    await initEngine({ backend: f.backend, threads: f.threads });
    try {
      for (const k of folds) {
        const r = await trainFold({
          data: f.data,
          kfold: k,
          name: f.name,
          saveDir: f.saveDir,
          epochs: f.epochs,
          epochSlices: f.epochSlices,
          preset: f.preset as Preset,
          batchSize: f.batchSize,
          lr: f.lr,
          seed: f.seed,
          augment: !f.noAugment,
          crop: f.crop,
          strokeBias: f.strokeBias,
          bnBatches: f.bnBatches,
          visibleWeight: f.visibleWeight,
          resume: f.resume,
          onEpoch: (e, m) => {
            if (f.quiet) return;
            const d = m.metrics;
            console.error(
              `fold ${k} epoch ${e}: loss ${m.train_loss.toFixed(4)} val ${
                m.val_loss.toFixed(4)
              } ` +
                `Dice mask ${d.dice.mask.toFixed(3)} stroke ${d.dice.stroke.toFixed(3)} ` +
                `visible ${d.dice.visible.toFixed(3)} κ ${d.kappa.toFixed(3)} AUC ${d.auc}`,
            );
          },
        });
        const run = runDirOf(f.saveDir, f.name, k);
        const hist = (await readLog(join(run, "log.jsonl")))
          .filter((x) => x.event === "metrics") as unknown as EpochRecord[];
        await writeTrainReport(join(run, "report.html"), `${f.name} fold ${k}`, hist, {
          preset: f.preset,
          epochs: f.epochs,
          data: f.data,
          validation: r.validFromTrain ? "training patients (none marked valid)" : "valid patients",
        });
        if (!f.quiet) console.log(`${run}: best ${JSON.stringify(r.best.visDice ?? null)}`);
      }
    } finally {
      closeEngine();
    }
  });
}
