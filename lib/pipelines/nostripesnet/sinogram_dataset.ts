/**
 * The whole-sinogram datasets of data_generator: `raw` (normalised sinograms alone, under
 * `shift<NN>/`), `paired` (clean/stripe pairs of whole sinograms, real stripes apart) and
 * `synthetic` (a simulated scan without detector defects, every patch a clean/stripe pair).
 *
 * `raw` and `paired` scale every image to uint16 by the range of the whole sample (NoStripesNet's
 * reload-and-renormalise pass, done here as a first pass over the scan that finds the range of
 * sinograms 20 … rows − 20, then a second that writes). Each sample is built in a temporary
 * folder and renamed into place when complete.
 *
 * @example
 * ```ts
 * import { writeWholeSinograms } from "./sinogram_dataset.ts";
 * await writeWholeSinograms({ scan, mode: "raw", dir: "data/0000", size: [402, 362], shift: 0, seed: 0, sample: 0 });
 * ```
 * @module
 */
import { basename } from "node:path";
import { mkdirSync } from "node:fs";
import { ndarray } from "../../io/array.ts";
import { encodeTiff } from "../../io/tiff.ts";
import type { TomoScan } from "../../io/nexus.ts";
import { buildDirAtomic, writeFileAtomicSync } from "../../run/atomic.ts";
import { safePoint } from "../../run/interrupt.ts";
import type { Progress } from "../../run/progress.ts";
import { nanRange, patchGrid, toUint16 } from "../../data/patches.ts";
import { resize2d } from "../../data/resize.ts";
import { SimRng } from "../../data/rng.ts";
import { normaliseFrames, readSinograms } from "../../tomo/normalise.ts";
import { SCAN_PRESETS, simulateScan } from "../../tomo/scan_sim.ts";
import { pairedStripes } from "./stripe_sim.ts";
import { makeSampleDirs, PATCH_DIRS, patchSeed, writePatchSinogram } from "./patch_dataset.ts";
import { maskRow, type StripeMask } from "./stripe_mask.ts";

/** Options of {@link writeWholeSinograms}. */
export interface WholeSinogramOptions {
  scan: TomoScan;
  mode: "raw" | "paired";
  /** The sample folder (`<root>/<sample:04>`). */
  dir: string;
  /** The stripe mask (paired). */
  mask?: StripeMask;
  /** Resize to (H, W); [0, 0] keeps the sinograms' size. */
  size: [number, number];
  sample: number;
  shift: number;
  seed: number;
  chunkSize?: number;
  overwrite?: boolean;
  bar?: Progress;
}

/**
 * Writes a `raw` or `paired` sample (see the module doc). Returns the image size written.
 *
 * @example
 * ```ts
 * const [H, W] = await writeWholeSinograms({ scan, mode: "paired", mask, dir, size: [402, 362], sample: 0, shift: 0, seed: 0 });
 * ```
 */
