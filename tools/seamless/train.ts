/**
 * `train`: trains a SEAMLeSS alignment pyramid on gen_stack stacks with the original's command
 * line (`train.py [--param VALUE …] EXPERIMENT_NAME`: `--mask_smooth_radius` or
 * `--mask-smooth-radius`). Writes
 * `out/<name>/` (args.json, args.txt, `<name>.log`, report.html, checkpoints) and `pt/<name>`;
 * refuses a name already used unless `--overwrite`, resumes a killed run.
 *
 * @module
 */
import {
  BACKEND,
  commandLine,
  defineTool,
  OVERWRITE,
  type Parsed,
  provenanceArgs,
  SEED,
  THREADS,
} from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { makeProvenance } from "../../lib/run/provenance.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { smoothnessType } from "../../lib/pipelines/seamless/penalties.ts";
import { originalFlags } from "../../lib/pipelines/seamless/flags.ts";
import { TRAIN_DEFAULTS as D } from "../../lib/pipelines/seamless/trainer.ts";
import { trainRun, type TrainRunResult } from "../../lib/pipelines/seamless/train_run.ts";

const num = (help: string, d: number) => ({ type: "number", default: d, help }) as const;
const int = (help: string, d: number) => ({ type: "int", min: 0, default: d, help }) as const;

/** The tool's command line. */
export const meta = defineTool({
  name: "seamless/train",
  summary: "train a SEAMLeSS pyramid (out/<name>/, pt/<name>); a used name is refused",
  permissions: ["--allow-read", "--allow-write=DIR"],
  args: [{ name: "EXPERIMENT_NAME", help: "run name (out/<name>/, pt/<name>)" }],
  flags: {
    stack: {
      type: "string",
      arg: "FILE",
      required: true,
      help: "gen_stack HDF5 (`main`, optional `mask`)",
    },
    lambda1: num("total smoothness penalty coefficient", D.lambda1),
    lambda2: num("smoothness penalty reduction around cracks/folds", D.lambda2),
    lambda3: num("smoothness penalty reduction on top of cracks/folds", D.lambda3),
    lambda4: num("MSE multiplier in regions around cracks and folds", D.lambda4),
    lambda5: num("MSE multiplier in regions on top of cracks and folds", D.lambda5),
    lambda6: num("coefficient of the drift-preventing consensus penalty", D.lambda6),
    maskSmoothRadius: int("radius of the smoothness-weight pooling", D.mask_smooth_radius),
    maskNeighborhoodRadius: int(
      "radius (px) of the neighbourhood of cracks and folds",
      D.mask_neighborhood_radius,
    ),
    eps: num("epsilon against division by zero and for the collapse warning", D.eps),
    blankVarThreshold: num("variance under which a section is blank", D.blank_var_threshold),
    skip: int("residuals omitted from the bottom of the pyramid", D.skip),
    size: { type: "int", min: 1, default: D.size, help: "levels of the pyramid" },
    dim: int("side of the training images (informational; taken from the stack)", 1152),
    trunc: int("truncation level to start at (0 when fine-tuning)", D.trunc),
    lr: num("starting learning rate", D.lr),
    epochs: {
      type: "int",
      min: 1,
      default: 1000,
      aliases: ["num-epochs"],
      help: "training epochs",
    },
    stateArchive: { type: "string", arg: "NET", help: "network to start from (pt/NAME)" },
    k: { type: "int", min: 1, default: 7, help: "field-net kernel size" },
    trainSize: {
      type: "int",
      min: 1,
      default: 1280,
      help: "the original's TRAIN_SIZE: residuals scale by (train_size/2^l)/width",
    },
    fallTime: { type: "int", min: 1, default: D.fall_time, help: "epochs between levels" },
    padding: int("zero padding added to the training stacks", D.padding),
    fineTuning: { type: "boolean", help: "start fine-tuning (lower lr, all levels)" },
    fineTuningLrFactor: num("lr factor while fine-tuning", D.fine_tuning_lr_factor),
    smoothnessPenaltyType: { type: "string", default: "jacob", help: "jacob, lap, cjacob or tv" },
    pe: { type: "boolean", help: "run the pre-encoder" },
    hm: { type: "boolean", help: "high-mip run: the warped smoothness weights carry no gradient" },
    visInterval: {
      type: "int",
      min: 1,
      default: 10,
      help: "stacks between visualisations (recorded)",
      provenance: false,
    },
    checkpointTime: {
      type: "int",
      min: 0,
      default: 10,
      help: "stacks between resumable checkpoints",
    },
    root: { type: "string", arg: "DIR", default: ".", help: "where out/ and pt/ go" },
    seed: SEED,
    overwrite: OVERWRITE,
    backend: BACKEND,
    threads: THREADS,
  },
  examples: [
    "--stack basil_v0_train_mip5.h5 --size 8 --lambda1 2 --lambda2 0.04 --lambda3 0 --lambda4 5 " +
    "--lambda5 0 --mask_smooth_radius 75 --mask_neighborhood_radius 75 --lr 0.0003 --trunc 0 " +
    "--padding 0 --lambda6 1 --epochs 10 fine_tune_example",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/** Runs the tool. */
export async function train(f: Flags): Promise<TrainRunResult> {
  const name = String((f as unknown as { _: string[] })._[0]);
  await initEngine({ backend: f.backend, threads: f.threads });
  const provenance = await makeProvenance({
    tool: meta.name,
    args: provenanceArgs(meta, f),
    seed: f.seed,
    inputs: [
      f.stack,
      ...(f.stateArchive ? [`${f.stateArchive.replace(/\.(json|pt)$/, "")}.json`] : []),
    ],
  });
  return await trainRun({
    name,
    root: f.root,
    stack: f.stack,
    epochs: f.epochs,
    seed: f.seed,
    k: f.k,
    trainSize: f.trainSize,
    pe: f.pe,
    stateArchive: f.stateArchive ?? null,
    overwrite: f.overwrite,
    checkpointSteps: f.checkpointTime,
    provenance,
    commandLine: commandLine(meta, f),
    args: {
      lambda1: f.lambda1,
      lambda2: f.lambda2,
      lambda3: f.lambda3,
      lambda4: f.lambda4,
      lambda5: f.lambda5,
      lambda6: f.lambda6,
      mask_smooth_radius: f.maskSmoothRadius,
      mask_neighborhood_radius: f.maskNeighborhoodRadius,
      eps: f.eps,
      blank_var_threshold: f.blankVarThreshold,
      padding: f.padding,
      smoothness_penalty_type: smoothnessType(f.smoothnessPenaltyType),
      hm: f.hm,
      trunc: f.trunc,
      fall_time: f.fallTime,
      size: f.size,
      fine_tuning: f.fineTuning,
      skip: f.skip,
      lr: f.lr,
      fine_tuning_lr_factor: f.fineTuningLrFactor,
    },
    onRecord: f.quiet ? undefined : (r) => {
      if (r.event === "epoch") {
        console.error(
          `epoch ${r.epoch}: total ${r.train_total} error ${r.train_error} penalty ${r.train_penalty}`,
        );
      }
    },
  });
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await train(f);
  }, originalFlags(argv));

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const r = await train(f);
    console.log(`${r.pt}.json, ${r.report}`);
  }, originalFlags(Deno.args));
}
