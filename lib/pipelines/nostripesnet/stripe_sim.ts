/**
 * Simulated stripes as NoStripesNet makes them (TomoPhantom `artifacts.stripes`, see
 * the original's simulator/data_simulator.py), seeded and without the original's
 * bugs:
 *
 * - the number of stripes is ⌊cols · percentage/100⌋ (computed in float32 as the original), but
 *   at least one: the original makes none in patches narrower than 250 columns (an unchanged
 *   "stripe" image, another all-zero mask);
 * - each stripe: a half-thickness t ∈ [0, maxThickness], a column c (up to 20 tries to find one
 *   where the first row is non-zero), an offset max(sino)·U(−1, 0.5)·intensityThresh added to
 *   columns c−t..c+t, over all angles (full) or a random angle range (partial); with
 *   `variability` v, each column's offset starts at +v·max and takes a ±v·max random step per
 *   angle.
 *
 * Fixed here: the original adds nothing when the column is too close to an edge (t < c < cols−t
 * fails) — an all-zero stripe mask — and nothing for a partial stripe whose two random angles
 * come out in decreasing order or equal; here c is drawn inside the valid range (t shrinks when
 * the sinogram is too narrow) and the angle pair is ordered and redrawn when equal. Randomness
 * comes from a seeded {@link SimRng}, not the global `random` module.
 *
 * @example
 * ```ts
 * import { patchStripes } from "./stripe_sim.ts";
 * import { SimRng } from "../../data/rng.ts";
 * const clean = new Float32Array(256 * 256).fill(1);
 * const { stripe, mask } = patchStripes(clean, 256, 256, new SimRng(0));
 * ```
 * @module
 */
import { SimRng } from "../../data/rng.ts";

/** Parameters of TomoPhantom's `stripes`. */
export interface StripeParams {
  /** Stripes per 100 columns (0 < p ≤ 100). */
  percentage: number;
  /** Largest half-thickness (0–10). */
  maxThickness: number;
  /** Offset scale relative to the sinogram's maximum. */
  intensityThresh: number;
  /** Full stripes span all angles; partial ones a random range. */
  type: "full" | "partial";
  /** Per-angle random-walk step of the offset, relative to the maximum (0: constant). */
  variability: number;
}

/** One simulated stripe. */
export interface StripeInfo {
  /** Centre column. */
  col: number;
  /** Half-thickness: columns col−t..col+t. */
  thickness: number;
  /** Angles [start, stop). */
  angles: [number, number];
  /** Constant offset added (before the variability walk). */
  intensity: number;
}

/** A sinogram with simulated stripes. */
export interface SimulatedStripes {
  /** The sinogram with stripes (angles × cols). */
  stripe: Float32Array;
  /** 1 where a stripe was added. */
  mask: Uint8Array;
  /** The stripes. */
  stripes: StripeInfo[];
}

/** NoStripesNet's patch mode (realdata_loader.py): 0.4%, thickness ≤ 6, 0.2, full, no variability. */
export const PATCH_STRIPES: StripeParams = {
  percentage: 0.4,
  maxThickness: 6,
  intensityThresh: 0.2,
  type: "full",
  variability: 0,
};

/** NoStripesNet's paired mode: 1%, thickness ≤ 2, 0.2, variability 0.005, full or partial. */
export const PAIRED_STRIPES: Omit<StripeParams, "type"> = {
  percentage: 1,
  maxThickness: 2,
  intensityThresh: 0.2,
  variability: 0.005,
};

