/**
 * The conv family of the webgpu backend (lib/tensor/ops/conv.ts): convolution, its data gradient
 * (one pass per stride phase where the dilation is 1) and its weight gradient (split along K,
 * then reduced in a fixed order) as implicit GEMMs on kernels/conv.wgsl, dispatched in chunks of
 * column tiles within the device's grid limit.
 *
 * @module
 */
import { type Conv2dParams, convParamList, type Storage } from "../backend.ts";
import { type Binding, type KernelSpec, Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/**
 * The parameter block of the conv kernels: the geometry, then M, N, K, the K chunk, the splits, the
 * output size.
 */
function convParams(
  p: Conv2dParams,
  M: number,
  N: number,
  K: number,
  kChunk: number,
  splits: number,
  total: number,
): Params {
  return new Params().u(...convParamList(p)).u(M, N, K, kChunk, splits, total);
}

/** Refuses groups that do not divide the channels. */
function checkConv(p: Conv2dParams): void {
  if (p.cIn % p.groups !== 0 || p.cOut % p.groups !== 0) {
    throw new Error(
      `webgpu: conv groups ${p.groups} do not divide channels ${p.cIn} → ${p.cOut}`,
    );
  }
}

/** Runs a conv kernel over `tilesN` column tiles, in chunks within the dispatch limit. */
function convRun(
  be: WebGpuBackend,
  spec: KernelSpec,
  bindings: (Binding | null)[],
  prm: Params,
  tilesN: number,
  tilesM: number,
  z: number,
): void {
  const mg = Math.min(be.tileChunk, be.rt.ctx.maxGroups);
  for (let t0 = 0; t0 < tilesN; t0 += mg) {
    prm.words[22] = t0 * 64;
    be.run(spec, bindings, prm, [Math.min(mg, tilesN - t0), tilesM, z]);
  }
}

/**
 * y = conv(x, w) + bias ({@link Backend.conv2d}).
 *
 * @example
 * conv2d(be, x, w, bias, y, p);
 */
export function conv2d(
  be: WebGpuBackend,
  x: Storage,
  w: Storage,
  bias: Storage | null,
  y: Storage,
  p: Conv2dParams,
): void {
  checkConv(p);
  const Mg = p.cOut / p.groups, Cg = p.cIn / p.groups;
  const M = Mg, N = p.n * p.oh * p.ow, K = Cg * p.kh * p.kw;
  if (M === 0 || N === 0) return;
  if (K === 0) {
    // no inputs: y = bias (or 0)
    be.fill(y, 0);
    if (bias) {
      be.copy(
        bias,
        { offset: 0, strides: [0, 1, 0] },
        y,
        { offset: 0, strides: [p.cOut * p.oh * p.ow, p.oh * p.ow, 1] },
        [p.n, p.cOut, p.oh * p.ow],
        false,
      );
    }
    return;
  }
  convRun(
    be,
    { file: "conv", entry: "conv", layout: "urrrw", constants: { MODE: 0, BIAS: bias ? 1 : 0 } },
    [null, be.b(x), be.b(w), bias ? be.b(bias) : be.dummy(0), be.b(y)],
    convParams(p, M, N, K, K, 1, 0),
    Math.ceil(N / 64),
    Math.ceil(M / 64),
    p.groups,
  );
}

/**
 * dx (+)= ∂/∂x of a convolution ({@link Backend.conv2dBackwardData}).
 *
 * @example
 * conv2dBackwardData(be, dy, w, dx, p, false);
 */
export function conv2dBackwardData(
  be: WebGpuBackend,
  dy: Storage,
  w: Storage,
  dx: Storage,
  p: Conv2dParams,
  accumulate: boolean,
): void {
  checkConv(p);
  const Mg = p.cOut / p.groups, Cg = p.cIn / p.groups;
  const M = Cg, N = p.n * p.h * p.w, K = Mg * p.kh * p.kw;
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) be.fill(dx, 0);
    return;
  }
  const phased = (p.strideH > 1 || p.strideW > 1) && p.dilH === 1 && p.dilW === 1;
  if (phased) {
    // one pass per stride phase: only the taps that reach a pixel are multiplied
    const nPh = p.strideH * p.strideW;
    const maxN = p.n * Math.ceil(p.h / p.strideH) * Math.ceil(p.w / p.strideW);
    convRun(
      be,
      {
        file: "conv",
        entry: "conv",
        layout: "urrrw",
        constants: { MODE: 3, ACC: accumulate ? 1 : 0 },
      },
      [null, be.b(dy), be.b(w), be.dummy(0), be.b(dx)],
      convParams(p, M, N, K, K, 1, 0),
      Math.ceil(maxN / 64),
      Math.ceil(M / 64),
      p.groups * nPh,
    );
    return;
  }
  convRun(
    be,
    {
      file: "conv",
      entry: "conv",
      layout: "urrrw",
      constants: { MODE: 1, ACC: accumulate ? 1 : 0 },
    },
    [null, be.b(dy), be.b(w), be.dummy(0), be.b(dx)],
    convParams(p, M, N, K, K, 1, 0),
    Math.ceil(N / 64),
    Math.ceil(M / 64),
    p.groups,
  );
}

