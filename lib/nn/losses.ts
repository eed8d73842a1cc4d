/**
 * Losses with PyTorch's definitions and reductions ("mean" default, "sum", "none"), built from
 * differentiable tensor ops: L1, MSE, BCE with logits (weight, pos_weight), cross-entropy
 * (class indices or probabilities; class weights; label smoothing; ignore_index), and Dice
 * (PyTorch has none: the common soft Dice, 1 − (2Σpt + s)/(Σp + Σt + s)).
 *
 * @example
 * ```ts
 * const loss = bceWithLogits(logits, ones);            // scalar tensor
 * const ce = crossEntropy(logits, labels, { weight: w, labelSmoothing: 0.1 });
 * ```
 * @module
 */
import {
  empty,
  fmtShape,
  full,
  noGrad,
  record,
  type Tensor,
  TensorError,
} from "../tensor/tensor.ts";
import {
  abs,
  add,
  div,
  eq,
  logSoftmax,
  mean,
  mul,
  neg,
  relu,
  reshape,
  sigmoid,
  softplus,
  square,
  sub,
  sum,
} from "../tensor/ops/mod.ts";

/** How per-element losses are combined. */
export type Reduction = "mean" | "sum" | "none";

function reduce(l: Tensor, r: Reduction): Tensor {
  if (r === "none") return l;
  return r === "sum" ? sum(l) : mean(l);
}

function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new TensorError(
      op,
      `input ${fmtShape(a.shape)} and target ${fmtShape(b.shape)} differ in shape`,
    );
  }
}

/** mean |x − y| (torch.nn.L1Loss). */
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  sameShape("l1Loss", input, target);
  return reduce(abs(sub(input, target)), reduction);
}

/** mean (x − y)² (torch.nn.MSELoss). */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = "mean"): Tensor {
  sameShape("mseLoss", input, target);
  return reduce(square(sub(input, target)), reduction);
}

/** Options of {@link bceWithLogits}. */
export interface BceOptions {
  /** Per-element weight, broadcast to the input. */
  weight?: Tensor;
  /** Weight of positive examples, broadcast along the last axis (torch's pos_weight). */
  posWeight?: Tensor;
  reduction?: Reduction;
}

/**
 * Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss). Value:
 * max(x, 0) − x·y + log(1 + e^−|x|) (with pos_weight: (1 − y)·x + (1 + (pw − 1)·y)·(log(1 + e^−|x|)
 * + max(−x, 0))), stable for any |x|; gradient written directly as σ(x) − y (with pos_weight:
 * (1 − y) − (1 + (pw − 1)·y)·(1 − σ(x))), as PyTorch's, also at x = 0.
 */
export function bceWithLogits(input: Tensor, target: Tensor, o: BceOptions = {}): Tensor {
  sameShape("bceWithLogits", input, target);
  const y = target.detach();
  const pw = o.posWeight ? o.posWeight.detach() : null;
  const lw = pw ? noGrad(() => add(1, mul(sub(pw, 1), y))) : null;
  const x0 = input.detach();
  const value = noGrad(() => {
    const sp = softplus(neg(abs(x0))); // log(1 + e^−|x|)
    if (!lw) return add(sub(relu(x0), mul(x0, y)), sp);
    return add(mul(sub(1, y), x0), mul(lw, add(sp, relu(neg(x0)))));
  });
  let l = record(value, "bceWithLogits", [input], (g) => {
    const s = sigmoid(x0);
    const d = lw ? sub(sub(1, y), mul(lw, sub(1, s))) : sub(s, y);
    return [mul(g, d)];
  });
  if (o.weight) l = mul(l, o.weight);
  return reduce(l, o.reduction ?? "mean");
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Class weights [C]. */
  weight?: Tensor;
  /** ε in [0, 1): targets become (1 − ε)·onehot + ε/C. */
  labelSmoothing?: number;
  /** Class index whose samples are ignored (class-index targets only; default −100). */
  ignoreIndex?: number;
  reduction?: Reduction;
}

/** Labels (int32 or float tensor of class indices) as float32 without the tape. */
function labelsAsFloat(t: Tensor): Tensor {
  if (t.dtype === "float32") return t.detach();
  const f = empty(t.shape, { backend: t.backend });
  t.backend.cast(t.storage, f.storage, t.size);
  return f;
}

/**
 * Cross-entropy of logits [N, C] or [N, C, d1, …] (torch.nn.CrossEntropyLoss). `target`:
 * class indices [N] / [N, d1, …] (int32, or float holding integers), or class probabilities
 * with the input's shape (float32).
 */
