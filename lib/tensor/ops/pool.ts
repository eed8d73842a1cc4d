/**
 * Pooling, forward and backward side by side: max and average, 1-D and 2-D
 * (floor mode; average counts padding, PyTorch's defaults).
 *
 * @module
 */
import type { Pool2dParams } from "../backend.ts";
import { empty, fmtShape, record, Tensor, TensorError } from "../tensor.ts";
import { checkFloat, reshapeNoGrad } from "./util.ts";
import type { Pair } from "./conv.ts";

/** Options of the pools (stride defaults to the kernel size). */
export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

function pair(v: Pair | undefined, d: [number, number]): [number, number] {
  if (v === undefined) return d;
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

function geometry(op: string, x: Tensor, kernel: Pair, o: PoolOptions): Pool2dParams {
  checkFloat(op, x);
  if (x.ndim !== 4) {
    throw new TensorError(op, `input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  }
  const [kh, kw] = pair(kernel, [1, 1]);
  const [strideH, strideW] = pair(o.stride, [kh, kw]);
  const [padH, padW] = pair(o.padding, [0, 0]);
  const [dilH, dilW] = pair(o.dilation, [1, 1]);
  if (padH > kh / 2 || padW > kw / 2) {
    throw new TensorError(
      op,
      `padding (${padH}, ${padW}) must be at most half the kernel (${kh}, ${kw})`,
    );
  }
  const [n, c, h, w] = x.shape;
  const oh = Math.floor((h + 2 * padH - dilH * (kh - 1) - 1) / strideH) + 1;
  const ow = Math.floor((w + 2 * padW - dilW * (kw - 1) - 1) / strideW) + 1;
  if (oh < 1 || ow < 1) {
    throw new TensorError(op, `input ${fmtShape(x.shape)} too small for kernel ${kh}×${kw}`);
  }
  return { n, c, h, w, oh, ow, kh, kw, strideH, strideW, padH, padW, dilH, dilW };
}

/** 2-D max pooling of x [N, C, H, W]. */
export function maxPool2d(x: Tensor, kernel: Pair, opts: PoolOptions = {}): Tensor {
  const p = geometry("maxPool2d", x, kernel, opts);
  const be = x.backend;
  const y = empty([p.n, p.c, p.oh, p.ow], { backend: be });
  const idx = empty([p.n, p.c, p.oh, p.ow], { backend: be, dtype: "int32" });
  be.maxPool2d(x.storage, y.storage, idx.storage, p);
  return record(y, "maxPool2d", [x], (g) => {
    const dx = empty(x.shape, { backend: be });
    be.maxPool2dBackward(g.storage, idx.storage, dx.storage, p);
    return [dx];
  });
}

/** 2-D average pooling of x [N, C, H, W] (padding counted). */
export function avgPool2d(
  x: Tensor,
  kernel: Pair,
  opts: Omit<PoolOptions, "dilation"> = {},
): Tensor {
  const p = geometry("avgPool2d", x, kernel, opts);
  const be = x.backend;
  const y = empty([p.n, p.c, p.oh, p.ow], { backend: be });
  be.avgPool2d(x.storage, y.storage, p);
  return record(y, "avgPool2d", [x], (g) => {
    const dx = empty(x.shape, { backend: be });
    be.avgPool2dBackward(g.storage, dx.storage, p);
    return [dx];
  });
}

function as2d(op: string, x: Tensor): Tensor {
  if (x.ndim !== 3) throw new TensorError(op, `input must be [N, C, L], got ${fmtShape(x.shape)}`);
  const out = new Tensor(x.storage, [x.shape[0], x.shape[1], 1, x.shape[2]]);
  return record(out, "reshape", [x], (g) => [reshapeNoGrad(g, x.shape)]);
}
function as1d(x: Tensor): Tensor {
  const out = new Tensor(x.storage, [x.shape[0], x.shape[1], x.shape[3]]);
  return record(out, "reshape", [x], (g) => [reshapeNoGrad(g, x.shape)]);
}

/** Options of the 1-D pools. */
export interface Pool1dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
}

/** 1-D max pooling of x [N, C, L]. */
export function maxPool1d(x: Tensor, kernel: number, o: Pool1dOptions = {}): Tensor {
  return as1d(maxPool2d(as2d("maxPool1d", x), [1, kernel], {
    stride: [1, o.stride ?? kernel],
    padding: [0, o.padding ?? 0],
    dilation: [1, o.dilation ?? 1],
  }));
}

/** 1-D average pooling of x [N, C, L]. */
export function avgPool1d(
  x: Tensor,
  kernel: number,
  o: Omit<Pool1dOptions, "dilation"> = {},
): Tensor {
  return as1d(avgPool2d(as2d("avgPool1d", x), [1, kernel], {
    stride: [1, o.stride ?? kernel],
    padding: [0, o.padding ?? 0],
  }));
}
