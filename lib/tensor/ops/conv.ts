/**
 * Convolutions, forward and backward side by side: conv1d, conv2d, convTranspose1d/2d.
 * A transposed convolution is the backward-data of a convolution (and its backward is a
 * convolution plus a weight gradient with the roles of input and output swapped).
 *
 * @module
 */
import type { Conv2dParams } from "../backend.ts";
import { empty, fmtShape, record, Tensor, TensorError } from "../tensor.ts";
import { checkFloat, checkSame, reshapeNoGrad } from "./util.ts";
import { kReduce } from "./reduce.ts";

/** A number for both spatial axes or a pair [h, w]. */
export type Pair = number | [number, number];

/** Options of conv2d (PyTorch's defaults). */
export interface ConvOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/** Options of convTranspose2d. */
export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: Pair;
}

function pair(v: Pair | undefined, d: number): [number, number] {
  if (v === undefined) return [d, d];
  return typeof v === "number" ? [v, v] : [v[0], v[1]];
}

function checkConvArgs(op: string, x: Tensor, w: Tensor, bias: Tensor | null, groups: number) {
  checkSame(op, x, w, ...(bias ? [bias] : []));
  checkFloat(op, x, w, ...(bias ? [bias] : []));
  if (x.ndim !== 4) {
    throw new TensorError(op, `input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  }
  if (w.ndim !== 4) {
    throw new TensorError(op, `weight must have 4 dimensions, got ${fmtShape(w.shape)}`);
  }
  if (groups !== 1) throw new TensorError(op, `groups=${groups} is not supported (only 1)`);
}

/** Geometry of conv2d for x [n,cIn,h,w] and weight [cOut,cIn,kh,kw]. */
export function convGeometry(
  op: string,
  x: readonly number[],
  w: readonly number[],
  o: ConvOptions,
): Conv2dParams {
  const [strideH, strideW] = pair(o.stride, 1);
  const [padH, padW] = pair(o.padding, 0);
  const [dilH, dilW] = pair(o.dilation, 1);
  const groups = o.groups ?? 1;
  const [n, cIn, h, wd] = x;
  const [cOut, cInW, kh, kw] = w;
  if (cInW * groups !== cIn) {
    throw new TensorError(
      op,
      `input ${fmtShape(x)} has ${cIn} channels, weight ${fmtShape(w)} expects ${cInW * groups}`,
    );
  }
  if (strideH < 1 || strideW < 1 || dilH < 1 || dilW < 1 || padH < 0 || padW < 0) {
    throw new TensorError(
      op,
      `bad stride/dilation/padding (${strideH},${strideW}) (${dilH},${dilW}) (${padH},${padW})`,
    );
  }
  const oh = Math.floor((h + 2 * padH - dilH * (kh - 1) - 1) / strideH) + 1;
  const ow = Math.floor((wd + 2 * padW - dilW * (kw - 1) - 1) / strideW) + 1;
  if (oh < 1 || ow < 1) {
    throw new TensorError(
      op,
      `input ${fmtShape(x)} is too small for kernel ${kh}×${kw} (output ${oh}×${ow})`,
    );
  }
  return {
    n,
    cIn,
    h,
    w: wd,
    cOut,
    kh,
    kw,
    oh,
    ow,
    strideH,
    strideW,
    padH,
    padW,
    dilH,
    dilW,
    groups,
  };
}

/** 2-D convolution: x [N, Cin, H, W], weight [Cout, Cin, kh, kw], bias [Cout]. */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: ConvOptions = {},
): Tensor {
  checkConvArgs("conv2d", x, weight, bias, opts.groups ?? 1);
  const p = convGeometry("conv2d", x.shape, weight.shape, opts);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== p.cOut)) {
    throw new TensorError("conv2d", `bias ${fmtShape(bias.shape)} for ${p.cOut} output channels`);
  }
  const be = x.backend;
  const y = empty([p.n, p.cOut, p.oh, p.ow], { backend: be });
  be.conv2d(x.storage, weight.storage, bias ? bias.storage : null, y.storage, p);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, "conv2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape, { backend: be });
      be.conv2dBackwardData(g.storage, weight.storage, dx.storage, p, false);
    }
    const wantB = !!bias && bias.requiresGrad;
    if (weight.requiresGrad || wantB) {
      dw = empty(weight.shape, { backend: be });
      if (wantB) db = empty([p.cOut], { backend: be });
      be.conv2dBackwardWeight(x.storage, g.storage, dw.storage, db ? db.storage : null, p, false);
    }
    return bias ? [dx, weight.requiresGrad ? dw : null, db] : [dx, dw];
  });
}

/**
 * 2-D transposed convolution: x [N, Cin, H, W], weight [Cin, Cout, kh, kw], bias [Cout];
 * output (H−1)·s − 2p + d·(k−1) + outputPadding + 1 per axis.
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: ConvTransposeOptions = {},
): Tensor {
  checkConvArgs("convTranspose2d", x, weight, bias, opts.groups ?? 1);
  const [s0, s1] = pair(opts.stride, 1), [p0, p1] = pair(opts.padding, 0);
  const [d0, d1] = pair(opts.dilation, 1), [o0, o1] = pair(opts.outputPadding, 0);
  const [n, cIn, h, w] = x.shape;
  const [cInW, cOut, kh, kw] = weight.shape;
  if (cInW !== cIn) {
    throw new TensorError(
      "convTranspose2d",
      `input ${fmtShape(x.shape)} has ${cIn} channels, weight ${
        fmtShape(weight.shape)
      } expects ${cInW}`,
    );
  }
  if (o0 >= s0 || o1 >= s1 || o0 < 0 || o1 < 0) {
    throw new TensorError(
      "convTranspose2d",
      `output padding (${o0}, ${o1}) must be smaller than stride (${s0}, ${s1})`,
    );
  }
  const oh = (h - 1) * s0 - 2 * p0 + d0 * (kh - 1) + o0 + 1;
  const ow = (w - 1) * s1 - 2 * p1 + d1 * (kw - 1) + o1 + 1;
  if (oh < 1 || ow < 1) throw new TensorError("convTranspose2d", `output would be ${oh}×${ow}`);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== cOut)) {
    throw new TensorError(
      "convTranspose2d",
      `bias ${fmtShape(bias.shape)} for ${cOut} output channels`,
    );
  }
  // The convolution whose backward-data this is: input [n, cOut, oh, ow] → output [n, cIn, h, w].
  const p: Conv2dParams = {
    n,
    cIn: cOut,
    h: oh,
    w: ow,
    cOut: cIn,
    kh,
    kw,
    oh: h,
    ow: w,
    strideH: s0,
    strideW: s1,
    padH: p0,
    padW: p1,
    dilH: d0,
    dilW: d1,
    groups: 1,
  };
  const be = x.backend;
  const y = empty([n, cOut, oh, ow], { backend: be });
  if (bias) {
    be.copy(
      bias.storage,
      { offset: 0, strides: [0, 1, 0] },
      y.storage,
      { offset: 0, strides: [cOut * oh * ow, oh * ow, 1] },
      [n, cOut, oh * ow],
      false,
    );
  }
  be.conv2dBackwardData(x.storage, weight.storage, y.storage, p, !!bias);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return record(y, "convTranspose2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape, { backend: be });
      be.conv2d(g.storage, weight.storage, null, dx.storage, p);
    }
    if (weight.requiresGrad) {
      dw = empty(weight.shape, { backend: be });
      be.conv2dBackwardWeight(g.storage, x.storage, dw.storage, null, p, false);
    }
    if (bias && bias.requiresGrad) {
      db = reshapeNoGrad(kReduce("sum", g, [0, 2, 3]), [cOut]);
    }
    return bias ? [dx, dw, db] : [dx, dw];
  });
}

function to2d(x: Tensor): Tensor {
  const out = new Tensor(x.storage, [x.shape[0], x.shape[1], 1, x.shape[2]]);
  return record(out, "reshape", [x], (g) => [reshapeNoGrad(g, x.shape)]);
}
function from2d(x: Tensor): Tensor {
  const out = new Tensor(x.storage, [x.shape[0], x.shape[1], x.shape[3]]);
  return record(out, "reshape", [x], (g) => [reshapeNoGrad(g, x.shape)]);
}

/** Options of the 1-D convolutions. */
export interface Conv1dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  outputPadding?: number;
}

/** 1-D convolution: x [N, Cin, L], weight [Cout, Cin, k], bias [Cout]. */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: Conv1dOptions = {},
): Tensor {
  if (x.ndim !== 3 || weight.ndim !== 3) {
    throw new TensorError(
      "conv1d",
      `input [N, C, L] and weight [Cout, Cin, k] expected, got ${fmtShape(x.shape)} and ${
        fmtShape(weight.shape)
      }`,
    );
  }
  return from2d(conv2d(to2d(x), to2d(weight), bias, {
    stride: [1, opts.stride ?? 1],
    padding: [0, opts.padding ?? 0],
    dilation: [1, opts.dilation ?? 1],
    groups: opts.groups,
  }));
}

/** 1-D transposed convolution: x [N, Cin, L], weight [Cin, Cout, k]. */
export function convTranspose1d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  opts: Conv1dOptions = {},
): Tensor {
  if (x.ndim !== 3 || weight.ndim !== 3) {
    throw new TensorError(
      "convTranspose1d",
      `input [N, C, L] and weight [Cin, Cout, k] expected, got ${fmtShape(x.shape)} and ${
        fmtShape(weight.shape)
      }`,
    );
  }
  return from2d(convTranspose2d(to2d(x), to2d(weight), bias, {
    stride: [1, opts.stride ?? 1],
    padding: [0, opts.padding ?? 0],
    dilation: [1, opts.dilation ?? 1],
    outputPadding: [0, opts.outputPadding ?? 0],
    groups: opts.groups,
  }));
}
