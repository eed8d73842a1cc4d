/**
 * The original's mask algebra (masks.py) on single planes: union = max, intersect = min,
 * dilate = max filter of width 2r+1, contract = −max filter of −x (both as F.max_pool2d with
 * padding r, so pixels outside the image never count), low-pass = contract(dilate(·)), and the
 * box average of F.avg_pool2d (padding counted). Masks carry no gradient, so these run on plain
 * arrays.
 *
 * @module
 */

/** One image plane, row-major. */
export interface Plane {
  data: Float32Array;
  h: number;
  w: number;
}

/**
 * A plane of `h`×`w` (zeros, or a copy of `data`).
 *
 * @example
 * ```ts
 * const p = plane(4, 4); // 4×4 zeros
 * ```
 */
export function plane(h: number, w: number, data?: ArrayLike<number>): Plane {
  const d = new Float32Array(h * w);
  if (data) d.set(data);
  return { data: d, h, w };
}

/**
 * Elementwise map of one or more planes of the same size.
 *
 * @example
 * ```ts
 * const both = mapPlanes([a, b], ([x, y]) => x && y ? 1 : 0);
 * ```
 */
export function mapPlanes(ps: Plane[], f: (v: number[]) => number): Plane {
  const out = plane(ps[0].h, ps[0].w);
  const v = new Array<number>(ps.length);
  for (let i = 0; i < out.data.length; i++) {
    for (let k = 0; k < ps.length; k++) v[k] = ps[k].data[i];
    out.data[i] = f(v);
  }
  return out;
}

/**
 * Max filter of width 2r+1 (F.max_pool2d(x, 2r+1, stride 1, padding r)), separable.
 *
 * @example
 * ```ts
 * const d = maxFilter(p, 2);
 * ```
 */
export function maxFilter(p: Plane, r: number): Plane {
  if (r <= 0) return plane(p.h, p.w, p.data);
  const { h, w } = p;
  const tmp = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = -Infinity;
      for (let k = Math.max(0, x - r); k <= Math.min(w - 1, x + r); k++) {
        m = Math.max(m, p.data[y * w + k]);
      }
      tmp[y * w + x] = m;
    }
  }
  const out = plane(h, w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let m = -Infinity;
      for (let k = Math.max(0, y - r); k <= Math.min(h - 1, y + r); k++) {
        m = Math.max(m, tmp[k * w + x]);
      }
      out.data[y * w + x] = m;
    }
  }
  return out;
}

/**
 * masks.dilate: max filter of width 2r+1.
 *
 * @example
 * ```ts
 * const near = dilate(defect, 20);
 * ```
 */
export function dilate(p: Plane, r: number): Plane {
  return maxFilter(p, r);
}

/**
 * masks.contract: −maxFilter(−x), then ceil unless `ceil` is false.
 *
 * @example
 * ```ts
 * const inner = contract(border, 5);
 * ```
 */
export function contract(p: Plane, r: number, ceil = true): Plane {
  const neg = mapPlanes([p], ([v]) => -v);
  const c = mapPlanes([maxFilter(neg, r)], ([v]) => -v);
  return ceil ? mapPlanes([c], ([v]) => Math.ceil(v)) : c;
}

/**
 * masks.low_pass: contract(dilate(x, r), r) without ceil (a morphological closing).
 *
 * @example
 * ```ts
 * const closed = lowPass(valid);
 * ```
 */
export function lowPass(p: Plane, r = 1): Plane {
  return contract(dilate(p, r), r, false);
}

/**
 * F.avg_pool2d(x, 2r+1, stride 1, padding r) with the padding counted (count_include_pad).
 *
 * @example
 * ```ts
 * const smooth = boxAverage(weights, 2); // 5×5
 * ```
 */
export function boxAverage(p: Plane, r: number): Plane {
  const { h, w } = p;
  const k = 2 * r + 1;
  const tmp = new Float64Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = Math.max(0, x - r); i <= Math.min(w - 1, x + r); i++) s += p.data[y * w + i];
      tmp[y * w + x] = s;
    }
  }
  const out = plane(h, w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = Math.max(0, y - r); i <= Math.min(h - 1, y + r); i++) s += tmp[i * w + x];
      out.data[y * w + x] = s / (k * k);
    }
  }
  return out;
}

/**
 * Ternary defect mask from a binary one: 2 within a defect, 1 within `radius` of one
 * (the original's defect detector with `major_dilation_radius = mask_neighborhood_radius`),
 * 0 elsewhere.
 *
 * @example
 * ```ts
 * const m = ternaryMask(crack, 75);
 * ```
 */
export function ternaryMask(defect: Plane, radius: number): Plane {
  const near = dilate(mapPlanes([defect], ([v]) => v > 0 ? 1 : 0), radius);
  return mapPlanes([defect, near], ([d, n]) => d > 0 ? 2 : n > 0 ? 1 : 0);
}
