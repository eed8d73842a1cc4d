/**
 * Grayscale JPEG writing through jpeg-js's baseline encoder (the decoder lib/io/jpeg.ts uses).
 * Values are clamped to 0–255; R = G = B, so PIL and libjpeg read the gray image back.
 *
 * @example
 * ```ts
 * import { encodeGrayJpeg } from "./jpeg_write.ts";
 * const bytes = encodeGrayJpeg(new Uint8Array(64 * 64).fill(128), 64, 64, 92);
 * Deno.writeFileSync("img0.jpg", bytes);
 * ```
 * @module
 */
import { jpegJs } from "../../deps.ts";
import { LumenError } from "../../run/errors.ts";

/**
 * Encodes `h × w` gray pixels (row-major, any numeric array) as a baseline JPEG.
 *
 * @example
 * ```ts
 * encodeGrayJpeg(new Float32Array(16), 4, 4);
 * ```
 */
export function encodeGrayJpeg(
  pixels: ArrayLike<number>,
  w: number,
  h: number,
  quality = 92,
): Uint8Array {
  if (pixels.length !== w * h) {
    throw new LumenError("jpeg", "", `expected ${w * h} pixels, got ${pixels.length}`);
  }
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const v = Math.max(0, Math.min(255, Math.round(pixels[i])));
    rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = v;
    rgba[4 * i + 3] = 255;
  }
  const out = jpegJs.encode({ data: rgba, width: w, height: h }, quality);
  return new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
}
