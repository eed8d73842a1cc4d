/**
 * Image-comparison metrics of one pair of images `(a, b)` of `h × w` pixels (row-major float
 * arrays), computed in float64: mean absolute and squared errors, the Frobenius norm of the
 * difference, the summed difference of horizontal gradients, the fractions of exactly equal pixels
 * (Dice, IoU), histogram intersection, SSIM (scikit-image's defaults: 7×7 uniform window, sample
 * covariance) and PSNR (scikit-image's, data range = max − min of the pair).
 *
 * @example
 * ```ts
 * import { psnr, ssim } from "./image.ts";
 * const a = new Float32Array(64 * 64).map(() => Math.random());
 * const b = a.map((v) => v + 0.01);
 * console.log(ssim(a, b, 64, 64), psnr(a, b, 64, 64));
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";

/** The image arrays the metrics take (row-major). */
export type Floats = Float32Array | Float64Array;

/** A metric of one image pair `(a, b)` of `h × w` pixels. */
export type ImageMetric = (a: Floats, b: Floats, h: number, w: number) => number;

function check(a: Floats, b: Floats, h: number, w: number, what: string): void {
  if (!(h >= 1 && w >= 1) || a.length !== h * w || b.length !== h * w) {
    throw new LumenError(
      what,
      `${h}×${w}`,
      `images of ${a.length} and ${b.length} values do not match the shape`,
    );
  }
}

/** Mean absolute error (index 0, `l1`). @example `l1(a, b, h, w)` */
export function l1(a: Floats, b: Floats, h: number, w: number): number {
  check(a, b, h, w, "l1");
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

/** Frobenius norm of a − b over the image (index 1, `l2`). @example `l2(a, b, h, w)` */
export function l2(a: Floats, b: Floats, h: number, w: number): number {
  check(a, b, h, w, "l2");
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** Mean squared error (index 2). @example `meanSquaredError(a, b, h, w)` */
export function meanSquaredError(a: Floats, b: Floats, h: number, w: number): number {
  check(a, b, h, w, "mean_squared_error");
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/**
 * Σ |∂x a − ∂x b| over the image (index 3, `sum_diff_grad`), ∂x as `torch.gradient(dim=-1)`:
 * central differences inside a row, one-sided at its ends; 0 for one-column images.
 * @example `sumDiffGrad(a, b, h, w)`
 */
export function sumDiffGrad(a: Floats, b: Floats, h: number, w: number): number {
  check(a, b, h, w, "sum_diff_grad");
  if (w < 2) return 0;
  let s = 0;
  for (let r = 0; r < h; r++) {
    const o = r * w;
    s += Math.abs(a[o + 1] - a[o] - (b[o + 1] - b[o]));
    for (let c = 1; c < w - 1; c++) {
      s += Math.abs((a[o + c + 1] - a[o + c - 1]) / 2 - (b[o + c + 1] - b[o + c - 1]) / 2);
    }
    s += Math.abs(a[o + w - 1] - a[o + w - 2] - (b[o + w - 1] - b[o + w - 2]));
  }
  return s;
}

function equalCount(a: Floats, b: Floats): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) n++;
  return n;
}

/**
 * The original's Dice coefficient (index 4, `diceCoef`): 2·#(a = b) / (2·h·w) on exact float
 * equality. Nearly meaningless for float images; kept for comparison.
 * @example `diceCoef(a, b, h, w)`
 */
export function diceCoef(a: Floats, b: Floats, h: number, w: number): number {
  check(a, b, h, w, "diceCoef");
  return (2 * equalCount(a, b)) / (2 * a.length);
}

/**
 * The original's intersection over union (index 5, `IoU`): #(a = b) / (2·h·w − #(a = b)) on
 * exact float equality. Nearly meaningless for float images; kept for comparison.
 * @example `iou(a, b, h, w)`
 */
export function iou(a: Floats, b: Floats, h: number, w: number): number {
  check(a, b, h, w, "IoU");
  const n = equalCount(a, b);
  return n / (2 * a.length - n);
}

/**
 * numpy's `histogram_bin_edges(x)` (10 equal bins over [min, max]; ±0.5 around a constant),
 * computed in float64 and rounded to float32 when `f32` (numpy keeps the input's float type).
 */
function binEdges(lo: number, hi: number, bins: number, f32: boolean): Float64Array {
  if (lo === hi) (lo -= 0.5, hi += 0.5);
  const step = (hi - lo) / bins;
  const e = new Float64Array(bins + 1);
  for (let i = 0; i < bins; i++) e[i] = i * step + lo;
  e[bins] = hi;
  if (f32) { for (let i = 0; i <= bins; i++) e[i] = Math.fround(e[i]); }
  return e;
}

/** Counts as `np.histogram(x, bins=edges)`: [e_i, e_i+1), the last bin closed. */
function histogram(x: Floats, e: Float64Array): Float64Array {
  const bins = e.length - 1;
  const h = new Float64Array(bins);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (!(v >= e[0] && v <= e[bins])) continue;
    // binary search: the last edge ≤ v
    let lo = 0, hi = bins;
    while (hi - lo > 1) {
      const m = (lo + hi) >> 1;
      if (e[m] <= v) lo = m;
      else hi = m;
    }
    h[lo]++;
  }
  return h;
}

function minMax2(a: Floats, b: Floats): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const x of [a, b]) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return [lo, hi];
}

/**
 * Histogram intersection (index 6): Σ min(h_a, h_b) / (h·w) with 10 equal bins over the
 * [min, max] of both images (numpy's `histogram_bin_edges` of their concatenation).
 * @example `histogramIntersection(a, b, h, w)`
 */
