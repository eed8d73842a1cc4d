/**
 * The original's alignment measure (eval/cpc.py): chunked Pearson correlation of two
 * neighbouring sections: the image is cut into chunk×chunk tiles and each tile's correlation
 * coefficient is computed; tiles without variance (blank, or zero padding) are left out.
 *
 * @module
 */
import type { Plane } from "./masks.ts";

/** Per-tile correlations and their mean. */
export interface Cpc {
  /** Tiles per column and per row. */
  rows: number;
  cols: number;
  /** Row-major tile correlations (NaN where undefined). */
  r: Float64Array;
  /** Mean over defined tiles (NaN when none). */
  mean: number;
}

/**
 * Chunked Pearson correlation of `a` and `b` (same size) with square tiles of `chunk` pixels.
 *
 * @example
 * ```ts
 * const { mean } = chunkedPearson(prevAligned, aligned, 32);
 * ```
 */
export function chunkedPearson(a: Plane, b: Plane, chunk: number): Cpc {
  const rows = Math.floor(a.h / chunk), cols = Math.floor(a.w / chunk);
  const r = new Float64Array(rows * cols).fill(NaN);
  let sum = 0, n = 0;
  for (let ty = 0; ty < rows; ty++) {
    for (let tx = 0; tx < cols; tx++) {
      let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, k = 0;
      for (let y = ty * chunk; y < (ty + 1) * chunk; y++) {
        for (let x = tx * chunk; x < (tx + 1) * chunk; x++) {
          const u = a.data[y * a.w + x], v = b.data[y * b.w + x];
          sa += u, sb += v, saa += u * u, sbb += v * v, sab += u * v, k++;
        }
      }
      const cov = sab - (sa * sb) / k;
      const va = saa - (sa * sa) / k, vb = sbb - (sb * sb) / k;
      if (va > 1e-12 && vb > 1e-12) {
        const c = cov / Math.sqrt(va * vb);
        r[ty * cols + tx] = c;
        sum += c;
        n++;
      }
    }
  }
  return { rows, cols, r, mean: n ? sum / n : NaN };
}
