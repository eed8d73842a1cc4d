/**
 * Streaming statistics: the minimum, maximum and NaN count of arrays fed piece by piece (typed
 * arrays, or raw element bytes in either byte order), and the blocks that cover an array of any
 * shape a bounded piece at a time, so a volume need not fit in memory.
 *
 * @example
 * ```ts
 * import { MinMax } from "./stats.ts";
 * const m = new MinMax();
 * m.add(new Float32Array([3, NaN, -1]));
 * m.result(); // { min: -1, max: 3, nan: 1 }
 * ```
 * @module
 */
import { type DType, DTYPE_SIZE, type NdArray, sizeOf, type TypedArray } from "../array.ts";
import { bytesToTyped } from "../npy.ts";
import type { JsonNumber } from "./types.ts";

/**
 * Elements per piece when streaming statistics (times the item size in memory at once).
 *
 * @example
 * ```ts
 * forEachBlock([4096, 4096], null, BLOCK, (off, cnt) => {}); // 4 blocks of 1024 rows
 * ```
 */
export const BLOCK = 1 << 22;

/** The statistics of one array, JSON-safe. */
export interface Stats {
  /** Minimum ignoring NaN; null when empty or not computed. */
  min: JsonNumber;
  /** Maximum ignoring NaN. */
  max: JsonNumber;
  /** NaN elements, when any. */
  nan?: number;
}

/**
 * The statistics of an array whose data was not read (`--no-stats`).
 *
 * @example
 * ```ts
 * const st = opts.stats ?? true ? statsOf(img) : NO_STATS;
 * ```
 */
export const NO_STATS: Stats = { min: null, max: null };

/**
 * A number as JSON can hold it: finite numbers as they are, ±Infinity as "Infinity"/"-Infinity",
 * 64-bit integers beyond 2^53 as decimal strings.
 *
 * @example
 * ```ts
 * jsonNumber(2n ** 60n); // "1152921504606846976"
 * ```
 */
export function jsonNumber(v: number | bigint | null): JsonNumber {
  if (v === null) return null;
  if (typeof v === "bigint") {
    return v >= BigInt(-Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  return Number.isFinite(v) ? v : String(v);
}

/**
 * Running minimum/maximum over typed arrays fed piece by piece; NaN is counted, not compared.
 *
 * @example
 * ```ts
 * const m = new MinMax();
 * m.add(new BigInt64Array([5n, -(2n ** 62n)]));
 * m.result(); // { min: "-4611686018427387904", max: 5 }
 * ```
 */
export class MinMax {
  #min: number | bigint | null = null;
  #max: number | bigint | null = null;
  #nan = 0;
  /** Elements seen. */
  count = 0;

  /** Folds in one piece. */
  add(data: TypedArray): void {
    const n = data.length;
    this.count += n;
    if (n === 0) return;
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      let lo = this.#min as bigint | null ?? data[0], hi = this.#max as bigint | null ?? data[0];
      for (let i = 0; i < n; i++) {
        const v = data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      this.#min = lo, this.#max = hi;
      return;
    }
    const a = data as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
    let lo = (this.#min as number | null) ?? Infinity;
    let hi = (this.#max as number | null) ?? -Infinity;
    let nan = 0;
    let seen = this.#min !== null;
    for (let i = 0; i < n; i++) {
      const v = a[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (v !== v) nan++;
    }
    if (nan < n) seen = true;
    this.#nan += nan;
    if (seen) this.#min = lo, this.#max = hi;
  }

  /** The result as JSON-safe values. */
  result(): Stats {
    const out: Stats = { min: jsonNumber(this.#min), max: jsonNumber(this.#max) };
    if (this.#nan) out.nan = this.#nan;
    return out;
  }
}

/**
 * Folds raw element bytes (in the given byte order) into a {@link MinMax}, keeping the bytes of
 * an element cut between two pieces for the next piece.
 *
 * @example
 * ```ts
 * const s = new ByteStats("uint16", true);
 * s.push(new Uint8Array([1, 0, 7])); // one element and a half
 * s.push(new Uint8Array([0]));
 * s.mm.result(); // { min: 1, max: 7 }
 * ```
 */
export class ByteStats {
  /** The statistics so far. */
  readonly mm: MinMax = new MinMax();
  #carry = new Uint8Array(0);

  /**
   * @param dtype the elements' type
   * @param littleEndian their byte order
   */
  constructor(readonly dtype: DType, readonly littleEndian: boolean) {}

  /** Folds in the next bytes. */
  push(bytes: Uint8Array): void {
    const size = DTYPE_SIZE[this.dtype];
    let b = bytes;
    if (this.#carry.length) {
      b = new Uint8Array(this.#carry.length + bytes.length);
      b.set(this.#carry);
      b.set(bytes, this.#carry.length);
    }
    const n = Math.floor(b.length / size);
    if (n) this.mm.add(bytesToTyped(b, this.dtype, n, this.littleEndian));
    this.#carry = b.slice(n * size);
  }
}

/**
 * The statistics of an array in memory.
 *
 * @example
 * ```ts
 * statsOf({ dtype: "uint8", shape: [2], data: new Uint8Array([4, 9]) }); // { min: 4, max: 9 }
 * ```
 */
export function statsOf(arr: NdArray): Stats {
  const mm = new MinMax();
  mm.add(arr.data);
  return mm.result();
}

/**
 * The blocks of at most `limit` elements (or one row of the last axis, where that is longer)
 * covering `shape` once, as `[offset, count]`, taking whole `chunks` along an axis where a block
 * spans several. Lazy, so a loop over them can yield between blocks.
 *
 * @example
 * ```ts
 * [...blocksOf([4, 10], [2, 10], 20)]; // [[[0, 0], [2, 10]], [[2, 0], [2, 10]]]
 * ```
 */
export function* blocksOf(
  shape: readonly number[],
  chunks: readonly number[] | null,
  limit: number,
): Generator<[offset: number[], count: number[]]> {
  const rank = shape.length;
  if (rank === 0 || sizeOf(shape) === 0) {
    yield [shape.map(() => 0), [...shape]];
    return;
  }
  function* rec(axis: number, offset: number[], count: number[]): Generator<[number[], number[]]> {
    const inner = sizeOf(shape.slice(axis + 1));
    if (inner <= limit || axis === rank - 1) {
      let step = Math.max(1, Math.floor(limit / inner));
      const c = chunks?.[axis];
      if (c && step >= c) step -= step % c; // whole chunks along this axis
      for (let i = 0; i < shape[axis]; i += step) {
        const n = Math.min(step, shape[axis] - i);
        yield [[...offset, i, ...shape.slice(axis + 1).map(() => 0)], [
          ...count,
          n,
          ...shape.slice(axis + 1),
        ]];
      }
      return;
    }
    for (let i = 0; i < shape[axis]; i++) yield* rec(axis + 1, [...offset, i], [...count, 1]);
  }
  yield* rec(0, [], []);
}

/**
 * Calls `visit(offset, count)` for each block of {@link blocksOf}.
 *
 * @example
 * ```ts
 * forEachBlock([4, 10], [2, 10], 20, (off, cnt) => console.log(off, cnt));
 * // [0, 0] [2, 10], then [2, 0] [2, 10]
 * ```
 */
export function forEachBlock(
  shape: readonly number[],
  chunks: readonly number[] | null,
  limit: number,
  visit: (offset: number[], count: number[]) => void,
): void {
  for (const [offset, count] of blocksOf(shape, chunks, limit)) visit(offset, count);
}
