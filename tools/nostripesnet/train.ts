/**
 * `train`: trains NoStripesNet's patch GAN (NoStripesNet's `network.training --model patch`):
 * PatchUNet generator + PatchDiscriminator on the clean/stripe pairs of a patch dataset, Adam
 * (lr 2e-4, betas 0.5, 0.999), λ = 100, ReduceLROnPlateau on the median validation losses.
 * Validation takes no optimiser steps (the original's did).
 *
 * Writes `<save-dir>/<name>_<epoch>.{json,safetensors,optim.safetensors}` every `--save-every`
 * epochs and at the end, a JSON-lines log `<save-dir>/<name>.log.jsonl` and provenance. A killed
 * run resumes from its latest checkpoint when started again with the same command; a finished
 * run is not overwritten without `--overwrite`. `--model-file` starts from a checkpoint (Lumen's,
 * or an original NoStripesNet `.tar`) to fine-tune.
 *
 * @module
 */
import { defineTool, type Parsed, provenanceArgs, UsageError } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { openLog } from "../../lib/run/log.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { manualSeed } from "../../lib/tensor/ops/random.ts";
import {
  listPatchPairs,
  PatchSet,
  splitPairs,
} from "../../lib/pipelines/nostripesnet/patch_loader.ts";
import {
  buildNoStripesNet,
  fitToPatch,
  loadNoStripesNet,
  NSN_PRESETS,
  nsnConfig,
  type TrainingData,
} from "../../lib/pipelines/nostripesnet/model.ts";
import { ddpNote, resolveModelFile } from "../../lib/pipelines/nostripesnet/original_cli.ts";
import { MaskedGAN, median } from "../../lib/pipelines/nostripesnet/gan.ts";
import { trainLoop } from "../../lib/nn/trainer.ts";
import { openTrainingRun } from "../../lib/nn/run_dir.ts";
import { TRAIN_FLAGS, TRAIN_RESUMABLE } from "../../lib/pipelines/nostripesnet/train_flags.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "train",
  summary: "train NoStripesNet's patch GAN on a patch dataset",
  permissions: ["--allow-read", "--allow-write=SAVE_DIR"],
  assets: true,
  task: "train-patch",
  flags: TRAIN_FLAGS,
  examples: [
    "--mode patch --root ./data --save-dir ./pretrained_models --name patch_example --epochs 10 --verbose",
  ],
});

type Flags = Parsed<typeof meta.flags>;

