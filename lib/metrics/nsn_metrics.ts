/**
 * NoStripesNet's nine test metrics (utils/metrics.py `test_metrics`, used by network/testing.py),
 * computed as the original computes them, plus the RMSE table of the paper (rmse.ipynb).
 *
 * The original applies each metric to a batch of clean images (`realB`) and model outputs
 * (`fakeB`), both in [−1, 1], as one number per batch (a mean over the images of the batch), and
 * reports the mean over batches. Indices and names are the original's (`--metrics 0 8`):
 *
 * | index | name | per image |
 * |---|---|---|
 * | 0 | `l1` | mean absolute error |
 * | 1 | `l2` | Frobenius norm of the difference over H×W (`torch.linalg.matrix_norm`) |
 * | 2 | `mean_squared_error` | mean squared error |
 * | 3 | `sum_diff_grad` | Σ \|∂x a − ∂x b\| (`torch.gradient` along the width, summed over H×W) |
 * | 4 | `diceCoef` | 2·#(a = b) / (2·H·W), i.e. the fraction of exactly equal pixels |
 * | 5 | `IoU` | #(a = b) / (2·H·W − #(a = b)) |
 * | 6 | `histogram_intersection` | Σ min(h_a, h_b) / (H·W), 10 bins over [min, max] of both |
 * | 7 | `structural_similarity` | skimage SSIM: 7×7 uniform window, K1 0.01, K2 0.03, sample covariance, data_range = max − min of the pair |
 * | 8 | `psnr` | skimage PSNR with data_range = max − min of the pair; 0 when the images are equal |
 *
 * Dice and IoU count *exactly equal* floats: on continuous images they measure how many pixels the
 * model left untouched (outside the mask the output equals the input), not segmentation overlap.
 * They are kept for comparison with the original's numbers and are nearly meaningless otherwise.
 *
 * Arithmetic is float64 throughout except where bit-exactness decides a count: equality tests
 * compare the stored values, and histogram bin edges are rounded to float32 for float32 images, as
 * numpy does. The original ran SSIM in float32 (skimage keeps float32 inputs float32); the float64
 * values here differ from that by about 1e-6.
 *
 * Known quirk of the original, not copied: a last batch of size 1 is squeezed to one 2-D image,
 * and the per-image metrics (6–8) then iterate over its rows.
 *
 * @example
 * ```ts
 * import { NsnMetricsAccumulator, RmseAccumulator } from "./nsn_metrics.ts";
 * const acc = new NsnMetricsAccumulator();           // all nine
 * const rmse = new RmseAccumulator();                // data in [−1, 1] → uint16 units
 * acc.addBatch(clean, output, [16, 1801, 256]);      // Float32Arrays, N·H·W
 * rmse.add(clean, output, stripeRegion(clean, stripe));
 * console.log(acc.means().psnr, rmse.result().stripe);
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";

/** The image arrays the metrics take (row-major). */
export type Floats = Float32Array | Float64Array;

/** The original's metric names (`metric.__name__`), in index order. */
export const NSN_METRIC_NAMES = [
  "l1",
  "l2",
  "mean_squared_error",
  "sum_diff_grad",
  "diceCoef",
  "IoU",
  "histogram_intersection",
  "structural_similarity",
  "psnr",
] as const;

/** One of the nine metric names. */
export type NsnMetricName = typeof NSN_METRIC_NAMES[number];

/** A metric of one image pair `(a, b)` of `h × w` pixels. */
export type ImageMetric = (a: Floats, b: Floats, h: number, w: number) => number;

/** What {@link NSN_METRICS} says about each metric. */
export interface NsnMetricInfo {
  /** Index in the original's `test_metrics` (`--metrics` takes it). */
  index: number;
  name: NsnMetricName;
  /** Short human label. */
  label: string;
  /** One line for `--help`. */
  help: string;
  /** True when larger is better. */
  higherIsBetter: boolean;
  /** The per-image function. */
  fn: ImageMetric;
}

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

