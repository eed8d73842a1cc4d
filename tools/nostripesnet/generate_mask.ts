/**
 * `generate_mask`: find the stripes in a tomography scan and store the mask in a NumPy `.npz`
 * archive, as NoStripesNet's `simulator.generate_mask` does (same flags, same archive layout):
 * Larix `STRIPES_DETECT` + `STRIPES_MERGE` (lib/tomo/stripes.ts, bit-exact with Larix/TomoPy) on
 * the flat/dark-normalised, −log projections, with NoStripesNet's parameters by default.
 *
 * The mask is the archive entry `m<scan name>` (`--file-name`), uint8 (angles, rows, columns),
 * deflated as `np.savez_compressed` does; `--weights` adds `<name>_weights` (float32). An
 * existing archive keeps its other entries (copied as stored); an existing entry of the same name
 * is replaced only with `--overwrite`. Everything that can be checked is checked before the
 * detection runs (scan, archive, entry, parameters against the scan's shape).
 *
 * The scan is processed in slabs of detector rows with halos (`--slab-rows`), one share of rows per
 * core, and the mask is streamed into the archive: memory holds a slab per core. With
 * `--weights` (or another backend than wasm) the whole mask and weights are held in memory.
 *
 * @module
 */
import { defineTool, type Parsed, provenanceArgs } from "../../lib/run/flags.ts";
import { GENERATE_MASK_FLAGS } from "../../lib/pipelines/nostripesnet/generate_mask_flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { openScan } from "../../lib/io/nexus.ts";
import { scanOptions } from "../../lib/tomo/scan_flags.ts";
import { ndarray } from "../../lib/io/array.ts";
import { appendNpz } from "../../lib/io/npz.ts";
import type { Shape3 } from "../../lib/tomo/stripes.ts";
import {
  checkArchive,
  maskEntry,
  maskScan,
  maskScanToEntry,
  stripesBackend,
} from "../../lib/pipelines/nostripesnet/mask_scan.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "generate_mask",
  summary:
    "detect stripes in a scan (Larix STRIPES_DETECT + STRIPES_MERGE) into an .npz mask archive",
  description:
    "Normalises the projections of --h5 with its flats and darks (or those of --flats), detects " +
    "stripes and adds the uint8 mask (angles, rows, columns) to --archive as entry --file-name. " +
    "Defaults are NoStripesNet's detection parameters. Same bits as Larix/TomoPy on every backend.",
  permissions: ["--allow-read", "--allow-write=DIR"],
  assets: true,
  flags: GENERATE_MASK_FLAGS,
  examples: [
    "--h5 119617.nxs --archive stripe_masks.npz --file-name m119617",
    "--h5 119617.nxs --flats 119600.nxs -a stripe_masks.npz -f m119617 --weights",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/** Runs the tool on parsed flags; returns the mask fraction (for tests and the bench). */
export async function generateMask(
  f: Flags,
): Promise<{ shape: Shape3; ones: number; seconds: number }> {
  const key = maskEntry(f.h5, f.fileName);
  await checkArchive(f.archive, [key, ...(f.weights ? [`${key}_weights`] : [])], f.overwrite);
  const scan = await openScan(f.h5, scanOptions(f));
  try {
    const bar = progress("stripes", scan.rows, { quiet: f.quiet });
    const detect = { size: f.size, radius: f.radius };
    const merge = {
      threshold: f.threshold,
      minStripeLength: f.length,
      minStripeDepth: f.depth,
      minStripeWidth: f.width,
      sensitivityPerc: f.sensitivity,
    };
    const backend = await stripesBackend(f.backend);
    const add = (name: string, a: Uint8Array | Float32Array, dtype: "uint8" | "float32") =>
      appendNpz(f.archive, name, ndarray(a, [...shape], dtype), {
        overwrite: f.overwrite,
        compress: true,
      });
    let shape: Shape3, ones: number, seconds: number;
    if (backend === "wasm" && !f.weights) {
      // every core, the mask streamed into the archive: memory bounded by a slab
      ({ shape, ones, seconds } = await maskScanToEntry(
        scan,
        scanOptions(f),
        {
          detect,
          merge,
          slabRows: f.slabRows,
          bar,
        },
        f.archive,
        key,
        f.overwrite,
      ));
    } else {
      const r = await maskScan(scan, {
        detect,
        merge,
        backend,
        slabRows: f.slabRows,
        weights: f.weights,
        bar,
      });
      ({ shape, ones, seconds } = r);
      // NoStripesNet writes the weights first, then the mask
      if (r.weights) await add(`${key}_weights`, r.weights, "float32");
      await add(key, r.mask, "uint8");
    }
    bar.done();
    const [A, R, N] = shape;
    await writeProvenance(
      `${f.archive}.${key}`,
      await makeProvenance({
        tool: "generate_mask",
        args: provenanceArgs(meta, f),
        inputs: scan.inputPaths(),
        fast: 64 << 20,
      }),
    );
    if (f.verbose) {
      console.log(
        `${key}: (${A}, ${R}, ${N}) uint8, ${
          (100 * ones / (A * R * N)).toFixed(3)
        }% stripe voxels, ` +
          `${seconds.toFixed(1)} s (${
            (A * R * N / seconds / 1e6).toFixed(2)
          } Mvoxel/s) → ${f.archive}`,
      );
    }
    return { shape, ones, seconds };
  } finally {
    scan.close();
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await generateMask(f);
  }, argv);

if (import.meta.main) {
  await runTool(meta, async (f) => {
    await generateMask(f);
  });
}
