/**
 * A small seeded scalar random generator for simulations (phantoms, scans, simulated stripes):
 * xoshiro128** seeded through splitmix32, with uniform, integer, normal and Poisson draws.
 * Same seed and same calls → the same numbers on every machine (only 32-bit integer arithmetic
 * and IEEE doubles; `Math.log`/`Math.sqrt`/`Math.cos` results are the same in every V8).
 *
 * The engine's `Rng` (lib/tensor/ops/random.ts) fills tensors on a backend; this one is for
 * scalar, sequential simulation code.
 *
 * @example
 * ```ts
 * import { SimRng } from "./rng.ts";
 * const r = new SimRng(42);
 * r.uniform(); // [0, 1)
 * r.int(0, 10); // integer in [0, 10]
 * r.normal(); // N(0, 1)
 * r.poisson(1000);
 * ```
 * @module
 */

/** xoshiro128** generator; state is four 32-bit words. */
export class SimRng {
  protected s: Uint32Array;
  protected spare: number | null = null;

  /** @param seed any integer in [0, 2^53) */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`SimRng: seed must be an integer in [0, 2^53), got ${seed}`);
    }
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b9);
    this.s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5, b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform double in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Uniform integer in [lo, hi] (inclusive), unbiased. */
  int(lo: number, hi: number): number {
    const n = hi - lo + 1;
    if (!(n >= 1) || !Number.isSafeInteger(n)) {
      throw new RangeError(`SimRng.int: bad range [${lo}, ${hi}]`);
    }
    if (n > 4294967296) return lo + Math.floor(this.uniform() * n);
    const lim = 4294967296 - (4294967296 % n);
    let v: number;
    do v = this.nextU32(); while (v >= lim);
    return lo + (v % n);
  }

  /** Standard normal (Box–Muller, the second value cached). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Poisson draw with mean `lam` (Knuth below 30, else a rounded normal approximation). */
  poisson(lam: number): number {
    if (!(lam >= 0)) return 0;
    if (lam < 30) {
      const l = Math.exp(-lam);
      let k = 0, p = 1;
      do {
        k++;
        p *= this.uniform();
      } while (p > l);
      return k - 1;
    }
    return Math.max(0, Math.round(lam + Math.sqrt(lam) * this.normal()));
  }

  /** The state (four words and the cached normal, NaN when none), to save and restore. */
  get state(): number[] {
    return [...this.s, this.spare === null ? NaN : this.spare];
  }

  set state(v: number[]) {
    for (let i = 0; i < 4; i++) this.s[i] = v[i] >>> 0;
    this.spare = v.length > 4 && !Number.isNaN(v[4]) ? v[4] : null;
  }

  /** An independent generator derived from this one. */
  fork(): SimRng {
    return new SimRng(this.nextU32() * 2097152 + (this.nextU32() >>> 11));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
