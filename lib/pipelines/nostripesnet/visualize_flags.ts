/**
 * visualize's command line: the sample and sinograms to draw, the model, the mask, geometry of the reconstruction, and the report.
 *
 * @example
 * ```ts
 * import { defineTool } from "../../run/flags.ts";
 * import { VISUALIZE_FLAGS } from "./visualize_flags.ts";
 * const meta = defineTool({ name: "visualize", summary: "", permissions: [], flags: VISUALIZE_FLAGS });
 * ```
 * @module
 */
import { BACKEND, type FlagSpecs, OVERWRITE, THREADS } from "../../run/flags.ts";
import { DATA_AND_MODEL, TAR_ARCHITECTURE, VO_SIZE } from "./flags.ts";

/** The flags of `visualize`. */
export const VISUALIZE_FLAGS = {
  ...DATA_AND_MODEL,
  sample: { type: "int", min: 0, default: 0, help: "sample number (folder <root>/<sample:04>)" },
  shift: { type: "int", min: 0, default: 0, help: "shift number in the file names" },
  sinograms: {
    type: "list",
    of: "int",
    min: 0,
    arg: "ROWS",
    help: "sinogram indices to draw (default: 3 spread over those with simulated stripes)",
  },
  real: {
    type: "boolean",
    default: true,
    help: "also draw sinograms with real stripes (--no-real: skip)",
  },
  mask: { type: "string", arg: "NPZ", help: "stripe-mask archive: the model on real stripes" },
  maskName: { type: "string", arg: "KEY", help: "entry in --mask (default: the only m* entry)" },
  tvt: {
    type: "list",
    of: "number",
    help: "train validate test ratio of the patch figure (default: the checkpoint's, else 3 1 1)",
  },
  ...VO_SIZE,
  sinoSize: {
    type: "list",
    of: "int",
    min: 1,
    arg: "H,W",
    help: "full sinogram size (default: one row of patches)",
  },
  lastAngle: {
    type: "number",
    help: "angle of the last projection in degrees (default 180 for an odd count, e.g. " +
      "1801 over 0–180°, else 180·(n−1)/n)",
  },
  center: { type: "number", help: "rotation axis in detector pixels (default columns/2)" },
  reconBin: { type: "int", min: 1, help: "column binning for FBP (default ⌈columns/512⌉)" },
  patches: { type: "int", min: 0, default: 4, help: "test pairs in the patch figure (0: none)" },
  log: {
    type: "string",
    arg: "JSONL",
    help: "training log (default <model dir>/<run>.log.jsonl)",
  },
  testResults: {
    type: "string",
    arg: "JSON",
    help: "test metrics (default ./test_results/<name>.metrics.json)",
  },
  outDir: {
    type: "string",
    short: "o",
    default: "./figures",
    arg: "OUT_DIR",
    help: "where the PNGs and the report go",
  },
  name: { type: "string", short: "n", help: "output file prefix (default: model file name)" },
  embed: {
    type: "boolean",
    default: true,
    help: "embed the figures in the report (--no-embed: link the PNG files)",
  },
  check: {
    type: "boolean",
    help: "open the report in headless Chromium and check it (needs more permissions)",
    provenance: false,
  },
  ...TAR_ARCHITECTURE,
  backend: BACKEND,
  threads: THREADS,
  verbose: { type: "boolean", short: "v", help: "print what is done", provenance: false },
  overwrite: OVERWRITE,
} as const satisfies FlagSpecs;
