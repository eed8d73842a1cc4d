/**
 * Elementwise ops, forward and backward side by side: arithmetic with broadcasting, unary math,
 * activations, comparisons, where.
 *
 * @module
 */
import type { BinaryOp, UnaryOp } from "../backend.ts";
import { empty, fmtShape, full, record, Tensor, TensorError } from "../tensor.ts";
import {
  broadcastShapes,
  broadcastView,
  checkFloat,
  checkSame,
  contiguousView,
  sumTo,
} from "./util.ts";

/** A tensor or a plain number (a scalar broadcast). */
export type TensorLike = Tensor | number;

// ---- raw kernels (no tape) ----

/** out = op(x) with no tape. */
export function kUnary(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const out = empty(x.shape, { backend: x.backend });
  x.backend.unary(op, x.storage, out.storage, x.size, alpha, beta);
  return out;
}

/** out = a op b with broadcasting and no tape. */
export function kBinary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape, { backend: a.backend });
  a.backend.binary(
    op,
    a.storage,
    broadcastView(a.shape, shape),
    b.storage,
    broadcastView(b.shape, shape),
    out.storage,
    shape,
  );
  return out;
}

function toTensor(x: TensorLike, like: Tensor): Tensor {
  return typeof x === "number" ? full([], x, { backend: like.backend }) : x;
}

// ---- binary arithmetic ----

function binaryOp(
  op: BinaryOp,
  a: Tensor,
  b: Tensor,
  grads: (g: Tensor, out: Tensor) => [Tensor | null, Tensor | null],
): Tensor {
  checkSame(op, a, b);
  checkFloat(op, a, b);
  const out = kBinary(op, a, b);
  return record(out, op, [a, b], (g) => {
    const [ga, gb] = grads(g, out);
    return [
      ga && a.requiresGrad ? sumTo(ga, a.shape) : null,
      gb && b.requiresGrad ? sumTo(gb, b.shape) : null,
    ];
  });
}

/** a + b (broadcasting; either may be a number). */
export function add(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && a instanceof Tensor) return unaryOp("addScalar", a, b);
  if (typeof a === "number" && b instanceof Tensor) return unaryOp("addScalar", b, a);
  const A = a as Tensor, B = b as Tensor;
  return binaryOp("add", A, B, (g) => [g, g]);
}

/** a − b. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && a instanceof Tensor) return unaryOp("addScalar", a, -b);
  if (typeof a === "number" && b instanceof Tensor) return unaryOp("affine", b, -1, a);
  return binaryOp("sub", a as Tensor, b as Tensor, (g, _o) => [g, kUnary("neg", g)]);
}

/** a · b (elementwise). */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && a instanceof Tensor) return unaryOp("mulScalar", a, b);
  if (typeof a === "number" && b instanceof Tensor) return unaryOp("mulScalar", b, a);
  const A = a as Tensor, B = b as Tensor;
  return binaryOp("mul", A, B, (g) => [
    A.requiresGrad ? kBinary("mul", g, B) : null,
    B.requiresGrad ? kBinary("mul", g, A) : null,
  ]);
}

/** a / b. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && a instanceof Tensor) {
    const A = a;
    const out = kBinary("div", A, full([], b, { backend: A.backend }));
    return record(out, "div", [A], (g) => [kUnary("mulScalar", g, 1 / b)]);
  }
  const A = toTensor(a, b as Tensor), B = toTensor(b, a as Tensor);
  return binaryOp("div", A, B, (g, out) => [
    A.requiresGrad ? kBinary("div", g, B) : null,
    B.requiresGrad ? kUnary("neg", kBinary("div", kBinary("mul", g, out), B)) : null,
  ]);
}

/** a ** b (elementwise; b may be a number). */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === "number" && a instanceof Tensor) return unaryOp("powScalar", a, b);
  const A = toTensor(a, b as Tensor), B = toTensor(b, a as Tensor);
  return binaryOp("pow", A, B, (g, out) => [
    A.requiresGrad
      ? kBinary("mul", g, kBinary("mul", B, kBinary("pow", A, kUnary("addScalar", B, -1))))
      : null,
    B.requiresGrad ? kBinary("mul", g, kBinary("mul", out, kUnary("log", A))) : null,
  ]);
}

/** Elementwise maximum (gradient split evenly at ties, as PyTorch). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return minmax("max", a, b);
}

/** Elementwise minimum. */
export function minimum(a: Tensor, b: Tensor): Tensor {
  return minmax("min", a, b);
}

function minmax(op: "max" | "min", a: Tensor, b: Tensor): Tensor {
  return binaryOp(op, a, b, (g) => {
    const wa = kBinary(op === "max" ? "gt" : "lt", a, b);
    const eq = kBinary("eq", a, b);
    const wA = kBinary("add", wa, kUnary("mulScalar", eq, 0.5)); // weight of a
    const ga = kBinary("mul", g, wA);
    const gb = kBinary("sub", g, ga);
    return [ga, gb];
  });
}

// ---- comparisons (no gradient; 0/1 float results) ----

