/**
 * The resample family of the wasm backend (lib/tensor/ops/resample.ts): upsampling (nearest,
 * bilinear) and grid_sample, forward and backward, on the engine's kernels
 * (wasm/engine/src/resample.rs).
 *
 * @module
 */
import type { GridSampleParams, Storage, Upsample2dParams } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";

/**
 * Nearest or bilinear upsampling of [n, c, h, w] ({@link Backend.upsample2d}).
 *
 * @example
 * upsample2d(be, x, y, p);
 */
export function upsample2d(be: WasmBackend, x: Storage, y: Storage, p: Upsample2dParams): void {
  be.engine.upsample2d(
    be.p(x),
    be.p(y),
    p.n * p.c,
    p.h,
    p.w,
    p.oh,
    p.ow,
    p.mode === "nearest" ? 0 : 1,
    p.alignCorners ? 1 : 0,
    p.scaleH,
    p.scaleW,
  );
}

/**
 * Backward of {@link upsample2d}; dx is written ({@link Backend.upsample2dBackward}).
 *
 * @example
 * upsample2dBackward(be, dy, dx, p);
 */
export function upsample2dBackward(
  be: WasmBackend,
  dy: Storage,
  dx: Storage,
  p: Upsample2dParams,
): void {
  be.engine.upsample2d_backward(
    be.p(dy),
    be.p(dx),
    p.n * p.c,
    p.h,
    p.w,
    p.oh,
    p.ow,
    p.mode === "nearest" ? 0 : 1,
    p.alignCorners ? 1 : 0,
    p.scaleH,
    p.scaleW,
  );
}

/**
 * Bilinear grid_sample with zero padding ({@link Backend.gridSample}).
 *
 * @example
 * gridSample(be, x, grid, y, p);
 */
export function gridSample(
  be: WasmBackend,
  x: Storage,
  grid: Storage,
  y: Storage,
  p: GridSampleParams,
): void {
  be.engine.grid_sample(
    be.p(x),
    be.p(grid),
    be.p(y),
    p.n,
    p.c,
    p.h,
    p.w,
    p.oh,
    p.ow,
    p.alignCorners ? 1 : 0,
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
  be: WasmBackend,
  x: Storage,
  grid: Storage,
  dy: Storage,
  dx: Storage | null,
  dgrid: Storage | null,
  p: GridSampleParams,
): void {
  be.engine.grid_sample_backward(
    be.p(x),
    be.p(grid),
    be.p(dy),
    be.p(dx),
    be.p(dgrid),
    p.n,
    p.c,
    p.h,
    p.w,
    p.oh,
    p.ow,
    p.alignCorners ? 1 : 0,
  );
}
