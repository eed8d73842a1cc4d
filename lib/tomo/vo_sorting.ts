/**
 * Vo et al. (2018) sorting-based stripe removal, algorithm 3 — TomoPy's
 * `remove_stripe_based_sorting(tomo, size, dim)` (`prep/stripe.py`, `_rs_sort`), per sinogram:
 *
 * 1. sort each detector column along the angles (keeping where each value came from);
 * 2. median-filter the sorted image across detectors with a window of `size` columns
 *    (`dim = 1`, window (1, size) in sinogram terms) or `size × size` (`dim = 2`), with
 *    `scipy.ndimage.median_filter`'s defaults: mode "reflect" (d c b a | a b c d | d c b a), the
 *    window centred at ⌊size/2⌋ (so an even window reaches one further left), and the element of
 *    rank ⌊n/2⌋ of the n window values (the upper median for even n);
 * 3. put every value back at the angle it came from.
 *
 * Every output value is one of the input values, so results equal TomoPy's bit for bit, except
 * where a detector column holds equal values: TomoPy's argsort (introsort) orders ties
 * arbitrarily, here ties keep their angle order (a stable sort). NaN sorts last.
 *
 * Baseline for comparing learned stripe removal (`apply_model --method vo-sorting`).
 *
 * @example
 * ```ts
 * import { removeStripeBasedSorting } from "./vo_sorting.ts";
 * const sino = new Float32Array(181 * 256); // angles × columns
 * const clean = removeStripeBasedSorting(sino, 181, 256, { size: 11 });
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";

/** Options of {@link removeStripeBasedSorting}. */
export interface VoSortingOptions {
  /** Median window; default {@link defaultSortingSize} (TomoPy's rule). */
  size?: number;
  /** 1: window across detectors only (default); 2: size × size. */
  dim?: 1 | 2;
}

/** TomoPy's default window: 21 if there are more than 2000 columns, else max(5, ⌊0.01·cols⌋). */
export function defaultSortingSize(cols: number): number {
  return cols > 2000 ? 21 : Math.max(5, Math.trunc(0.01 * cols));
}

/** scipy.ndimage "reflect" boundary: index i of an axis of length n, any i. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * n;
  let m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

/** Total order used for sorting values: numeric, NaN last. */
function less(a: number, b: number): boolean {
  return a < b || (b !== b && a === a);
}

/**
 * Vo's sorting-based stripe removal of one sinogram (`angles × cols`, row-major). Returns a new
 * array.
 */
export function removeStripeBasedSorting(
  sino: Float32Array,
  angles: number,
  cols: number,
  opts: VoSortingOptions = {},
): Float32Array {
  if (sino.length !== angles * cols) {
    throw new RangeError(
      `removeStripeBasedSorting: ${sino.length} values for ${angles}×${cols}`,
    );
  }
  const size = opts.size ?? defaultSortingSize(cols);
  const dim = opts.dim ?? 1;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`removeStripeBasedSorting: size: must be a positive integer, got ${size}`);
  }
  if (dim !== 1 && dim !== 2) {
    throw new RangeError(`removeStripeBasedSorting: dim: must be 1 or 2, got ${dim}`);
  }
  // 1. sort each column along the angles (stable): sorted[c·A + r], from[c·A + r] = angle
  const A = angles, N = cols;
  const sorted = new Float64Array(A * N);
  const from = new Int32Array(A * N);
  const idx = new Int32Array(A);
  const col = new Float64Array(A);
  for (let c = 0; c < N; c++) {
    for (let a = 0; a < A; a++) {
      col[a] = sino[a * N + c];
      idx[a] = a;
    }
    idx.sort((p, q) => (less(col[p], col[q]) ? -1 : less(col[q], col[p]) ? 1 : p - q));
    for (let r = 0; r < A; r++) {
      sorted[c * A + r] = col[idx[r]];
      from[c * A + r] = idx[r];
    }
  }
  // 2. median filter across columns (and ranks for dim 2)
  const filt = new Float64Array(A * N);
  const lo = Math.floor(size / 2); // window offsets [−lo, size − 1 − lo]
  if (dim === 1) {
    const pad = new Float64Array(N + size - 1);
    const win = new Float64Array(size);
    const k = Math.floor(size / 2);
    for (let r = 0; r < A; r++) {
      for (let p = 0; p < pad.length; p++) pad[p] = sorted[reflect(p - lo, N) * A + r];
      // sliding sorted window over pad
      for (let t = 0; t < size; t++) win[t] = pad[t];
      sortNum(win);
      filt[r] = win[k];
      for (let c = 1; c < N; c++) {
        replaceSorted(win, pad[c - 1], pad[c + size - 1]);
        filt[c * A + r] = win[k];
      }
    }
  } else {
    const win = new Float64Array(size * size);
    const k = Math.floor((size * size) / 2);
    for (let c = 0; c < N; c++) {
      for (let r = 0; r < A; r++) {
        let n = 0;
        for (let dc = -lo; dc < size - lo; dc++) {
          const cc = reflect(c + dc, N) * A;
          for (let dr = -lo; dr < size - lo; dr++) win[n++] = sorted[cc + reflect(r + dr, A)];
        }
        sortNum(win);
        filt[c * A + r] = win[k];
      }
    }
  }
  // 3. back to the original angles
  const out = new Float32Array(A * N);
  for (let c = 0; c < N; c++) {
    for (let r = 0; r < A; r++) out[from[c * A + r] * N + c] = filt[c * A + r];
  }
  return out;
}

