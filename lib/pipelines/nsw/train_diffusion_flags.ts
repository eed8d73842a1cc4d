/**
 * The flags of `nsw-train-diffusion` (the original `finetune_unet.py`'s names kept where they
 * exist: `--image-folder`, `--instance-prompt`, `--save-model-to`, `--steps-per-image`,
 * `--checkpoint-steps`, the W&B flags, accepted and unused).
 *
 * @example
 * ```ts
 * import { TRAIN_DIFFUSION_FLAGS } from "./train_diffusion_flags.ts";
 * defineTool({ name: "nsw/train_diffusion", flags: TRAIN_DIFFUSION_FLAGS, summary: "…" });
 * ```
 * @module
 */
import { BACKEND, type FlagSpecs, OVERWRITE, THREADS } from "../../run/flags.ts";

/** The tool's flags. */
export const TRAIN_DIFFUSION_FLAGS = {
  imageFolder: { type: "string", arg: "DIR", required: true, help: "image folder to train on" },
  phase: { type: "string", arg: "PHASE", help: "train on this phase's images only" },
  instancePrompt: { type: "string", arg: "TEXT", help: "the prompt recorded with the model" },
  out: {
    type: "string",
    arg: "OUT",
    aliases: ["save-model-to"],
    required: true,
    help: "model folder",
  },
  preset: {
    type: "choice",
    choices: ["micro", "tiny", "small", "paper"],
    default: "tiny",
    help: "U-Net size (micro 16 px, tiny 32, small 64, paper 128)",
  },
  prediction: {
    type: "choice",
    choices: ["eps", "x0"],
    default: "eps",
    help: "what the U-Net predicts: the noise (the original's) or the clean image",
  },
  init: { type: "string", arg: "MODEL", help: "base model folder to fine-tune" },
  numClassImages: {
    type: "int",
    min: 0,
    default: 200,
    help: "prior-preservation images (with --init)",
  },
  priorLossWeight: { type: "number", min: 0, default: 1, help: "weight of the prior loss" },
  steps: {
    type: "int",
    min: 1,
    help: "training steps (default: --steps-per-image × images, at most 4000)",
  },
  stepsPerImage: { type: "int", min: 1, default: 550, help: "steps per instance image" },
  batchSize: { type: "int", min: 1, default: 8, help: "images per step" },
  lr: { type: "number", min: 0, default: 2e-4, help: "Adam learning rate" },
  emaDecay: { type: "number", min: 0, max: 1, default: 0.999, help: "EMA decay" },
  schedule: {
    type: "choice",
    choices: ["linear", "cosine"],
    default: "linear",
    help: "noise schedule",
  },
  checkpointSteps: { type: "int", min: 1, default: 500, help: "steps between checkpoints" },
  validationImages: {
    type: "int",
    min: 0,
    default: 2,
    help: "report samples per phase per checkpoint",
  },
  validationDdimSteps: {
    type: "int",
    min: 1,
    default: 20,
    help: "DDIM steps of the report samples",
  },
  seed: { type: "int", min: 0, default: 0, help: "random seed" },
  wandbRunName: { type: "string", provenance: false, help: "accepted, not used" },
  wandbEntity: { type: "string", provenance: false, help: "accepted, not used" },
  wandbProjectName: { type: "string", provenance: false, help: "accepted, not used" },
  backend: BACKEND,
  threads: THREADS,
  overwrite: OVERWRITE,
} as const satisfies FlagSpecs;
