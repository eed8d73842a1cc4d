/**
 * Per-slice geometry and intensity for Flair Visibility preparation: centre pad/crop of a 2D
 * slice to 256×256 and z-scoring inside the brain mask clipped to [−10, 10].
 *
 * @example
 * ```ts
 * import { padCropCentre } from "./slices.ts";
 * console.log(padCropCentre(new Float32Array(4).fill(1), 2, 2, 4, 4).length); // 16
 * ```
 * @module
 */
import { resize2d } from "../../data/resize.ts";

/** The model's slice side. */
export const SLICE = 256;

/**
 * Centre pads (with `fill`) or crops a row-major `h`×`w` slice to `outH`×`outW`; the offset
 * puts the extra row/column of an odd difference at the end, as NumPy slicing `(d)//2` does.
 *
 * @example
 * ```ts
 * import { padCropCentre } from "./slices.ts";
 * console.log(padCropCentre(new Float32Array([1, 2, 3]), 1, 3, 1, 1)); // [2]
 * ```
 */
export function padCropCentre(
  src: ArrayLike<number>,
  h: number,
  w: number,
  outH = 256,
  outW = 256,
  fill = 0,
): Float32Array {
  const out = new Float32Array(outH * outW).fill(fill);
  const oy = Math.floor((outH - h) / 2), ox = Math.floor((outW - w) / 2);
  for (let y = 0; y < outH; y++) {
    const sy = y - oy;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < outW; x++) {
      const sx = x - ox;
      if (sx >= 0 && sx < w) out[y * outW + x] = src[sy * w + sx];
    }
  }
  return out;
}

/**
 * Z-scores `data` with the mean and (population) standard deviation of the voxels where
 * `mask` is set, clipped to [−clip, clip]; voxels outside the mask become 0.
 *
 * @example
 * ```ts
 * import { zscoreInMask } from "./slices.ts";
 * console.log(zscoreInMask([1, 3, 9], [1, 1, 0])); // [-1, 1, 0]
 * ```
 */
export function zscoreInMask(
  data: ArrayLike<number>,
  mask: ArrayLike<number>,
  clip = 10,
): Float32Array {
  let n = 0, s = 0, s2 = 0;
  for (let i = 0; i < data.length; i++) if (mask[i]) n++, s += data[i];
  const mean = n ? s / n : 0;
  for (let i = 0; i < data.length; i++) if (mask[i]) s2 += (data[i] - mean) ** 2;
  const sd = n ? Math.sqrt(s2 / n) : 1;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (!mask[i]) continue;
    const z = sd > 0 ? (data[i] - mean) / sd : 0;
    out[i] = Math.max(-clip, Math.min(clip, z));
  }
  return out;
}

/**
 * The in-plane rescale factor: `256 / side` when the larger in-plane side is below 240 or above
 * 272, else 1 (the slice is then only padded or cropped).
 *
 * @example
 * ```ts
 * import { rescaleFactor } from "./slices.ts";
 * console.log(rescaleFactor(128, 96), rescaleFactor(256, 256), rescaleFactor(320, 320)); // 2 1 0.8
 * ```
 */
export function rescaleFactor(x: number, y: number): number {
  const side = Math.max(x, y);
  return side < 240 || side > 272 ? SLICE / side : 1;
}

/**
 * NumPy's `np.round` (halves to even).
 *
 * @example
 * ```ts
 * import { roundHalfEven } from "./slices.ts";
 * console.log(roundHalfEven(2.5), roundHalfEven(3.5)); // 2 4
 * ```
 */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  if (d > 0.5 || (d === 0.5 && f % 2 !== 0)) return f + 1;
  return f;
}

/**
 * The size of an `x`×`y` slice after rescaling by `s` (as skimage's `rescale`: rounded, ≥ 1).
 *
 * @example
 * ```ts
 * import { scaledSize } from "./slices.ts";
 * console.log(scaledSize(128, 96, 2)); // [256, 192]
 * ```
 */
export function scaledSize(x: number, y: number, s: number): [number, number] {
  return [Math.max(1, roundHalfEven(x * s)), Math.max(1, roundHalfEven(y * s))];
}

/**
 * A native `x`×`y` slice (row-major, x rows) on the model's 256×256 grid: rescaled by `s`
 * (scikit-image's anti-aliased bilinear resize) when `s ≠ 1`, then centre padded with `fill`
 * or cropped.
 *
 * @example
 * ```ts
 * import { toModelSlice } from "./slices.ts";
 * console.log(toModelSlice(new Float32Array(128 * 96), 128, 96, 2).length); // 65536
 * ```
 */
export function toModelSlice(
  src: Float32Array,
  x: number,
  y: number,
  s: number,
  fill = 0,
): Float32Array {
  if (s === 1) return padCropCentre(src, x, y, SLICE, SLICE, fill);
  const [h, w] = scaledSize(x, y, s);
  return padCropCentre(resize2d(src, [x, y], [h, w]), h, w, SLICE, SLICE, fill);
}

/**
 * The inverse of {@link toModelSlice}: a 256×256 map back on the native `x`×`y` grid (the
 * padded border dropped, a cropped border filled with `fill`, then resized back).
 *
 * @example
 * ```ts
 * import { fromModelSlice } from "./slices.ts";
 * console.log(fromModelSlice(new Float32Array(65536), 128, 96, 2).length); // 12288
 * ```
 */
export function fromModelSlice(
  src: Float32Array,
  x: number,
  y: number,
  s: number,
  fill = 0,
): Float32Array {
  const [h, w] = s === 1 ? [x, y] : scaledSize(x, y, s);
  const oy = Math.floor((SLICE - h) / 2), ox = Math.floor((SLICE - w) / 2);
  const mid = new Float32Array(h * w).fill(fill);
  for (let i = 0; i < h; i++) {
    const r = i + oy;
    if (r < 0 || r >= SLICE) continue;
    for (let j = 0; j < w; j++) {
      const c = j + ox;
      if (c >= 0 && c < SLICE) mid[i * w + j] = src[r * SLICE + c];
    }
  }
  return s === 1 ? mid : resize2d(mid, [h, w], [x, y]);
}
