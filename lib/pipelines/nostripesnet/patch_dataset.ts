/**
 * Writing a NoStripesNet patch dataset from a tomography scan and its stripe mask:
 *
 * ```
 * <root>/<sample:04>/fake_artifacts/{clean,stripe}/<sample>_shift<shift>_<row>_w<p>.tif
 * <root>/<sample:04>/real_artifacts/stripe/…          (real_artifacts/clean stays empty)
 * <root>/<sample:04>.prov.json                        (written last: the sample is complete)
 * ```
 *
 * A patch whose mask is all zero is *clean*: it gets simulated stripes (seeded per sinogram and
 * patch, so any subset of sinograms — a shard, a resumed run — gives the same bytes) and is stored
 * as a clean/stripe pair; a patch with real stripes is stored only as `real_artifacts/stripe`.
 * Every patch of a sinogram is scaled to uint16 by the range of that sinogram's stripe patches,
 * as NoStripesNet does. Files are written atomically, sinogram by sinogram; a rerun skips the
 * sinograms whose files are all there.
 *
 * @example
 * ```ts
 * import { generatePatchSinograms } from "./patch_dataset.ts";
 * // see tools/nostripesnet/data_generator.ts for the whole flow (scan, mask, shards, provenance)
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { ndarray } from "../../io/array.ts";
import { encodeTiff } from "../../io/tiff.ts";
import { writeFileAtomicSync } from "../../run/atomic.ts";
import { SimRng } from "../../data/rng.ts";
import { patchStripes } from "./stripe_sim.ts";
import {
  extractPatch,
  nanRange,
  patchFileName,
  type PatchGrid,
  patchHasStripes,
  toUint16,
} from "../../data/patches.ts";

/** The sub-folders of a sample. */
export const PATCH_DIRS = [
  "fake_artifacts/clean",
  "fake_artifacts/stripe",
  "real_artifacts/clean",
  "real_artifacts/stripe",
] as const;

/** What one sinogram becomes. */
export interface SinogramJob {
  /** Detector row (the sinogram index in the scan). */
  row: number;
  /** The normalised sinogram, angles × cols. */
  sino: Float32Array;
  /** Its stripe mask (angles × cols, non-zero = stripe), or null when every patch is clean. */
  mask: Uint8Array | null;
}

/** Options of {@link writePatchSinogram}. */
export interface PatchWriteOptions {
  /** The sample folder (`<root>/<sample:04>`, or a shard's staging copy of it). */
  dir: string;
  grid: PatchGrid;
  sample: number;
  shift: number;
  seed: number;
}

/**
 * Seed of the stripe simulation of one patch, from (seed, sample, row, patch) alone: the same
 * patch gets the same stripes whichever other patches a run (or a shard) makes.
 */
export function patchSeed(seed: number, sample: number, row: number, p: number): number {
  const d = createHash("sha256").update(`lumen.patch:${seed}:${sample}:${row}:${p}`).digest();
  return d.readUIntBE(0, 6); // 48 bits
}

/** Relative paths a sinogram produces, in writing order (the last one marks it done). */
export function sinogramFiles(
  o: Pick<PatchWriteOptions, "grid" | "sample" | "shift">,
  row: number,
  clean: readonly boolean[],
): string[] {
  const out: string[] = [];
  for (let p = 0; p < o.grid.count; p++) {
    const name = patchFileName(o.sample, o.shift, row, p);
    if (clean[p]) out.push(`fake_artifacts/clean/${name}`, `fake_artifacts/stripe/${name}`);
    else out.push(`real_artifacts/stripe/${name}`);
  }
  return out;
}

/** Which patches of a sinogram are clean (mask all zero there). */
export function cleanPatches(grid: PatchGrid, mask: Uint8Array | null): boolean[] {
  const out: boolean[] = [];
  for (let p = 0; p < grid.count; p++) out.push(mask === null || !patchHasStripes(mask, grid, p));
  return out;
}

/** True when every file of the sinogram is there (the last one is written last). */
export function sinogramDone(dir: string, files: readonly string[]): boolean {
  return files.length > 0 && existsSync(`${dir}/${files[files.length - 1]}`) &&
    existsSync(`${dir}/${files[0]}`);
}

/** Creates the four sub-folders of a sample folder. */
export function makeSampleDirs(dir: string): void {
  for (const d of PATCH_DIRS) mkdirSync(`${dir}/${d}`, { recursive: true });
}

/**
 * Cuts one sinogram into patches, simulates stripes on the clean ones, scales and writes them.
 * Returns the relative paths written (in order). Skips nothing: callers check
 * {@link sinogramDone} first.
 */
export function writePatchSinogram(job: SinogramJob, o: PatchWriteOptions): string[] {
  const g = o.grid;
  const clean = cleanPatches(g, job.mask);
  const cleans: (Float32Array | null)[] = [];
  const stripes: Float32Array[] = [];
  for (let p = 0; p < g.count; p++) {
    const patch = extractPatch(job.sino, g, p);
    if (clean[p]) {
      const rng = new SimRng(patchSeed(o.seed, o.sample, job.row, p));
      cleans.push(patch);
      stripes.push(patchStripes(patch, g.height, g.width, rng).stripe);
    } else {
      cleans.push(null);
      stripes.push(patch);
    }
  }
  const [lo, hi] = nanRange(stripes);
  const files = sinogramFiles(o, job.row, clean);
  let f = 0;
  const put = (x: Float32Array) => {
    const bytes = encodeTiff(ndarray(toUint16(x, lo, hi), [g.height, g.width]));
    writeFileAtomicSync(`${o.dir}/${files[f++]}`, bytes, { overwrite: true });
  };
  for (let p = 0; p < g.count; p++) {
    const c = cleans[p];
    if (c) put(c);
    put(stripes[p]);
  }
  return files;
}
