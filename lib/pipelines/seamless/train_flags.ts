/**
 * train.py's command line (the original's flag names; `--mask_smooth_radius` and
 * `--mask-smooth-radius` both work through flags.ts) and the mapping of parsed flags to the
 * trainer's {@link TrainArgs}.
 *
 * @example
 * ```ts
 * import { defineTool, parseFlags } from "../../run/flags.ts";
 * import { TRAIN_FLAGS, trainArgsOf } from "./train_flags.ts";
 * const meta = defineTool({ name: "t", summary: "", permissions: [], flags: TRAIN_FLAGS });
 * const args = trainArgsOf(parseFlags(meta, ["--stack", "s.h5", "--lambda1", "2"]));
 * ```
 * @module
 */
import type { FlagValues } from "../../run/flags.ts";
import { smoothnessType } from "./penalties.ts";
import { TRAIN_DEFAULTS as D, type TrainArgs } from "./trainer.ts";

const num = (help: string, d: number) => ({ type: "number", default: d, help }) as const;
const int = (help: string, d: number) => ({ type: "int", min: 0, default: d, help }) as const;

/** The original's training flags (the tool adds seed, overwrite, backend, threads). */
export const TRAIN_FLAGS = {
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
  lrMilestones: {
    type: "list",
    of: "int",
    default: [],
    help: "epochs at which the lr is multiplied by --lr_gamma (default none)",
  },
  lrGamma: num("lr factor of each --lr_milestones epoch", 0.1),
  adamBeta2: num("Adam's second-moment decay (the original: PyTorch's 0.999)", 0.999),
  smoothnessPenaltyType: { type: "string", default: "jacob", help: "jacob, lap, cjacob or tv" },
  pe: { type: "boolean", help: "run the pre-encoder" },
  hm: { type: "boolean", help: "high-mip run: the warped smoothness weights carry no gradient" },
  upsampleAlignCorners: {
    type: "boolean",
    help: "upsample the field with align_corners=true (keeps the identity; the original: false)",
  },
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
} as const;

/**
 * The trainer's hyperparameters from parsed flags (an unknown penalty type is one line).
 *
 * @example
 * ```ts
 * const args = trainArgsOf(f); // f parsed with TRAIN_FLAGS
 * ```
 */
export function trainArgsOf(f: FlagValues<typeof TRAIN_FLAGS>): TrainArgs {
  return {
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
    adam_beta2: f.adamBeta2,
    lr_milestones: [...f.lrMilestones],
    lr_gamma: f.lrGamma,
  };
}
