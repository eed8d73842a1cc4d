/**
 * IEEE 754 half precision: decoding to numbers and rounding float32/float64 values to the nearest
 * half (ties to even, as numpy's `astype(np.float16)`).
 *
 * @example
 * ```ts
 * import { f16ToF32, f32ToF16 } from "./float16.ts";
 * f16ToF32(0x3c00); // 1
 * f32ToF16(0.1);    // 0x2e66
 * ```
 * @module
 */

/** The value of the half-precision bit pattern `h` (0–65535). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-precision bit pattern nearest to `v` (rounded through float32, ties to even). */
export function f32ToF16(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1))) r++;
    return sign | r;
  }
  let r = mant >>> 13;
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1))) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

/** Decodes an array of half-precision bit patterns into float32. */
export function decodeFloat16(h: Uint16Array, out = new Float32Array(h.length)): Float32Array {
  for (let i = 0; i < h.length; i++) out[i] = f16ToF32(h[i]);
  return out;
}

/** Rounds values to half precision, as bit patterns (numpy's `astype(np.float16)`). */
export function encodeFloat16(x: ArrayLike<number>, out = new Uint16Array(x.length)): Uint16Array {
  for (let i = 0; i < x.length; i++) out[i] = f32ToF16(x[i]);
  return out;
}
