/**
 * Reductions, forward and backward side by side: sum, mean, max, min (values; gradient shared
 * evenly between ties, like torch.amax), argmax, var.
 *
 * @module
 */
import type { ReduceOp } from "../backend.ts";
import { empty, record, Tensor } from "../tensor.ts";
import {
  broadcastView,
  checkFloat,
  contiguousView,
  normAxes,
  normAxis,
  reshapeNoGrad,
} from "./util.ts";
import { kBinary, kUnary, mul as mulT, sub as subT } from "./elementwise.ts";

function keptShape(shape: readonly number[], axes: number[], keepdim: boolean): number[] {
  return keepdim
    ? shape.map((d, i) => (axes.includes(i) ? 1 : d))
    : shape.filter((_, i) => !axes.includes(i));
}

/** Raw reduction (no tape); result shaped with kept axes as size 1. */
export function kReduce(op: ReduceOp, x: Tensor, axes: number[]): Tensor {
  const out = empty(keptShape(x.shape, axes, true), {
    backend: x.backend,
    dtype: op === "argmax" ? "int32" : "float32",
  });
  x.backend.reduce(op, x.storage, [...x.shape], axes, out.storage);
  return out;
}

/** Broadcast copy of g (shape with 1s) to `shape`, no tape. */
export function kExpand(g: Tensor, shape: readonly number[]): Tensor {
  const out = empty(shape, { backend: g.backend });
  g.backend.copy(g.storage, broadcastView(g.shape, shape), out.storage, contiguousView(shape), [
    ...shape,
  ], false);
  return out;
}

/** Σ over `axes` (all by default). */
export function sum(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  checkFloat("sum", x);
  const ax = normAxes("sum", axes, x.ndim);
  const k = kReduce("sum", x, ax);
  const out = reshapeNoGrad(k, keptShape(x.shape, ax, keepdim));
  return record(out, "sum", [x], (g) => [kExpand(reshapeNoGrad(g, k.shape), x.shape)]);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  checkFloat("mean", x);
  const ax = normAxes("mean", axes, x.ndim);
  const n = ax.reduce((s, a) => s * x.shape[a], 1);
  const k = kUnary("mulScalar", kReduce("sum", x, ax), 1 / n);
  const out = reshapeNoGrad(k, keptShape(x.shape, ax, keepdim));
  return record(
    out,
    "mean",
    [x],
    (g) => [kExpand(kUnary("mulScalar", reshapeNoGrad(g, k.shape), 1 / n), x.shape)],
  );
}

function extreme(
  op: "max" | "min",
  x: Tensor,
  axes: number | number[] | undefined,
  keepdim: boolean,
): Tensor {
  checkFloat(op, x);
  const ax = normAxes(op, axes, x.ndim);
  const k = kReduce(op, x, ax);
  const out = reshapeNoGrad(k, keptShape(x.shape, ax, keepdim));
  return record(out, op, [x], (g) => {
    const mask = kBinary("eq", x, k); // broadcast
    const count = kReduce("sum", mask, ax);
    const share = kBinary("div", reshapeNoGrad(g, k.shape), count);
    return [kBinary("mul", mask, share)];
  });
}

/** Maximum over `axes` (all by default). */
export function max(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  return extreme("max", x, axes, keepdim);
}

/** Minimum over `axes` (all by default). */
export function min(x: Tensor, axes?: number | number[], keepdim = false): Tensor {
  return extreme("min", x, axes, keepdim);
}

/** Index of the first maximum along `axis` (int32, no gradient). */
export function argmax(x: Tensor, axis: number, keepdim = false): Tensor {
  const a = normAxis("argmax", axis, x.ndim);
  const k = kReduce("argmax", x, [a]);
  return reshapeNoGrad(k, keptShape(x.shape, [a], keepdim));
}

/** Variance over `axes` (unbiased by default, like torch.var). */
export function variance(
  x: Tensor,
  axes?: number | number[],
  unbiased = true,
  keepdim = false,
): Tensor {
  const ax = normAxes("var", axes, x.ndim);
  const n = ax.reduce((s, a) => s * x.shape[a], 1);
  // composed from taped ops so that it has a gradient
  const m = mean(x, ax, true);
  const d = subT(x, m);
  const s = sum(mulT(d, d), ax, keepdim);
  return mulT(s, 1 / Math.max(unbiased ? n - 1 : n, 1));
}