function cmp(op: BinaryOp, a: TensorLike, b: TensorLike): Tensor {
  const A = toTensor(a, b as Tensor), B = toTensor(b, a as Tensor);
  checkSame(op, A, B);
  return kBinary(op, A, B);
}
/** a > b as 0/1. */
export const gt = (a: TensorLike, b: TensorLike): Tensor => cmp("gt", a, b);
/** a ≥ b as 0/1. */
export const ge = (a: TensorLike, b: TensorLike): Tensor => cmp("ge", a, b);
/** a < b as 0/1. */
export const lt = (a: TensorLike, b: TensorLike): Tensor => cmp("lt", a, b);
/** a ≤ b as 0/1. */
export const le = (a: TensorLike, b: TensorLike): Tensor => cmp("le", a, b);
/** a = b as 0/1. */
export const eq = (a: TensorLike, b: TensorLike): Tensor => cmp("eq", a, b);
/** a ≠ b as 0/1. */
export const ne = (a: TensorLike, b: TensorLike): Tensor => cmp("ne", a, b);

// ---- where ----

/** cond ≠ 0 ? a : b, broadcasting all three. Gradients flow to a and b (not cond). */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const A = toTensor(a, cond), B = toTensor(b, cond);
  checkSame("where", cond, A, B);
  checkFloat("where", A, B);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, A.shape), B.shape);
  const out = empty(shape, { backend: cond.backend });
  out.backend.where(
    cond.storage,
    broadcastView(cond.shape, shape),
    A.storage,
    broadcastView(A.shape, shape),
    B.storage,
    broadcastView(B.shape, shape),
    out.storage,
    shape,
  );
  return record(out, "where", [A, B], (g) => {
    const zero = full([], 0, { backend: g.backend });
    const gA = A.requiresGrad ? sumTo(kWhere(cond, g, zero, shape), A.shape) : null;
    const gB = B.requiresGrad ? sumTo(kWhere(cond, zero, g, shape), B.shape) : null;
    return [gA, gB];
  });
}

function kWhere(c: Tensor, a: Tensor, b: Tensor, shape: number[]): Tensor {
  const out = empty(shape, { backend: c.backend });
  c.backend.where(
    c.storage,
    broadcastView(c.shape, shape),
    a.storage,
    broadcastView(a.shape, shape),
    b.storage,
    broadcastView(b.shape, shape),
    out.storage,
    shape,
  );
  return out;
}

// ---- unary ----

/** Ops whose backward reads the output y instead of the input x. */
const READS_Y = new Set<UnaryOp>(["exp", "sqrt", "rsqrt", "tanh", "sigmoid"]);

function unaryOp(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  checkFloat(op, x);
  const out = kUnary(op, x, alpha, beta);
  return record(out, op, [x], (g) => {
    if (op === "addScalar") return [g];
    const dx = empty(x.shape, { backend: x.backend });
    const y = READS_Y.has(op);
    x.backend.unaryBackward(
      op,
      y ? null : x.storage,
      y ? out.storage : null,
      g.storage,
      dx.storage,
      x.size,
      alpha,
      beta,
    );
    return [dx];
  });
}

/** −x. */
export const neg = (x: Tensor): Tensor => unaryOp("neg", x);
/** eˣ. */
export const exp = (x: Tensor): Tensor => unaryOp("exp", x);
/** ln x. */
export const log = (x: Tensor): Tensor => unaryOp("log", x);
/** ln(1 + x). */
export const log1p = (x: Tensor): Tensor => unaryOp("log1p", x);
/** √x. */
export const sqrt = (x: Tensor): Tensor => unaryOp("sqrt", x);
/** 1/√x. */
export const rsqrt = (x: Tensor): Tensor => unaryOp("rsqrt", x);
/** |x| (gradient sign(x), 0 at 0). */
export const abs = (x: Tensor): Tensor => unaryOp("abs", x);
/** sign(x) (zero gradient). */
export const sign = (x: Tensor): Tensor => unaryOp("sign", x);
/** x². */
export const square = (x: Tensor): Tensor => unaryOp("square", x);
/** 1/x. */
export const reciprocal = (x: Tensor): Tensor => unaryOp("recip", x);
/** max(x, 0). */
export const relu = (x: Tensor): Tensor => unaryOp("relu", x);
/** x ≥ 0 ? x : slope·x (PyTorch default slope 0.01). */
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => unaryOp("leakyRelu", x, slope);
/** tanh x. */
export const tanh = (x: Tensor): Tensor => unaryOp("tanh", x);
/** 1/(1 + e⁻ˣ). */
export const sigmoid = (x: Tensor): Tensor => unaryOp("sigmoid", x);
/** ln(1 + eˣ) (stable). */
export const softplus = (x: Tensor): Tensor => unaryOp("softplus", x);
/** clamp(x, min, max); either bound may be omitted (±Infinity). */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  if (min > max) throw new TensorError("clamp", `min ${min} > max ${max}`);
  return unaryOp("clamp", x, min, max);
}
/** x·a + b. */
export const affine = (x: Tensor, a: number, b: number): Tensor => unaryOp("affine", x, a, b);

/** x − y with shapes that must match exactly (no broadcasting), for losses. */
export function checkSameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new TensorError(op, `shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ`);
  }
}

export { contiguousView };
