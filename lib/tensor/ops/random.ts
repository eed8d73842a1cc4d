/**
 * Seeded randomness: {@link Rng} (a Philox4x32-10 key and a block counter; state is two numbers,
 * saved and restored exactly), random tensors and dropout (forward and backward side by side).
 * Same seed and same calls → same bytes on the same backend.
 *
 * @module
 */
import type { RandomKind } from "../backend.ts";
import { getDefaultBackend } from "../backend.ts";
import { empty, record, Tensor, TensorError, type TensorOptions } from "../tensor.ts";
import { checkFloat } from "./util.ts";

/** The saved state of an {@link Rng}. */
export interface RngState {
  /** The seed (an integer below 2^53). */
  seed: number;
  /** 128-bit blocks consumed so far. */
  counter: number;
}

/** A counter-based random generator: every call consumes ceil(n/4) Philox blocks. */
export class Rng {
  seed: number;
  counter = 0;

  constructor(seed = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new TensorError("Rng", `seed must be an integer in [0, 2^53), got ${seed}`);
    }
    this.seed = seed;
  }

  /** Low and high 32 bits of the seed (the Philox key). */
  get key(): [number, number] {
    return [this.seed >>> 0, Math.floor(this.seed / 4294967296) >>> 0];
  }

  /** Reserves blocks for `n` numbers; returns the first block index. */
  take(n: number): number {
    const c = this.counter;
    this.counter += Math.ceil(n / 4);
    return c;
  }

  /** The state, for checkpoints. */
  state(): RngState {
    return { seed: this.seed, counter: this.counter };
  }

  /** Restores a saved state. */
  setState(s: RngState): void {
    this.seed = s.seed;
    this.counter = s.counter;
  }

  /** An independent generator derived from this one (consumes one block). */
  fork(): Rng {
    const c = this.take(4);
    return new Rng((this.seed * 31 + c * 7919 + 1) % 9007199254740881);
  }
}

/** The generator used when none is given. */
export const defaultRng: Rng = new Rng(0);

/** Re-seeds the default generator. */
export function manualSeed(seed: number): void {
  defaultRng.setState({ seed, counter: 0 });
}

function fill(t: Tensor, kind: RandomKind, rng: Rng, p = 0): void {
  const [lo, hi] = rng.key;
  t.backend.random(t.storage, t.size, kind, lo, hi, rng.take(t.size), p);
}

/** Uniform [lo, hi). */
export function rand(
  shape: readonly number[],
  rng: Rng = defaultRng,
  opts: TensorOptions & { low?: number; high?: number } = {},
): Tensor {
  const t = empty(shape, {
    backend: opts.backend ?? getDefaultBackend(),
    persistent: opts.persistent,
  });
  fill(t, "uniform", rng);
  const lo = opts.low ?? 0, hi = opts.high ?? 1;
  if (lo !== 0 || hi !== 1) affineInPlace(t, hi - lo, lo);
  t.requiresGrad = !!opts.requiresGrad;
  return t;
}

/** Normal(mean, std). */
export function randn(
  shape: readonly number[],
  rng: Rng = defaultRng,
  opts: TensorOptions & { mean?: number; std?: number } = {},
): Tensor {
  const t = empty(shape, {
    backend: opts.backend ?? getDefaultBackend(),
    persistent: opts.persistent,
  });
  fill(t, "normal", rng);
  const m = opts.mean ?? 0, s = opts.std ?? 1;
  if (m !== 0 || s !== 1) affineInPlace(t, s, m);
  t.requiresGrad = !!opts.requiresGrad;
  return t;
}

/** 1 with probability p, else 0. */
export function bernoulli(
  shape: readonly number[],
  p: number,
  rng: Rng = defaultRng,
  opts: TensorOptions = {},
): Tensor {
  const t = empty(shape, {
    backend: opts.backend ?? getDefaultBackend(),
    persistent: opts.persistent,
  });
  fill(t, "bernoulli", rng, p);
  return t;
}

/** t ← t·a + b in place (through a temporary: backends need not support aliasing). */
function affineInPlace(t: Tensor, a: number, b: number): void {
  const tmp = empty(t.shape, { backend: t.backend });
  t.backend.unary("affine", t.storage, tmp.storage, t.size, a, b);
  const v = { offset: 0, strides: [1] };
  t.backend.copy(tmp.storage, v, t.storage, v, [t.size], false);
  t.backend.free(tmp.storage);
}

/** Fills an existing tensor (e.g. a parameter) with U(low, high), in place, no tape. */
export function uniform_(t: Tensor, low: number, high: number, rng: Rng = defaultRng): Tensor {
  fill(t, "uniform", rng);
  affineInPlace(t, high - low, low);
  return t;
}

/** Fills an existing tensor with N(mean, std), in place, no tape. */
export function normal_(t: Tensor, mean: number, std: number, rng: Rng = defaultRng): Tensor {
  fill(t, "normal", rng);
  affineInPlace(t, std, mean);
  return t;
}

/**
 * Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1−p)
 * when `training`; identity otherwise.
 */
export function dropout(x: Tensor, p = 0.5, training = true, rng: Rng = defaultRng): Tensor {
  checkFloat("dropout", x);
  if (p < 0 || p > 1) throw new TensorError("dropout", `probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const be = x.backend;
  const mask = empty(x.shape, { backend: be });
  if (p === 1) be.fill(mask.storage, 0);
  else {
    const [lo, hi] = rng.key;
    const keep = Math.fround(1 - p);
    be.random(
      mask.storage,
      x.size,
      "bernoulli",
      lo,
      hi,
      rng.take(x.size),
      keep,
      Math.fround(1 / keep),
    );
  }
  const y = empty(x.shape, { backend: be });
  const v = { offset: 0, strides: [1] };
  be.binary("mul", x.storage, v, mask.storage, v, y.storage, [x.size]);
  return record(y, "dropout", [x], (g) => {
    const dx = empty(x.shape, { backend: be });
    be.binary("mul", g.storage, v, mask.storage, v, dx.storage, [x.size]);
    return [dx];
  });
}