/**
 * dw (+)= ∂/∂w and dbias (+)= Σ dy ({@link Backend.conv2dBackwardWeight}).
 *
 * @example
 * conv2dBackwardWeight(be, x, dy, dw, dbias, p, false);
 */
export function conv2dBackwardWeight(
  be: WebGpuBackend,
  x: Storage,
  dy: Storage,
  dw: Storage,
  dbias: Storage | null,
  p: Conv2dParams,
  accumulate: boolean,
): void {
  checkConv(p);
  const Mg = p.cOut / p.groups, Cg = p.cIn / p.groups;
  const M = Mg, N = Cg * p.kh * p.kw, K = p.n * p.oh * p.ow;
  const total = p.cOut * N;
  if (dbias) {
    be.reduce("sum", dy, [p.n, p.cOut, p.oh * p.ow], [0, 2], dbias, accumulate);
  }
  if (M === 0 || N === 0) return;
  if (K === 0) {
    if (!accumulate) be.fill(dw, 0);
    return;
  }
  // split K so that there are enough workgroups; the split depends on the shape alone
  const tiles = Math.ceil(M / 64) * Math.ceil(N / 64) * p.groups;
  const splits = Math.max(1, Math.min(Math.ceil(128 / tiles), Math.floor(K / 1024), 64));
  const kChunk = Math.ceil(K / splits / 16) * 16;
  const nSplit = Math.ceil(K / kChunk);
  if (nSplit === 1) {
    convRun(
      be,
      {
        file: "conv",
        entry: "conv",
        layout: "urrrw",
        constants: { MODE: 2, ACC: accumulate ? 1 : 0 },
      },
      [null, be.b(x), be.b(dy), be.dummy(0), be.b(dw)],
      convParams(p, M, N, K, kChunk, 1, total),
      Math.ceil(N / 64),
      Math.ceil(M / 64),
      p.groups,
    );
    return;
  }
  const part = be.rt.alloc(nSplit * total * 4);
  convRun(
    be,
    { file: "conv", entry: "conv", layout: "urrrw", constants: { MODE: 2, SPLITK: 1 } },
    [null, be.b(x), be.b(dy), be.dummy(0), part],
    convParams(p, M, N, K, kChunk, nSplit, total),
    Math.ceil(N / 64),
    Math.ceil(M / 64),
    p.groups * nSplit,
  );
  be.run(
    {
      file: "conv",
      entry: "conv_wgrad_reduce",
      layout: "urrrw",
      constants: { ACC: accumulate ? 1 : 0 },
    },
    [null, part, be.dummy(0), be.dummy(1), be.b(dw)],
    convParams(p, M, N, K, kChunk, nSplit, total),
    be.groups1(total),
  );
  be.rt.release(part);
}
