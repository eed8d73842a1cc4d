/**
 * Python's `random.Random` (MT19937 seeded by `init_by_array` from an int seed) for the methods
 * the NSW tools replay: `random()`, `getrandbits(k ≤ 32)`, `shuffle` and `choices`. The same seed
 * gives the same draws as CPython, so splits and image folders equal the original's.
 *
 * @example
 * ```ts
 * import { PyRandom } from "./py_random.ts";
 * const prg = new PyRandom(1234567890);
 * const xs = [1, 2, 3, 4];
 * prg.shuffle(xs); // same order as random.Random(1234567890).shuffle(xs)
 * ```
 * @module
 */

const N = 624;
const M = 397;

/** A Mersenne Twister with CPython's seeding and draws. */
export class PyRandom {
  private mt = new Uint32Array(N);
  private mti = N + 1;

  /**
   * @param seed a non-negative integer seed (as `random.Random(seed)`; the sign is dropped).
   */
  constructor(seed: number | bigint) {
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.initByArray(key);
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = N;
  }

  private initByArray(key: number[]): void {
    this.initGenrand(19650218);
    const mt = this.mt;
    let i = 1, j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  /**
   * One 32-bit output of the generator.
   *
   * @example
   * ```ts
   * new PyRandom(0).uint32(); // random.Random(0).getrandbits(32)
   * ```
   */
  uint32(): number {
    const mt = this.mt;
    if (this.mti >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      const y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * `random.random()`: a float in [0, 1) from 53 random bits.
   *
   * @example
   * ```ts
   * new PyRandom(0).random(); // 0.8444218515250481
   * ```
   */
  random(): number {
    const a = this.uint32() >>> 5, b = this.uint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * `random.getrandbits(k)` for 0 ≤ k ≤ 32.
   *
   * @example
   * ```ts
   * new PyRandom(0).getrandbits(8);
   * ```
   */
  getrandbits(k: number): number {
    if (k === 0) return 0;
    return this.uint32() >>> (32 - k);
  }

  /**
   * `random._randbelow(n)`: an integer in [0, n) by rejection on `n.bit_length()` bits.
   *
   * @example
   * ```ts
   * new PyRandom(0).randbelow(10);
   * ```
   */
  randbelow(n: number): number {
    if (n <= 0) return 0;
    const k = 32 - Math.clz32(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /**
   * `random.shuffle(xs)` in place (Fisher–Yates from the end).
   *
   * @example
   * ```ts
   * const xs = ["a", "b", "c"];
   * new PyRandom(0).shuffle(xs);
   * ```
   */
  shuffle<T>(xs: T[]): void {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const t = xs[i];
      xs[i] = xs[j];
      xs[j] = t;
    }
  }

  /**
   * `random.choices(population, k=k)` without weights: `k` draws with replacement.
   *
   * @example
   * ```ts
   * new PyRandom(0).choices(["F+00"], 3); // ["F+00", "F+00", "F+00"]
   * ```
   */
  choices<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    const out: T[] = [];
    for (let i = 0; i < k; i++) out.push(population[Math.floor(this.random() * n)]);
    return out;
  }
}

/**
 * Python's `round(x)` for a float: the nearest integer, halves to even.
 *
 * @example
 * ```ts
 * pyRound(2.5); // 2
 * pyRound(3.5); // 4
 * ```
 */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
