/**
 * generate_mask's command line: the original's `--h5`, `-a/--archive`, `-f/--file-name` and the Larix detection parameters (NoStripesNet's defaults).
 *
 * @example
 * ```ts
 * import { defineTool } from "../../run/flags.ts";
 * import { GENERATE_MASK_FLAGS } from "./generate_mask_flags.ts";
 * const meta = defineTool({ name: "generate_mask", summary: "", permissions: [], flags: GENERATE_MASK_FLAGS });
 * ```
 * @module
 */
import { BACKEND, type FlagSpecs, OVERWRITE } from "../../run/flags.ts";
import { SCAN_FLAGS } from "../../tomo/scan_flags.ts";

/** The flags of `generate_mask`. */
export const GENERATE_MASK_FLAGS = {
  h5: { type: "string", arg: "SCAN", required: true, help: "HDF5/NeXus scan to find stripes in" },
  ...SCAN_FLAGS,
  archive: {
    type: "string",
    short: "a",
    arg: "NPZ",
    required: true,
    help: ".npz archive to add the mask to (created if absent; DIR is its folder)",
  },
  fileName: {
    type: "string",
    short: "f",
    arg: "KEY",
    help: "entry name in the archive: m<scan file name without extension> (the default)",
  },
  weights: {
    type: "boolean",
    short: "w",
    help: "also store the weights as KEY_weights (float32)",
  },
  size: {
    type: "int",
    min: 1,
    default: 250,
    help: "STRIPES_DETECT size (median half-window, angles)",
  },
  radius: { type: "int", min: 0, default: 3, help: "STRIPES_DETECT radius" },
  threshold: { type: "number", default: 0.63, help: "STRIPES_MERGE threshold on the weights" },
  length: { type: "int", min: 1, default: 600, help: "STRIPES_MERGE min_stripe_length (angles)" },
  depth: {
    type: "int",
    min: 0,
    default: 30,
    help: "STRIPES_MERGE min_stripe_depth (rows; 0 skips)",
  },
  width: { type: "int", min: 1, default: 22, help: "STRIPES_MERGE min_stripe_width (columns)" },
  sensitivity: {
    type: "number",
    min: 0,
    max: 100,
    default: 85,
    help: "STRIPES_MERGE sensitivity_perc, (0, 100]",
  },
  backend: {
    ...BACKEND,
    help: "where the kernels run (auto: webgpu on a real GPU, else wasm; same bits on all)",
  },
  slabRows: {
    type: "int",
    min: 1,
    arg: "N",
    help: "detector rows per slab (default 4; memory grows with it)",
    provenance: false,
  },
  verbose: { type: "boolean", short: "v", help: "print what is done", provenance: false },
  overwrite: OVERWRITE,
} as const satisfies FlagSpecs;
