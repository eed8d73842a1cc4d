/**
 * The uint16 patch images of one sinogram through the SIMD kernels of `wasm/tomo.wasm`
 * (`range_f32`, `scale_u16`): the pixels {@link patchSinogramFiles} stores, several times
 * faster. Raw rows are normalised straight into patch order (or a normalised sinogram is cut)
 * in WebAssembly memory; a clean patch's stripe image is its copy with the stripes of
 * {@link addStripesInto} added and only the touched pixels clipped to the clean patch's range
 * (every other pixel already lies in it, or is NaN, which clipping leaves), so its range is the
 * clean one's unless a touched pixel held an end of it, and it is scaled as its clean image with
 * only the touched pixels scaled again; ranges and the uint16 scaling run in the kernel, bit for
 * bit the loops of lib/data/patches.ts.
 * {@link PatchKernel.files} frames each image as a whole TIFF file in WebAssembly memory (the
 * header bytes before the pixels, nothing copied), for a writer to take straight from there.
 * The module imports no file or TIFF code, so that a worker running it starts light.
 *
 * @example
 * ```ts
 * import { PatchKernel } from "./patch_kernel.ts";
 * const k = await PatchKernel.load();
 * const images = k.images({ row: 0, sino, clean, seeds }, grid); // clean p: clean, stripe
 * ```
 * @module
 */
import type { PatchGrid } from "../../data/patches.ts";
import { SimRng } from "../../data/rng.ts";
import { loadWasm, WasmArena } from "../../wasm/load.ts";
import { addStripesInto, PATCH_STRIPES } from "./stripe_sim.ts";

/** One detector row of raw projections to normalise here (lib/tomo/normalise.ts `readRawRows`). */
export interface RawRow {
  /** (angles, rows, cols) raw values of a block of rows, little-endian. */
  bytes: Uint8Array;
  dtype: "uint16" | "float32";
  /** Rows in the block, and this row's place in it. */
  rows: number;
  r: number;
  /** This row's dark mean and denominator (cols). */
  dark: Float32Array;
  denom: Float32Array;
}

/** One sinogram to cut: its patches' clean flags and stripe seeds decided by the caller. */
export interface PatchJob {
  /** Detector row. */
  row: number;
  /** The normalised sinogram, angles × cols; or `raw`, normalised here. */
  sino?: Float32Array;
  raw?: RawRow;
  /** Per patch: no real stripe there (it gets simulated ones). */
  clean: boolean[];
  /** Per patch: the seed of its stripe simulation (patch_dataset.ts `patchSeed`). */
  seeds: number[];
}

/**
 * The bytes of a patch file around its pixels (the same for every patch of a grid): a file is
 * `prefix ‖ uint16 pixels ‖ suffix`.
 */
export interface TiffFrame {
  prefix: Uint8Array;
  suffix: Uint8Array;
}

interface Exports {
  memory: WebAssembly.Memory;
  norm_u16(...a: number[]): void;
  norm_f32(...a: number[]): void;
  range_f32(x: number, n: number, out: number): void;
  scale_u16(x: number, n: number, lo: number, hi: number, out: number): void;
}

/** Where {@link PatchKernel} left a sinogram's patches in its memory. */
interface Prepared {
  /** Clean (or real-stripe) patches, and the stripe images of clean ones (float32, count × n). */
  pC: number;
  pS: number;
  /** The uint16 image (n values), after `frame.prefix` bytes. */
  pU: number;
  /** The scaling range of the sinogram. */
  lo: number;
  hi: number;
  /** Per clean patch: the pixels its stripes touched, as (start, length) runs of one angle each. */
  touched: (number[] | null)[];
}

/** One instance of the kernels (its own memory); one per thread. */
export class PatchKernel {
  private constructor(
    private readonly ex: Exports,
    private readonly arena: WasmArena,
  ) {}

