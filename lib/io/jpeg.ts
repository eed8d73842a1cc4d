/**
 * JPEG images, read through jpeg-js (baseline and progressive, grayscale, YCbCr, CMYK/YCCK).
 *
 * A grayscale JPEG gives a `uint8` array of shape (h, w); a color one (h, w, 3) RGB. Values can
 * differ from libjpeg's (PIL, scikit-image) by a few levels, as JPEG decoders' inverse DCTs do.
 * Corrupt input is a one-line {@link LumenError}.
 *
 * @example
 * ```ts
 * import { readJpeg } from "./jpeg.ts";
 * const img = await readJpeg("photo.jpg"); // { dtype: "uint8", shape: [480, 640, 3], … }
 * ```
 * @module
 */
import { jpegJs } from "../deps.ts";
import { type NdArray } from "./array.ts";
import { LumenError } from "../run/errors.ts";
import { readInput } from "../run/atomic.ts";
import { checkMemory, maxMemory } from "./budget.ts";
import { checkJpegHeaders, hasEoi } from "./jpeg_check.ts";

/** Options of {@link decodeJpeg}. */
export interface JpegReadOptions {
  /** Refuse images above this many megapixels (default 250). */
  maxMegapixels?: number;
  /** Refuse to use more than this many MiB while decoding (default: the memory budget). */
  maxMemoryMB?: number;
  /** Memory budget in bytes (default: the process-wide one, see lib/io/budget.ts). */
  maxMemory?: number;
}

/**
 * The one-line reason a decode failed: a file cut short is named as truncated; otherwise
 * jpeg-js's own message where it names the problem, and where the decoder broke inside (a
 * TypeError reading past its tables), what is damaged instead of the TypeError's text.
 */
function jpegProblem(e: unknown, bytes: Uint8Array): string {
  if (!hasEoi(bytes)) return "corrupt JPEG data (truncated: no end-of-image marker)";
  const internal = e instanceof TypeError || e instanceof RangeError ||
    e instanceof ReferenceError || !(e instanceof Error);
  if (!internal) return `corrupt or unsupported JPEG (${(e as Error).message.split("\n")[0]})`;
  return "corrupt JPEG data (damaged entropy-coded data or tables)";
}

/** Number of components and size from the first SOF marker, or null if there is none. */
export function jpegFrameInfo(
  bytes: Uint8Array,
): { components: number; width: number; height: number; progressive: boolean } | null {
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) {
      p++;
      continue;
    }
    const m = bytes[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      p += 2;
      continue;
    }
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (p + 10 > bytes.length) return null;
      return {
        height: (bytes[p + 5] << 8) | bytes[p + 6],
        width: (bytes[p + 7] << 8) | bytes[p + 8],
        components: bytes[p + 9],
        progressive: m === 0xc2 || m === 0xc6 || m === 0xca || m === 0xce,
      };
    }
    if (m === 0xda) return null; // scan before frame: malformed
    p += 2 + len;
  }
  return null;
}

/** Decodes JPEG bytes: (h, w) for grayscale, (h, w, 3) RGB otherwise. */
export function decodeJpeg(
  bytes: Uint8Array,
  file = "<jpeg>",
  opts: JpegReadOptions = {},
): NdArray {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) {
    throw new LumenError(file, "byte 0", "not a JPEG file (no SOI marker)");
  }
  const frame = jpegFrameInfo(bytes);
  if (!frame) throw new LumenError(file, "", "not a JPEG file or corrupt (no frame header)");
  if (frame.width === 0 || frame.height === 0 || frame.components === 0) {
    throw new LumenError(
      file,
      "frame header",
      `empty image (${frame.width}×${frame.height}, ${frame.components} components)`,
    );
  }
  checkJpegHeaders(bytes, file);
  // jpeg-js holds each component's samples and the RGB output; we may copy to grayscale
  const limit = opts.maxMemory ?? maxMemory();
  checkMemory(
    file,
    "frame header",
    `${frame.width}×${frame.height}×${frame.components} image`,
    frame.width * frame.height * (frame.components + 4),
    limit,
  );
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpegJs.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: opts.maxMegapixels ?? 250,
      maxMemoryUsageInMB: opts.maxMemoryMB ?? Math.max(1, Math.floor(limit / 2 ** 20)),
    }) as { width: number; height: number; data: Uint8Array };
  } catch (e) {
    throw new LumenError(file, "", jpegProblem(e, bytes));
  }
  const { width: w, height: h } = img;
  if (frame.components === 1) {
    const g = new Uint8Array(w * h);
    for (let i = 0; i < w * h; i++) g[i] = img.data[3 * i];
    return { dtype: "uint8", shape: [h, w], data: g };
  }
  return { dtype: "uint8", shape: [h, w, 3], data: img.data.subarray(0, w * h * 3) };
}

/** Reads a JPEG file (see {@link decodeJpeg}). */
export async function readJpeg(path: string, opts: JpegReadOptions = {}): Promise<NdArray> {
  return decodeJpeg(await readInput(path), path, opts);
}
