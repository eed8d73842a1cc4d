/**
 * The elementwise family of the wasm backend (lib/tensor/ops/elementwise.ts): unary functions and
 * their gradients, broadcasting binary ops and `where`, on the engine's `unary`,
 * `unary_backward`, `binary` and `where_` kernels. Contiguous work is split into 16-aligned
 * ranges, strided work along its first collapsed axis.
 *
 * @module
 */
import type { BinaryOp, Storage, UnaryOp, View } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";
import { collapse, ranges, stridedRun, stridedRunOp, stridesOf } from "./launch.ts";

/** The engine's unary op codes. */
const UNARY: Record<UnaryOp, number> = {
  neg: 0,
  exp: 1,
  log: 2,
  log1p: 3,
  sqrt: 4,
  rsqrt: 5,
  abs: 6,
  sign: 7,
  square: 8,
  recip: 9,
  relu: 10,
  leakyRelu: 11,
  tanh: 12,
  sigmoid: 13,
  softplus: 14,
  powScalar: 15,
  clamp: 16,
  addScalar: 17,
  mulScalar: 18,
  affine: 19,
};

/** The engine's binary op codes. */
const BINARY: Record<BinaryOp, number> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  max: 5,
  min: 6,
  gt: 7,
  ge: 8,
  lt: 9,
  le: 10,
  eq: 11,
  ne: 12,
};

/**
 * out[i] = op(x[i]) for i < size ({@link Backend.unary}).
 *
 * @example
 * unary(be, "relu", x, y, n);
 */
export function unary(
  be: WasmBackend,
  op: UnaryOp,
  x: Storage,
  out: Storage,
  size: number,
  alpha = 0,
  beta = 0,
): void {
  const px = be.p(x), po = be.p(out);
  be.run(
    "unary",
    ranges(size, be.parts(size)).map((
      [a, b],
    ) => [UNARY[op], px + a * 4, po + a * 4, b - a, alpha, beta]),
  );
}

/**
 * dx[i] = dy[i] · op'(…) for i < size ({@link Backend.unaryBackward}).
 *
 * @example
 * unaryBackward(be, "relu", x, null, dy, dx, n);
 */
export function unaryBackward(
  be: WasmBackend,
  op: UnaryOp,
  x: Storage | null,
  y: Storage | null,
  dy: Storage,
  dx: Storage,
  size: number,
  alpha = 0,
  beta = 0,
): void {
  const px = be.p(x), py = be.p(y), pg = be.p(dy), pd = be.p(dx);
  const off = (p: number, a: number) => (p === 0 ? 0 : p + a * 4);
  be.run(
    "unary_backward",
    ranges(size, be.parts(size)).map((
      [a, b],
    ) => [UNARY[op], off(px, a), off(py, a), pg + a * 4, pd + a * 4, b - a, alpha, beta, 0]),
  );
}

/**
 * out = a op b over `shape`, broadcasting through the views ({@link Backend.binary}).
 *
 * @example
 * const row = { offset: 0, strides: [0, 1] }; // b [3] broadcast over 2 rows
 * binary(be, "add", a, { offset: 0, strides: [3, 1] }, b, row, out, [2, 3]);
 */
export function binary(
  be: WasmBackend,
  op: BinaryOp,
  a: Storage,
  aView: View,
  b: Storage,
  bView: View,
  out: Storage,
  shape: number[],
): void {
  if (shape.some((d) => d === 0)) return;
  const outStrides = stridesOf(shape);
  const c = collapse(shape, [aView.strides, bView.strides, outStrides]);
  if (c.shape.length > 8) throw new Error(`wasm backend: binary over ${c.shape.length} axes`);
  const pa = be.p(a), pb = be.p(b), po = be.p(out);
  stridedRunOp(
    be,
    "binary",
    BINARY[op],
    c.shape,
    [c.strides[0], c.strides[1]],
    [aView.offset, bView.offset],
    [pa, pb],
    po,
  );
}

/**
 * out = cond ≠ 0 ? a : b over `shape` ({@link Backend.where}).
 *
 * @example
 * where(be, mask, v, a, v, b, v, out, [n]);
 */
export function where(
  be: WasmBackend,
  cond: Storage,
  condView: View,
  a: Storage,
  aView: View,
  b: Storage,
  bView: View,
  out: Storage,
  shape: number[],
): void {
  if (shape.some((d) => d === 0)) return;
  const c = collapse(shape, [condView.strides, aView.strides, bView.strides, stridesOf(shape)]);
  stridedRun(
    be,
    "where_",
    c.shape,
    [c.strides[0], c.strides[1], c.strides[2]],
    [condView.offset, aView.offset, bView.offset],
    [be.p(cond), be.p(a), be.p(b)],
    be.p(out),
    [],
  );
}
