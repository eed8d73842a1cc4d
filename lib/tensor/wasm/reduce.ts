/**
 * The reduce family of the wasm backend (lib/tensor/ops/reduce.ts): sum, max, min and argmax over
 * axes, on the engine's `reduce` kernel (sums accumulate in f64).
 *
 * @module
 */
import type { ReduceOp, Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";
import { collapse, stridesOf } from "./launch.ts";

/** The engine's reduction codes. */
const REDUCE: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, argmax: 3 };

/**
 * Reduces contiguous `x` of `shape` over `axes` into `out` ({@link Backend.reduce}).
 *
 * @example
 * reduce(be, "sum", x, [4, 5], [1], out); // out [4]
 */
export function reduce(
  be: WasmBackend,
  op: ReduceOp,
  x: Storage,
  shape: number[],
  axes: number[],
  out: Storage,
): void {
  const st = stridesOf(shape);
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const ck = collapse(kept.map((i) => shape[i]), [kept.map((i) => st[i])]);
  // argmax needs the flat index in the reduced block: no collapsing needed there (one axis).
  const cr = op === "argmax"
    ? { shape: axes.map((i) => shape[i]), strides: [axes.map((i) => st[i])] }
    : collapse(axes.map((i) => shape[i]), [axes.map((i) => st[i])]);
  if (ck.shape.length > 8 || cr.shape.length > 8) {
    throw new Error("wasm backend: reduce over too many axes");
  }
  const px = be.p(x), po = be.p(out);
  const total = shape.reduce((a, d) => a * d, 1);
  const nk = ck.shape.length;
  // split the first kept axis across threads: every output is one thread's, in the same order
  const parts = nk === 0 ? 1 : Math.min(be.parts(total), ck.shape[0]);
  if (parts <= 1) {
    const prm = be.params([
      nk,
      ...ck.shape,
      ...ck.strides[0],
      cr.shape.length,
      ...cr.shape,
      ...cr.strides[0],
    ]);
    be.engine.reduce(REDUCE[op], px, po, prm);
    return;
  }
  const rowOut = ck.shape.slice(1).reduce((a, d) => a * d, 1);
  const per = Math.ceil(ck.shape[0] / parts);
  const lists: number[][] = [];
  for (let t = 0, a = 0; a < ck.shape[0]; t++, a += per) {
    const b = Math.min(ck.shape[0], a + per);
    const prm = be.paramsAt(t, [
      nk,
      b - a,
      ...ck.shape.slice(1),
      ...ck.strides[0],
      cr.shape.length,
      ...cr.shape,
      ...cr.strides[0],
    ]);
    lists.push([REDUCE[op], px + a * ck.strides[0][0] * 4, po + a * rowOut * 4, prm]);
  }
  be.run("reduce", lists);
}
