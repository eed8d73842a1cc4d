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
