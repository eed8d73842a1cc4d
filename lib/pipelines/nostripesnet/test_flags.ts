/**
 * test's command line: the original `network.testing` flags (`-r`, `-m`, `-f`, `-B`, `--metrics 1 4 5 7`, `-n`) and Lumen's.
 *
 * @example
 * ```ts
 * import { defineTool } from "../../run/flags.ts";
 * import { TEST_FLAGS } from "./test_flags.ts";
 * const meta = defineTool({ name: "test", summary: "", permissions: [], flags: TEST_FLAGS });
 * ```
 * @module
 */
import { BACKEND, type FlagSpecs, OVERWRITE, THREADS } from "../../run/flags.ts";
import { DATA_AND_MODEL, TAR_ARCHITECTURE, VO_SIZE } from "./flags.ts";

/** The flags of `test`. */
export const TEST_FLAGS = {
  mode: {
    type: "choice",
    choices: ["patch"],
    short: "m",
    default: "patch",
    help: "model kind (patch: PatchUNet + PatchDiscriminator)",
  },
  ...DATA_AND_MODEL,
  tvt: {
    type: "list",
    of: "number",
    help: "train validate test ratio (default: the checkpoint's, else 3 1 1)",
  },
  batchSize: { type: "int", short: "B", min: 1, default: 16, help: "batch size" },
  metrics: {
    type: "list",
    short: "M",
    default: ["all"],
    help: "metrics: 'all' or indices 0–8 / names (see below)",
  },
  subset: { type: "int", min: 1, help: "test only the first N pairs of the test split" },
  baselines: {
    type: "boolean",
    default: true,
    help: "RMSE rows for the stripe input and Vo's sorting too (--no-baselines: model only)",
  },
  ...VO_SIZE,
  outDir: {
    type: "string",
    short: "o",
    default: "./test_results",
    arg: "OUT_DIR",
    help: "where the JSON, CSV (and PNG) go",
  },
  name: { type: "string", short: "n", help: "output file prefix (default: model file name)" },
  displayEachBatch: { type: "boolean", help: "print the running means after every batch" },
  visualOnly: {
    type: "boolean",
    help: "no metrics: run one batch and write <name>.batch.png",
  },
  ...TAR_ARCHITECTURE,
  backend: BACKEND,
  threads: THREADS,
  verbose: { type: "boolean", short: "v", help: "print each batch", provenance: false },
  overwrite: OVERWRITE,
} as const satisfies FlagSpecs;