  /**
   * A new instance.
   *
   * @example
   * ```ts
   * const k = await PatchKernel.load();
   * ```
   */
  static async load(): Promise<PatchKernel> {
    const inst = await loadWasm(new URL("../../../wasm/tomo.wasm", import.meta.url));
    return new PatchKernel(inst.exports as unknown as Exports, WasmArena.of(inst));
  }

  /**
   * The uint16 images (height × width) of the sinogram's files, in writing order: for each
   * patch, a clean one's clean image then its stripe image, a real-stripe one's image alone;
   * all scaled by the range of the sinogram's stripe images.
   *
   * @example
   * ```ts
   * const [clean0, stripe0] = k.images({ row: 3, sino, clean: [true], seeds: [42] }, grid);
   * ```
   */
  images(job: PatchJob, g: PatchGrid): Uint16Array[] {
    const out: Uint16Array[] = [];
    const n = g.height * g.width, mem = this.ex.memory;
    this.each(job, g, 0, 0, (pU) => out.push(new Uint16Array(mem.buffer, pU, n).slice()));
    return out;
  }

  /**
   * The sinogram's files as {@link images} orders them, each whole (`frame.prefix`, the image,
   * `frame.suffix`) handed to `sink` as a view of this kernel's memory that is valid only
   * during the call (write it out or copy it there). Returns how many files.
   *
   * @example
   * ```ts
   * k.files(job, grid, frame, (i, bytes) => group.add(paths[i], bytes));
   * ```
   */
  files(
    job: PatchJob,
    g: PatchGrid,
    frame: TiffFrame,
    sink: (i: number, bytes: Uint8Array) => void,
  ): number {
    const n = g.height * g.width, lp = frame.prefix.length, size = lp + 2 * n + frame.suffix.length;
    let i = 0;
    this.each(job, g, lp, frame.suffix.length, (pU) => {
      const buf = this.ex.memory.buffer;
      if (i === 0) {
        new Uint8Array(buf, pU - lp, lp).set(frame.prefix);
        new Uint8Array(buf, pU + 2 * n, frame.suffix.length).set(frame.suffix);
      }
      sink(i++, new Uint8Array(buf, pU - lp, size));
    });
    return i;
  }

  /**
   * Scales each image of the sinogram into the uint16 buffer and calls `put` with its pointer;
   * the buffer has `before` free bytes in front and `after` behind. A clean patch's stripe image
   * is its clean image's pixels with only the touched runs scaled again from the stripe image
   * (every other pixel of the two is the same float).
   */
  private each(
    job: PatchJob,
    g: PatchGrid,
    before: number,
    after: number,
    put: (pU: number) => void,
  ): void {
    const n = g.height * g.width, ex = this.ex;
    const { pC, pS, pU, lo, hi, touched } = this.prepare(job, g, before, after);
    for (let p = 0; p < g.count; p++) {
      ex.scale_u16(pC + p * n * 4, n, lo, hi, pU);
      put(pU);
      const runs = touched[p];
      if (!runs) continue;
      const s = pS + p * n * 4;
      for (let j = 0; j < runs.length; j += 2) {
        const q = runs[j];
        ex.scale_u16(s + q * 4, runs[j + 1], lo, hi, pU + q * 2);
      }
      put(pU);
    }
  }

