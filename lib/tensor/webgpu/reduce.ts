/**
 * The reduce family of the webgpu backend (lib/tensor/ops/reduce.ts): sum, max, min and argmax
 * over axes on kernels/reduce.wgsl, one thread per output for short reductions or many outputs,
 * else one workgroup per output; the summation order depends on the shape alone.
 *
 * @module
 */
import type { ReduceOp, Storage } from "../backend.ts";
import { Params } from "./runtime.ts";
import { cStrides, MAXD, prod } from "./axes.ts";
import type { WebGpuBackend } from "./backend.ts";

/** The kernels' reduction codes. */
const REDUCE: Record<ReduceOp, number> = { sum: 0, max: 1, min: 2, argmax: 3 };

/**
 * Reduces contiguous `x` of `shape` over `axes` into `out` ({@link Backend.reduce});
 * `accumulate` adds into out.
 *
 * @example
 * reduce(be, "sum", x, [4, 5], [1], out);
 */
export function reduce(
  be: WebGpuBackend,
  op: ReduceOp,
  x: Storage,
  shape: number[],
  axes: number[],
  out: Storage,
  accumulate = false,
): void {
  const code = REDUCE[op];
  if (code === undefined) throw new Error(`webgpu: unknown reduction "${op}"`);
  const red = new Set(axes);
  if (op === "argmax" && axes.length !== 1) {
    throw new Error("webgpu: argmax reduces exactly one axis");
  }
  const xs = cStrides(shape);
  // groups of adjacent axes of the same class (kept / reduced), unit axes dropped
  const kShape: number[] = [], kStr: number[] = [], rShape: number[] = [], rStr: number[] = [];
  let lastClass = -1;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const cls = red.has(i) ? 1 : 0;
    const S = cls ? rShape : kShape, T = cls ? rStr : kStr;
    if (cls === lastClass) {
      S[S.length - 1] *= shape[i];
      T[T.length - 1] = xs[i];
    } else {
      S.push(shape[i]);
      T.push(xs[i]);
    }
    lastClass = cls;
  }
  const nOut = prod(kShape), nRed = prod(rShape);
  let nOutAll = 1;
  for (let i = 0; i < shape.length; i++) if (!red.has(i)) nOutAll *= shape[i];
  if (nOutAll === 0) return;
  if (kShape.length > MAXD || rShape.length > MAXD) {
    throw new Error("webgpu: reduction over too many axes");
  }
  const inner = rShape.length === 1 && rStr[0] === 1;
  const p = new Params().u(nOut, nRed, kShape.length, rShape.length).ua(kShape, MAXD)
    .ua(kStr, MAXD).ua(rShape, MAXD).ua(rStr, MAXD);
  const perThread = nRed < 128 || nOut >= 16384;
  be.run(
    {
      file: "reduce",
      entry: perThread ? "reduce_thread" : "reduce_wg",
      layout: "urw",
      constants: { OP: code, ACC: accumulate ? 1 : 0, INNER: inner ? 1 : 0 },
    },
    [null, nRed === 0 ? be.dummy(0) : be.b(x), be.b(out)],
    p,
    perThread ? be.groups1(nOut) : be.rt.grid(nOut),
  );
}
