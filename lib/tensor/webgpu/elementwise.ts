/**
 * The elementwise family of the webgpu backend (lib/tensor/ops/elementwise.ts): unary functions
 * and their gradients, broadcasting binary ops and `where`, on kernels/elementwise.wgsl (op codes
 * and the broadcast flag are override constants, so each op is its own pipeline).
 *
 * @module
 */
import type { BinaryOp, Storage, UnaryOp, View } from "../backend.ts";
import { Params } from "./runtime.ts";
import { isContig, MAXD, mergeAxes, prod } from "./axes.ts";
import type { WebGpuBackend } from "./backend.ts";

/** The kernels' unary op codes. */
const UNARY: Record<UnaryOp, number> = {
  neg: 1,
  exp: 2,
  log: 3,
  sqrt: 4,
  abs: 5,
  relu: 6,
  leakyRelu: 7,
  tanh: 8,
  sigmoid: 9,
  square: 10,
  recip: 11,
  rsqrt: 12,
  sign: 15,
  addScalar: 16,
  mulScalar: 17,
  powScalar: 18,
  clamp: 19,
  affine: 20,
  log1p: 23,
  softplus: 28,
};

/** The kernels' unary gradient codes. */
const UNARY_GRAD: Record<UnaryOp, number> = {
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
  affine: 18,
};

/** Ops whose gradient reads the forward output y (the rest read x). */
const GRAD_READS_Y = new Set<UnaryOp>(["exp", "sqrt", "rsqrt", "tanh", "sigmoid"]);

/** The kernels' binary op codes. */
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
  be: WebGpuBackend,
  op: UnaryOp,
  x: Storage,
  out: Storage,
  size: number,
  alpha = 0,
  beta = 0,
): void {
  if (size === 0) return;
  const code = UNARY[op];
  if (code === undefined) throw new Error(`webgpu: unknown unary op "${op}"`);
  be.run(
    { file: "elementwise", entry: "unary", layout: "urw", constants: { OP: code } },
    [null, be.b(x), be.b(out)],
    new Params().u(size).f(alpha, beta),
    be.groups1(size),
  );
}

/**
 * dx[i] (+)= dy[i] · op'(…) for i < size ({@link Backend.unaryBackward}); `accumulate` adds.
 *
 * @example
 * unaryBackward(be, "relu", x, null, dy, dx, n);
 */
export function unaryBackward(
  be: WebGpuBackend,
  op: UnaryOp,
  x: Storage | null,
  y: Storage | null,
  dy: Storage,
  dx: Storage,
  size: number,
  alpha = 0,
  beta = 0,
  accumulate = false,
): void {
  if (size === 0) return;
  const code = UNARY_GRAD[op];
  if (code === undefined) throw new Error(`webgpu: unknown unary op "${op}"`);
  const s = GRAD_READS_Y.has(op) ? y : x;
  const src = s
    ? be.b(s)
    : (op === "neg" || op === "sign" || op === "addScalar" || op === "mulScalar" ||
        op === "affine")
    ? be.b(dy)
    : null;
  if (!src) throw new Error(`webgpu: ${op} backward needs ${GRAD_READS_Y.has(op) ? "y" : "x"}`);
  be.run(
    {
      file: "elementwise",
      entry: "unary_grad",
      layout: "urrw",
      constants: { GOP: code, ACC: accumulate ? 1 : 0 },
    },
    [null, src, be.b(dy), be.b(dx)],
    new Params().u(size).f(alpha, beta),
    be.groups1(size),
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
  be: WebGpuBackend,
  op: BinaryOp,
  a: Storage,
  aView: View,
  b: Storage,
  bView: View,
  out: Storage,
  shape: number[],
): void {
  const n = prod(shape);
  if (n === 0) return;
  const code = BINARY[op];
  if (code === undefined) throw new Error(`webgpu: unknown binary op "${op}"`);
  const m = mergeAxes(shape, [aView.strides, bView.strides]);
  if (m.shape.length > MAXD) {
    throw new Error(`webgpu: binary over ${m.shape.length} axes (max ${MAXD})`);
  }
  const bcast = !(isContig(m.shape, m.strides[0]) && isContig(m.shape, m.strides[1]));
  const p = new Params().u(n, m.shape.length).f(0, 0).ua(m.shape, MAXD).ua(m.strides[0], MAXD)
    .ua(m.strides[1], MAXD).u(aView.offset, bView.offset);
  be.run(
    {
      file: "elementwise",
      entry: "binary",
      layout: "urrw",
      constants: { OP: code, BCAST: bcast ? 1 : 0 },
    },
    [null, be.b(a), be.b(b), be.b(out)],
    p,
    be.groups1(n),
  );
}

/**
 * out = cond ≠ 0 ? a : b over `shape` ({@link Backend.where}).
 *
 * @example
 * where(be, mask, v, a, v, b, v, out, [n]);
 */
export function where(
  be: WebGpuBackend,
  cond: Storage,
  condView: View,
  a: Storage,
  aView: View,
  b: Storage,
  bView: View,
  out: Storage,
  shape: number[],
): void {
  const n = prod(shape);
  if (n === 0) return;
  const m = mergeAxes(shape, [condView.strides, aView.strides, bView.strides]);
  if (m.shape.length > MAXD) {
    throw new Error(`webgpu: where over ${m.shape.length} axes (max ${MAXD})`);
  }
  const bcast = !m.strides.every((s) => isContig(m.shape, s));
  const p = new Params().u(n, m.shape.length).at(4).ua(m.shape, MAXD).ua(m.strides[0], MAXD)
    .ua(m.strides[1], MAXD).ua(m.strides[2], MAXD).u(condView.offset, aView.offset, bView.offset);
  be.run(
    {
      file: "elementwise",
      entry: "where_",
      layout: "urrrw",
      constants: { BCAST: bcast ? 1 : 0, CI32: cond.dtype === "int32" ? 1 : 0 },
    },
    [null, be.b(cond), be.b(a), be.b(b), be.b(out)],
    p,
    be.groups1(n),
  );
}