export function histogramIntersection(a: Floats, b: Floats, h: number, w: number): number {
  check(a, b, h, w, "histogram_intersection");
  const [lo, hi] = minMax2(a, b);
  if (!(lo <= hi)) return NaN;
  const f32 = a instanceof Float32Array && b instanceof Float32Array;
  const e = binEdges(lo, hi, 10, f32);
  const ha = histogram(a, e), hb = histogram(b, e);
  let s = 0;
  for (let i = 0; i < ha.length; i++) s += Math.min(ha[i], hb[i]);
  return s / a.length;
}

/**
 * The data range the original passes to SSIM and PSNR: max − min over both images (in float32
 * for float32 images, as numpy computes it).
 * @example `pairRange(a, b)`
 */
export function pairRange(a: Floats, b: Floats): number {
  const [lo, hi] = minMax2(a, b);
  const r = hi - lo;
  return a instanceof Float32Array && b instanceof Float32Array ? Math.fround(r) : r;
}

/** Options of {@link ssim}. */
export interface SsimOptions {
  /** Default: max − min of the pair (the original). */
  dataRange?: number;
  /** Odd window side (7). */
  winSize?: number;
  /** 0.01 and 0.03. */
  k1?: number;
  k2?: number;
}

/**
 * Sums over every `win`-long window along rows of a h×w image → h × (w − win + 1), float64,
 * with running sums (as scipy's uniform_filter1d).
 */
function rowWindowSums(x: Float64Array, h: number, w: number, win: number): Float64Array {
  const ow = w - win + 1;
  const out = new Float64Array(h * ow);
  for (let r = 0; r < h; r++) {
    const o = r * w;
    let s = 0;
    for (let c = 0; c < win; c++) s += x[o + c];
    out[r * ow] = s;
    for (let c = 1; c < ow; c++) {
      s += x[o + c + win - 1] - x[o + c - 1];
      out[r * ow + c] = s;
    }
  }
  return out;
}

/** Then along columns: h × w → (h − win + 1) × w, divided by win² at the end by the caller. */
function colWindowSums(x: Float64Array, h: number, w: number, win: number): Float64Array {
  const oh = h - win + 1;
  const out = new Float64Array(oh * w);
  const s = new Float64Array(w);
  for (let r = 0; r < win; r++) for (let c = 0; c < w; c++) s[c] += x[r * w + c];
  out.set(s, 0);
  for (let r = 1; r < oh; r++) {
    const add = (r + win - 1) * w, sub = (r - 1) * w;
    for (let c = 0; c < w; c++) {
      s[c] += x[add + c] - x[sub + c];
      out[r * w + c] = s[c];
    }
  }
  return out;
}

/**
 * Mean structural similarity as `skimage.metrics.structural_similarity(a, b, data_range=R)`
 * computes it with its defaults (index 7): 7×7 uniform window, K1 0.01, K2 0.03, sample
 * covariance (×49/48), the mean over the pixels whose window lies inside the image (a border of
 * 3 pixels is cropped). R defaults to max − min of the pair, as the original passes it.
 * Throws for images smaller than the window (skimage does too).
 * @example `ssim(clean, output, 1801, 256)`
 */
export function ssim(a: Floats, b: Floats, h: number, w: number, o: SsimOptions = {}): number {
  check(a, b, h, w, "structural_similarity");
  const win = o.winSize ?? 7;
  if (win % 2 !== 1 || win < 1) {
    throw new LumenError("structural_similarity", `win_size ${win}`, "must be odd and positive");
  }
  if (h < win || w < win) {
    throw new LumenError(
      "structural_similarity",
      `${h}×${w}`,
      `image smaller than the ${win}×${win} window`,
    );
  }
  const R = o.dataRange ?? pairRange(a, b);
  const c1 = ((o.k1 ?? 0.01) * R) ** 2, c2 = ((o.k2 ?? 0.03) * R) ** 2;
  const n = h * w;
  const fields = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const [xa, xb, t] = fields;
  for (let i = 0; i < n; i++) (xa[i] = a[i], xb[i] = b[i]);
  const ow = w - win + 1;
  const box = (x: Float64Array) => colWindowSums(rowWindowSums(x, h, w, win), h, ow, win);
  const ux = box(xa), uy = box(xb);
  for (let i = 0; i < n; i++) t[i] = xa[i] * xa[i];
  const uxx = box(t);
  for (let i = 0; i < n; i++) t[i] = xb[i] * xb[i];
  const uyy = box(t);
  for (let i = 0; i < n; i++) t[i] = xa[i] * xb[i];
  const uxy = box(t);
  const np = win * win, covNorm = np / (np - 1);
  let s = 0;
  for (let i = 0; i < ux.length; i++) {
    const mx = ux[i] / np, my = uy[i] / np;
    const vx = covNorm * (uxx[i] / np - mx * mx);
    const vy = covNorm * (uyy[i] / np - my * my);
    const vxy = covNorm * (uxy[i] / np - mx * my);
    s += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
  }
  return s / ux.length;
}

/**
 * Peak signal-to-noise ratio as the original computes it (index 8): 0 when the images are
 * equal, else `skimage.metrics.peak_signal_noise_ratio(a, b, data_range=R)` = 10·log10(R²/MSE)
 * with R = max − min of the pair unless given.
 * @example `psnr(clean, output, 1801, 256)`
 */
export function psnr(a: Floats, b: Floats, h: number, w: number, dataRange?: number): number {
  check(a, b, h, w, "psnr");
  let se = 0, same = true;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    if (a[i] !== b[i]) same = false;
    se += d * d;
  }
  if (same) return 0;
  const R = dataRange ?? pairRange(a, b);
  return 10 * Math.log10((R * R) / (se / a.length));
}
