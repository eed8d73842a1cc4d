/**
 * The shape family of the wasm backend (lib/tensor/ops/shape.ts): fills, strided copies
 * (permute, slice, pad, concat, expand and their backwards) and int32/float32 casts, on the
 * engine's `fill_f32`, `copy_strided` and `cast_*` kernels.
 *
 * @module
 */
import type { Storage, View } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";
import { collapse, ranges, stridedRun } from "./launch.ts";

/**
 * out[offset .. offset+size) = value ({@link Backend.fill}).
 *
 * @example
 * fill(be, s, 0);
 */
export function fill(
  be: WasmBackend,
  out: Storage,
  value: number,
  offset = 0,
  size?: number,
): void {
  const n = size ?? out.size - offset;
  if (out.dtype === "int32") {
    const b = be.p(out, offset) >> 2;
    be.i32.fill(value, b, b + n);
  } else {
    const p = be.p(out, offset);
    be.run(
      "fill_f32",
      ranges(n, be.parts(n)).map(([a, b]) => [p + a * 4, b - a, value]),
    );
  }
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
  be: WasmBackend,
  src: Storage,
  srcView: View,
  dst: Storage,
  dstView: View,
  shape: number[],
  accumulate: boolean,
): void {
  if (shape.some((d) => d === 0)) return;
  const c = collapse(shape, [srcView.strides, dstView.strides]);
  if (c.shape.length > 8) {
    throw new Error(`wasm backend: copy over ${c.shape.length} non-contiguous axes`);
  }
  if (accumulate && dst.dtype === "int32") throw new Error("wasm backend: accumulate into int32");
  stridedRun(
    be,
    "copy_strided",
    c.shape,
    [c.strides[0], c.strides[1]],
    [srcView.offset, dstView.offset],
    [be.p(src), be.p(dst)],
    null,
    [accumulate ? 1 : 0],
  );
}

/**
 * int32 → float32 or float32 → int32 (truncation) of `size` elements ({@link Backend.cast}).
 *
 * @example
 * cast(be, labels, asFloat, n);
 */
export function cast(be: WasmBackend, src: Storage, dst: Storage, size: number): void {
  if (src.dtype === "int32" && dst.dtype === "float32") {
    be.engine.cast_i32_f32(be.p(src), be.p(dst), size);
  } else if (src.dtype === "float32" && dst.dtype === "int32") {
    be.engine.cast_f32_i32(be.p(src), be.p(dst), size);
  } else {
    const v = { offset: 0, strides: [1] };
    be.copy(src, v, dst, v, [size], false);
  }
}
