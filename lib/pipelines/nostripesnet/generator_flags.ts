/**
 * data_generator's command line: Lumen's flags and the original `simulator.data_generator`'s
 * spellings (`--hdf-file`, `-S/--samples`, `--start`, `-s/--shifts`, `-p`, `-N`, `-o`, `-f`, `-I`,
 * `--frame-angles`, `--patch-size H W`), and the checks that turn what Lumen does not do into one
 * line saying what does it instead.
 *
 * @example
 * ```ts
 * import { defineTool, parseFlags } from "../../run/flags.ts";
 * import { checkGeneratorFlags, DATA_GENERATOR_FLAGS } from "./generator_flags.ts";
 * const meta = defineTool({ name: "g", summary: "", permissions: [], flags: DATA_GENERATOR_FLAGS });
 * const f = parseFlags(meta, ["-m", "patch", "--hdf-file", "s.nxs", "--mask", "m.npz", "--patch-size", "1801", "256"]);
 * const { shard } = checkGeneratorFlags(f); // null: not sharded
 * ```
 * @module
 */
import type { FlagSpecs } from "../../run/flags.ts";
import { UsageError } from "../../run/flags.ts";
import { LumenError } from "../../run/errors.ts";
import { parseShard, type Shard } from "../../run/shard.ts";
import { SCAN_FLAGS } from "../../tomo/scan_flags.ts";

/** The original's modes that Lumen does another way, and the way. */
const ELSEWHERE: Record<string, string> = {
  simple: "--mode synthetic simulates a scan (phantom, flats, darks) and makes its patch pairs",
  complex: "--mode synthetic simulates a scan (phantom, flats, darks) and makes its patch pairs",
  dynamic:
    "dynamic scans are not cut into frames here: split the scan into one file per frame (--frame-angles projections each) and run --mode patch on each",
};

/** Flags of the original's synthetic modes: accepted, recorded nowhere, used by no Lumen mode. */
const SYNTHETIC_ONLY = { provenance: false } as const;

/** data_generator's flags (the tool adds `--seed` and `--overwrite`). */
export const DATA_GENERATOR_FLAGS = {
  mode: {
    type: "choice",
    choices: ["patch", "paired", "raw", "synthetic", "simple", "complex", "dynamic"],
    short: "m",
    required: true,
    help: "what to make (patch: the NoStripesNet patch dataset; simple/complex: see synthetic)",
  },
  root: { type: "string", short: "r", default: "./data", arg: "ROOT", help: "dataset root" },
  hdfRoot: {
    type: "string",
    short: "H",
    aliases: ["hdf-file"],
    arg: "SCAN",
    help: "the NeXus/HDF5 scan",
  },
  ...SCAN_FLAGS,
  mask: { type: "string", arg: "NPZ", help: "stripe-mask archive (generate_mask)" },
  maskName: { type: "string", arg: "KEY", help: "entry in --mask (default m<scan name>)" },
  chunkSize: {
    type: "int",
    short: "C",
    min: 1,
    default: 243,
    help: "detector rows read at once",
    provenance: false,
  },
  patchSize: {
    type: "list",
    of: "int",
    min: 1,
    default: [1801, 256],
    arg: "H W",
    help: "patch height (angles), width (columns)",
  },
  sample: {
    type: "int",
    min: 0,
    default: 0,
    aliases: ["start"],
    help: "sample number (folder name)",
  },
  samples: {
    type: "int",
    short: "S",
    min: 1,
    default: 1,
    help: "number of samples (synthetic: samples --sample … --sample+N−1)",
    provenance: false,
  },
  shift: { type: "int", min: 0, default: 0, help: "shift number (file names)" },
  shifts: {
    type: "int",
    short: "s",
    min: 1,
    default: 1,
    help: "number of vertical shifts (one scan per run: 1)",
    provenance: false,
  },
  shiftstep: {
    type: "int",
    short: "p",
    min: 0,
    help: "original's shift step (simple/complex only)",
    ...SYNTHETIC_ONLY,
  },
  size: {
    type: "list",
    of: "int",
    short: "N",
    min: 0,
    default: [402, 362],
    arg: "H,W",
    help:
      "raw/paired: resize sinograms to H,W (0,0 keeps them); one value is the original's cube size",
  },
  objects: {
    type: "int",
    short: "o",
    min: 0,
    help: "original's objects per sample (simple/complex)",
    ...SYNTHETIC_ONLY,
  },
  flatsnum: {
    type: "int",
    short: "f",
    min: 0,
    help: "original's flat count (complex)",
    ...SYNTHETIC_ONLY,
  },
  intensity: {
    type: "int",
    short: "I",
    aliases: ["I0"],
    min: 0,
    help: "original's photon flux (complex)",
    ...SYNTHETIC_ONLY,
  },
  frameAngles: {
    type: "int",
    min: 1,
    help: "original's angles per frame (dynamic)",
    ...SYNTHETIC_ONLY,
  },
  shard: { type: "string", arg: "i/N", help: "make only shard i of N (detector-row ranges)" },
  merge: { type: "int", min: 1, arg: "N", help: "check the N shards and move them into place" },
  scanPreset: {
    type: "choice",
    choices: ["demo", "test", "tiny"],
    default: "test",
    help: "synthetic: size of the simulated scan (demo 256×32×512, test 128×8×128, tiny 32×4×48)",
  },
  verbose: { type: "boolean", short: "v", help: "print what is done", provenance: false },
} as const satisfies FlagSpecs;

