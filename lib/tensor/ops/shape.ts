/**
 * Shape ops, forward and backward side by side: reshape (free), permute/transpose, expand,
 * slice, concat, stack, pad, clone. Everything but reshape copies into a new contiguous tensor
 * through the backend's strided `copy`.
 *
 * @module
 */
import { empty, fmtShape, record, sizeOf, stridesOf, Tensor, TensorError } from "../tensor.ts";
import { broadcastShapes, broadcastView, contiguousView, normAxis, sumTo } from "./util.ts";

/** Same elements, new shape (one axis may be −1). Shares storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) {
      throw new TensorError("reshape", `cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
    }
    s[neg] = x.size / rest;
  }
  if (sizeOf(s) !== x.size || s.some((d) => d < 0 || !Number.isInteger(d))) {
    throw new TensorError("reshape", `cannot reshape ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  const out = new Tensor(x.storage, s);
  return record(out, "reshape", [x], (g) => [new Tensor(g.storage, x.shape)]);
}

/** Flattens axes start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis("flatten", start, x.ndim), e = normAxis("flatten", end, x.ndim);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Inserts an axis of size 1. */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis("unsqueeze", axis, x.ndim + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

/** Removes axes of size 1 (the given one, or all). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normAxis("squeeze", axis, x.ndim);
  if (x.shape[a] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Reorders axes: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (
    perm.length !== x.ndim ||
    new Set(perm.map((p) => normAxis("permute", p, x.ndim))).size !== x.ndim
  ) {
    throw new TensorError(
      "permute",
      `bad permutation [${perm.join(", ")}] for ${fmtShape(x.shape)}`,
    );
  }
  const p = perm.map((a) => normAxis("permute", a, x.ndim));
  if (p.every((a, i) => a === i)) return x;
  const out = kPermute(x, p);
  const inv = new Array<number>(p.length);
  p.forEach((a, i) => (inv[a] = i));
  return record(out, "permute", [x], (g) => [kPermute(g, inv)]);
}

/** Permute copy without the tape. */
export function kPermute(x: Tensor, p: readonly number[]): Tensor {
  const st = stridesOf(x.shape);
  const shape = p.map((a) => x.shape[a]);
  const out = empty(shape, { backend: x.backend, dtype: x.dtype });
  x.backend.copy(
    x.storage,
    { offset: 0, strides: p.map((a) => st[a]) },
    out.storage,
    contiguousView(shape),
    shape,
    false,
  );
  return out;
}

/** Swaps two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const p = [...Array(x.ndim).keys()];
  const i = normAxis("transpose", a, x.ndim), j = normAxis("transpose", b, x.ndim);
  [p[i], p[j]] = [p[j], p[i]];
  return permute(x, p);
}

/** Broadcasts to `shape` (materialised). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const s = broadcastShapes("expand", x.shape, shape);
  if (s.length !== shape.length || s.some((d, i) => d !== shape[i])) {
    throw new TensorError("expand", `cannot expand ${fmtShape(x.shape)} to ${fmtShape(shape)}`);
  }
  const out = empty(s, { backend: x.backend, dtype: x.dtype });
  x.backend.copy(x.storage, broadcastView(x.shape, s), out.storage, contiguousView(s), s, false);
  return record(out, "expand", [x], (g) => [sumTo(g, x.shape)]);
}

/** A copy (new storage, with the tape). */
export function clone(x: Tensor): Tensor {
  const out = empty(x.shape, { backend: x.backend, dtype: x.dtype });
  const v = contiguousView(x.shape);
  x.backend.copy(x.storage, v, out.storage, v, [...x.shape], false);
  return record(out, "clone", [x], (g) => [g]);
}

/** One axis' range: [start, end) with step (Python semantics; negatives count from the end). */
export type Range = [number, number?, number?] | null;

function resolveRange(op: string, r: Range, n: number): [number, number, number] {
  if (!r) return [0, n, 1];
  const step = r[2] ?? 1;
  if (step <= 0 || !Number.isInteger(step)) {
    throw new TensorError(op, `step must be a positive integer, got ${step}`);
  }
  let s = r[0] ?? 0, e = r[1] ?? n;
  if (s < 0) s += n;
  if (e < 0) e += n;
  s = Math.min(Math.max(s, 0), n);
  e = Math.min(Math.max(e, s), n);
  return [s, e, step];
}

/** x[r0, r1, …] with one range (or null = all) per leading axis. */
export function slice(x: Tensor, ranges: Range[]): Tensor {
  if (ranges.length > x.ndim) {
    throw new TensorError("slice", `${ranges.length} ranges for ${fmtShape(x.shape)}`);
  }
  const st = stridesOf(x.shape);
  const shape: number[] = [];
  const strides: number[] = [];
  let offset = 0;
  for (let i = 0; i < x.ndim; i++) {
    const [s, e, step] = resolveRange("slice", ranges[i] ?? null, x.shape[i]);
    shape.push(Math.ceil((e - s) / step));
    strides.push(st[i] * step);
    offset += s * st[i];
  }
  const view = { offset, strides };
  const out = empty(shape, { backend: x.backend, dtype: x.dtype });
  x.backend.copy(x.storage, view, out.storage, contiguousView(shape), shape, false);
  return record(out, "slice", [x], (g) => {
    const dx = empty(x.shape, { backend: x.backend });
    x.backend.fill(dx.storage, 0);
    x.backend.copy(g.storage, contiguousView(shape), dx.storage, view, shape, false);
    return [dx];
  });
}

/** `length` elements of `axis` from `start`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normAxis("narrow", axis, x.ndim);
  const r: Range[] = x.shape.map(() => null);
  r[a] = [start, start + length];
  return slice(x, r);
}

/** Concatenates along `axis` (shapes must agree elsewhere). */
export function cat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new TensorError("cat", "no tensors");
  const x0 = xs[0];
  const a = normAxis("cat", axis, x0.ndim);
  for (const x of xs) {
    if (
      x.ndim !== x0.ndim || x.shape.some((d, i) => i !== a && d !== x0.shape[i]) ||
      x.backend !== x0.backend || x.dtype !== x0.dtype
    ) {
      throw new TensorError(
        "cat",
        `cannot concatenate ${xs.map((t) => fmtShape(t.shape)).join(" and ")} along axis ${axis}`,
      );
    }
  }
  const shape = [...x0.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a], 0);
  const out = empty(shape, { backend: x0.backend, dtype: x0.dtype });
  const ost = stridesOf(shape);
  const offsets: number[] = [];
  let off = 0;
  for (const x of xs) {
    offsets.push(off * ost[a]);
    x0.backend.copy(
      x.storage,
      contiguousView(x.shape),
      out.storage,
      { offset: off * ost[a], strides: ost },
      [...x.shape],
      false,
    );
    off += x.shape[a];
  }
  return record(out, "cat", xs, (g) =>
    xs.map((x, i) => {
      if (!x.requiresGrad) return null;
      const dx = empty(x.shape, { backend: x.backend });
      x.backend.copy(
        g.storage,
        { offset: offsets[i], strides: ost },
        dx.storage,
        contiguousView(x.shape),
        [...x.shape],
        false,
      );
      return dx;
    }));
}

