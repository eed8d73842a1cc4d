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
 * as NoStripesNet does. Files are written atomically, sinogram by sinogram (each sinogram's
 * files synced together and renamed in order, by the worker that made them); a rerun skips the
 * sinograms whose files are all there.
 *
 * @example
 * ```ts
 * import { generatePatchSinograms } from "./patch_dataset.ts";
 * const scan = await openScan("119617.nxs");
 * const mask = await loadStripeMask("stripe_masks.npz", { scan: "119617.nxs" });
 * const grid = patchGrid([scan.projections.count, scan.cols], [1801, 256]);
 * await generatePatchSinograms({ scan, mask, dir: "data/0000", grid, sample: 0, shift: 0, seed: 0 });
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { ndarray } from "../../io/array.ts";
import { encodeTiff, encodeTiffChunks } from "../../io/tiff.ts";
import { writeFileAtomicSync } from "../../run/atomic.ts";
import { concat } from "../../io/zip.ts";
import { PatchPool } from "./patch_pool.ts";
import type { PatchJob, TiffFrame } from "./patch_kernel.ts";
import { rowBlocks } from "./row_blocks.ts";
import { safePoint } from "../../run/interrupt.ts";
import { onAbort } from "../../run/main.ts";
import type { Progress } from "../../run/progress.ts";
import type { TomoScan } from "../../io/nexus.ts";
import { readRawRows, readSinograms } from "../../tomo/normalise.ts";
import { cleanPatchesOfRow, type StripeMask } from "./stripe_mask.ts";
import { type PatchFlags, patchFlagsClean } from "./mask_flags.ts";
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

/**
 * The bytes of a patch file around its pixels (every patch of a grid has the same header):
 * {@link encodeTiffChunks} of a patch, split at its pixel data.
 */
export function tiffFrame(grid: PatchGrid): TiffFrame {
  const img = new Uint16Array(grid.height * grid.width);
  const chunks = encodeTiffChunks(ndarray(img, [grid.height, grid.width]));
  const k = chunks.findIndex((c) => c.buffer === img.buffer);
  if (k < 0) throw new Error("tiffFrame: the TIFF encoder copied the pixels");
  return { prefix: concat(chunks.slice(0, k)), suffix: concat(chunks.slice(k + 1)) };
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
 * Cuts one sinogram into patches, simulates stripes on the clean ones and scales them: the TIFF
 * bytes of each file, with its path relative to the sample folder, in writing order.
 */
export function patchSinogramFiles(job: SinogramJob, o: PatchWriteOptions): [string, Uint8Array][] {
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
  const out: [string, Uint8Array][] = [];
  const put = (x: Float32Array) =>
    out.push([files[out.length], encodeTiff(ndarray(toUint16(x, lo, hi), [g.height, g.width]))]);
  for (let p = 0; p < g.count; p++) {
    const c = cleans[p];
    if (c) put(c);
    put(stripes[p]);
  }
  return out;
}

/**
 * Cuts one sinogram into patches, simulates stripes on the clean ones, scales and writes them.
 * Returns the relative paths written (in order). Skips nothing: callers check
 * {@link sinogramDone} first.
 */
export function writePatchSinogram(job: SinogramJob, o: PatchWriteOptions): string[] {
  const files = patchSinogramFiles(job, o);
  for (const [rel, bytes] of files) {
    writeFileAtomicSync(`${o.dir}/${rel}`, bytes, { overwrite: true });
  }
  return files.map(([rel]) => rel);
}

function sameGrid(a: PatchGrid, b: PatchGrid): boolean {
  return a.height === b.height && a.width === b.width && a.angles === b.angles &&
    a.cols === b.cols && a.offAngles === b.offAngles && a.offCols === b.offCols;
}

/** The stored chunk's extent along the detector rows (1 when it cannot be told). */
function storedChunkRows(scan: TomoScan): number {
  try {
    return scan.projections.file.dataset(scan.projections.path).chunks?.[1] ?? 1;
  } catch {
    return 1;
  }
}

/** Options of {@link generatePatchSinograms}. */
export interface PatchRunOptions extends PatchWriteOptions {
  /** The scan to cut. */
  scan: TomoScan;
  /** Its stripe mask, or the stripe flags of its patches (which patches are clean). */
  mask: StripeMask | PatchFlags;
  /** Detector rows [start, stop) to make; default all. */
  rows?: [number, number];
  /**
   * Detector rows read at once, at most (default 243, as the original); blocks also stay within
   * 256 MiB of sinograms and start on the stored chunks' row boundaries (row_blocks.ts).
   */
  chunkSize?: number;
  /** Called after each sinogram (written or found complete). */
  bar?: Progress;
  /** Workers cutting and encoding sinograms (default: one per core; 0: this thread). */
  workers?: number;
}

/** What {@link generatePatchSinograms} did. */
export interface PatchRunResult {
  /** Sinograms written now. */
  made: number;
  /** Sinograms found complete (a resumed run). */
  skipped: number;
  /** Every file of the rows, relative to the sample folder, in writing order. */
  files: string[];
}

/**
 * Makes the patch files of detector rows of a scan, skipping the sinograms already complete
 * (resume). Each sinogram is a safe point: an interrupt stops between two complete sinograms.
 *
 * @example
 * ```ts
 * const r = await generatePatchSinograms({ scan, mask, dir, grid, sample: 0, shift: 0, seed: 0 });
 * console.log(`${r.made} written, ${r.skipped} already there`);
 * ```
 */
export async function generatePatchSinograms(o: PatchRunOptions): Promise<PatchRunResult> {
  const { scan, grid } = o;
  if (!("data" in o.mask) && !sameGrid(o.mask.grid, grid)) {
    throw new RangeError("generatePatchSinograms: the patch flags were made for another grid");
  }
  const angles = scan.projections.count, cols = scan.cols;
  const [r0, r1] = o.rows ?? [0, scan.rows];
  const chunk = o.chunkSize ?? 243;
  const files: string[] = [];
  let made = 0, skipped = 0;
  // sinograms are normalised, cut, simulated, scaled and written on the workers (each
  // sinogram's files synced together and renamed in order) while this thread reads the next
  // ones and counts finished ones in row order; a stop waits for the sinograms being written,
  // so no temporary file is left behind
  const pool = new PatchPool(o.workers);
  const window = Math.max(1, 2 * pool.size);
  const inflight: Promise<void>[] = [];
  const writing = new Set<Promise<void>>();
  const settle = () => Promise.allSettled([...writing]).then(() => {});
  const forget = onAbort(settle);
  const frame = tiffFrame(grid);
  const rowBytes = angles * cols * 4, chunkRows = storedChunkRows(scan);
  const commitOldest = async () => {
    await inflight.shift()!;
    made++;
    o.bar?.tick();
    await safePoint();
  };
  // two raw blocks in shared memory, used in turn: a block is read into the buffer of the block
  // before the last once the workers are done with that one (no fresh pages per block)
  const blocks = rowBlocks([r0, r1], { chunkSize: chunk, chunkRows, rowBytes });
  const rawBytes = Math.max(0, ...blocks.map(([a, b]) => b - a)) * angles * cols *
    (scan.projections.dtype === "float32" ? 4 : 2);
  const rawBufs: (Uint8Array | undefined)[] = [undefined, undefined];
  const rawUsers: Promise<unknown>[][] = [[], []];
  try {
    for (const [blockNo, [c0, c1]] of blocks.entries()) {
      const todo: { row: number; clean: boolean[]; names: string[] }[] = [];
      for (let row = c0; row < c1; row++) {
        const clean = "data" in o.mask
          ? cleanPatchesOfRow(o.mask, row, grid)
          : patchFlagsClean(o.mask, row);
        const names = sinogramFiles(o, row, clean);
        files.push(...names);
        if (sinogramDone(o.dir, names)) {
          skipped++;
          o.bar?.tick();
        } else todo.push({ row, clean, names });
      }
      if (!todo.length) continue;
      const a = todo[0].row, b = todo[todo.length - 1].row + 1;
      // with workers, they normalise their rows from the raw block in shared memory (half the
      // bytes of the sinograms, nothing copied here); without, this thread reads sinograms
      const k = blockNo % 2;
      if (pool.size) {
        await Promise.allSettled(rawUsers[k]);
        rawUsers[k] = [];
        rawBufs[k] ??= new Uint8Array(new SharedArrayBuffer(rawBytes));
      }
      const raw = pool.size
        ? await readRawRows(scan, a, b, { shared: true, into: rawBufs[k] })
        : null;
      const sinos = raw ? null : await readSinograms(scan, a, b);
      for (const { row, clean, names } of todo) {
        const off = (row - a) * angles * cols, r = row - a;
        const seeds = clean.map((_, p) => patchSeed(o.seed, o.sample, row, p));
        const job: PatchJob = { row, clean, seeds };
        if (raw) {
          const { bytes, dtype, rows, fd } = raw;
          const dark = fd.dark.slice(r * cols, (r + 1) * cols);
          job.raw = {
            bytes,
            dtype,
            rows,
            r,
            dark,
            denom: fd.denom.slice(r * cols, (r + 1) * cols),
          };
        } else job.sino = sinos!.data.subarray(off, off + angles * cols);
        const done = pool.write(job, grid, { paths: names.map((n) => `${o.dir}/${n}`), frame });
        done.catch(() => {}); // awaited in order by commitOldest
        writing.add(done);
        done.finally(() => writing.delete(done)).catch(() => {});
        if (raw) rawUsers[k].push(done);
        inflight.push(done);
        if (inflight.length > window) await commitOldest();
      }
    }
    while (inflight.length) await commitOldest();
  } finally {
    // an error or a stop unwinding through here still lets the sinograms being written finish
    await settle();
    pool.close();
    forget();
  }
  return { made, skipped, files };
}
