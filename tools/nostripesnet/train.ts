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
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance } from "../../lib/run/provenance.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { NSN_PRESETS } from "../../lib/pipelines/nostripesnet/model.ts";
import { ddpNote, resolveModelFile } from "../../lib/pipelines/nostripesnet/original_cli.ts";
import { trainPatchGan } from "../../lib/pipelines/nostripesnet/train_run.ts";
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
  const prov = await makeProvenance({
    tool: "train",
    args: provenanceArgs(meta, f),
    seed: f.seed,
    inputs: [f.root, ...(f.modelFile ? [f.modelFile] : [])],
  });
  const result = await trainPatchGan({
    root: f.root,
    saveDir: f.saveDir,
    name: f.name,
    epochs: f.epochs,
    seed: f.seed,
    provenance: prov,
    backendName: backend.name,
    spec: {
      preset: f.preset as keyof typeof NSN_PRESETS,
      genWidth: f.width,
      genDepth: f.depth,
      discDepth: f.discDepth,
    },
    tvt: [f.tvt[0], f.tvt[1], f.tvt[2]],
    subset: f.subset,
    batchSize: f.batchSize,
    lr: f.learningRate,
    betas: [f.betas[0], f.betas[1]],
    lambda: f.lambda,
    lsgan: f.lsgan,
    plateauPatience: [f.plateauPatience[0], f.plateauPatience[1] ?? f.plateauPatience[0]],
    saveEvery: f.saveEvery,
    saveEverySteps: f.saveEverySteps,
    modelFile: f.modelFile,
    resume,
    bar: (n) => progress("steps", n, { quiet: f.quiet }),
    say: f.verbose ? (line) => console.log(line) : undefined,
  });
  if (f.verbose) {
    console.log(`trained ${result.steps} steps; checkpoints: ${result.checkpoints.join(", ")}`);
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, train, argv);

if (import.meta.main) await runTool(meta, train);
