/**
 * Filtered back-projection for parallel-beam sinograms (`angles × columns`, row-major) into
 * `size × size` slices, following scikit-image's `iradon` conventions so results can be compared:
 *
 * - each projection is zero-padded to max(64, next power of two ≥ 2·columns) and filtered in the
 *   Fourier domain; the ramp is built from its band-limited spatial form (Kak & Slaney eq. 61,
 *   as skimage and TomoPy do), optionally apodised (Shepp–Logan, cosine, Hamming, Hann);
 * - back-projection interpolates each filtered projection linearly at
 *   s = (x·cos θ − y·sin θ) + centre for the pixel at column x and row y from the slice centre
 *   (⌊size/2⌋), zero outside the detector;
 * - the sum is scaled by π / (2·angles) (angles covering 180°), and pixels outside the
 *   reconstruction circle are zero unless `circle: false`.
 *
 * The rotation centre is in detector pixels (default ⌊columns/2⌋, the centre skimage's radon
 * uses); angles are radians unless `degrees: true` (default: angles·180°/angles, i.e. evenly over
 * [0, 180°)).
 *
 * @example
 * ```ts
 * import { fbp } from "./fbp.ts";
 * const sino = new Float32Array(180 * 128); // angles × columns
 * const slice = fbp(sino, 180, 128, { filter: "shepp-logan" }); // 128 × 128
 * ```
 * @module
 */

/** Reconstruction filters (skimage's names; "none" = no filtering). */
export type FbpFilter = "ramp" | "shepp-logan" | "cosine" | "hamming" | "hann" | "none";

/** Options of {@link fbp}. */
export interface FbpOptions {
  /** Projection angles, one per sinogram row; default evenly over [0, π). */
  angles?: ArrayLike<number>;
  /** `angles` are in degrees (default radians). */
  degrees?: boolean;
  /** Rotation axis position in detector pixels (default ⌊columns/2⌋). */
  center?: number;
  /** Default "ramp". */
  filter?: FbpFilter;
  /** Output slice width and height in pixels (default: columns). */
  size?: number;
  /** Zero the pixels outside the reconstruction circle (default true). */
  circle?: boolean;
}

/** In-place iterative radix-2 complex FFT (n a power of two); `inverse` without 1/n scaling. */
export function fft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const half = len >> 1;
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(ang * k), wi = Math.sin(ang * k);
      for (let i = k; i < n; i += len) {
        const j = i + half;
        const xr = re[j] * wr - im[j] * wi, xi = re[j] * wi + im[j] * wr;
        re[j] = re[i] - xr;
        im[j] = im[i] - xi;
        re[i] += xr;
        im[i] += xi;
      }
    }
  }
}

/** The frequency response of a reconstruction filter for padded length `n` (skimage's). */
export function fourierFilter(n: number, filter: FbpFilter): Float64Array {
  const f = new Float64Array(n);
  const h = new Float64Array(n);
  if (filter === "none") return f.fill(1);
  // spatial ramp: f[0] = 1/4, f[odd k] = −1/(π·d)² with d the circular distance
  f[0] = 0.25;
  for (let k = 1; k < n; k += 2) {
    const d = Math.min(k, n - k);
    f[k] = -1 / (Math.PI * d) ** 2;
  }
  fft(f, h);
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) out[k] = 2 * f[k];
  for (let k = 1; k < n; k++) {
    const fq = k < n / 2 ? k / n : (k - n) / n; // fftfreq
    switch (filter) {
      case "shepp-logan": {
        const w = Math.PI * fq;
        out[k] *= Math.sin(w) / w;
        break;
      }
      default:
        break;
    }
  }
  if (filter === "cosine" || filter === "hamming" || filter === "hann") {
    // window over [0, π) / np.hamming / np.hanning, fftshifted
    const win = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      if (filter === "cosine") win[i] = Math.sin((Math.PI * i) / n);
      else if (filter === "hamming") win[i] = 0.54 - 0.46 * Math.cos((2 * Math.PI * i) / (n - 1));
      else win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    }
    const sh = n >> 1;
    for (let k = 0; k < n; k++) out[k] *= win[(k + sh) % n];
  } else if (filter !== "ramp" && filter !== "shepp-logan") {
    throw new RangeError(`fbp: filter: unknown "${filter}"`);
  }
  return out;
}

/**
 * Filters each projection (row) of a sinogram: returns `angles × cols` float64 filtered
 * projections.
 */
export function filterSinogram(
  sino: ArrayLike<number>,
  angles: number,
  cols: number,
  filter: FbpFilter = "ramp",
): Float64Array {
  const n = Math.max(64, 2 ** Math.ceil(Math.log2(2 * cols)));
  const H = fourierFilter(n, filter);
  const out = new Float64Array(angles * cols);
  const re = new Float64Array(n), im = new Float64Array(n);
  for (let a = 0; a < angles; a++) {
    re.fill(0);
    im.fill(0);
    for (let c = 0; c < cols; c++) re[c] = sino[a * cols + c];
    fft(re, im);
    for (let k = 0; k < n; k++) {
      re[k] *= H[k];
      im[k] *= H[k];
    }
    fft(re, im, true);
    for (let c = 0; c < cols; c++) out[a * cols + c] = re[c] / n;
  }
  return out;
}

/**
 * Filtered back-projection of one parallel-beam sinogram (`angles × cols`). Returns a
 * `size × size` float32 slice (row-major, row 0 at the top).
 */
export function fbp(
  sino: ArrayLike<number>,
  angles: number,
  cols: number,
  opts: FbpOptions = {},
): Float32Array {
  if (sino.length !== angles * cols) {
    throw new RangeError(`fbp: ${sino.length} values for ${angles}×${cols}`);
  }
  const size = opts.size ?? cols;
  const center = opts.center ?? Math.floor(cols / 2);
  const circle = opts.circle ?? true;
  let theta: Float64Array;
  if (opts.angles) {
    if (opts.angles.length !== angles) {
      throw new RangeError(`fbp: angles: ${opts.angles.length} given for ${angles} projections`);
    }
    const k = opts.degrees ? Math.PI / 180 : 1;
    theta = Float64Array.from(opts.angles as ArrayLike<number>, (v) => v * k);
  } else {
    theta = Float64Array.from({ length: angles }, (_, a) => (Math.PI * a) / angles);
  }
  const q = filterSinogram(sino, angles, cols, opts.filter ?? "ramp");
  const img = new Float64Array(size * size);
  const r = Math.floor(size / 2);
  for (let a = 0; a < angles; a++) {
    const c = Math.cos(theta[a]), s = Math.sin(theta[a]);
    const row = a * cols;
    for (let i = 0; i < size; i++) {
      // detector position of pixel (i, j): (j − r)·cos θ − (i − r)·sin θ + centre
      let t = -r * c - (i - r) * s + center;
      const o = i * size;
      for (let j = 0; j < size; j++, t += c) {
        if (t < 0 || t > cols - 1) continue;
        const i0 = Math.floor(t);
        const f = t - i0;
        img[o + j] += i0 + 1 < cols ? q[row + i0] * (1 - f) + q[row + i0 + 1] * f : q[row + i0];
      }
    }
  }
  const out = new Float32Array(size * size);
  const scale = Math.PI / (2 * angles);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      if (circle && (i - r) ** 2 + (j - r) ** 2 > r * r) continue;
      out[i * size + j] = img[i * size + j] * scale;
    }
  }
  return out;
}
