/**
 * Brain-mask morphology for Flair Visibility: Otsu threshold (scikit-image's `threshold_otsu`
 * on float data, 256 bins), face-connected largest component (`scipy.ndimage.label`), binary
 * dilation with the cross structuring element and hole filling (`binary_fill_holes`).
 * Volumes are flat C-order arrays with a shape of any rank.
 *
 * @example
 * ```ts
 * import { otsuThreshold } from "./morphology.ts";
 * console.log(otsuThreshold(new Float64Array([0, 0, 1, 1])) >= 0); // true
 * ```
 * @module
 */

/** Otsu's threshold as scikit-image 0.19 computes it for float images (`nbins` bins). */
export function otsuThreshold(data: ArrayLike<number>, nbins = 256): number {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) return lo;
  const hist = new Float64Array(nbins);
  const scale = nbins / (hi - lo);
  for (let i = 0; i < data.length; i++) {
    let b = Math.floor((data[i] - lo) * scale);
    if (b >= nbins) b = nbins - 1;
    hist[b]++;
  }
  const step = (hi - lo) / nbins;
  const centers = new Float64Array(nbins);
  for (let b = 0; b < nbins; b++) centers[b] = lo + step * b + step / 2;
  const w1 = new Float64Array(nbins), m1 = new Float64Array(nbins);
  let cw = 0, cm = 0;
  for (let b = 0; b < nbins; b++) {
    cw += hist[b];
    cm += hist[b] * centers[b];
    w1[b] = cw;
    m1[b] = cm / cw;
  }
  const w2 = new Float64Array(nbins), m2 = new Float64Array(nbins);
  cw = 0, cm = 0;
  for (let b = nbins - 1; b >= 0; b--) {
    cw += hist[b];
    cm += hist[b] * centers[b];
    w2[b] = cw;
    m2[b] = cm / cw;
  }
  let best = -1, idx = 0;
  for (let b = 0; b < nbins - 1; b++) {
    const d = m1[b] - m2[b + 1];
    const v = w1[b] * w2[b + 1] * d * d;
    if (v > best) best = v, idx = b;
  }
  return centers[idx];
}

function strides(shape: readonly number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** Calls `f(j)` for each face neighbour `j` of flat index `i` inside `shape`. */
function forNeighbours(i: number, shape: readonly number[], st: number[], f: (j: number) => void) {
  let rem = i;
  for (let d = 0; d < shape.length; d++) {
    const c = Math.floor(rem / st[d]);
    rem -= c * st[d];
    if (c > 0) f(i - st[d]);
    if (c < shape[d] - 1) f(i + st[d]);
  }
}

/**
 * Labels face-connected components of a binary volume (like `scipy.ndimage.label`, labels in
 * raster order of first voxel). Returns the labels and the count.
 *
 * @example
 * ```ts
 * import { labelComponents } from "./morphology.ts";
 * console.log(labelComponents(new Uint8Array([1, 0, 1]), [3]).count); // 2
 * ```
 */
export function labelComponents(
  mask: ArrayLike<number>,
  shape: readonly number[],
): { labels: Int32Array; count: number } {
  const n = mask.length, st = strides(shape);
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!mask[i] || labels[i]) continue;
    count++;
    let top = 0;
    stack[top++] = i;
    labels[i] = count;
    while (top > 0) {
      const k = stack[--top];
      forNeighbours(k, shape, st, (j) => {
        if (mask[j] && !labels[j]) labels[j] = count, stack[top++] = j;
      });
    }
  }
  return { labels, count };
}

/**
 * Keeps the largest face-connected component (ties: the lowest label, as `argmax` does).
 *
 * @example
 * ```ts
 * import { largestComponent } from "./morphology.ts";
 * console.log(largestComponent(new Uint8Array([1, 0, 1, 1]), [4])); // [0, 0, 1, 1]
 * ```
 */
export function largestComponent(mask: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  const { labels, count } = labelComponents(mask, shape);
  const out = new Uint8Array(mask.length);
  if (count === 0) return out;
  const sizes = new Float64Array(count + 1);
  for (let i = 0; i < labels.length; i++) sizes[labels[i]]++;
  let best = 1;
  for (let l = 2; l <= count; l++) if (sizes[l] > sizes[best]) best = l;
  for (let i = 0; i < labels.length; i++) out[i] = labels[i] === best ? 1 : 0;
  return out;
}

