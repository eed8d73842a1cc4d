/**
 * O'Haver's peak finder as hyperspy's `find_peaks1D_ohaver` runs it (the original evaluator's:
 * slope threshold 0, amplitude threshold 0.1·max, median filter radius 3, peak group 10, at
 * most 25 peaks): zero crossings of the gradient of the median-filtered profile where the raw
 * profile exceeds the threshold, each refined by a least-squares parabola through log10 |y| of the
 * `peakgroup` points around it (positions in axis units).
 *
 * @example
 * ```ts
 * import { findPeaksOhaver } from "./peaks.ts";
 * findPeaksOhaver(profile, q).map((p) => p.position);
 * ```
 * @module
 */

/** One peak. */
export interface Peak {
  position: number;
  height: number;
  width: number;
}

/** Options of {@link findPeaksOhaver}. */
export interface OhaverOptions {
  slopeThresh?: number;
  /** Default 0.1·max(y). */
  ampThresh?: number;
  medfiltRadius?: number;
  maxPeaks?: number;
  peakGroup?: number;
}

/**
 * scipy.signal.medfilt (zero-padded edges) with a window of 2r + 1.
 * @example
 * ```ts
 * medfilt([1, 5, 2, 8, 3], 1); // [1, 2, 5, 3, 3]
 * ```
 */
export function medfilt(y: ArrayLike<number>, r: number): Float64Array {
  const n = y.length, out = new Float64Array(n), w = new Float64Array(2 * r + 1);
  for (let i = 0; i < n; i++) {
    for (let k = -r; k <= r; k++) {
      const j = i + k;
      w[k + r] = j >= 0 && j < n ? y[j] : 0;
    }
    out[i] = w.slice().sort()[r];
  }
  return out;
}

/**
 * numpy.gradient with unit spacing (central inside, one-sided at the ends).
 * @example
 * ```ts
 * gradient([1, 2, 4, 7]); // [1, 1.5, 2.5, 3]
 * ```
 */
export function gradient(y: ArrayLike<number>): Float64Array {
  const n = y.length, d = new Float64Array(n);
  if (n < 2) return d;
  d[0] = y[1] - y[0];
  d[n - 1] = y[n - 1] - y[n - 2];
  for (let i = 1; i < n - 1; i++) d[i] = (y[i + 1] - y[i - 1]) / 2;
  return d;
}

/** Least-squares quadratic c0 + c1·t + c2·t² (numpy.polyfit degree 2, reversed). */
function quadFit(t: number[], v: number[]): [number, number, number] {
  const S = new Array(5).fill(0), T = [0, 0, 0];
  for (let i = 0; i < t.length; i++) {
    let p = 1;
    for (let k = 0; k < 5; k++) {
      S[k] += p;
      if (k < 3) T[k] += p * v[i];
      p *= t[i];
    }
  }
  const A = [[S[0], S[1], S[2]], [S[1], S[2], S[3]], [S[2], S[3], S[4]]];
  const det = (m: number[][]) =>
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const D = det(A);
  const col = (c: number) => det(A.map((r, i) => r.map((x, j) => (j === c ? T[i] : x))));
  return [col(0) / D, col(1) / D, col(2) / D];
}

/**
 * The peaks of `y` on axis `x` (ascending), sorted by position.
 * @example
 * ```ts
 * findPeaksOhaver(profile, q).map((p) => p.position);
 * ```
 */
export function findPeaksOhaver(
  y: ArrayLike<number>,
  x: ArrayLike<number>,
  o: OhaverOptions = {},
): Peak[] {
  const n = y.length;
  let ymax = -Infinity;
  for (let i = 0; i < n; i++) ymax = Math.max(ymax, y[i]);
  const amp = o.ampThresh || 0.1 * ymax;
  const slope = o.slopeThresh ?? 0, group = Math.round(o.peakGroup ?? 10);
  const r = o.medfiltRadius ?? 3, maxN = o.maxPeaks ?? 25;
  const d = gradient(r ? medfilt(y, r) : y);
  const half = Math.round(group / 2 + 1);
  const P: Peak[] = [];
  for (let j = 0; j < n - 4; j++) {
    if (!(Math.sign(d[j]) > Math.sign(d[j + 1])) || Math.sign(d[j + 1]) === 0) continue;
    if (!(d[j] - d[j + 1] > slope) || !(y[j] > amp)) continue;
    const xx: number[] = [], yy: number[] = [];
    for (let k = 0; k < group; k++) {
      const gi = j + k - half + 1;
      if (gi < 1) continue;
      if (gi > n - 1) break;
      xx.push(x[gi]);
      yy.push(y[gi]);
    }
    const avg = xx.reduce((a, b) => a + b, 0) / xx.length;
    const sd = Math.sqrt(xx.reduce((a, b) => a + (b - avg) ** 2, 0) / xx.length);
    const t: number[] = [], v: number[] = [];
    xx.forEach((xv, i) => {
      if (yy[i] !== 0) {
        t.push((xv - avg) / sd);
        v.push(Math.log10(Math.abs(yy[i])));
      }
    });
    let position: number, height: number, width: number;
    if (group < 7) {
      height = Math.max(...yy);
      position = xx[yy.indexOf(height)];
      width = 0;
    } else {
      const [c1, c2, c3] = quadFit(t, v);
      width = Math.abs(sd * 2.35703 / (Math.SQRT2 * Math.sqrt(-c3)));
      position = -(sd * c2 / (2 * c3) - avg);
      height = Math.exp(c1 - c3 * (c2 / (2 * c3)) ** 2);
    }
    if (Number.isFinite(position) && position > 0 && position < x[n - 1]) {
      P.push({ position, height, width });
    }
  }
  let out = P;
  if (out.length > maxN) {
    const minh = out.map((p) => p.height).sort((a, b) => a - b)[out.length - maxN];
    out = out.filter((p) => p.height >= minh);
  }
  return out.sort((a, b) => a.position - b.position);
}
