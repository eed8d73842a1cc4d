/**
 * The pool family of the wasm backend (lib/tensor/ops/pool.ts): max and average pooling over
 * planes, forward and backward, on the engine's pooling kernels (wasm/engine/src/pool.rs).
 *
 * @module
 */
import type { Pool2dParams, Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";

/** The parameter block of the pooling kernels. */
function poolPrm(be: WasmBackend, p: Pool2dParams): number {
  return be.params([
    p.n * p.c,
    p.h,
    p.w,
    p.oh,
    p.ow,
    p.kh,
    p.kw,
    p.strideH,
    p.strideW,
    p.padH,
    p.padW,
    p.dilH,
    p.dilW,
  ]);
}

/**
 * Max pooling with int32 indices for the backward ({@link Backend.maxPool2d}).
 *
 * @example
 * maxPool2d(be, x, y, indices, p);
 */
export function maxPool2d(
  be: WasmBackend,
  x: Storage,
  y: Storage,
  indices: Storage,
  p: Pool2dParams,
): void {
  be.engine.max_pool2d(be.p(x), be.p(y), be.p(indices), poolPrm(be, p));
}

/**
 * dx = dy scattered through the indices ({@link Backend.maxPool2dBackward}).
 *
 * @example
 * maxPool2dBackward(be, dy, indices, dx, p);
 */
export function maxPool2dBackward(
  be: WasmBackend,
  dy: Storage,
  indices: Storage,
  dx: Storage,
  p: Pool2dParams,
): void {
  be.engine.max_pool2d_backward(be.p(dy), be.p(indices), be.p(dx), poolPrm(be, p));
}

/**
 * Average pooling, padding counted ({@link Backend.avgPool2d}).
 *
 * @example
 * avgPool2d(be, x, y, p);
 */
export function avgPool2d(be: WasmBackend, x: Storage, y: Storage, p: Pool2dParams): void {
  be.engine.avg_pool2d(be.p(x), be.p(y), poolPrm(be, p));
}

/**
 * Backward of average pooling ({@link Backend.avgPool2dBackward}).
 *
 * @example
 * avgPool2dBackward(be, dy, dx, p);
 */
export function avgPool2dBackward(
  be: WasmBackend,
  dy: Storage,
  dx: Storage,
  p: Pool2dParams,
): void {
  be.engine.avg_pool2d_backward(be.p(dy), be.p(dx), poolPrm(be, p));
}