/** The nine metrics in the original's order. */
export const NSN_METRICS: readonly NsnMetricInfo[] = [
  {
    index: 0,
    name: "l1",
    label: "L1 (MAE)",
    help: "mean absolute error",
    higherIsBetter: false,
    fn: l1,
  },
  {
    index: 1,
    name: "l2",
    label: "L2",
    help: "Frobenius norm of the difference over H×W, mean over images",
    higherIsBetter: false,
    fn: l2,
  },
  {
    index: 2,
    name: "mean_squared_error",
    label: "MSE",
    help: "mean squared error",
    higherIsBetter: false,
    fn: meanSquaredError,
  },
  {
    index: 3,
    name: "sum_diff_grad",
    label: "Σ|∇a−∇b|",
    help: "sum over H×W of |d/dx clean − d/dx output| (torch.gradient along the width)",
    higherIsBetter: false,
    fn: sumDiffGrad,
  },
  {
    index: 4,
    name: "diceCoef",
    label: "Dice",
    help: "fraction of exactly equal pixels (the original's Dice: nearly meaningless for floats)",
    higherIsBetter: true,
    fn: diceCoef,
  },
  {
    index: 5,
    name: "IoU",
    label: "IoU",
    help: "n/(2HW−n), n = exactly equal pixels (the original's IoU: nearly meaningless for floats)",
    higherIsBetter: true,
    fn: iou,
  },
  {
    index: 6,
    name: "histogram_intersection",
    label: "Hist. ∩",
    help: "histogram intersection, 10 bins over [min, max] of both images",
    higherIsBetter: true,
    fn: histogramIntersection,
  },
  {
    index: 7,
    name: "structural_similarity",
    label: "SSIM",
    help: "skimage SSIM (7×7 uniform window, data_range = max − min of the pair)",
    higherIsBetter: true,
    fn: (a, b, h, w) => ssim(a, b, h, w),
  },
  {
    index: 8,
    name: "psnr",
    label: "PSNR (dB)",
    help: "skimage PSNR (data_range = max − min of the pair; 0 for identical images)",
    higherIsBetter: true,
    fn: (a, b, h, w) => psnr(a, b, h, w),
  },
];

/**
 * Resolves a metric selection as `--metrics` does: "all" (or nothing) for the nine, else
 * indices 0–8 or names. Throws a LumenError for anything else.
 * @example `selectMetrics(["0", "8"])` // l1 and psnr
 */
export function selectMetrics(sel?: readonly (string | number)[] | "all"): NsnMetricInfo[] {
  if (sel === undefined || sel === "all" || sel.length === 0) return [...NSN_METRICS];
  if (sel.length === 1 && sel[0] === "all") return [...NSN_METRICS];
  const out: NsnMetricInfo[] = [];
  for (const s of sel) {
    const str = String(s).trim();
    const m = /^\d+$/.test(str)
      ? NSN_METRICS[Number(str)]
      : NSN_METRICS.find((x) => x.name === str);
    if (!m) {
      throw new LumenError(
        "--metrics",
        str,
        `not a metric: use 'all', indices 0–${NSN_METRICS.length - 1} or names ${
          NSN_METRIC_NAMES.join(", ")
        }`,
      );
    }
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

/** The image size of a batch shape [N, H, W], [N, 1, H, W] or [H, W]: [n, h, w]. */
export function batchDims(shape: readonly number[], what = "batch"): [number, number, number] {
  const s = shape.length === 4 && shape[1] === 1 ? [shape[0], shape[2], shape[3]] : shape;
  if (s.length === 2) return [1, s[0], s[1]];
  if (s.length === 3) return [s[0], s[1], s[2]];
  throw new LumenError(what, `shape [${shape}]`, "expected [N, H, W], [N, 1, H, W] or [H, W]");
}

/**
 * The selected metrics of one batch: for each, the mean over the batch's images (what the
 * original's vectorised torch metrics and `batch_metric` return).
 * @example `batchMetrics(clean, output, [16, 1801, 256])` // { l1: …, psnr: … }
 */
export function batchMetrics(
  clean: Floats,
  output: Floats,
  shape: readonly number[],
  metrics: readonly NsnMetricInfo[] = NSN_METRICS,
): Record<string, number> {
  const [n, h, w] = batchDims(shape);
  const size = h * w;
  if (clean.length !== n * size || output.length !== n * size) {
    throw new LumenError(
      "batch",
      `shape [${shape}]`,
      `clean has ${clean.length} values and output ${output.length}; expected ${n * size}`,
    );
  }
  const out: Record<string, number> = {};
  for (const m of metrics) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const a = clean.subarray(i * size, (i + 1) * size) as Floats;
      const b = output.subarray(i * size, (i + 1) * size) as Floats;
      s += m.fn(a, b, h, w);
    }
    out[m.name] = s / n;
  }
  return out;
}

/**
 * Gathers per-batch metric values and reports the mean over batches, as network/testing.py does
 * (`np.mean(overall_mean_scores[key])`: a smaller last batch weighs as much as a full one).
 */
export class NsnMetricsAccumulator {
  /** The metrics gathered. */
  readonly metrics: readonly NsnMetricInfo[];
  /** Per metric name, one value per batch. */
  readonly perBatch: Record<string, number[]> = {};

