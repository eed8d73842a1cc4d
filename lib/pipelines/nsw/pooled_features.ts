/**
 * Area-pooled pixel features (a `cells × cells` grid of mean gray levels) for a quick FID where
 * no trained feature network is at hand (the demo); the evaluation uses the classifier's
 * penultimate features instead.
 *
 * @example
 * ```ts
 * import { pooledFeatures } from "./pooled_features.ts";
 * const f = pooledFeatures(images, 32, 4); // { rows: images.length, cols: 16, data }
 * ```
 * @module
 */
import type { FeatureMatrix } from "./fid.ts";

/**
 * One row of `cells²` block means per image (`size × size` each; `size` divisible by `cells`).
 *
 * @example
 * ```ts
 * pooledFeatures([new Float32Array(16).fill(1)], 4, 2).data; // [1, 1, 1, 1]
 * ```
 */
export function pooledFeatures(
  images: readonly Float32Array[],
  size: number,
  cells: number,
): FeatureMatrix {
  const b = Math.floor(size / cells), d = cells * cells;
  const data = new Float64Array(images.length * d);
  images.forEach((img, n) => {
    for (let cy = 0; cy < cells; cy++) {
      for (let cx = 0; cx < cells; cx++) {
        let s = 0;
        for (let y = cy * b; y < (cy + 1) * b; y++) {
          for (let x = cx * b; x < (cx + 1) * b; x++) s += img[y * size + x];
        }
        data[n * d + cy * cells + cx] = s / (b * b);
      }
    }
  });
  return { rows: images.length, cols: d, data };
}