async function train(f: Flags): Promise<void> {
  if (f.mode !== "patch") {
    throw new UsageError(
      "--model",
      `${f.mode}: Lumen trains the patch model (PatchUNet + PatchDiscriminator, --mode patch); the original's full-sinogram ${f.mode} model is not made`,
    );
  }
  if (f.ddp) ddpNote("train", f.quiet);
  if (f.modelFile) f.modelFile = resolveModelFile(f.modelFile);
  if (f.betas.length !== 2) throw new LumenError("--betas", f.betas.join(","), "expected b1,b2");
  if (f.tvt.length !== 3) throw new LumenError("--tvt", f.tvt.join(","), "expected 3 ratios");
  const log = `${f.saveDir}/${f.name}.log.jsonl`;
  const { resume } = openTrainingRun({
    dir: f.saveDir,
    name: f.name,
    epochs: f.epochs,
    args: provenanceArgs(meta, f),
    ignore: TRAIN_RESUMABLE,
    overwrite: f.overwrite,
    modelFile: f.modelFile,
  });

  const backend = await initEngine({ backend: f.backend, threads: f.threads });
  manualSeed(f.seed);
  const pairs = await listPatchPairs(f.root);
  const split = splitPairs(pairs.length, [f.tvt[0], f.tvt[1], f.tvt[2]], 0);
  let trainIdx = split.train;
  if (f.subset !== undefined && f.subset < trainIdx.length) trainIdx = trainIdx.slice(0, f.subset);
  if (!trainIdx.length) {
    throw new LumenError(
      f.root,
      "",
      `${pairs.length} pairs leave none for training at --tvt ${f.tvt}`,
    );
  }
  const trainSet = new PatchSet(pairs, trainIdx), valSet = new PatchSet(pairs, split.val);
  const trainingData: TrainingData = {
    patchSize: (await trainSet.get(0)).shape,
    tvt: [f.tvt[0], f.tvt[1], f.tvt[2]],
    splitSeed: 0,
    pairs: pairs.length,
  };
  const fitted = fitToPatch(
    nsnConfig({
      preset: f.preset as keyof typeof NSN_PRESETS,
      genWidth: f.width,
      genDepth: f.depth,
      discDepth: f.discDepth,
    }),
    trainingData.patchSize,
  );
  if (fitted.lowered.length && f.verbose) {
    console.log(`${trainingData.patchSize.join("×")} patches: ${fitted.lowered.join(", ")}`);
  }
  const net = f.modelFile && !resume
    ? await loadNoStripesNet(f.modelFile, fitted.config)
    : buildNoStripesNet(fitted.config, f.seed);
  const gan = new MaskedGAN(net.gen, net.disc, {
    lr: f.learningRate,
    betas: [f.betas[0], f.betas[1]],
    lambdaL1: f.lambda,
    lsgan: f.lsgan,
    genPatience: f.plateauPatience[0],
    discPatience: f.plateauPatience[1] ?? f.plateauPatience[0],
  });
  const prov = await makeProvenance({
    tool: "train",
    args: provenanceArgs(meta, f),
    seed: f.seed,
    inputs: [f.root, ...(f.modelFile ? [f.modelFile] : [])],
  });
  const logFile = openLog(log, { elapsed: true });
  const steps = Math.ceil(trainSet.size / f.batchSize);
  const bar = progress("steps", f.epochs * steps, { quiet: f.quiet });
  logFile.write({
    event: "start",
    tool: "train",
    backend: backend.name,
    pairs: pairs.length,
    train: trainSet.size,
    val: valSet.size,
    test: split.test.length,
    config: net.config,
    resume: resume ?? null,
    uuid: prov.uuid,
  });
  if (resume && f.verbose) console.log(`resuming from ${resume}`);
  const result = await trainLoop({
    epochs: f.epochs,
    batches: (epoch) => trainSet.batches(f.batchSize, { shuffle: true, seed: f.seed, epoch }),
    step: (b) => {
      bar.tick();
      return gan.trainStep(b);
    },
    validation: valSet.size ? () => valSet.batches(f.batchSize) : undefined,
    validate: (b) => gan.validate(b),
    endEpoch: (epoch, tr, val) => {
      if (val.lossG?.length) gan.endEpoch(median(val.lossG), median(val.lossD));
      logFile.write({
        event: "lr",
        epoch,
        lr_g: gan.optG.paramGroups[0].lr,
        lr_d: gan.optD.paramGroups[0].lr,
      });
      if (f.verbose) {
        const m = (xs?: number[]) =>
          xs?.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(5) : "-";
        console.log(
          `epoch ${epoch + 1}/${f.epochs}: loss_D ${m(tr.lossD)} loss_G ${m(tr.lossG)} val_loss_G ${
            m(val.lossG)
          }`,
        );
      }
    },
    checkpoint: {
      dir: f.saveDir,
      name: f.name,
      every: f.saveEvery,
      everySteps: f.saveEverySteps,
      provenance: prov,
      extra: { data: trainingData },
      parts: () => ({
        modules: { gen: net.gen, disc: net.disc },
        optimizers: { gen: gan.optG, disc: gan.optD },
        schedulers: { gen: gan.schedG, disc: gan.schedD },
      }),
    },
    resume,
    log: (r) => logFile.write(r),
  });
  bar.done();
  logFile.write({ event: "end", epochs: result.epochs, steps: result.steps, ...result.last });
  logFile.close();
  for (const c of result.checkpoints) await writeProvenance(c, prov);
  if (f.verbose) {
    console.log(`trained ${result.steps} steps; checkpoints: ${result.checkpoints.join(", ")}`);
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, train, argv);

if (import.meta.main) await runTool(meta, train);