function sortNum(a: Float64Array): void {
  a.sort(); // numeric, NaN last
}

/** In a sorted window, replaces one occurrence of `old` by `nw` (NaN-aware), keeping order. */
function replaceSorted(w: Float64Array, old: number, nw: number): void {
  const n = w.length;
  // position of old (NaN: the first NaN)
  let p = 0;
  if (old !== old) {
    while (p < n && w[p] === w[p]) p++;
  } else {
    let l = 0, h = n;
    while (l < h) {
      const m = (l + h) >> 1;
      if (w[m] < old) l = m + 1;
      else h = m;
    }
    p = l;
  }
  // remove at p, insert nw
  while (p + 1 < n && less(w[p + 1], nw)) {
    w[p] = w[p + 1];
    p++;
  }
  while (p > 0 && less(nw, w[p - 1])) {
    w[p] = w[p - 1];
    p--;
  }
  w[p] = nw;
}

/**
 * Vo's sorting over a volume `[angles, rows, cols]` (C order), one sinogram per detector row,
 * as TomoPy's `remove_stripe_based_sorting(tomo, size, dim)`. Returns a new array.
 */
export function removeStripeBasedSortingVolume(
  tomo: Float32Array,
  shape: readonly [number, number, number],
  opts: VoSortingOptions = {},
): Float32Array {
  const [A, Y, N] = shape;
  if (tomo.length !== A * Y * N) {
    throw new RangeError(`removeStripeBasedSortingVolume: ${tomo.length} values for [${shape}]`);
  }
  const out = new Float32Array(tomo.length);
  const sino = new Float32Array(A * N);
  for (let y = 0; y < Y; y++) {
    for (let a = 0; a < A; a++) {
      sino.set(tomo.subarray((a * Y + y) * N, (a * Y + y + 1) * N), a * N);
    }
    const r = removeStripeBasedSorting(sino, A, N, opts);
    for (let a = 0; a < A; a++) out.set(r.subarray(a * N, (a + 1) * N), (a * Y + y) * N);
  }
  return out;
}

/** Vo et al.'s recommended window for NoStripesNet-like data (the paper's "size 31"). */
export const PAPER_SORTING_SIZE = 31;

/**
 * The window a `--vo-size` value names: a number, `paper` (31, the default of Lumen's tools) or
 * `tomopy` (TomoPy's rule for the sinogram's width, {@link defaultSortingSize}).
 *
 * @example
 * ```ts
 * sortingSize("tomopy", 2560); // 21
 * sortingSize(undefined, 256); // 31
 * ```
 */
export function sortingSize(value: string | undefined, cols: number): number {
  if (value === undefined || value === "paper") return PAPER_SORTING_SIZE;
  if (value === "tomopy") return defaultSortingSize(cols);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new LumenError("--vo-size", value, "expected a window ≥ 1, paper or tomopy");
  }
  return n;
}
