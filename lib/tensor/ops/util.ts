/**
 * Helpers shared by the op files: broadcasting, views, axis normalisation, reduce-to-shape.
 *
 * @module
 */
import type { View } from "../backend.ts";
import { empty, fmtShape, sizeOf, stridesOf, Tensor, TensorError } from "../tensor.ts";

/** NumPy broadcasting of two shapes; throws naming both. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TensorError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** The view that reads a contiguous tensor of `shape` broadcast to `outShape`. */
export function broadcastView(shape: readonly number[], outShape: readonly number[]): View {
  const st = stridesOf(shape);
  const n = outShape.length;
  const strides = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const j = shape.length - n + i;
    strides[i] = j < 0 || shape[j] === 1 ? 0 : st[j];
  }
  return { offset: 0, strides };
}

/** The contiguous view of a shape. */
export function contiguousView(shape: readonly number[]): View {
  return { offset: 0, strides: stridesOf(shape) };
}

/** Normalises a possibly negative axis. */
export function normAxis(op: string, axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim || !Number.isInteger(a)) {
    throw new TensorError(op, `axis ${axis} out of range for ${ndim} dimensions`);
  }
  return a;
}

/** Normalised, sorted, unique axes (all axes when undefined). */
export function normAxes(op: string, axes: number | number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return [...Array(ndim).keys()];
  const list = typeof axes === "number" ? [axes] : axes;
  const s = [...new Set(list.map((a) => normAxis(op, a, ndim)))];
  return s.sort((x, y) => x - y);
}

/** Shares storage under a new shape (no tape). */
export function reshapeNoGrad(t: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(t.storage, shape, false);
}

/**
 * Sums a gradient of a broadcast result back to the input's `shape` (no tape). Returns `g`
 * itself when nothing was broadcast.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const n = g.shape.length;
  const axes: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = shape.length - n + i;
    if (j < 0 || (shape[j] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return reshapeNoGrad(g, shape);
  const kept = g.shape.filter((_, i) => !axes.includes(i));
  const out = empty(kept, { backend: g.backend });
  g.backend.reduce("sum", g.storage, [...g.shape], axes, out.storage);
  return reshapeNoGrad(out, shape);
}

/** Checks every tensor is on the same backend and float32 (names the op). */
export function checkSame(op: string, ...ts: Tensor[]): void {
  const b = ts[0].backend;
  for (const t of ts) {
    if (t.backend !== b) {
      throw new TensorError(op, `tensors on different backends (${b.name}, ${t.backend.name})`);
    }
  }
}

/** Checks float32. */
export function checkFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== "float32") {
      throw new TensorError(op, `expects float32, got ${t.dtype} tensor ${fmtShape(t.shape)}`);
    }
  }
}

/** Checks the number of dimensions. */
export function checkNdim(op: string, name: string, t: Tensor, ...ndims: number[]): void {
  if (!ndims.includes(t.ndim)) {
    throw new TensorError(
      op,
      `${name} must have ${ndims.join(" or ")} dimensions, got ${fmtShape(t.shape)}`,
    );
  }
}

export { sizeOf, stridesOf };
