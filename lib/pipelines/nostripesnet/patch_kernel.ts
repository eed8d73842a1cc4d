/**
 * The uint16 patch images of one sinogram through the SIMD kernels of `wasm/tomo.wasm`
 * (`range_f32`, `scale_u16`): the pixels {@link patchSinogramFiles} stores, several times
 * faster. Patches are cut into WebAssembly memory; a clean patch's stripe image is its copy with
 * the stripes of {@link addStripesInto} added and only the touched pixels clipped to the clean
 * patch's range (every other pixel already lies in it, or is NaN, which clipping leaves); ranges
 * and the uint16 scaling run in the kernel, bit for bit the loops of lib/data/patches.ts. The
 * module imports no file or TIFF code, so that a worker running it starts light.
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

interface Exports {
  memory: WebAssembly.Memory;
  norm_u16(...a: number[]): void;
  norm_f32(...a: number[]): void;
  range_f32(x: number, n: number, out: number): void;
  scale_u16(x: number, n: number, lo: number, hi: number, out: number): void;
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
    const n = g.height * g.width, ex = this.ex, a = this.arena;
    a.reset();
    const pC = a.alloc(g.count * n * 4), pS = a.alloc(g.count * n * 4);
    const pU = a.alloc(n * 2), pR = a.alloc(8);
    const A = g.angles, cols = g.cols, raw = job.raw;
    const isz = raw?.dtype === "float32" ? 4 : 2;
    const pRaw = raw ? a.alloc(A * cols * isz) : 0, pSino = raw ? a.alloc(A * cols * 4) : 0;
    const pD = raw ? a.alloc(cols * 4) : 0, pQ = raw ? a.alloc(cols * 4) : 0;
    const buf = ex.memory.buffer; // no allocation below: the views stay valid
    let sino = job.sino!;
    if (raw) {
      // the row's raw values gathered from the block, normalised as readSinograms does
      const dst = new Uint8Array(buf, pRaw, A * cols * isz), rowBytes = cols * isz;
      for (let k = 0; k < A; k++) {
        const s = (k * raw.rows + raw.r) * rowBytes;
        dst.set(raw.bytes.subarray(s, s + rowBytes), k * rowBytes);
      }
      new Float32Array(buf, pD, cols).set(raw.dark);
      new Float32Array(buf, pQ, cols).set(raw.denom);
      const norm = raw.dtype === "uint16" ? ex.norm_u16 : ex.norm_f32;
      norm(pRaw, A, 1, cols, pD, pQ, pSino, cols, A * cols);
      sino = new Float32Array(buf, pSino, A * cols);
    }
    const R = new Float32Array(buf, pR, 2);
    const range = (ptr: number): [number, number] => (ex.range_f32(ptr, n, pR), [R[0], R[1]]);
    let lo = Infinity, hi = -Infinity;
    for (let p = 0; p < g.count; p++) {
      const c = new Float32Array(buf, pC + p * n * 4, n);
      const a0 = g.offAngles + Math.floor(p / g.nCols) * g.height;
      const c0 = g.offCols + (p % g.nCols) * g.width;
      for (let r = 0; r < g.height; r++) {
        const s = (a0 + r) * g.cols + c0;
        c.set(sino.subarray(s, s + g.width), r * g.width);
      }
      let img = pC + p * n * 4;
      if (job.clean[p]) {
        const [cl, ch] = range(img);
        const s = new Float32Array(buf, pS + p * n * 4, n);
        s.set(c);
        const rng = new SimRng(job.seeds[p]);
        const stripes = addStripesInto(s, c, ch, g.height, g.width, PATCH_STRIPES, rng, null);
        for (const st of stripes) {
          for (let x = st.col - st.thickness; x <= st.col + st.thickness; x++) {
            for (let q = st.angles[0] * g.width + x; q < st.angles[1] * g.width; q += g.width) {
              const v = s[q];
              s[q] = v < cl ? cl : v > ch ? ch : v;
            }
          }
        }
        img = pS + p * n * 4;
      }
      const [l, h] = range(img);
      if (l < lo) lo = l;
      if (h > hi) hi = h;
    }
    if (!(lo <= hi)) lo = hi = NaN;
    const out: Uint16Array[] = [];
    const put = (ptr: number) => {
      ex.scale_u16(ptr, n, lo, hi, pU);
      out.push(new Uint16Array(buf, pU, n).slice());
    };
    for (let p = 0; p < g.count; p++) {
      put(pC + p * n * 4);
      if (job.clean[p]) put(pS + p * n * 4);
    }
    return out;
  }
}
