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
 * The scan is processed in slabs of detector rows with halos (`--slab-rows`): memory holds a slab
 * of float32 sinograms plus the uint8 mask (and the float32 weights with `--weights`).
 *
 * @module
 */
import { basename, dirname, extname } from "node:path";
import { existsSync, statSync } from "node:fs";
import { defineTool, type Parsed, provenanceArgs, UsageError } from "../../lib/run/flags.ts";
import { GENERATE_MASK_FLAGS } from "../../lib/pipelines/nostripesnet/generate_mask_flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { openScan } from "../../lib/io/nexus.ts";
import { readSinograms } from "../../lib/tomo/normalise.ts";
import { scanOptions } from "../../lib/tomo/scan_flags.ts";
import { probeWebGpu } from "../../lib/tensor/webgpu/device.ts";
import { ndarray } from "../../lib/io/array.ts";
import { appendNpz } from "../../lib/io/npz.ts";
import { fileSource, ZipReader } from "../../lib/io/zip.ts";
import {
  detectParams,
  mergeParams,
  type Shape3,
  type StripesBackendName,
  stripesMaskScan,
} from "../../lib/tomo/stripes.ts";

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

/** Entry names NoStripesNet's data_generator looks up: `m` then the scan's file-name stem. */
const KEY_RE = /^m[A-Za-z0-9_.-]+$/;

/** The names already in an .npz archive (directory only; nothing is decompressed). */
function archiveEntries(path: string): Set<string> {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new LumenError(path, "", "is a folder, not an .npz archive");
  }
  const src = fileSource(path);
  try {
    return new Set(new ZipReader(src, path).entries.map((e) => e.name));
  } finally {
    src.close();
  }
}

/** The stripe kernels' backend for `--backend` (auto: webgpu on a real GPU, else wasm). */
async function stripesBackend(want: string): Promise<StripesBackendName> {
  if (want !== "auto") return want as StripesBackendName;
  const probe = await probeWebGpu().catch(() => null);
  return probe?.available && !probe.fallback ? "webgpu" : "wasm";
}

/** Maps a parameter RangeError of lib/tomo/stripes.ts to the flag that carries it. */
function asUsage(e: unknown, shape: Shape3): never {
  if (!(e instanceof RangeError)) throw e;
  const flag: Record<string, string> = {
    size: "--size",
    radius: "--radius",
    threshold: "--threshold",
    minStripeLength: "--length",
    minStripeDepth: "--depth",
    minStripeWidth: "--width",
    sensitivityPerc: "--sensitivity",
  };
  const m = /^stripes\w+: (\w+): (.*)$/.exec(e.message);
  if (!m || !flag[m[1]]) throw e;
  throw new UsageError(
    flag[m[1]],
    `${m[2]} (the scan has ${shape[0]} angles, ${shape[1]} rows, ${shape[2]} columns)`,
  );
}

/** Runs the tool on parsed flags; returns the mask fraction (for tests and the bench). */
export async function generateMask(
  f: Flags,
): Promise<{ shape: Shape3; ones: number; seconds: number }> {
  const stem = basename(f.h5, extname(f.h5));
  const key = f.fileName ?? `m${stem}`;
  if (!KEY_RE.test(`m${stem}`)) {
    throw new UsageError(
      "--h5",
      `"${stem}" cannot name an archive entry (letters, digits, _ . - only)`,
    );
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(key)) {
    throw new UsageError(
      "--file-name",
      `"${key}" cannot name an archive entry (letters, digits, _ . - only)`,
    );
  }
  if (key !== `m${stem}`) {
    console.error(
      `generate_mask: warning: entry "${key}" is not m${stem}: data_generator finds the mask of ${
        basename(f.h5)
      } by that name, so pass it --mask-name ${key}`,
    );
  }
  // the archive: an existing file must be an npz without this entry (unless --overwrite)
  const dir = dirname(f.archive);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new LumenError(f.archive, "", `folder ${dir} does not exist`);
  }
  const wanted = [key, ...(f.weights ? [`${key}_weights`] : [])];
  if (existsSync(f.archive)) {
    const have = archiveEntries(f.archive);
    for (const k of wanted) {
      if (have.has(`${k}.npy`) && !f.overwrite) {
        throw new LumenError(f.archive, `${k}.npy`, "entry exists; pass --overwrite to replace it");
      }
    }
  }
  const scan = await openScan(f.h5, scanOptions(f));
  try {
    const A = scan.projections.count, R = scan.rows, N = scan.cols;
    const shape: Shape3 = [A, R, N];
    if (!scan.flats.count) {
      throw new LumenError(
        f.h5,
        "",
        "no flat fields in the scan; name a file with them in --flats",
      );
    }
    const det = { size: f.size, radius: f.radius };
    const mer = {
      threshold: f.threshold,
      minStripeLength: f.length,
      minStripeDepth: f.depth,
      minStripeWidth: f.width,
      sensitivityPerc: f.sensitivity,
    };
    try {
      detectParams(shape, det);
      mergeParams(shape, mer);
    } catch (e) {
      asUsage(e, shape);
    }
    const mask = new Uint8Array(A * R * N);
    const weights = f.weights ? new Float32Array(A * R * N) : null;
    const place = <T extends Uint8Array | Float32Array>(dst: T, y0: number, y1: number, blk: T) => {
      const n = y1 - y0;
      for (let k = 0; k < A; k++) {
        dst.set(blk.subarray(k * n * N, (k + 1) * n * N), (k * R + y0) * N);
      }
    };
    const bar = progress("stripes", R, { quiet: f.quiet });
    const t0 = performance.now();
    await stripesMaskScan(
      shape,
      async (y0, y1) => (await readSinograms(scan, y0, y1)).data, // (rows, angles, cols)
      (y0, y1, blk) => {
        place(mask, y0, y1, blk);
        bar.tick(y1 - y0);
      },
      {
        detect: det,
        merge: mer,
        backend: await stripesBackend(f.backend),
        slabRows: f.slabRows,
        onWeights: weights ? (y0, y1, w) => place(weights, y0, y1, w) : undefined,
        rowOrder: "sinogram",
      },
    );
    bar.done();
    const seconds = (performance.now() - t0) / 1000;
    let ones = 0;
    for (let i = 0; i < mask.length; i++) ones += mask[i];
    // NoStripesNet writes the weights first, then the mask
    if (weights) {
      await appendNpz(f.archive, `${key}_weights`, ndarray(weights, [A, R, N], "float32"), {
        overwrite: f.overwrite,
        compress: true,
      });
    }
    await appendNpz(f.archive, key, ndarray(mask, [A, R, N], "uint8"), {
      overwrite: f.overwrite,
      compress: true,
    });
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
          (100 * ones / mask.length).toFixed(3)
        }% stripe voxels, ` +
          `${seconds.toFixed(1)} s (${
            (mask.length / seconds / 1e6).toFixed(2)
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