export async function writeWholeSinograms(o: WholeSinogramOptions): Promise<[number, number]> {
  const { scan } = o;
  const angles = scan.projections.count, rows = scan.rows, cols = scan.cols;
  const [H, W] = o.size[0] > 0 && o.size[1] > 0 ? o.size : [angles, cols];
  const sampleName = basename(o.dir);
  const shiftDir = `shift${String(o.shift).padStart(2, "0")}`;
  const chunk = o.chunkSize ?? 243;
  /** The images of one row: [relative path, image] pairs, the stripe (or raw) image first. */
  const images = (row: number, sino: Float32Array): [string, Float32Array][] => {
    const img = H === angles && W === cols ? sino : resize2d(sino, [angles, cols], [H, W]);
    const name = `${sampleName}_shift${String(o.shift).padStart(2, "0")}_${
      String(row).padStart(4, "0")
    }.tif`;
    if (o.mode === "raw") return [[`${shiftDir}/${name}`, img]];
    if (maskRow(o.mask!, row).some((v) => v !== 0)) return [[`real_artifacts/stripe/${name}`, img]];
    const rng = new SimRng(patchSeed(o.seed, o.sample, row, 0));
    const stripe = pairedStripes(img, H, W, rng).stripe;
    return [[`fake_artifacts/stripe/${name}`, stripe], [`fake_artifacts/clean/${name}`, img]];
  };
  const forEachRow = async (fn: (row: number, imgs: [string, Float32Array][]) => void) => {
    for (let c0 = 0; c0 < rows; c0 += chunk) {
      const c1 = Math.min(rows, c0 + chunk);
      const sinos = await readSinograms(scan, c0, c1);
      for (let row = c0; row < c1; row++) {
        const off = (row - c0) * angles * cols;
        fn(row, images(row, sinos.data.subarray(off, off + angles * cols)));
        await safePoint();
      }
    }
  };
  // pass 1: the sample's range (stripe images of sinograms 20 … rows − 20, as the original)
  const trim = rows > 40 ? 20 : 0;
  let lo = Infinity, hi = -Infinity;
  await forEachRow((row, imgs) => {
    if (row < trim || row >= rows - trim) return;
    const [l, h] = nanRange([imgs[0][1]]);
    if (l < lo) lo = l;
    if (h > hi) hi = h;
  });
  // pass 2: write into a temporary folder, renamed into place when complete
  await buildDirAtomic(o.dir, async (tmp) => {
    for (const d of o.mode === "raw" ? [shiftDir] : PATCH_DIRS) {
      mkdirSync(`${tmp}/${d}`, { recursive: true });
    }
    await forEachRow((_row, imgs) => {
      for (const [rel, img] of imgs) {
        writeFileAtomicSync(`${tmp}/${rel}`, encodeTiff(ndarray(toUint16(img, lo, hi), [H, W])));
      }
      o.bar?.tick();
    });
  }, { overwrite: o.overwrite });
  return [H, W];
}

/** Options of {@link writeSyntheticSample}. */
export interface SyntheticSampleOptions {
  /** The sample folder. */
  dir: string;
  /** Size of the simulated scan. */
  preset: keyof typeof SCAN_PRESETS;
  patchSize: [number, number];
  sample: number;
  shift: number;
  seed: number;
  overwrite?: boolean;
}

/**
 * `synthetic`: simulates a phantom scan (lib/tomo/scan_sim.ts) without detector defects,
 * normalises it with its own flats and darks, and makes every patch of every sinogram a
 * clean/simulated-stripe pair. Returns (rows, patches per sinogram).
 *
 * @example
 * ```ts
 * await writeSyntheticSample({ dir: "data/0000", preset: "tiny", patchSize: [32, 16], sample: 0, shift: 0, seed: 0 });
 * ```
 */
export async function writeSyntheticSample(o: SyntheticSampleOptions): Promise<[number, number]> {
  const sim = simulateScan({ ...SCAN_PRESETS[o.preset], seed: o.seed, defects: false });
  const [, rows, cols] = sim.shape;
  const angles = sim.angles.length;
  const frames = (key: number) => {
    const idx = [...sim.imageKey.keys()].filter((i) => sim.imageKey[i] === key);
    const out = new Uint16Array(idx.length * rows * cols);
    idx.forEach((fr, j) =>
      out.set(sim.data.subarray(fr * rows * cols, (fr + 1) * rows * cols), j * rows * cols)
    );
    return ndarray(out, [idx.length, rows, cols]);
  };
  const sinos = await normaliseFrames(
    ndarray(sim.clean, [angles, rows, cols]),
    frames(1),
    frames(2),
  );
  const grid = patchGrid([angles, cols], o.patchSize, "synthetic scan");
  await buildDirAtomic(o.dir, async (tmp) => {
    makeSampleDirs(tmp);
    const opts = { dir: tmp, grid, sample: o.sample, shift: o.shift, seed: o.seed };
    for (let row = 0; row < rows; row++) {
      const off = row * angles * cols;
      writePatchSinogram(
        { row, sino: sinos.data.subarray(off, off + angles * cols), mask: null },
        opts,
      );
      await safePoint();
    }
  }, { overwrite: o.overwrite });
  return [rows, grid.count];
}