/** The values {@link checkGeneratorFlags} reads. */
export interface GeneratorFlagValues {
  mode: string;
  hdfRoot?: string;
  mask?: string;
  patchSize: number[];
  size: number[];
  samples: number;
  shifts: number;
  shard?: string;
  merge?: number;
  quiet?: boolean;
}

/**
 * Checks the flags of one data_generator run and returns the shard it makes (null: all rows).
 * A single `--size`/`-N` value (the original's cube size, meaningless for real data) becomes the
 * default resize, with a warning on stderr.
 *
 * @example
 * ```ts
 * checkGeneratorFlags({ mode: "patch", hdfRoot: "s.nxs", mask: "m.npz", patchSize: [1801, 256], size: [402, 362], samples: 1, shifts: 1 });
 * ```
 * @throws UsageError or LumenError naming the flag
 */
export function checkGeneratorFlags(f: GeneratorFlagValues): { shard: Shard | null } {
  if (f.mode in ELSEWHERE) {
    throw new UsageError("--mode", `${f.mode} is not made by Lumen: ${ELSEWHERE[f.mode]}`);
  }
  if (f.patchSize.length !== 2) {
    throw new UsageError("--patch-size", `${f.patchSize.join(" ")}: expected H W`);
  }
  if (f.size.length === 1) {
    if (f.mode === "raw" || f.mode === "paired") {
      console.error(
        `data_generator: warning: -N/--size ${
          f.size[0]
        } is the original's cube size (simple/complex); resizing to 402,362 (give --size H,W)`,
      );
    }
    f.size = [402, 362];
  }
  if (f.size.length !== 2) throw new UsageError("--size", `${f.size.join(",")}: expected H,W`);
  if (f.shifts !== 1) {
    throw new UsageError(
      "--shifts",
      `${f.shifts}: one scan is read per run; run once per shifted scan with --hdf-file FILE --shift K`,
    );
  }
  if (f.samples !== 1 && f.mode !== "synthetic") {
    throw new UsageError(
      "--samples",
      `${f.samples}: --mode ${f.mode} makes one sample of one scan; run once per scan with --start N`,
    );
  }
  if (f.mode !== "synthetic" && !f.hdfRoot) {
    throw new LumenError(
      "--hdf-root",
      "",
      `HDF File is None: --mode ${f.mode} needs the scan (--hdf-root or --hdf-file)`,
    );
  }
  if (f.mode === "paired" && !f.mask) {
    throw new LumenError(
      "--mask",
      "",
      "A mask should be given: --mode paired needs the stripe mask (generate_mask)",
    );
  }
  if ((f.shard || f.merge !== undefined) && f.mode !== "patch") {
    throw new UsageError(
      "--shard",
      `only --mode patch is sharded (${f.mode} ${
        f.mode === "synthetic" ? "is small by design" : "scales by the whole sample"
      })`,
    );
  }
  let shard: Shard | null = null;
  if (f.shard) {
    try {
      shard = parseShard(f.shard);
    } catch (e) {
      throw new UsageError("--shard", `${f.shard}: ${(e as LumenError).problem}`);
    }
  }
  return { shard };
}