export function crossEntropy(input: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const op = "crossEntropy";
  if (input.ndim < 2) {
    throw new TensorError(op, `input must be [N, C, …], got ${fmtShape(input.shape)}`);
  }
  const C = input.shape[1];
  const eps = o.labelSmoothing ?? 0;
  if (eps < 0 || eps > 1) {
    throw new TensorError(op, `label smoothing must be in [0, 1], got ${eps}`);
  }
  const reduction = o.reduction ?? "mean";
  if (o.weight && (o.weight.ndim !== 1 || o.weight.shape[0] !== C)) {
    throw new TensorError(op, `weight ${fmtShape(o.weight.shape)} for ${C} classes`);
  }
  const bshape = [1, C, ...input.shape.slice(2).map(() => 1)];
  const w = o.weight ? reshape(o.weight.detach(), bshape) : null;
  const logp = logSoftmax(input, 1);
  const probTarget = target.ndim === input.ndim;
  if (probTarget) {
    sameShape(op, input, target);
    let t = target.detach();
    if (eps > 0) t = add(mul(t, 1 - eps), eps / C);
    let wl = mul(logp, t);
    if (w) wl = mul(wl, w);
    const per = neg(sum(wl, 1));
    return reduce(per, reduction);
  }
  const want = [input.shape[0], ...input.shape.slice(2)];
  if (target.ndim !== want.length || target.shape.some((d, i) => d !== want[i])) {
    throw new TensorError(
      op,
      `class-index target ${fmtShape(target.shape)} for input ${fmtShape(input.shape)} (expected ${
        fmtShape(want)
      })`,
    );
  }
  const yf = reshape(labelsAsFloat(target), [want[0], 1, ...want.slice(1)]);
  const classes = new Float32Array(C).map((_, i) => i);
  const iota = full(bshape, 0, { backend: input.backend });
  input.backend.write(iota.storage, classes);
  const onehot = eq(yf, iota); // [N, C, …] 0/1
  const ignore = o.ignoreIndex ?? -100;
  const valid = sub(1, eq(yf, full([], ignore, { backend: input.backend }))); // [N, 1, …]
  // per-sample weight of its class (0 where ignored)
  const wy = mul(w ? sum(mul(onehot, w), 1, true) : full([], 1, { backend: input.backend }), valid);
  const picked = sum(mul(onehot, logp), 1, true);
  const nll = neg(mul(picked, wy)); // [N, 1, …]
  let smooth: Tensor | null = null;
  if (eps > 0) {
    const wl = w ? mul(logp, w) : logp;
    smooth = mul(neg(sum(wl, 1, true)), valid);
  }
  let out: Tensor;
  if (reduction === "none") {
    out = reshape(nll, want);
    if (smooth) out = add(mul(out, 1 - eps), mul(reshape(smooth, want), eps / C));
    return out;
  }
  if (reduction === "sum") {
    out = sum(nll);
    if (smooth) out = add(mul(out, 1 - eps), mul(sum(smooth), eps / C));
    return out;
  }
  // mean: weighted by Σ w[y] (torch), or by the count of valid samples without weights
  const denom = sum(w ? wy : valid).detach();
  out = div(sum(nll), denom);
  if (smooth) out = add(mul(out, 1 - eps), mul(div(sum(smooth), denom), eps / C));
  return out;
}

/** Options of {@link diceLoss}. */
export interface DiceOptions {
  /** Added to numerator and denominator (default 1). */
  smooth?: number;
  /** Apply a sigmoid to the input first (default false: the input holds probabilities). */
  fromLogits?: boolean;
  /** "global" (default): one Dice over everything; "sample": per sample, then the reduction. */
  per?: "global" | "sample";
  reduction?: Reduction;
}

/** Soft Dice loss 1 − (2Σ p·t + s)/(Σ p + Σ t + s). */
export function diceLoss(input: Tensor, target: Tensor, o: DiceOptions = {}): Tensor {
  sameShape("diceLoss", input, target);
  const s = o.smooth ?? 1;
  const p = o.fromLogits ? sigmoid(input) : input;
  const t = target.detach();
  if ((o.per ?? "global") === "global") {
    const inter = sum(mul(p, t));
    const den = add(add(sum(p), sum(t)), s);
    return sub(1, div(add(mul(inter, 2), s), den));
  }
  const axes = Array.from({ length: input.ndim - 1 }, (_, i) => i + 1);
  const inter = sum(mul(p, t), axes);
  const den = add(add(sum(p, axes), sum(t, axes)), s);
  const l = sub(1, div(add(mul(inter, 2), s), den));
  return reduce(l, o.reduction ?? "mean");
}
