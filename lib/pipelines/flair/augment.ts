/**
 * The original's training augmentations on one 2.5D sample, seeded: brightness and contrast
 * ±0.15 (x·(1 + c) + b on the image channels), vertical flip (p = 0.5), an affine transform
 * (p = 0.5: rotation ±8°, translation ±4 %, scale ±10 %, shear ±8°, about the slice centre;
 * bilinear for images, nearest for the target, zero outside) and z-order reversal of the
 * 7-slice stack (p = 0.5). The parameters are drawn from a generator seeded by (seed, epoch,
 * sample position), so a resumed run repeats them exactly.
 *
 * @example
 * ```ts
 * import { augmentSample, sampleSeed } from "./augment.ts";
 * augmentSample(x, y, 256, 256, sampleSeed(0, 3, 17)); // x (2·7·H·W), y (3·H·W), in place
 * ```
 * @module
 */
import { SimRng } from "../../data/rng.ts";
import { STACK } from "./model.ts";

/** The augmentation parameters of one sample. */
export interface AugmentParams {
  contrast: number;
  brightness: number;
  flip: boolean;
  /** Rotation, shear (radians), scale, translation (fractions of the side), or null. */
  affine: { rot: number; shear: number; scale: number; tx: number; ty: number } | null;
  reverseZ: boolean;
}

/**
 * The seed of sample `pos` of epoch `epoch` of a run seeded `seed`.
 *
 * @example
 * ```ts
 * import { sampleSeed } from "./augment.ts";
 * console.log(sampleSeed(0, 0, 0) === sampleSeed(0, 0, 0)); // true
 * ```
 */
export function sampleSeed(seed: number, epoch: number, pos: number): number {
  return ((seed * 1_000_003 + epoch) * 65_537 + pos) % 2 ** 52;
}

/**
 * Draws the parameters for `seed`.
 *
 * @example
 * ```ts
 * import { drawAugment } from "./augment.ts";
 * console.log(drawAugment(1).contrast <= 0.15); // true
 * ```
 */
export function drawAugment(seed: number): AugmentParams {
  const r = new SimRng(seed);
  const deg = Math.PI / 180;
  const contrast = r.range(-0.15, 0.15), brightness = r.range(-0.15, 0.15);
  const flip = r.uniform() < 0.5;
  const doAffine = r.uniform() < 0.5;
  const affine = {
    rot: r.range(-8, 8) * deg,
    shear: r.range(-8, 8) * deg,
    scale: 1 + r.range(-0.1, 0.1),
    tx: r.range(-0.04, 0.04),
    ty: r.range(-0.04, 0.04),
  };
  const reverseZ = r.uniform() < 0.5;
  return { contrast, brightness, flip, affine: doAffine ? affine : null, reverseZ };
}

/** The affine transform's matrix M on (row, col) and its centre and shift: v = C + T + M·(u − C). */
function affineParts(p: NonNullable<AugmentParams["affine"]>, h: number, w: number) {
  const c = Math.cos(p.rot), s = Math.sin(p.rot), k = Math.tan(p.shear);
  // M = scale · [[1, k], [0, 1]] · [[c, −s], [s, c]]
  const m00 = p.scale * (c + k * s), m01 = p.scale * (-s + k * c);
  const m10 = p.scale * s, m11 = p.scale * c;
  return { m00, m01, m10, m11, cy: (h - 1) / 2, cx: (w - 1) / 2, ty: p.ty * h, tx: p.tx * w };
}

/** Output pixel → source pixel of the affine transform (inverse map), as [a, b, c, d, e, f]. */
function inverseMap(p: NonNullable<AugmentParams["affine"]>, h: number, w: number): number[] {
  const { m00, m01, m10, m11, cy, cx, ty, tx } = affineParts(p, h, w);
  const det = m00 * m11 - m01 * m10;
  const i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
  // u = C + M⁻¹ (v − C − T)
  return [
    i00,
    i01,
    cy - i00 * (cy + ty) - i01 * (cx + tx),
    i10,
    i11,
    cx - i10 * (cy + ty) - i11 * (cx + tx),
  ];
}

/**
 * Where source pixel (row, col) lands after the flip and the affine transform of `p`.
 *
 * @example
 * ```ts
 * import { drawAugment, forwardPoint } from "./augment.ts";
 * const [r, c] = forwardPoint(drawAugment(4), 256, 256, 100, 80);
 * ```
 */
export function forwardPoint(
  p: AugmentParams,
  h: number,
  w: number,
  row: number,
  col: number,
): [number, number] {
  const r = p.flip ? h - 1 - row : row;
  if (!p.affine) return [r, col];
  const { m00, m01, m10, m11, cy, cx, ty, tx } = affineParts(p.affine, h, w);
  return [
    cy + ty + m00 * (r - cy) + m01 * (col - cx),
    cx + tx + m10 * (r - cy) + m11 * (col - cx),
  ];
}

