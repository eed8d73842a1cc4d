/**
 * Fréchet distance between two sets of feature vectors (FID when the features come from a fixed
 * network): ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^½, with unbiased covariances as
 * `np.cov(rowvar=False)`. The trace of the square root is taken from the eigenvalues of the
 * symmetric Σ₁^½ Σ₂ Σ₁^½ (cyclic Jacobi in float64), which equals pytorch-fid's
 * `scipy.linalg.sqrtm(Σ₁Σ₂)` trace. Every image's features count; too few samples are refused.
 *
 * @example
 * ```ts
 * import { fid } from "./fid.ts";
 * const r = fid({ rows: 100, cols: 8, data: realFeats }, { rows: 100, cols: 8, data: fakeFeats });
 * console.log(r.fid, r.nReal, r.nFake);
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";

/** Feature rows: `rows × cols`, row-major. */
export interface FeatureMatrix {
  rows: number;
  cols: number;
  data: ArrayLike<number>;
}

/** Mean and covariance of a feature set. */
export interface FeatureStats {
  n: number;
  mu: Float64Array;
  /** `d × d`, row-major. */
  sigma: Float64Array;
}

/**
 * Mean and unbiased covariance (divides by n − 1) of the rows.
 *
 * @example
 * ```ts
 * featureStats({ rows: 3, cols: 1, data: [1, 2, 3] }).sigma[0]; // 1
 * ```
 */
export function featureStats(f: FeatureMatrix): FeatureStats {
  const { rows: n, cols: d, data } = f;
  if (data.length !== n * d) throw new LumenError("features", "", "rows × cols ≠ data length");
  if (n < 2) throw new LumenError("features", "", `need at least 2 samples, got ${n}`);
  const mu = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mu[j] /= n;
  const sigma = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = data[i * d + j] - mu[j];
    for (let a = 0; a < d; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      for (let b = a; b < d; b++) sigma[a * d + b] += ca * c[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = sigma[a * d + b] / (n - 1);
      sigma[a * d + b] = v;
      sigma[b * d + a] = v;
    }
  }
  return { n, mu, sigma };
}

/**
 * Eigen-decomposition of a symmetric `d × d` matrix (cyclic Jacobi): eigenvalues and the
 * eigenvectors as columns of `vectors`.
 *
 * @example
 * ```ts
 * symmetricEigen(new Float64Array([2, 1, 1, 2]), 2).values; // [1, 3] in some order
 * ```
 */
export function symmetricEigen(
  m: ArrayLike<number>,
  d: number,
): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(m);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, diag = 0;
    for (let p = 0; p < d; p++) {
      diag += a[p * d + p] ** 2;
      for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p], aqq = a[q * d + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p], akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k], aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p], vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

/**
 * tr (Σ₁Σ₂)^½ for symmetric positive semi-definite Σ₁, Σ₂ (negative rounding eigenvalues → 0).
 *
 * @example
 * ```ts
 * traceSqrtProduct(new Float64Array([4]), new Float64Array([1]), 1); // 2
 * ```
 */
export function traceSqrtProduct(s1: Float64Array, s2: Float64Array, d: number): number {
  const e = symmetricEigen(s1, d);
  // R = V diag(√λ) Vᵀ
  const r = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const l = Math.sqrt(Math.max(0, e.values[k]));
    if (l === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = e.vectors[i * d + k] * l;
      for (let j = 0; j < d; j++) r[i * d + j] += vik * e.vectors[j * d + k];
    }
  }
  const rs = new Float64Array(d * d), m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const rik = r[i * d + k];
      for (let j = 0; j < d; j++) rs[i * d + j] += rik * s2[k * d + j];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const v = rs[i * d + k];
      for (let j = 0; j < d; j++) m[i * d + j] += v * r[k * d + j];
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const s = (m[i * d + j] + m[j * d + i]) / 2;
      m[i * d + j] = s;
      m[j * d + i] = s;
    }
  }
  let tr = 0;
  for (const l of symmetricEigen(m, d).values) tr += Math.sqrt(Math.max(0, l));
  return tr;
}

/**
 * The Fréchet distance of two Gaussians.
 *
 * @example
 * ```ts
 * frechetDistance(statsA, statsB);
 * ```
 */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  const d = a.mu.length;
  if (b.mu.length !== d) {
    throw new LumenError("features", "", `dimensions differ: ${d} and ${b.mu.length}`);
  }
  let diff = 0, tr = 0;
  for (let i = 0; i < d; i++) {
    diff += (a.mu[i] - b.mu[i]) ** 2;
    tr += a.sigma[i * d + i] + b.sigma[i * d + i];
  }
  return diff + tr - 2 * traceSqrtProduct(a.sigma, b.sigma, d);
}

/** What {@link fid} reports. */
export interface FidResult {
  fid: number;
  nReal: number;
  nFake: number;
  dims: number;
}

/**
 * FID of two feature sets; each needs at least `minCount` rows (default: the feature
 * dimension, as pytorch-fid requires for a full-rank covariance).
 *
 * @example
 * ```ts
 * fid(real, fake).fid;
 * ```
 */
export function fid(
  real: FeatureMatrix,
  fake: FeatureMatrix,
  o: { minCount?: number } = {},
): FidResult {
  const min = o.minCount ?? real.cols;
  for (const [name, f] of [["real", real], ["synthetic", fake]] as const) {
    if (f.rows < min) {
      throw new LumenError(
        `${name} images`,
        "",
        `FID needs at least ${min} images (as many as the ${real.cols} features), got ${f.rows}`,
      );
    }
  }
  return {
    fid: frechetDistance(featureStats(real), featureStats(fake)),
    nReal: real.rows,
    nFake: fake.rows,
    dims: real.cols,
  };
}