  /** Normalises or cuts the patches, adds the stripes and finds the scaling range. */
  private prepare(job: PatchJob, g: PatchGrid, before: number, after: number): Prepared {
    const n = g.height * g.width, ex = this.ex, a = this.arena;
    a.reset();
    const pC = a.alloc(g.count * n * 4), pS = a.alloc(g.count * n * 4);
    const pU = a.alloc(before + n * 2 + after) + before, pR = a.alloc(8);
    const raw = job.raw, isz = raw?.dtype === "float32" ? 4 : 2;
    // the grid's angles and columns: nAngles bands of height angles, nCols · width columns
    const bandAngles = g.nAngles * g.height, wide = g.nCols * g.width;
    const pRaw = raw ? a.alloc(bandAngles * wide * isz) : 0;
    const pD = raw ? a.alloc(wide * 4) : 0, pQ = raw ? a.alloc(wide * 4) : 0;
    const buf = ex.memory.buffer; // no allocation below: the views stay valid
    if (raw) {
      // the row's raw values inside the grid, gathered from the block (wide columns per angle),
      // then normalised as readSinograms does, each band straight into patch order: frame a,
      // column block r of a band goes to patch (band · nCols + r), row a
      const dst = new Uint8Array(buf, pRaw, bandAngles * wide * isz), rowBytes = wide * isz;
      const frameBytes = g.cols * isz, skip = g.offCols * isz;
      for (let k = 0; k < bandAngles; k++) {
        const s = ((g.offAngles + k) * raw.rows + raw.r) * frameBytes + skip;
        dst.set(raw.bytes.subarray(s, s + rowBytes), k * rowBytes);
      }
      new Float32Array(buf, pD, wide).set(raw.dark.subarray(g.offCols, g.offCols + wide));
      new Float32Array(buf, pQ, wide).set(raw.denom.subarray(g.offCols, g.offCols + wide));
      const norm = raw.dtype === "uint16" ? ex.norm_u16 : ex.norm_f32;
      for (let b = 0; b < g.nAngles; b++) {
        const src = pRaw + b * g.height * rowBytes, out = pC + b * g.nCols * n * 4;
        norm(src, g.height, g.nCols, g.width, pD, pQ, out, g.width, n);
      }
    } else {
      // cut the patches of the normalised sinogram into WebAssembly memory
      const sino = job.sino!;
      for (let p = 0; p < g.count; p++) {
        const c = new Float32Array(buf, pC + p * n * 4, n);
        const a0 = g.offAngles + Math.floor(p / g.nCols) * g.height;
        const c0 = g.offCols + (p % g.nCols) * g.width;
        for (let r = 0; r < g.height; r++) {
          const s = (a0 + r) * g.cols + c0;
          c.set(sino.subarray(s, s + g.width), r * g.width);
        }
      }
    }
    const R = new Float32Array(buf, pR, 2);
    const range = (ptr: number): [number, number] => (ex.range_f32(ptr, n, pR), [R[0], R[1]]);
    let lo = Infinity, hi = -Infinity;
    const touched: (number[] | null)[] = [];
    for (let p = 0; p < g.count; p++) {
      const c = new Float32Array(buf, pC + p * n * 4, n);
      let img = pC + p * n * 4;
      if (!job.clean[p]) touched.push(null);
      else {
        const [cl, ch] = range(img);
        const s = new Float32Array(buf, pS + p * n * 4, n);
        s.set(c);
        const rng = new SimRng(job.seeds[p]);
        const stripes = addStripesInto(s, c, ch, g.height, g.width, PATCH_STRIPES, rng, null);
        const runs: number[] = [];
        let edge = false; // a touched pixel held the clean patch's minimum or maximum
        for (const st of stripes) {
          for (let x = st.col - st.thickness; x <= st.col + st.thickness; x++) {
            for (let q = st.angles[0] * g.width + x; q < st.angles[1] * g.width; q += g.width) {
              const v = s[q], v0 = c[q];
              s[q] = v < cl ? cl : v > ch ? ch : v;
              if (v0 === cl || v0 === ch) edge = true;
            }
          }
          const len = 2 * st.thickness + 1, x0 = st.col - st.thickness;
          for (let r = st.angles[0]; r < st.angles[1]; r++) runs.push(r * g.width + x0, len);
        }
        touched.push(runs);
        img = pS + p * n * 4;
        // the stripe image is the clean one outside the touched pixels, and within [cl, ch] (or
        // NaN) on them: its range is [cl, ch] when both are reached outside them
        if (!edge) {
          if (cl < lo) lo = cl;
          if (ch > hi) hi = ch;
          continue;
        }
      }
      const [l, h] = range(img);
      if (l < lo) lo = l;
      if (h > hi) hi = h;
    }
    if (!(lo <= hi)) lo = hi = NaN;
    return { pC, pS, pU, lo, hi, touched };
  }
}
