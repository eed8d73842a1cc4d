/**
 * The pool family of the webgpu backend (lib/tensor/ops/pool.ts): max and average pooling,
 * forward and backward, on kernels/pool.wgsl (backwards gather, so no atomics).
 *
 * @module
 */
import type { Pool2dParams, Storage } from "../backend.ts";
import { Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/** The parameter block of the pooling kernels. */
function poolParams(p: Pool2dParams): Params {
  return new Params().u(
    p.n,
    p.c,
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
  );
}

/**
 * Max pooling with int32 indices for the backward ({@link Backend.maxPool2d}).
 *
 * @example
 * maxPool2d(be, x, y, indices, p);
 */
export function maxPool2d(
  be: WebGpuBackend,
  x: Storage,
  y: Storage,
  indices: Storage,
  p: Pool2dParams,
): void {
  const n = p.n * p.c * p.oh * p.ow;
  if (n === 0) return;
  be.run(
    { file: "pool", entry: "max_fwd", layout: "urww" },
    [null, be.b(x), be.b(y), be.b(indices)],
    poolParams(p),
    be.groups1(n),
  );
}

/**
 * dx = dy gathered through the indices ({@link Backend.maxPool2dBackward}).
 *
 * @example
 * maxPool2dBackward(be, dy, indices, dx, p);
 */
export function maxPool2dBackward(
  be: WebGpuBackend,
  dy: Storage,
  indices: Storage,
  dx: Storage,
  p: Pool2dParams,
): void {
  const n = p.n * p.c * p.h * p.w;
  if (n === 0) return;
  be.run(
    { file: "pool", entry: "max_bwd", layout: "urrw" },
    [null, be.b(dy), be.b(indices), be.b(dx)],
    poolParams(p),
    be.groups1(n),
  );
}

/**
 * Average pooling, padding counted ({@link Backend.avgPool2d}).
 *
 * @example
 * avgPool2d(be, x, y, p);
 */
export function avgPool2d(be: WebGpuBackend, x: Storage, y: Storage, p: Pool2dParams): void {
  const n = p.n * p.c * p.oh * p.ow;
  if (n === 0) return;
  be.run(
    { file: "pool", entry: "avg_fwd", layout: "urw" },
    [null, be.b(x), be.b(y)],
    poolParams(p),
    be.groups1(n),
  );
}

/**
 * Backward of average pooling ({@link Backend.avgPool2dBackward}).
 *
 * @example
 * avgPool2dBackward(be, dy, dx, p);
 */
export function avgPool2dBackward(
  be: WebGpuBackend,
  dy: Storage,
  dx: Storage,
  p: Pool2dParams,
): void {
  const n = p.n * p.c * p.h * p.w;
  if (n === 0) return;
  be.run(
    { file: "pool", entry: "avg_bwd", layout: "urw" },
    [null, be.b(dy), be.b(dx)],
    poolParams(p),
    be.groups1(n),
  );
}