/**
 * Renders the window [top, top + rh) × [left, left + rw) of the augmented sample into
 * `ox` (2, 7, rh, rw) and `oy` (3, rh, rw): contrast and brightness on the image
 * values, z-order reversal, vertical flip, then the affine transform (bilinear for images,
 * nearest for the targets, zero outside), with each output pixel's source taps computed once
 * for all planes.
 */
function render(
  p: AugmentParams,
  x: Float32Array,
  y: Float32Array,
  h: number,
  w: number,
  top: number,
  left: number,
  rh: number,
  rw: number,
  ox: Float32Array,
  oy: Float32Array,
): void {
  const A = h * w, S = rh * rw, ga = 1 + p.contrast, gb = p.brightness;
  const m = p.affine ? inverseMap(p.affine, h, w) : null;
  const at = (a: number, b: number) =>
    a >= 0 && a < h && b >= 0 && b < w ? (p.flip ? h - 1 - a : a) * w + b : -1;
  // four bilinear taps (−1: outside) and their fractions, and the nearest tap, per pixel
  const taps = new Int32Array(4 * S), frac = new Float64Array(2 * S), near = new Int32Array(S);
  for (let i = 0, k = 0; i < rh; i++) {
    for (let j = 0; j < rw; j++, k++) {
      const yy = top + i, xx = left + j;
      if (!m) {
        near[k] = taps[4 * k] = at(yy, xx);
        continue;
      }
      const sy = m[0] * yy + m[1] * xx + m[2], sx = m[3] * yy + m[4] * xx + m[5];
      const y0 = Math.floor(sy), x0 = Math.floor(sx);
      frac[2 * k] = sy - y0, frac[2 * k + 1] = sx - x0;
      taps[4 * k] = at(y0, x0), taps[4 * k + 1] = at(y0, x0 + 1);
      taps[4 * k + 2] = at(y0 + 1, x0), taps[4 * k + 3] = at(y0 + 1, x0 + 1);
      near[k] = at(Math.round(sy), Math.round(sx));
    }
  }
  const fr = Math.fround;
  for (let c = 0; c < 2; c++) {
    for (let s = 0; s < STACK; s++) {
      const src = x.subarray((c * STACK + (p.reverseZ ? STACK - 1 - s : s)) * A);
      const o = (c * STACK + s) * S;
      const g = (t: number) => (t < 0 ? 0 : fr(src[t] * ga + gb));
      if (!m) {
        for (let k = 0; k < S; k++) ox[o + k] = g(taps[4 * k]);
        continue;
      }
      for (let k = 0; k < S; k++) {
        const fy = frac[2 * k], fx = frac[2 * k + 1], t = 4 * k;
        ox[o + k] = (g(taps[t]) * (1 - fx) + g(taps[t + 1]) * fx) * (1 - fy) +
          (g(taps[t + 2]) * (1 - fx) + g(taps[t + 3]) * fx) * fy;
      }
    }
  }
  for (let q = 0; q < 3; q++) {
    for (let k = 0; k < S; k++) oy[q * S + k] = near[k] < 0 ? 0 : y[q * A + near[k]];
  }
}

/**
 * Applies the augmentations drawn for `seed` to one sample in place: `x` (2, 7, h, w), `y`
 * (3, h, w). Returns the parameters used.
 *
 * @example
 * ```ts
 * import { augmentSample } from "./augment.ts";
 * const p = augmentSample(new Float32Array(2 * 7 * 16), new Float32Array(3 * 16), 4, 4, 5);
 * ```
 */
export function augmentSample(
  x: Float32Array,
  y: Float32Array,
  h: number,
  w: number,
  seed: number,
): AugmentParams {
  const p = drawAugment(seed);
  const ox = new Float32Array(x.length), oy = new Float32Array(y.length);
  render(p, x, y, h, w, 0, 0, h, w, ox, oy);
  x.set(ox);
  y.set(oy);
  return p;
}

/**
 * The augmented sample's window [top, top + size) × [left, left + size), computed without
 * augmenting the rest: equal to {@link augmentSample} followed by a crop.
 *
 * @example
 * ```ts
 * import { augmentWindow, drawAugment } from "./augment.ts";
 * const c = augmentWindow(x, y, 256, 256, drawAugment(5), 64, 96, 64); // c.x: 2·7·64·64
 * ```
 */
export function augmentWindow(
  x: Float32Array,
  y: Float32Array,
  h: number,
  w: number,
  p: AugmentParams,
  top: number,
  left: number,
  size: number,
): { x: Float32Array; y: Float32Array } {
  const ox = new Float32Array(2 * STACK * size * size), oy = new Float32Array(3 * size * size);
  render(p, x, y, h, w, top, left, size, size, ox, oy);
  return { x: ox, y: oy };
}
