/**
 * Training crops of a 2.5D sample: a square window of side `size` centred on a voxel drawn from
 * the sample's brain mask (target channel 0), or on a stroke voxel with probability
 * `strokeBias` when the slice has one, clamped to the slice. The network is fully
 * convolutional, so it trains on crops and still runs on whole 256×256 slices (re-estimate the
 * batch-norm statistics on whole slices before using it: bn_stats.ts).
 *
 * @example
 * ```ts
 * import { cropSample } from "./crop.ts";
 * // x (2·7·256·256), y (3·256·256) → x (2·7·96·96), y (3·96·96)
 * const c = cropSample(x, y, 256, 256, 96, 7);
 * ```
 * @module
 */
import { SimRng } from "../../data/rng.ts";
import { STACK } from "./model.ts";

/** A crop of one sample and where it was taken. */
export interface Crop {
  x: Float32Array;
  y: Float32Array;
  top: number;
  left: number;
}

/**
 * The voxel (row, col) a crop is centred on: a stroke voxel of target `y` (3, h, w) with
 * probability `strokeBias` when there is one, else a brain-mask voxel, else any voxel; drawn
 * from a generator seeded `seed`.
 *
 * @example
 * ```ts
 * import { cropCentre } from "./crop.ts";
 * const [r, c] = cropCentre(y, 256, 256, 7, 0.5);
 * ```
 */
export function cropCentre(
  y: Float32Array,
  h: number,
  w: number,
  seed: number,
  strokeBias = 0,
): [number, number] {
  const A = h * w, r = new SimRng(seed);
  const pick = (ch: number): number => {
    let n = 0;
    for (let q = ch * A; q < (ch + 1) * A; q++) if (y[q] > 0.5) n++;
    if (!n) return -1;
    let k = r.int(0, n - 1);
    for (let q = ch * A; q < (ch + 1) * A; q++) if (y[q] > 0.5 && k-- === 0) return q - ch * A;
    return -1;
  };
  const wantStroke = r.uniform() < strokeBias;
  let at = wantStroke ? pick(1) : -1;
  if (at < 0) at = pick(0);
  if (at < 0) at = r.int(0, A - 1);
  return [Math.floor(at / w), at % w];
}

/**
 * The top-left corner of the `size`×`size` window centred near (row, col), kept inside h×w.
 *
 * @example
 * ```ts
 * import { cropWindow } from "./crop.ts";
 * console.log(cropWindow(2, 250, 256, 256, 64)); // [0, 192]
 * ```
 */
export function cropWindow(
  row: number,
  col: number,
  h: number,
  w: number,
  size: number,
): [number, number] {
  if (size > h || size > w) throw new RangeError(`crop ${size} larger than ${h}×${w}`);
  const clamp = (v: number, hi: number) => Math.min(Math.max(Math.round(v), 0), hi);
  return [clamp(row - (size >> 1), h - size), clamp(col - (size >> 1), w - size)];
}

/**
 * Crops sample `x` (2, 7, h, w) / `y` (3, h, w) to `size`×`size`, the window drawn for `seed`.
 *
 * @example
 * ```ts
 * import { cropSample } from "./crop.ts";
 * const c = cropSample(new Float32Array(14 * 64), new Float32Array(3 * 64), 8, 8, 4, 1);
 * console.log(c.x.length); // 14 · 16
 * ```
 */
export function cropSample(
  x: Float32Array,
  y: Float32Array,
  h: number,
  w: number,
  size: number,
  seed: number,
  strokeBias = 0,
): Crop {
  if (size > h || size > w) throw new RangeError(`crop ${size} larger than ${h}×${w}`);
  const A = h * w;
  const [row, col] = cropCentre(y, h, w, seed, strokeBias);
  const [top, left] = cropWindow(row, col, h, w, size);
  const planes = (src: Float32Array, n: number) => {
    const out = new Float32Array(n * size * size);
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < size; i++) {
        const s = p * A + (top + i) * w + left;
        out.set(src.subarray(s, s + size), (p * size + i) * size);
      }
    }
    return out;
  };
  return { x: planes(x, 2 * STACK), y: planes(y, 3), top, left };
}
