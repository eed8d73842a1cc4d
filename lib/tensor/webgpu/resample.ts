/**
 * The resample family of the webgpu backend (lib/tensor/ops/resample.ts): upsampling (nearest,
 * bilinear) and grid_sample, forward and backward, on kernels/resample.wgsl. The grid_sample
 * data gradient is a gather over a counting sort of the sample points by cell, so it needs no
 * float atomics.
 *
 * @module
 */
import type { GridSampleParams, Storage, Upsample2dParams } from "../backend.ts";
import { Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/** The parameter block of the upsampling kernels (source-index scales per axis). */
function upParams(p: Upsample2dParams): Params {
  let sh = p.scaleH, sw = p.scaleW;
  if (p.mode === "bilinear" && p.alignCorners) {
    sh = p.oh > 1 ? (p.h - 1) / (p.oh - 1) : 0;
    sw = p.ow > 1 ? (p.w - 1) / (p.ow - 1) : 0;
  }
  return new Params().u(p.n, p.c, p.h, p.w, p.oh, p.ow, p.alignCorners ? 1 : 0, 0).f(sh, sw);
}

/**
 * Nearest or bilinear upsampling of [n, c, h, w] ({@link Backend.upsample2d}).
 *
 * @example
 * upsample2d(be, x, y, p);
 */
export function upsample2d(be: WebGpuBackend, x: Storage, y: Storage, p: Upsample2dParams): void {
  const n = p.n * p.c * p.oh * p.ow;
  if (n === 0) return;
  const entry = p.mode === "nearest" ? "up_nearest_fwd" : "up_bilinear_fwd";
  be.run(
    { file: "resample", entry, layout: "urw" },
    [null, be.b(x), be.b(y)],
    upParams(p),
    be.groups1(n),
  );
}

/**
 * Backward of {@link upsample2d}; dx is written ({@link Backend.upsample2dBackward}).
 *
 * @example
 * upsample2dBackward(be, dy, dx, p);
 */
export function upsample2dBackward(
  be: WebGpuBackend,
  dy: Storage,
  dx: Storage,
  p: Upsample2dParams,
): void {
  const n = p.n * p.c * p.h * p.w;
  if (n === 0) return;
  const entry = p.mode === "nearest" ? "up_nearest_bwd" : "up_bilinear_bwd";
  be.run(
    { file: "resample", entry, layout: "urw" },
    [null, be.b(dy), be.b(dx)],
    upParams(p),
    be.groups1(n),
  );
}

/** The parameter block of the grid_sample kernels (`cells`: the counting sort's cells). */
function gsParams(p: GridSampleParams, cells = 0): Params {
  return new Params().u(p.n, p.c, p.h, p.w, p.oh, p.ow, p.alignCorners ? 1 : 0, 0, cells);
}

/**
 * Bilinear grid_sample with zero padding ({@link Backend.gridSample}).
 *
 * @example
 * gridSample(be, x, grid, y, p);
 */
export function gridSample(
  be: WebGpuBackend,
  x: Storage,
  grid: Storage,
  y: Storage,
  p: GridSampleParams,
): void {
  const n = p.n * p.oh * p.ow;
  if (n === 0 || p.c === 0) return;
  be.run(
    { file: "resample", entry: "gs_fwd", layout: "urrw" },
    [null, be.b(x), be.b(grid), be.b(y)],
    gsParams(p),
    be.groups1(n),
  );
}

/**
 * Backward of {@link gridSample}: dx and dgrid, either may be null
 * ({@link Backend.gridSampleBackward}).
 *
 * @example
 * gridSampleBackward(be, x, grid, dy, dx, null, p);
 */
export function gridSampleBackward(
  be: WebGpuBackend,
  x: Storage,
  grid: Storage,
  dy: Storage,
  dx: Storage | null,
  dgrid: Storage | null,
  p: GridSampleParams,
): void {
  const np = p.n * p.oh * p.ow;
  if (dgrid && np > 0) {
    if (p.c === 0) be.fill(dgrid, 0);
    else {
      be.run(
        { file: "resample", entry: "gs_dgrid", layout: "urrrw" },
        [null, be.b(x), be.b(grid), be.b(dy), be.b(dgrid)],
        gsParams(p),
        be.groups1(np),
      );
    }
  }
  if (!dx) return;
  const nx = p.n * p.c * p.h * p.w;
  if (nx === 0) return;
  if (np === 0) {
    be.fill(dx, 0);
    return;
  }
  // counting sort of the sample points by the cell of their top-left corner
  const cells = p.n * (p.h + 1) * (p.w + 1);
  const prm = gsParams(p, cells);
  const counts = be.rt.alloc((cells + 1) * 4);
  be.rt.zero(counts, 0, (cells + 1) * 4);
  be.run(
    { file: "resample", entry: "gs_count", layout: "urw" },
    [null, be.b(grid), counts],
    prm,
    be.groups1(np),
  );
  const offsets = be.rt.alloc((cells + 1) * 4);
  be.scan(counts, offsets, cells + 1);
  const cursor = counts; // reused: zeroed again
  be.rt.zero(cursor, 0, (cells + 1) * 4);
  const entries = be.rt.alloc(np * 4);
  be.run(
    { file: "resample", entry: "gs_fill", layout: "urrww" },
    [null, be.b(grid), offsets, cursor, entries],
    prm,
    be.groups1(np),
  );
  be.run(
    { file: "resample", entry: "gs_sort", layout: "urw" },
    [null, offsets, entries],
    prm,
    be.groups1(cells),
  );
  be.run(
    { file: "resample", entry: "gs_dx", layout: "urrrrw" },
    [null, be.b(grid), be.b(dy), offsets, entries, be.b(dx)],
    prm,
    be.groups1(nx),
  );
  be.rt.release(counts);
  be.rt.release(offsets);
  be.rt.release(entries);
}

/** Exclusive prefix sum of `len` u32 words of `src` into `dst`. */
/**
 * Exclusive prefix sum of `len` u32 words of `src` into `dst`.
 *
 * @example
 * scan(be, counts, offsets, n + 1);
 */
export function scan(be: WebGpuBackend, src: GPUBuffer, dst: GPUBuffer, len: number): void {
  const blocks = Math.ceil(len / 1024);
  const sums = be.rt.alloc(blocks * 4);
  const prm = new Params().u(len, blocks);
  const g = be.rt.grid(blocks);
  be.run(
    { file: "resample", entry: "scan_blocks", layout: "urww" },
    [null, src, dst, sums],
    prm,
    g,
  );
  be.run({ file: "resample", entry: "scan_sums", layout: "uw" }, [null, sums], prm, [1]);
  be.run({ file: "resample", entry: "scan_add", layout: "urw" }, [null, sums, dst], prm, g);
  be.rt.release(sums);
}
