/**
 * PNG described: the decoded image as one array ("image") and the header facts (size, bit
 * depth, colour type, interlacing).
 *
 * @example
 * ```ts
 * import { describePng } from "./png.ts";
 * const d = await describePng("mask.png", {}); // { arrays: [{ name: "image", … }], image }
 * ```
 * @module
 */
import { readInput } from "../../run/atomic.ts";
import { decodePngAsync, type PngInfo } from "../png.ts";
import { NO_STATS, statsOf } from "./stats.ts";
import type { DescribeOptions, Details } from "./types.ts";

/** What {@link describePng} finds. */
export interface PngDetails extends Details {
  /** IHDR facts. */
  image: PngInfo;
}

/**
 * Describes a PNG file.
 *
 * @example
 * ```ts
 * (await describePng("rgb.png", {})).arrays[0].shape; // [9, 11, 3]
 * ```
 */
export async function describePng(path: string, opts: DescribeOptions): Promise<PngDetails> {
  const img = await decodePngAsync(await readInput(path), path, { maxMemory: opts.maxMemory });
  const st = opts.stats ?? true ? statsOf(img) : NO_STATS;
  return {
    arrays: [{ name: "image", shape: img.shape, dtype: img.dtype, ...st }],
    image: { ...img.info },
  };
}
