/**
 * JPEG described: the decoded image as one array ("image") and the frame header (size,
 * components, progressive).
 *
 * @example
 * ```ts
 * import { describeJpeg } from "./jpeg.ts";
 * const d = await describeJpeg("photo.jpg", {}); // { arrays: [{ name: "image", … }], image }
 * ```
 * @module
 */
import { readInput } from "../../run/atomic.ts";
import { decodeJpeg, jpegFrameInfo } from "../jpeg.ts";
import { NO_STATS, statsOf } from "./stats.ts";
import type { DescribeOptions, Details } from "./types.ts";

/** What {@link describeJpeg} finds. */
export interface JpegDetails extends Details {
  /** The first frame header's facts (empty where there is none). */
  image: Partial<NonNullable<ReturnType<typeof jpegFrameInfo>>>;
}

/**
 * Describes a JPEG file.
 *
 * @example
 * ```ts
 * (await describeJpeg("gray.jpg", {})).image; // { height: 32, width: 32, components: 1, … }
 * ```
 */
export async function describeJpeg(path: string, opts: DescribeOptions): Promise<JpegDetails> {
  const bytes = await readInput(path);
  const frame = jpegFrameInfo(bytes);
  const img = decodeJpeg(bytes, path, { maxMemory: opts.maxMemory });
  const st = opts.stats ?? true ? statsOf(img) : NO_STATS;
  return {
    arrays: [{ name: "image", shape: img.shape, dtype: img.dtype, ...st }],
    image: { ...frame },
  };
}
