/**
 * flair-train's command line: the original's flags (`-k/--kfold`, `-n`, `-e`, `-b`) and Lumen's
 * training options (crops, batch-norm re-estimation, the visible term's weight).
 *
 * @example
 * ```ts
 * import { defineTool } from "../../run/flags.ts";
 * import { TRAIN_FLAGS } from "./train_flags.ts";
 * const meta = defineTool({ name: "t", summary: "", permissions: [], flags: TRAIN_FLAGS });
 * ```
 * @module
 */
import { BACKEND, type FlagSpecs, SEED, THREADS } from "../../run/flags.ts";
import { PRESETS } from "./model.ts";

/** The flags of `flair-train`. */
export const TRAIN_FLAGS = {
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
  bnOn: {
    type: "choice",
    choices: ["slices", "crops"],
    default: "slices",
    help: "re-estimate them on whole training slices or, with --crop, on training-like crops",
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
} as const satisfies FlagSpecs;

/**
 * The folds of a prepared dataset of `k` folds that have no `<name>-k<fold>.best.json` in
 * `saveDir` (after a SLURM array, the folds that did not end).
 *
 * @example
 * ```ts
 * missingFolds("saved_models", "FVV", 10); // [3, 7]
 * ```
 */
export function missingFolds(saveDir: string, name: string, k: number): number[] {
  return [...Array(k).keys()].filter((f) => {
    try {
      Deno.statSync(`${saveDir}/${name}-k${f}.best.json`);
      return false;
    } catch {
      return true;
    }
  });
}
