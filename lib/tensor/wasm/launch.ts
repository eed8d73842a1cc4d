/**
 * How the wasm backend's family files launch engine kernels: axis collapsing of strided views,
 * the split of work into per-thread ranges, and strided kernels split along their first axis.
 *
 * @module
 */
import type { Engine } from "./abi.ts";
import type { WasmBackend } from "./backend.ts";

/**
 * Collapses adjacent axes that are contiguous in every view; drops size-1 axes.
 *
 * @example
 * collapse([2, 3], [[3, 1]]); // { shape: [6], strides: [[1]] }
 */
export function collapse(
  shape: number[],
  views: number[][],
): { shape: number[]; strides: number[][] } {
  const s: number[] = [];
  const st: number[][] = views.map(() => []);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const n = s.length;
    if (n > 0 && views.every((v, k) => st[k][n - 1] === v[i] * shape[i])) {
      s[n - 1] *= shape[i];
      views.forEach((v, k) => (st[k][n - 1] = v[i]));
    } else {
      s.push(shape[i]);
      views.forEach((v, k) => st[k].push(v[i]));
    }
  }
  return { shape: s, strides: st };
}

/**
 * C-order strides of a shape, in elements.
 *
 * @example
 * stridesOf([2, 3, 4]); // [12, 4, 1]
 */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/**
 * Splits [0, n) into `parts` ranges aligned to 16 elements.
 *
 * @example
 * ranges(100, 2); // [[0, 64], [64, 100]]
 */
export function ranges(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const step = Math.ceil(n / parts / 16) * 16;
  for (let s = 0; s < n; s += step) out.push([s, Math.min(n, s + step)]);
  return out;
}

/**
 * A strided kernel over a collapsed shape, split along axis 0 across threads. `strides` are the
 * operands' strides (element offsets in `offs`), `ptrs` their byte offsets; the output (if
 * `outPtr`) is contiguous. Calls fn(...ptrs, [out], prm, ...tail).
 *
 * @example
 * stridedRun(be, "copy_strided", [4, 5], [[5, 1], [1, 4]], [0, 0], [src, dst], null, [0]);
 */
export function stridedRun(
  be: WasmBackend,
  fn: keyof Engine,
  shape: number[],
  strides: number[][],
  offs: number[],
  ptrs: number[],
  outPtr: number | null,
  tail: number[],
): void {
  const nd = shape.length;
  const total = shape.reduce((a, b) => a * b, 1);
  const parts = nd === 0 ? 1 : Math.min(be.parts(total), shape[0]);
  if (parts <= 1) {
    const prm = be.params([nd, ...shape, ...strides.flat(), ...offs]);
    be.run(fn, [[...ptrs, ...(outPtr === null ? [] : [outPtr]), prm, ...tail]]);
    return;
  }
  const inner = total / shape[0];
  const lists: number[][] = [];
  const rows = Math.ceil(shape[0] / parts);
  for (let t = 0, r0 = 0; r0 < shape[0]; t++, r0 += rows) {
    const r1 = Math.min(shape[0], r0 + rows);
    const sh = [r1 - r0, ...shape.slice(1)];
    const prm = be.paramsAt(t, [
      nd,
      ...sh,
      ...strides.flat(),
      ...offs.map((o, k) => o + r0 * strides[k][0]),
    ]);
    lists.push([...ptrs, ...(outPtr === null ? [] : [outPtr + r0 * inner * 4]), prm, ...tail]);
  }
  be.run(fn, lists);
}

/**
 * {@link stridedRun} for kernels whose first argument is an op code (binary).
 *
 * @example
 * stridedRunOp(be, "binary", 0, [6], [[1], [0]], [0, 0], [a, b], out);
 */
export function stridedRunOp(
  be: WasmBackend,
  fn: keyof Engine,
  op: number,
  shape: number[],
  strides: number[][],
  offs: number[],
  ptrs: number[],
  outPtr: number,
): void {
  const nd = shape.length;
  const total = shape.reduce((a, b) => a * b, 1);
  const parts = nd === 0 ? 1 : Math.min(be.parts(total), shape[0]);
  if (parts <= 1) {
    const prm = be.params([nd, ...shape, ...strides.flat(), ...offs]);
    be.run(fn, [[op, ...ptrs, outPtr, prm]]);
    return;
  }
  const inner = total / shape[0];
  const lists: number[][] = [];
  const rows = Math.ceil(shape[0] / parts);
  for (let t = 0, r0 = 0; r0 < shape[0]; t++, r0 += rows) {
    const r1 = Math.min(shape[0], r0 + rows);
    const prm = be.paramsAt(t, [
      nd,
      r1 - r0,
      ...shape.slice(1),
      ...strides.flat(),
      ...offs.map((o, k) => o + r0 * strides[k][0]),
    ]);
    lists.push([op, ...ptrs, outPtr + r0 * inner * 4, prm]);
  }
  be.run(fn, lists);
}
