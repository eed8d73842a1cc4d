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
import { defineTool, UsageError } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { parseShard, shardRange } from "../../lib/run/shard.ts";
import { readLog } from "../../lib/run/log.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { PreparedDataset } from "../../lib/pipelines/flair/dataset.ts";
import { type EpochRecord, runDirOf, trainFold } from "../../lib/pipelines/flair/train.ts";
import { writeTrainReport } from "../../lib/pipelines/flair/report.ts";
import { type Preset } from "../../lib/pipelines/flair/model.ts";
import { missingFolds, TRAIN_FLAGS } from "../../lib/pipelines/flair/train_flags.ts";

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
  flags: TRAIN_FLAGS,
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
      const missing = missingFolds(f.saveDir, f.name, K);
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
          bnOn: f.bnOn as "slices" | "crops",
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