/**
 * Binary dilation with the face-cross structuring element, `iterations` times
 * (`scipy.ndimage.binary_dilation`, border value 0).
 *
 * @example
 * ```ts
 * import { binaryDilation } from "./morphology.ts";
 * console.log(binaryDilation(new Uint8Array([0, 1, 0, 0]), [4])); // [1, 1, 1, 0]
 * ```
 */
export function binaryDilation(
  mask: ArrayLike<number>,
  shape: readonly number[],
  iterations = 1,
): Uint8Array {
  const st = strides(shape);
  let cur = Uint8Array.from(mask, (v) => (v ? 1 : 0));
  for (let it = 0; it < iterations; it++) {
    const next = cur.slice();
    for (let i = 0; i < cur.length; i++) {
      if (cur[i]) forNeighbours(i, shape, st, (j) => (next[j] = 1));
    }
    cur = next;
  }
  return cur;
}

/**
 * Fills holes: background not face-connected to the array's border becomes foreground
 * (`scipy.ndimage.binary_fill_holes`).
 *
 * @example
 * ```ts
 * import { fillHoles } from "./morphology.ts";
 * console.log(fillHoles(new Uint8Array([1,1,1, 1,0,1, 1,1,1]), [3, 3])[4]); // 1
 * ```
 */
export function fillHoles(mask: ArrayLike<number>, shape: readonly number[]): Uint8Array {
  const n = mask.length, st = strides(shape);
  const outside = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i]) continue;
    let rem = i, border = false;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(rem / st[d]);
      rem -= c * st[d];
      if (c === 0 || c === shape[d] - 1) border = true;
    }
    if (border) outside[i] = 1, stack[top++] = i;
  }
  while (top > 0) {
    const k = stack[--top];
    forNeighbours(k, shape, st, (j) => {
      if (!mask[j] && !outside[j]) outside[j] = 1, stack[top++] = j;
    });
  }
  return Uint8Array.from(outside, (v) => 1 - v);
}

/**
 * 3×3×… median filter with `scipy.ndimage.median_filter(x, 3)`'s default `reflect` border
 * (the edge voxel repeated).
 *
 * @example
 * ```ts
 * import { medianFilter3 } from "./morphology.ts";
 * console.log(medianFilter3(new Float64Array([0, 9, 0]), [3])); // [0, 0, 0]
 * ```
 */
export function medianFilter3(data: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const st = strides(shape), nd = shape.length, n = data.length;
  const out = new Float64Array(n);
  const win = new Float64Array(3 ** nd);
  const c = new Array(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = 0; d < nd; d++) c[d] = Math.floor(rem / st[d]), rem -= c[d] * st[d];
    for (let k = 0; k < win.length; k++) {
      let kk = k, idx = 0;
      for (let d = nd - 1; d >= 0; d--) {
        const off = (kk % 3) - 1;
        kk = Math.floor(kk / 3);
        const p = Math.min(shape[d] - 1, Math.max(0, c[d] + off));
        idx += p * st[d];
      }
      win[k] = data[idx];
    }
    win.sort();
    out[i] = win[(win.length - 1) >> 1];
  }
  return out;
}

/**
 * The original's brain mask: `median_otsu(·, 1, 1)` on b0 and on b1000 (3-wide median, then
 * Otsu), AND, largest component, dilation, hole filling, then ∧ b0 ≥ 1 ∧ b1000 ≥ 1.
 *
 * @example
 * ```ts
 * import { brainMask } from "./morphology.ts";
 * const v = new Float64Array(27).fill(1); v[13] = 100;
 * console.log(brainMask(v, v, [3, 3, 3]).length); // 27
 * ```
 */
export function brainMask(
  b0: ArrayLike<number>,
  b1000: ArrayLike<number>,
  shape: readonly number[],
): Uint8Array {
  const f0 = medianFilter3(b0, shape), f1 = medianFilter3(b1000, shape);
  const t0 = otsuThreshold(f0), t1 = otsuThreshold(f1);
  const m = Uint8Array.from(f0, (v, i) => (v > t0 && f1[i] > t1 ? 1 : 0));
  const filled = fillHoles(binaryDilation(largestComponent(m, shape), shape), shape);
  for (let i = 0; i < filled.length; i++) if (b0[i] < 1 || b1000[i] < 1) filled[i] = 0;
  return filled;
}