/** Stacks equal shapes along a new axis. */
export function stack(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new TensorError("stack", "no tensors");
  const a = normAxis("stack", axis, xs[0].ndim + 1);
  return cat(xs.map((x) => unsqueeze(x, a)), a);
}

/** Splits along `axis` into pieces of `size` (the last may be smaller). */
export function split(x: Tensor, size: number, axis = 0): Tensor[] {
  const a = normAxis("split", axis, x.ndim);
  const out: Tensor[] = [];
  for (let s = 0; s < x.shape[a]; s += size) {
    out.push(narrow(x, a, s, Math.min(size, x.shape[a] - s)));
  }
  return out;
}

/**
 * Constant padding in F.pad order: [left, right] of the last axis, then [top, bottom] of the one
 * before, …; negative amounts crop.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new TensorError("pad", `padding [${pads.join(", ")}] does not fit ${fmtShape(x.shape)}`);
  }
  const shape = [...x.shape];
  const lo = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const ax = x.ndim - 1 - i;
    lo[ax] = pads[2 * i];
    shape[ax] += pads[2 * i] + pads[2 * i + 1];
    if (shape[ax] < 0) {
      throw new TensorError(
        "pad",
        `padding [${pads.join(", ")}] crops ${fmtShape(x.shape)} below zero`,
      );
    }
  }
  // The overlap of x and out: in x from max(0,−lo) for min(xdim, outdim − max(lo,0)…).
  const xs = stridesOf(x.shape), os = stridesOf(shape);
  const inner: number[] = [];
  let xOff = 0, oOff = 0;
  for (let i = 0; i < x.ndim; i++) {
    const xStart = Math.max(0, -lo[i]);
    const oStart = Math.max(0, lo[i]);
    inner.push(Math.max(0, Math.min(x.shape[i] - xStart, shape[i] - oStart)));
    xOff += xStart * xs[i];
    oOff += oStart * os[i];
  }
  const xv = { offset: xOff, strides: xs }, ov = { offset: oOff, strides: os };
  const out = empty(shape, { backend: x.backend, dtype: x.dtype });
  x.backend.fill(out.storage, value);
  if (sizeOf(inner) > 0) x.backend.copy(x.storage, xv, out.storage, ov, inner, false);
  return record(out, "pad", [x], (g) => {
    const dx = empty(x.shape, { backend: x.backend });
    x.backend.fill(dx.storage, 0);
    if (sizeOf(inner) > 0) x.backend.copy(g.storage, ov, dx.storage, xv, inner, false);
    return [dx];
  });
}