/** Adds stripes to a sinogram (`angles × cols`); returns a new array, its mask and the stripes. */
export function addStripes(
  sino: Float32Array,
  angles: number,
  cols: number,
  p: StripeParams,
  rng: SimRng,
): SimulatedStripes {
  if (sino.length !== angles * cols) {
    throw new RangeError(`addStripes: ${sino.length} values for ${angles}×${cols}`);
  }
  if (!(p.percentage > 0 && p.percentage <= 100)) {
    throw new RangeError(`addStripes: percentage: must be in (0, 100], got ${p.percentage}`);
  }
  if (!(p.maxThickness >= 0 && p.maxThickness <= 10) || !Number.isInteger(p.maxThickness)) {
    throw new RangeError(
      `addStripes: maxThickness: must be an integer in [0, 10], got ${p.maxThickness}`,
    );
  }
  const out = sino.slice();
  const mask = new Uint8Array(sino.length);
  let maxI = -Infinity;
  for (let i = 0; i < sino.length; i++) if (sino[i] > maxI) maxI = sino[i];
  const stripes = addStripesInto(out, sino, maxI, angles, cols, p, rng, mask);
  return { stripe: out, mask, stripes };
}

/**
 * The draws and additions of {@link addStripes} (no checks, no copy): `out` holds a copy of
 * `sino` and receives the stripes; `maxI` is the largest non-NaN value of `sino` (−∞ if none);
 * `mask`, when given, gets 1 where a stripe was added. The same random draws in the same order
 * as addStripes, so the same stripes.
 *
 * @example
 * ```ts
 * const out = clean.slice();
 * const stripes = addStripesInto(out, clean, 1, 256, 256, PATCH_STRIPES, new SimRng(0), null);
 * ```
 */
export function addStripesInto(
  out: Float32Array,
  sino: Float32Array,
  maxI: number,
  angles: number,
  cols: number,
  p: StripeParams,
  rng: SimRng,
  mask: Uint8Array | null,
): StripeInfo[] {
  const stripes: StripeInfo[] = [];
  const fr = Math.fround;
  const count = Math.max(1, Math.trunc(fr(fr(cols) * fr(fr(p.percentage) / 100))));
  if (cols < 3) return stripes;
  for (let n = 0; n < count; n++) {
    // thickness first, so that the column can always be drawn inside t < c < cols − t
    const t = Math.min(rng.int(0, p.maxThickness), Math.floor((cols - 2) / 2));
    let c = 0;
    for (let tries = 0; tries < 20; tries++) {
      c = rng.int(t + 1, cols - t - 1);
      if (sino[c] !== 0) break;
    }
    let a0 = 0, a1 = angles;
    if (p.type === "partial" && angles > 1) {
      do {
        a0 = rng.int(0, angles);
        a1 = rng.int(0, angles);
      } while (a0 === a1);
      if (a0 > a1) [a0, a1] = [a1, a0];
    }
    const intensity = maxI * rng.range(-1, 0.5) * p.intensityThresh;
    for (let x = -t; x <= t; x++) {
      let off = p.variability !== 0 ? p.variability * maxI : 0;
      for (let a = a0; a < a1; a++) {
        const q = a * cols + c + x;
        out[q] += intensity + off;
        if (mask) mask[q] = 1;
        if (p.variability !== 0) off += (rng.uniform() < 0.5 ? -1 : 1) * p.variability * maxI;
      }
    }
    stripes.push({ col: c, thickness: t, angles: [a0, a1], intensity });
  }
  return stripes;
}

/**
 * NoStripesNet's patch mode: {@link PATCH_STRIPES}, then the result clipped to the clean
 * patch's [min, max].
 */
export function patchStripes(
  clean: Float32Array,
  angles: number,
  cols: number,
  rng: SimRng,
): SimulatedStripes {
  const r = addStripes(clean, angles, cols, PATCH_STRIPES, rng);
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < clean.length; i++) {
    const v = clean[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const s = r.stripe;
  for (let i = 0; i < s.length; i++) s[i] = s[i] < lo ? lo : s[i] > hi ? hi : s[i];
  return r;
}

/** NoStripesNet's paired mode: {@link PAIRED_STRIPES}, full or partial with equal odds. */
export function pairedStripes(
  clean: Float32Array,
  angles: number,
  cols: number,
  rng: SimRng,
): SimulatedStripes {
  const type = rng.uniform() < 0.5 ? "partial" : "full";
  return addStripes(clean, angles, cols, { ...PAIRED_STRIPES, type }, rng);
}
