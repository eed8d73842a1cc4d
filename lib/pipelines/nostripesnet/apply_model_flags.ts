/**
 * apply_model's command line (the original's `MODEL H5 -m MASK -o OUT --ddp` besides Lumen's flags).
 *
 * @example
 * ```ts
 * import { defineTool } from "../../run/flags.ts";
 * import { APPLY_MODEL_FLAGS } from "./apply_model_flags.ts";
 * const meta = defineTool({ name: "apply_model", summary: "", permissions: [], flags: APPLY_MODEL_FLAGS });
 * ```
 * @module
 */
import { BACKEND, type FlagSpecs, OVERWRITE, THREADS } from "../../run/flags.ts";
import { SCAN_FLAGS } from "../../tomo/scan_flags.ts";
import { VO_SIZE } from "./flags.ts";

/** The flags of `apply_model`. */
export const APPLY_MODEL_FLAGS = {
  h5: { type: "string", arg: "SCAN", help: "the NeXus/HDF5 scan" },
  ...SCAN_FLAGS,
  out: {
    type: "string",
    short: "o",
    required: true,
    arg: "OUT",
    help: "output volume (.h5, .npz, .npy, .tif)",
  },
  method: {
    type: "choice",
    choices: ["model", "vo-sorting"],
    default: "model",
    help: "model: the trained generator; vo-sorting: Vo et al. (2018) baseline",
  },
  modelFile: { type: "string", short: "f", arg: "FILE", help: "checkpoint (.json or .tar)" },
  mask: { type: "string", short: "m", arg: "NPZ", help: "stripe-mask archive (generate_mask)" },
  maskName: { type: "string", arg: "KEY", help: "entry in --mask (default m<scan name>)" },
  patchSize: {
    type: "list",
    of: "int",
    min: 1,
    arg: "H W",
    help: "patch size, for checkpoints that do not record it (default 1801 256)",
  },
  ...VO_SIZE,
  chunkSize: {
    type: "int",
    short: "C",
    min: 1,
    default: 16,
    help: "detector rows read at once",
    provenance: false,
  },
  writer: {
    type: "choice",
    choices: ["worker", "main"],
    default: "worker",
    help: "where the rows are compressed and written: a worker (beside the network) or this thread",
    provenance: false,
  },
  ddp: {
    type: "boolean",
    help: "original's multi-node flag (Lumen runs in one process)",
    provenance: false,
  },
  backend: BACKEND,
  threads: THREADS,
  verbose: { type: "boolean", short: "v", help: "print what is done", provenance: false },
  overwrite: OVERWRITE,
} as const satisfies FlagSpecs;
