/**
 * train's command line: Lumen's flags and the original `network.training`'s spellings
 * (`-m/--model patch`, `-b b1 b2`, `--force`, `--ddp`).
 *
 * @example
 * ```ts
 * import { defineTool } from "../../run/flags.ts";
 * import { TRAIN_FLAGS } from "./train_flags.ts";
 * const meta = defineTool({ name: "train", summary: "", permissions: [], flags: TRAIN_FLAGS });
 * ```
 * @module
 */
import { BACKEND, type FlagSpecs, OVERWRITE, SEED, THREADS } from "../../run/flags.ts";

/** The flags of `train`. */
export const TRAIN_FLAGS = {
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
  discDepth: {
    type: "int",
    min: 1,
    help: "discriminator blocks (default: the preset's, lowered to fit the patch size)",
  },
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
} as const satisfies FlagSpecs;

/** Recorded arguments that may change when a run is continued (a longer run, how it saves). */
export const TRAIN_RESUMABLE = ["epochs", "save-every", "save-every-steps", "threads", "backend"];
