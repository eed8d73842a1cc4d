/**
 * Image resizing as scikit-image's `transform.resize(image, shape, order=1, mode="reflect",
 * anti_aliasing=True)` does it: when shrinking, a Gaussian pre-filter with σ = (scale − 1) / 2 per
 * axis (truncated at 4σ, mirror boundary), then bilinear interpolation at the pixel centres
 * `(o + ½)·scale − ½`, mirrored about the edge pixels outside the image. NoStripesNet's `raw` and `paired` modes resize
 * sinograms to 402 × 362 this way.
 *
 * @example
 * ```ts
 * import { resize2d } from "./resize.ts";
 * const small = resize2d(new Float32Array(1801 * 2560), [1801, 2560], [402, 362]);
 * ```
 * @module
 */

/** Mirror an index into [0, n) (scipy.ndimage "mirror": d c b | a b c d | c b a). */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * n - 2;
  i = ((i % p) + p) % p;
  return i < n ? i : p - i;
}

/** 1-D Gaussian smoothing along one axis (scipy.ndimage.gaussian_filter1d, mode "mirror"). */
function gauss1d(
  src: Float64Array,
  h: number,
  w: number,
  axis: 0 | 1,
  sigma: number,
): Float64Array {
  if (!(sigma > 0)) return src;
  const r = Math.floor(4 * sigma + 0.5);
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-0.5 * (i * i) / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  const out = new Float64Array(src.length);
  const n = axis === 0 ? h : w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      const c = axis === 0 ? y : x;
      for (let j = -r; j <= r; j++) {
        const m = mirror(c + j, n);
        acc += k[j + r] * (axis === 0 ? src[m * w + x] : src[y * w + m]);
      }
      out[y * w + x] = acc;
    }
  }
  return out;
}

/**
 * Resizes a (h × w) image to (H × W), anti-aliased bilinear, float32 result.
 *
 * @example
 * ```ts
 * resize2d(Float32Array.of(0, 1, 2, 3), [2, 2], [4, 4]);
 * ```
 */
export function resize2d(
  src: Float32Array,
  from: readonly [number, number],
  to: readonly [number, number],
): Float32Array {
  const [h, w] = from, [H, W] = to;
  if (src.length !== h * w) throw new RangeError("resize2d: data does not match its shape");
  const sy = h / H, sx = w / W;
  let img: Float64Array = Float64Array.from(src);
  img = gauss1d(img, h, w, 0, Math.max(0, (sy - 1) / 2));
  img = gauss1d(img, h, w, 1, Math.max(0, (sx - 1) / 2));
  const out = new Float32Array(H * W);
  // outside the image, samples mirror about the edge pixel (scipy.ndimage "mirror")
  for (let Y = 0; Y < H; Y++) {
    const cy = (Y + 0.5) * sy - 0.5, fy0 = Math.floor(cy), fy = cy - fy0;
    const y0 = mirror(fy0, h), y1 = mirror(fy0 + 1, h);
    for (let X = 0; X < W; X++) {
      const cx = (X + 0.5) * sx - 0.5, fx0 = Math.floor(cx), fx = cx - fx0;
      const x0 = mirror(fx0, w), x1 = mirror(fx0 + 1, w);
      const a = img[y0 * w + x0] * (1 - fx) + img[y0 * w + x1] * fx;
      const b = img[y1 * w + x0] * (1 - fx) + img[y1 * w + x1] * fx;
      out[Y * W + X] = a * (1 - fy) + b * fy;
    }
  }
  return out;
}
