/**
 * The shape family of the webgpu backend (lib/tensor/ops/shape.ts): fills, strided copies
 * (permute, slice, pad, concat, expand and their backwards) and int32/float32 casts, on
 * kernels/shape.wgsl. Data move as raw 32-bit words, so one pipeline serves both dtypes.
 *
 * @module
 */
import type { Storage, View } from "../backend.ts";
import { Params } from "./runtime.ts";
import { cStrides, MAXD, mergeAxes, prod } from "./axes.ts";
import type { WebGpuBackend } from "./backend.ts";

/**
 * out[offset .. offset+size) = value; zeros are a buffer clear ({@link Backend.fill}).
 *
 * @example
 * fill(be, s, 0);
 */
export function fill(
  be: WebGpuBackend,
  out: Storage,
  value: number,
  offset = 0,
  size?: number,
): void {
  const n = size ?? out.size - offset;
  if (n <= 0) return;
  const buf = be.b(out);
  const bits = out.dtype === "int32"
    ? (value | 0) >>> 0
    : new Uint32Array(new Float32Array([value]).buffer)[0];
  if (bits === 0) {
    be.rt.zero(buf, offset * 4, n * 4);
    return;
  }
  be.run(
    { file: "shape", entry: "fill", layout: "uw" },
    [null, buf],
    new Params().u(n, bits, offset),
    be.groups1(n),
  );
}

/**
 * Strided copy dst[dstView] (+)= src[srcView] over `shape` ({@link Backend.copy}).
 *
 * @example
 * // the transpose of a [2, 3] matrix into a [3, 2] one
 * const t = { offset: 0, strides: [1, 3] }, c = { offset: 0, strides: [2, 1] };
 * copy(be, src, t, dst, c, [3, 2], false);
 */
export function copy(
  be: WebGpuBackend,
  src: Storage,
  srcView: View,
  dst: Storage,
  dstView: View,
  shape: number[],
  accumulate: boolean,
): void {
  const n = prod(shape);
  if (n === 0) return;
  if (src.dtype !== dst.dtype) {
    throw new Error(`webgpu: copy from ${src.dtype} to ${dst.dtype} (use cast)`);
  }
  if (accumulate && dst.dtype !== "float32") {
    throw new Error("webgpu: accumulate copy needs float32");
  }
  const sb = be.b(src), db = be.b(dst);
  const m = mergeAxes(shape, [srcView.strides, dstView.strides]);
  if (sb === db) {
    // a buffer cannot be both read and written by one copy: go through a temporary
    const tmp = be.rt.alloc(n * 4);
    copyRaw(be, sb, srcView.offset, m.strides[0], tmp, 0, cStrides(m.shape), m.shape, false);
    copyRaw(be, tmp, 0, cStrides(m.shape), db, dstView.offset, m.strides[1], m.shape, accumulate);
    be.rt.release(tmp);
    return;
  }
  copyRaw(
    be,
    sb,
    srcView.offset,
    m.strides[0],
    db,
    dstView.offset,
    m.strides[1],
    m.shape,
    accumulate,
  );
}

/** Strided copy between two buffers (a buffer-to-buffer copy where both sides are contiguous). */
function copyRaw(
  be: WebGpuBackend,
  sb: GPUBuffer,
  sOff: number,
  sStr: number[],
  db: GPUBuffer,
  dOff: number,
  dStr: number[],
  shape: number[],
  acc: boolean,
): void {
  const n = prod(shape);
  if (!acc && shape.length === 1 && sStr[0] === 1 && dStr[0] === 1) {
    be.rt.copy(sb, sOff * 4, db, dOff * 4, n * 4);
    return;
  }
  if (shape.length > MAXD) {
    throw new Error(`webgpu: copy of ${shape.length} non-mergeable axes (max ${MAXD})`);
  }
  const p = new Params().u(n, shape.length).at(4).ua(shape, MAXD).ua(sStr, MAXD).ua(dStr, MAXD)
    .u(sOff, dOff);
  be.run(
    { file: "shape", entry: "copy_strided", layout: "urw", constants: { ACC: acc ? 1 : 0 } },
    [null, sb, db],
    p,
    be.groups1(n),
  );
}

/**
 * int32 → float32 or float32 → int32 (truncation) of `size` elements ({@link Backend.cast}).
 *
 * @example
 * cast(be, labels, asFloat, n);
 */
export function cast(be: WebGpuBackend, src: Storage, dst: Storage, size: number): void {
  if (size === 0) return;
  let entry: string;
  if (src.dtype === "int32" && dst.dtype === "float32") entry = "cast_i2f";
  else if (src.dtype === "float32" && dst.dtype === "int32") entry = "cast_f2i";
  else {
    const v = { offset: 0, strides: [1] };
    be.copy(src, v, dst, v, [size], false);
    return;
  }
  be.run(
    { file: "shape", entry, layout: "urw" },
    [null, be.b(src), be.b(dst)],
    new Params().u(size),
    be.groups1(size),
  );
}
