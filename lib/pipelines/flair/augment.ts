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

/** Output pixel → source pixel of the affine transform (inverse map), as [a, b, c, d, e, f]. */
function inverseMap(p: NonNullable<AugmentParams["affine"]>, h: number, w: number): number[] {
  // forward: v = T + C + S·Sh·R·(u − C) on (row, col); inverse on the output grid
  const c = Math.cos(p.rot), s = Math.sin(p.rot), k = Math.tan(p.shear);
  // M = scale · [[1, k], [0, 1]] · [[c, −s], [s, c]]
  const m00 = p.scale * (c + k * s), m01 = p.scale * (-s + k * c);
  const m10 = p.scale * s, m11 = p.scale * c;
  const det = m00 * m11 - m01 * m10;
  const i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
  const cy = (h - 1) / 2, cx = (w - 1) / 2, ty = p.ty * h, tx = p.tx * w;
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

function warp(plane: Float32Array, h: number, w: number, m: number[], nearest: boolean): void {
  const src = plane.slice();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = m[0] * y + m[1] * x + m[2], sx = m[3] * y + m[4] * x + m[5];
      let v = 0;
      if (nearest) {
        const iy = Math.round(sy), ix = Math.round(sx);
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) v = src[iy * w + ix];
      } else {
        const y0 = Math.floor(sy), x0 = Math.floor(sx), fy = sy - y0, fx = sx - x0;
        const at = (
          a: number,
          b: number,
        ) => (a >= 0 && a < h && b >= 0 && b < w ? src[a * w + b] : 0);
        v = (at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx) * (1 - fy) +
          (at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx) * fy;
      }
      plane[y * w + x] = v;
    }
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
  const p = drawAugment(seed), A = h * w, planes = 2 * STACK;
  for (let i = 0; i < x.length; i++) x[i] = x[i] * (1 + p.contrast) + p.brightness;
  if (p.reverseZ) {
    for (let c = 0; c < 2; c++) {
      for (let s = 0; s < STACK >> 1; s++) {
        const a = x.slice((c * STACK + s) * A, (c * STACK + s + 1) * A);
        const bOff = (c * STACK + STACK - 1 - s) * A;
        x.copyWithin((c * STACK + s) * A, bOff, bOff + A);
        x.set(a, bOff);
      }
    }
  }
  const each = (f: (plane: Float32Array, isTarget: boolean) => void) => {
    for (let q = 0; q < planes; q++) f(x.subarray(q * A, (q + 1) * A), false);
    for (let q = 0; q < 3; q++) f(y.subarray(q * A, (q + 1) * A), true);
  };
  if (p.flip) {
    each((pl) => {
      for (let r = 0; r < h >> 1; r++) {
        const a = pl.slice(r * w, (r + 1) * w);
        pl.copyWithin(r * w, (h - 1 - r) * w, (h - r) * w);
        pl.set(a, (h - 1 - r) * w);
      }
    });
  }
  if (p.affine) {
    const m = inverseMap(p.affine, h, w);
    each((pl, t) => warp(pl, h, w, m, t));
  }
  return p;
}
