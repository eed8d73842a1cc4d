/**
 * Simulated stripes (constant detector offsets) as TomoPhantom's `artifacts.stripes` adds them,
 * which NoStripesNet uses to make its training pairs, seeded and without the original's bugs:
 *
 * - a stripe's centre is drawn where it fits (t < c < width − t) instead of being dropped when it
 *   does not (the original then added nothing, giving an all-zero mask);
 * - at least one stripe per sinogram (the original makes ⌊width · percentage / 100⌋, zero for
 *   narrow patches);
 * - partial stripes span [min, max] of the two drawn angles and at least one angle (the original
 *   adds nothing when the first draw is not below the second);
 * - every draw comes from the given seeded generator (the original used Python's global one).
 *
 * Values are float32 as in numpy (each `+=` rounds to float32).
 *
 * @example
 * ```ts
 * import { addStripes } from "./stripes.ts";
 * import { SimRng } from "./rng.ts";
 * const sino = new Float32Array(1801 * 256).fill(1);
 * const striped = addStripes(sino, [1801, 256], new SimRng(0));
 * ```
 * @module
 */
import type { SimRng } from "./rng.ts";

/** Parameters of {@link addStripes} (TomoPhantom's names). */
export interface StripeOptions {
  /** Share of detector columns that get a stripe, in percent (0, 100]. Default 0.4. */
  percentage?: number;
  /** Maximum half-thickness t ∈ [0, 10]: a stripe covers 2t + 1 columns. Default 6. */
  maxThickness?: number;
  /** Offset = max(sinogram) · U(−1, 0.5) · intensityThresh. Default 0.2. */
  intensityThresh?: number;
  /** "full" (all angles), "partial" (a random angle range) or "mixed" (either, per stripe). */
  type?: "full" | "partial" | "mixed";
  /** Random walk of the offset along angles, as a fraction of max(sinogram). Default 0. */
  variability?: number;
}

/** One stripe that was added. */
export interface StripeInfo {
  /** Centre column, half-thickness, angle range [a0, a1), offset. */
  column: number;
  halfThickness: number;
  angles: [number, number];
  offset: number;
}

/**
 * Returns a copy of `sino` (angles × columns, row-major) with simulated stripes added; `info`,
 * when given, receives the stripes.
 */
export function addStripes(
  sino: Float32Array,
  shape: readonly [number, number],
  rng: SimRng,
  opts: StripeOptions = {},
  info?: StripeInfo[],
): Float32Array {
  const [angles, cols] = shape;
  const percentage = opts.percentage ?? 0.4, maxT = opts.maxThickness ?? 6;
  const thresh = opts.intensityThresh ?? 0.2, variability = opts.variability ?? 0;
  if (!(percentage > 0 && percentage <= 100)) {
    throw new RangeError("percentage must be in (0, 100]");
  }
  if (!(maxT >= 0 && maxT <= 10)) throw new RangeError("maxThickness must be in [0, 10]");
  if (sino.length !== angles * cols) throw new RangeError("sinogram size does not match its shape");
  const out = sino.slice();
  let maxI = -Infinity;
  for (let i = 0; i < sino.length; i++) if (sino[i] > maxI) maxI = sino[i];
  const n = Math.max(1, Math.floor(Math.fround(cols) * Math.fround(percentage / 100)));
  for (let s = 0; s < n; s++) {
    // a half-thickness that fits, then a centre strictly inside, preferring non-zero columns
    const t = Math.min(rng.int(0, maxT), Math.max(0, Math.floor((cols - 3) / 2)));
    const lo = Math.min(t + 1, cols - 1), hi = Math.max(lo, cols - t - 2);
    let c = rng.int(lo, hi);
    for (let tries = 1; tries < 20 && out[c] === 0; tries++) c = rng.int(lo, hi);
    const partial = opts.type === "partial" || (opts.type === "mixed" && rng.uniform() < 0.5);
    let a0 = 0, a1 = angles;
    if (partial) {
      const u = rng.int(0, angles), v = rng.int(0, angles);
      a0 = Math.min(u, v);
      a1 = Math.max(u, v);
      if (a1 === a0) a1 < angles ? a1++ : a0--;
    }
    const offset = maxI * rng.range(-1, 0.5) * thresh;
    info?.push({ column: c, halfThickness: t, angles: [a0, a1], offset });
    for (let x = -t; x <= t; x++) {
      let off = variability !== 0 ? variability * maxI : 0;
      for (let a = a0; a < a1; a++) {
        out[a * cols + c + x] += offset + off;
        if (variability !== 0) off += (rng.uniform() < 0.5 ? -1 : 1) * variability * maxI;
      }
    }
  }
  return out;
}

/** A clean patch and its simulated-stripe partner. */
export interface StripePair {
  /** The patch with stripes, clipped to the clean patch's [min, max] (NoStripesNet). */
  stripe: Float32Array;
  /** The stripes that were added. */
  stripes: StripeInfo[];
}

/**
 * NoStripesNet's patch stripes: `stripes(percentage 0.4, maxthickness 6, intensity_thresh 0.2,
 * full, variability 0)`, then clipped to the clean patch's range.
 *
 * @example
 * ```ts
 * const { stripe } = addPatchStripes(patch, [1801, 256], new SimRng(7));
 * ```
 */
export function addPatchStripes(
  clean: Float32Array,
  shape: readonly [number, number],
  rng: SimRng,
): StripePair {
  const stripes: StripeInfo[] = [];
  const out = addStripes(clean, shape, rng, {
    percentage: 0.4,
    maxThickness: 6,
    intensityThresh: 0.2,
    type: "full",
    variability: 0,
  }, stripes);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < clean.length; i++) {
    if (clean[i] < lo) lo = clean[i];
    if (clean[i] > hi) hi = clean[i];
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i] < lo ? lo : out[i] > hi ? hi : out[i];
  return { stripe: out, stripes };
}

/**
 * NoStripesNet's `paired` mode stripes: percentage 1, maxthickness 2, intensity 0.2, variability
 * 0.005, partial or full at random per stripe; no clipping.
 */
export function addPairedStripes(
  clean: Float32Array,
  shape: readonly [number, number],
  rng: SimRng,
): StripePair {
  const stripes: StripeInfo[] = [];
  const stripe = addStripes(clean, shape, rng, {
    percentage: 1,
    maxThickness: 2,
    intensityThresh: 0.2,
    type: "mixed",
    variability: 0.005,
  }, stripes);
  return { stripe, stripes };
}
