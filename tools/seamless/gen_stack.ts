/**
 * `gen_stack`: random stacks of consecutive EM sections at mip m from a local (z, y, x) volume
 * (HDF5 `file.h5:/dataset`, multi-page TIFF or `.npy`), as SEAMLeSS's `gen_stack.py` cuts them
 * from CloudVolume. Writes `<name>_{train|test}_mip<m>.h5` (dataset `main`, (count, height, dim,
 * dim) float32) and `<name>_{train|test}_mip<m>coords.txt`; `--coords` replays a coords file.
 *
 * @module
 */
import { renameSync } from "node:fs";
import {
  defineTool,
  OVERWRITE,
  type Parsed,
  provenanceArgs,
  UsageError,
} from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { pathExists, tempPathBeside, writeTextAtomic } from "../../lib/run/atomic.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { H5File } from "../../lib/io/hdf5.ts";
import {
  buildStacks,
  formatCoords,
  parseCoords,
  readVolume,
  replayGeometry,
  sampleCoords,
} from "../../lib/pipelines/seamless/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "seamless/gen_stack",
  summary:
    "sample random stacks of consecutive sections at mip m into <name>_{train|test}_mip<m>.h5",
  permissions: ["--allow-read", "--allow-write=DIR"],
  args: [{ name: "NAME", help: "dataset name prefix" }],
  flags: {
    count: { type: "int", min: 1, help: "number of stacks (required unless --coords)" },
    source: {
      type: "string",
      arg: "VOLUME",
      required: true,
      help: "vol.h5:/dataset, .tif or .npy",
    },
    stackHeight: { type: "int", min: 1, default: 50, help: "sections per stack" },
    dim: { type: "int", min: 1, default: 1152, help: "stack width/height in pixels at mip m" },
    mip: { type: "int", min: 0, max: 12, default: 5, help: "2^mip average pooling" },
    test: { type: "boolean", help: "draw from the test z range" },
    coords: { type: "string", arg: "FILE", help: "replay stack origins (lines `z y x`)" },
    zTrain: {
      type: "list",
      of: "int",
      default: [1, 800],
      aliases: ["train-range"],
      help: "train z range (start, end)",
    },
    zTest: {
      type: "list",
      of: "int",
      default: [800, 1000],
      aliases: ["test-range"],
      help: "test z range (start, end)",
    },
    seed: { type: "int", default: 0, help: "random seed" },
    outDir: { type: "string", arg: "DIR", default: ".", help: "where to write" },
    overwrite: OVERWRITE,
  },
  examples: ["--count 8 --source stack.tif --stack-height 6 --dim 128 --mip 1 demo"],
});

type Flags = Parsed<typeof meta.flags>;

/** Runs the tool; returns the written paths. */
export async function genStack(f: Flags): Promise<{ h5: string; coords: string }> {
  const name = String((f as unknown as { _: string[] })._[0]);
  // a replay takes the geometry recorded with its coords file, unless the flags set another
  const rec = f.coords ? replayGeometry(f.coords) : null;
  if (rec) {
    const d = meta.flags;
    if (f.stackHeight === d.stackHeight.default) f.stackHeight = rec.stackHeight;
    if (f.dim === d.dim.default) f.dim = rec.dim;
    if (f.mip === d.mip.default) f.mip = rec.mip;
  }
  const stem = `${f.outDir}/${name}_${f.test ? "test" : "train"}_mip${f.mip}`;
  const h5 = `${stem}.h5`, coordsPath = `${stem}coords.txt`;
  for (const p of [h5, coordsPath]) {
    if (pathExists(p) && !f.overwrite) {
      throw new LumenError(p, "", "exists; pass --overwrite to replace it");
    }
  }
  if (f.count === undefined && !f.coords) {
    throw new UsageError("--count", "is required (or replay a --coords FILE)");
  }
  const vol = await readVolume(f.source);
  const [zMin, zMax] = (f.test ? f.zTest : f.zTrain) as number[];
  let coords;
  try {
    coords = f.coords
      ? parseCoords(await Deno.readTextFile(f.coords), f.coords)
      : sampleCoords(f.count!, vol.shape, {
        height: f.stackHeight,
        dim: f.dim,
        mip: f.mip,
        zMin,
        zMax,
        seed: f.seed,
      });
  } catch (e) {
    if (e instanceof RangeError) {
      throw new UsageError(e.message.startsWith("dim") ? "--dim" : "--stack-height", e.message);
    }
    throw e;
  }
  const arr = buildStacks(vol, coords, f.stackHeight, f.dim, f.mip);
  const tmp = tempPathBeside(h5);
  const file = await H5File.open(tmp, "w");
  try {
    file.write("main", arr);
  } finally {
    file.close();
  }
  renameSync(tmp, h5);
  await writeTextAtomic(coordsPath, formatCoords(coords), { overwrite: true });
  const prov = await makeProvenance({
    tool: meta.name,
    args: provenanceArgs(meta, f),
    seed: f.seed,
    inputs: [
      f.source.replace(/^(.*\.(?:h5|hdf5|hdf)):.*$/i, "$1"),
      ...(f.coords ? [f.coords] : []),
      ...(rec ? [`${f.coords!.slice(0, -"coords.txt".length)}.h5.prov.json`] : []),
    ],
  });
  await writeProvenance(h5, prov);
  return { h5, coords: coordsPath };
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await genStack(f);
  }, argv);

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const r = await genStack(f);
    console.log(`${r.h5}, ${r.coords}`);
  });
}
