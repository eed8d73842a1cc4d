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
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import {
  BACKEND,
  defineTool,
  OVERWRITE,
  type Parsed,
  provenanceArgs,
  SEED,
  THREADS,
  UsageError,
} from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { openLog } from "../../lib/run/log.ts";
import { progress } from "../../lib/run/progress.ts";
import { checkResumeArgs } from "../../lib/run/resume.ts";
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
  loadNoStripesNet,
  NSN_PRESETS,
  type TrainingData,
} from "../../lib/pipelines/nostripesnet/model.ts";
import { ddpNote, resolveModelFile } from "../../lib/pipelines/nostripesnet/original_cli.ts";
import { MaskedGAN, median } from "../../lib/pipelines/nostripesnet/gan.ts";
import { trainLoop } from "../../lib/nn/trainer.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "train",
  summary: "train NoStripesNet's patch GAN on a patch dataset",
  permissions: ["--allow-read", "--allow-write=SAVE_DIR"],
  assets: true,
  task: "train-patch",
  flags: {
    mode: {
      type: "choice",
      choices: ["patch", "base", "mask", "simple"],
      short: "m",
      aliases: ["model"],
      required: true,
      help: "model kind (patch: PatchUNet + PatchDiscriminator; the original's others: see --help)",
    },
    root: { type: "string", short: "r", default: "./data", arg: "ROOT", help: "dataset root" },
    saveDir: {
      type: "string",
      short: "d",
      default: "./pretrained_models",
      arg: "SAVE_DIR",
      help: "where checkpoints and logs go",
    },
    name: { type: "string", short: "n", default: "patch", help: "run name (file prefix)" },
    epochs: { type: "int", short: "e", min: 1, default: 1, help: "number of epochs in all" },
    learningRate: { type: "number", short: "l", min: 0, default: 2e-4, help: "Adam learning rate" },
    betas: {
      type: "list",
      of: "number",
      short: "b",
      default: [0.5, 0.999],
      help: "Adam betas b1 b2",
    },
    lambda: { type: "number", min: 0, default: 100, help: "weight of the masked L1 loss" },
    lsgan: { type: "boolean", help: "least-squares GAN (MSE instead of BCE)" },
    plateauPatience: {
      type: "list",
      of: "int",
      min: 0,
      default: [1, 2],
      arg: "G,D",
      help: "ReduceLROnPlateau patience of the generator and the discriminator (epochs)",
    },
    batchSize: { type: "int", short: "B", min: 1, default: 16, help: "batch size" },
    tvt: { type: "list", of: "number", default: [3, 1, 1], help: "train validate test ratio" },
    subset: { type: "int", min: 1, help: "train on a random subset of this many pairs" },
    saveEvery: {
      type: "int",
      min: 0,
      default: 25,
      help: "save every N epochs (0: only at the end)",
    },
    saveEverySteps: {
      type: "int",
      min: 0,
      default: 0,
      help: "also save every N steps (resume mid-epoch)",
    },
    modelFile: {
      type: "string",
      short: "f",
      arg: "FILE",
      help: "start from this checkpoint (Lumen .json or NoStripesNet .tar)",
    },
    preset: {
      type: "choice",
      choices: ["paper", "small", "tiny"],
      default: "paper",
      help: "architecture: paper (54 M + 15 M parameters), small, tiny",
    },
    width: { type: "int", min: 1, help: "generator filters of the first level (overrides preset)" },
    depth: { type: "int", min: 2, help: "generator levels (overrides preset)" },
    backend: BACKEND,
    threads: THREADS,
    seed: SEED,
    verbose: { type: "boolean", short: "v", help: "print losses per epoch", provenance: false },
    force: {
      type: "boolean",
      help: "original's skip-the-pauses flag (Lumen never pauses)",
      provenance: false,
    },
    ddp: {
      type: "boolean",
      help: "original's multi-node flag (Lumen runs in one process)",
      provenance: false,
    },
    overwrite: OVERWRITE,
  },
  examples: [
    "--mode patch --root ./data --save-dir ./pretrained_models --name patch_example --epochs 10 --verbose",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/** The newest checkpoint `<dir>/<name>_<epoch>[_b<batch>].json` of a run, if any. */
function latestCheckpoint(dir: string, name: string): { epoch: number; path: string } | null {
  if (!existsSync(dir)) return null;
  const re = new RegExp(
    `^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}_(\\d+)(?:_b(\\d+))?\\.json$`,
  );
  let best: { epoch: number; batch: number; path: string } | null = null;
  for (const f of readdirSync(dir)) {
    const m = re.exec(f);
    if (!m) continue;
    const e = Number(m[1]), b = Number(m[2] ?? 0);
    if (!best || e > best.epoch || (e === best.epoch && b > best.batch)) {
      best = { epoch: e, batch: b, path: `${dir}/${f}` };
    }
  }
  return best && { epoch: best.epoch, path: best.path };
}

/** Flags that may change when a run is continued (a longer run, how often it saves). */
const RESUMABLE = ["epochs", "save-every", "save-every-steps", "threads", "backend"];

/** The arguments recorded in a checkpoint (its embedded provenance, else its sidecar). */
function recordedArgs(path: string): Record<string, unknown> {
  const side = `${path}.prov.json`;
  let prov: { args?: unknown } | null = null;
  try {
    prov = (JSON.parse(readFileSync(path, "utf8")) as { provenance?: { args?: unknown } })
      .provenance ?? null;
    if (!prov && existsSync(side)) prov = JSON.parse(readFileSync(side, "utf8"));
  } catch {
    prov = null;
  }
  return (prov?.args && typeof prov.args === "object" ? prov.args : {}) as Record<string, unknown>;
}

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
  const final = `${f.saveDir}/${f.name}_${f.epochs}.json`;
  const log = `${f.saveDir}/${f.name}.log.jsonl`;
  let resume: string | undefined;
  const latest = latestCheckpoint(f.saveDir, f.name);
  if (f.overwrite) {
    for (const file of existsSync(f.saveDir) ? readdirSync(f.saveDir) : []) {
      if (file.startsWith(`${f.name}_`) || file.startsWith(`${f.name}.log`)) {
        rmSync(`${f.saveDir}/${file}`);
      }
    }
  } else if (existsSync(final)) {
    throw new LumenError(
      final,
      "",
      "this run is finished; pass --overwrite to train it again, or choose another --name",
    );
  } else if (latest && latest.epoch > f.epochs) {
    throw new LumenError(
      latest.path,
      "",
      `this run is already past --epochs ${f.epochs} (it reached epoch ${latest.epoch}); give --epochs above ${latest.epoch} to continue it, or --overwrite to start again`,
    );
  } else if (latest) {
    resume = latest.path;
    checkResumeArgs(resume, recordedArgs(resume), provenanceArgs(meta, f), {
      ignore: RESUMABLE,
    });
  }

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
  const spec = {
    preset: f.preset as keyof typeof NSN_PRESETS,
    genWidth: f.width,
    genDepth: f.depth,
  };
  const net = f.modelFile && !resume
    ? await loadNoStripesNet(f.modelFile, spec)
    : buildNoStripesNet(spec, f.seed);
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
  const bar = progress("steps", (f.epochs - (latest && resume ? 0 : 0)) * steps, {
    quiet: f.quiet,
  });
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
