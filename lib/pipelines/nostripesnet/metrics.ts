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
 * import { NsnMetricsAccumulator, RmseAccumulator } from "./metrics.ts";
 * const acc = new NsnMetricsAccumulator();           // all nine
 * const rmse = new RmseAccumulator();                // data in [−1, 1] → uint16 units
 * acc.addBatch(clean, output, [16, 1801, 256]);      // Float32Arrays, N·H·W
 * rmse.add(clean, output, stripeRegion(clean, stripe));
 * console.log(acc.means().psnr, rmse.result().stripe);
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import {
  diceCoef,
  type Floats,
  histogramIntersection,
  type ImageMetric,
  iou,
  l1,
  l2,
  meanSquaredError,
  psnr,
  ssim,
  sumDiffGrad,
} from "../../metrics/image.ts";

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
