/**
 * The conv family of the wasm backend (lib/tensor/ops/conv.ts): convolution as a GEMM whose B
 * (the im2col matrix) the GEMM pool packs straight from the image (1×1 kernels: the image itself);
 * the data gradient as GEMM + col2im (a plain GEMM on dy: for the U-Nets' channel counts this beats
 * four phase GEMMs gathering from dy); the weight gradient as a GEMM with the im2col matrix
 * packed from the image the same way. Without the pool (the Rust SGEMM), im2col tiles of output
 * pixels are materialised, the scratch staying within {@link WasmBackend.convScratchBytes}.
 * im2col/col2im are the engine's `im2col_tile`/`col2im_tile` (wasm/engine/src/conv.rs), split
 * across the engine's threads.
 *
 * @module
 */
import type { Conv2dParams, Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";
import { ranges } from "./launch.ts";

/** The parameter block of the im2col/col2im kernels. */
function convPrm(be: WasmBackend, p: Conv2dParams): number {
  return be.params(geometry(p));
}

/** im2col of one tile, columns split across threads. */
function im2col(
  be: WasmBackend,
  x: number,
  col: number,
  p: Conv2dParams,
  p0: number,
  nc: number,
  K: number,
): void {
  const parts = be.parts(K * nc);
  if (parts <= 1) {
    be.engine.im2col_tile(x, col, convPrm(be, p), p0, nc, nc);
    return;
  }
  const prm = convPrm(be, p);
  be.run(
    "im2col_tile",
    ranges(nc, parts).map(([a, b]) => [x, col + a * 4, prm, p0 + a, b - a, nc]),
  );
}

/** col2im of one tile, input channels split across threads (their planes do not overlap). */
function col2im(
  be: WasmBackend,
  col: number,
  dx: number,
  p: Conv2dParams,
  p0: number,
  nc: number,
): void {
  const kk = p.kh * p.kw;
  const parts = Math.min(be.parts(p.cIn * kk * nc), p.cIn);
  if (parts <= 1) {
    be.engine.col2im_tile(col, dx, convPrm(be, p), p0, nc);
    return;
  }
  const per = Math.ceil(p.cIn / parts);
  const lists: number[][] = [];
  for (let t = 0, c0 = 0; c0 < p.cIn; t++, c0 += per) {
    const c1 = Math.min(p.cIn, c0 + per);
    const prm = be.paramsAt(t, [c1 - c0, ...geometry(p).slice(1)]);
    lists.push([col + c0 * kk * nc * 4, dx + c0 * p.h * p.w * 4, prm, p0, nc]);
  }
  be.run("col2im_tile", lists);
}

/**
 * The geometry block of `sgemmConv` (lib/tensor/wasm/gemm_pool.ts) and of the engine's
 * im2col/col2im kernels.
 */
function geometry(p: Conv2dParams): number[] {
  return [
    p.cIn,
    p.h,
    p.w,
    p.kh,
    p.kw,
    p.oh,
    p.ow,
    p.strideH,
    p.strideW,
    p.padH,
    p.padW,
    p.dilH,
    p.dilW,
  ];
}

/** True for a 1×1 convolution with stride 1 and no padding (a plain GEMM). */
function pointwise(p: Conv2dParams): boolean {
  return p.kh === 1 && p.kw === 1 && p.strideH === 1 && p.strideW === 1 && p.padH === 0 &&
    p.padW === 0;
}

/** Output pixels per im2col tile. */
function tileCols(be: WasmBackend, K: number, P: number): number {
  const cols = Math.floor(Math.max(be.convScratchBytes, K * 64 * 4) / (K * 4));
  return Math.max(1, Math.min(P, cols >= 16 ? cols - (cols % 8) : cols));
}

/** Refuses grouped convolutions (this backend has none). */
function checkGroups(p: Conv2dParams): void {
  if (p.groups !== 1) throw new Error(`wasm backend: conv2d groups=${p.groups} is not supported`);
}

/**
 * y = conv(x, w) + bias as im2col tiles and GEMMs ({@link Backend.conv2d}).
 *
 * @example
 * conv2d(be, x, w, bias, y, p);
 */
export function conv2d(
  be: WasmBackend,
  x: Storage,
  w: Storage,
  bias: Storage | null,
  y: Storage,
  p: Conv2dParams,
): void {
  checkGroups(p);
  const K = p.cIn * p.kh * p.kw, P = p.oh * p.ow, HW = p.h * p.w;
  const px = be.p(x), pw = be.p(w), py = be.p(y);
  const pool = be.gemmPool;
  if (pool?.sgemmConv && !pointwise(p)) {
    // B packed straight from the image: no im2col matrix (same values, same rounding); the bias
    // is read by the GEMM's first k block in place of y (the same bits as copying it into y)
    const geom = geometry(p);
    const pb = bias ? be.p(bias) : 0;
    for (let i = 0; i < p.n; i++) {
      const xi = px + i * p.cIn * HW * 4, yi = py + i * p.cOut * P * 4;
      pool.sgemmConv(false, p.cOut, P, K, 1, pw, K, xi, geom, bias ? 1 : 0, yi, P, pb);
    }
    return;
  }
  if (bias) {
    be.copy(
      bias,
      { offset: 0, strides: [0, 1, 0] },
      y,
      { offset: 0, strides: [p.cOut * P, P, 1] },
      [p.n, p.cOut, P],
      false,
    );
  }
  const beta = bias ? 1 : 0;
  if (pointwise(p)) {
    for (let i = 0; i < p.n; i++) {
      be.gemm(
        false,
        false,
        p.cOut,
        P,
        K,
        1,
        pw,
        K,
        px + i * p.cIn * HW * 4,
        P,
        beta,
        py + i * p.cOut * P * 4,
        P,
      );
    }
    return;
  }
  const T = tileCols(be, K, P);
  const col = be.alloc(K * T, "float32", "step");
  try {
    for (let i = 0; i < p.n; i++) {
      const xi = px + i * p.cIn * HW * 4, yi = py + i * p.cOut * P * 4;
      for (let p0 = 0; p0 < P; p0 += T) {
        const nc = Math.min(T, P - p0);
        im2col(be, xi, be.p(col), p, p0, nc, K);
        be.gemm(false, false, p.cOut, nc, K, 1, pw, K, be.p(col), nc, beta, yi + p0 * 4, P);
      }
    }
  } finally {
    be.free(col);
  }
}

/**
 * dx (+)= ∂/∂x of a convolution: GEMMs and col2im tiles ({@link Backend.conv2dBackwardData}).
 *
 * @example
 * conv2dBackwardData(be, dy, w, dx, p, false);
 */
export function conv2dBackwardData(
  be: WasmBackend,
  dy: Storage,
  w: Storage,
  dx: Storage,
  p: Conv2dParams,
  accumulate: boolean,
): void {
  checkGroups(p);
  const K = p.cIn * p.kh * p.kw, P = p.oh * p.ow, HW = p.h * p.w;
  const pdy = be.p(dy), pw = be.p(w), pdx = be.p(dx);
  if (pointwise(p)) {
    for (let i = 0; i < p.n; i++) {
      be.gemm(
        true,
        false,
        K,
        P,
        p.cOut,
        1,
        pw,
        K,
        pdy + i * p.cOut * P * 4,
        P,
        accumulate ? 1 : 0,
        pdx + i * p.cIn * HW * 4,
        P,
      );
    }
    return;
  }
  if (!accumulate) be.fill(dx, 0, 0, p.n * p.cIn * HW);
  const T = tileCols(be, K, P);
  const col = be.alloc(K * T, "float32", "step");
  try {
    for (let i = 0; i < p.n; i++) {
      const dyi = pdy + i * p.cOut * P * 4, dxi = pdx + i * p.cIn * HW * 4;
      for (let p0 = 0; p0 < P; p0 += T) {
        const nc = Math.min(T, P - p0);
        be.gemm(true, false, K, nc, p.cOut, 1, pw, K, dyi + p0 * 4, P, 0, be.p(col), nc);
        col2im(be, be.p(col), dxi, p, p0, nc);
      }
    }
  } finally {
    be.free(col);
  }
}

/**
 * dw (+)= ∂/∂w and dbias (+)= Σ dy: im2col tiles and GEMMs
 * ({@link Backend.conv2dBackwardWeight}).
 *
 * @example
 * conv2dBackwardWeight(be, x, dy, dw, dbias, p, false);
 */
export function conv2dBackwardWeight(
  be: WasmBackend,
  x: Storage,
  dy: Storage,
  dw: Storage,
  dbias: Storage | null,
  p: Conv2dParams,
  accumulate: boolean,
): void {
  checkGroups(p);
  const K = p.cIn * p.kh * p.kw, P = p.oh * p.ow, HW = p.h * p.w;
  const px = be.p(x), pdy = be.p(dy), pdw = be.p(dw);
  let first = !accumulate;
  if (pointwise(p)) {
    for (let i = 0; i < p.n; i++) {
      be.gemm(
        false,
        true,
        p.cOut,
        K,
        P,
        1,
        pdy + i * p.cOut * P * 4,
        P,
        px + i * p.cIn * HW * 4,
        P,
        first ? 0 : 1,
        pdw,
        K,
      );
      first = false;
    }
  } else if (be.gemmPool?.sgemmConv) {
    // colᵀ packed straight from the image, all P pixels in one GEMM per image
    const geom = geometry(p);
    for (let i = 0; i < p.n; i++) {
      const xi = px + i * p.cIn * HW * 4, dyi = pdy + i * p.cOut * P * 4;
      be.gemmPool.sgemmConv(true, p.cOut, K, P, 1, dyi, P, xi, geom, first ? 0 : 1, pdw, K);
      first = false;
    }
  } else {
    const T = tileCols(be, K, P);
    const col = be.alloc(K * T, "float32", "step");
    try {
      for (let i = 0; i < p.n; i++) {
        const xi = px + i * p.cIn * HW * 4, dyi = pdy + i * p.cOut * P * 4;
        for (let p0 = 0; p0 < P; p0 += T) {
          const nc = Math.min(T, P - p0);
          im2col(be, xi, be.p(col), p, p0, nc, K);
          be.gemm(
            false,
            true,
            p.cOut,
            K,
            nc,
            1,
            dyi + p0 * 4,
            P,
            be.p(col),
            nc,
            first ? 0 : 1,
            pdw,
            K,
          );
          first = false;
        }
      }
    } finally {
      be.free(col);
    }
  }
  if (p.n === 0 || P === 0) {
    if (!accumulate) be.fill(dw, 0, 0, p.cOut * K);
  }
  if (dbias) {
    const tmp = accumulate ? be.alloc(p.cOut, "float32", "step") : dbias;
    be.reduce("sum", dy, [p.n, p.cOut, P], [0, 2], tmp);
    if (accumulate) {
      const v = { offset: 0, strides: [1] };
      be.copy(tmp, v, dbias, v, [p.cOut], true);
      be.free(tmp);
    }
  }
}
