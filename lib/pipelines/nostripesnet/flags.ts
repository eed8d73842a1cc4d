/**
 * The flags that NoStripesNet's tools share.
 *
 * @example
 * ```ts
 * import { defineTool } from "../../run/flags.ts";
 * import { TAR_ARCHITECTURE } from "./flags.ts";
 * const meta = defineTool({ name: "t", summary: "", permissions: [], flags: { ...TAR_ARCHITECTURE } });
 * ```
 * @module
 */
import type { FlagSpecs } from "../../run/flags.ts";

/**
 * `--preset`, `--width`, `--depth`: the architecture of an original NoStripesNet `.tar`, which
 * (unlike Lumen checkpoints) does not record it. Spread into a tool's flags.
 */
export const TAR_ARCHITECTURE = {
  preset: {
    type: "choice",
    choices: ["paper", "small", "tiny"],
    default: "paper",
    help: "architecture of a NoStripesNet .tar (Lumen checkpoints record theirs)",
  },
  width: { type: "int", min: 1, help: "generator filters of the first level (.tar only)" },
  depth: { type: "int", min: 2, help: "generator levels (.tar only)" },
} as const satisfies FlagSpecs;

/**
 * `--vo-size N|paper|tomopy`: the window of Vo et al.'s sorting baseline (default paper: 31, the
 * paper's recommendation for NoStripesNet-like data; tomopy: TomoPy's rule for the width).
 * Resolve it with `sortingSize` (lib/tomo/vo_sorting.ts).
 */
export const VO_SIZE = {
  voSize: {
    type: "string",
    arg: "N|paper|tomopy",
    default: "paper",
    help: "Vo sorting window: N, paper (31) or tomopy (TomoPy's rule for the width)",
  },
} as const satisfies FlagSpecs;

/** `-r/--root` and `-f/--model-file`: the dataset and the checkpoint of test and visualize. */
export const DATA_AND_MODEL = {
  root: { type: "string", short: "r", default: "./data", arg: "ROOT", help: "dataset root" },
  modelFile: {
    type: "string",
    short: "f",
    required: true,
    arg: "FILE",
    help: "checkpoint (Lumen .json from train, or NoStripesNet .tar)",
  },
} as const satisfies FlagSpecs;