  /** @param metrics the selection (see {@link selectMetrics}); default all nine */
  constructor(metrics: readonly NsnMetricInfo[] = NSN_METRICS) {
    this.metrics = metrics;
    for (const m of metrics) this.perBatch[m.name] = [];
  }

  /** Adds one batch; returns its values. */
  addBatch(clean: Floats, output: Floats, shape: readonly number[]): Record<string, number> {
    const r = batchMetrics(clean, output, shape, this.metrics);
    for (const m of this.metrics) this.perBatch[m.name].push(r[m.name]);
    return r;
  }

  /** Batches added. */
  get batches(): number {
    return this.metrics.length ? this.perBatch[this.metrics[0].name].length : 0;
  }

  /** Mean over batches of each metric (NaN before any batch). */
  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const m of this.metrics) {
      const v = this.perBatch[m.name];
      out[m.name] = v.length ? v.reduce((x, y) => x + y, 0) / v.length : NaN;
    }
    return out;
  }
}

/**
 * The fraction of discriminator outputs classified as `label` (1 real, 0 fake): σ(logit) ≥ 0.5
 * counts as 1, as network/testing.py's `accuracy`.
 * @example `discriminatorAccuracy(logitsOnFake, 0)`
 */
export function discriminatorAccuracy(logits: ArrayLike<number>, label: 0 | 1): number {
  if (!logits.length) return NaN;
  let n = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = Math.fround(1 / (1 + Math.exp(-logits[i])));
    if ((p >= 0.5 ? 1 : 0) === label) n++;
  }
  return n / logits.length;
}

/**
 * The stripe region of rmse.ipynb: pixels where the clean and stripe images differ
 * (`np.abs(clean − stripe).astype(bool)`), 1 inside.
 * @example `stripeRegion(clean, stripe)`
 */
export function stripeRegion(clean: Floats, stripe: Floats): Uint8Array {
  if (clean.length !== stripe.length) {
    throw new LumenError(
      "stripeRegion",
      "",
      `${clean.length} clean vs ${stripe.length} stripe values`,
    );
  }
  const m = new Uint8Array(clean.length);
  for (let i = 0; i < m.length; i++) m[i] = clean[i] !== stripe[i] ? 1 : 0;
  return m;
}

/** RMSE over the whole images, the stripe region and the rest, with the pixel counts. */
export interface RmseResult {
  whole: number;
  stripe: number;
  rest: number;
  pixels: { whole: number; stripe: number; rest: number };
}

/** Options of {@link RmseAccumulator}. */
export interface RmseOptions {
  /**
   * Units per input unit: 32767.5 (default) turns [−1, 1] data into uint16 units (the paper's
   * table: TIFF values 0–65535); 65535 for data in [0, 1]; 1 for data already in uint16 units.
   */
  scale?: number;
}

/**
 * Root-mean-square error pooled over every pixel added (not per batch), as rmse.ipynb's
 * `np.sqrt(np.mean(np.square(clean − out)))` over the whole test volume, over the stripe
 * region (`mask` ≠ 0) and over the rest; in uint16 units by default. An empty region gives NaN.
 */
export class RmseAccumulator {
  private se = [0, 0];
  private n = [0, 0];
  readonly scale: number;

  /** @param o units (see {@link RmseOptions}) */
  constructor(o: RmseOptions = {}) {
    this.scale = o.scale ?? 65535 / 2;
  }

  /** Adds images (any number, flattened), with their stripe mask (or null: all "rest"). */
  add(clean: Floats, output: Floats, mask: Uint8Array | null): void {
    if (clean.length !== output.length || (mask && mask.length !== clean.length)) {
      throw new LumenError(
        "rmse",
        "",
        `clean ${clean.length}, output ${output.length}, mask ${mask?.length} values differ`,
      );
    }
    const k = this.scale;
    for (let i = 0; i < clean.length; i++) {
      const d = (clean[i] - output[i]) * k;
      const j = mask && mask[i] ? 0 : 1;
      this.se[j] += d * d;
      this.n[j]++;
    }
  }

  /** The three RMSEs. */
  result(): RmseResult {
    const [s0, s1] = this.se, [n0, n1] = this.n;
    const r = (s: number, n: number) => (n ? Math.sqrt(s / n) : NaN);
    return {
      whole: r(s0 + s1, n0 + n1),
      stripe: r(s0, n0),
      rest: r(s1, n1),
      pixels: { whole: n0 + n1, stripe: n0, rest: n1 },
    };
  }
}
