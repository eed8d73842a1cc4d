/**
 * NPY described: shape, dtype, order and byte order from the header, and the minimum and maximum
 * streamed through the data a piece at a time ({@link streamNpy}).
 *
 * @example
 * ```ts
 * import { describeNpy } from "./npy.ts";
 * const d = await describeNpy("volume.npy", {}); // { arrays: [{ name: "volume.npy", … }] }
 * ```
 * @module
 */
import { type NpyHeader, streamNpy } from "../npy.ts";
import { fileSource } from "../zip.ts";
import { sourceChunks } from "./bytes.ts";
import { BLOCK, ByteStats, NO_STATS } from "./stats.ts";
import type { ArrayInfo, DescribeOptions, Details } from "./types.ts";

/**
 * Describes an NPY byte stream as one array: `name`, then shape, dtype, statistics, order
 * ("C" or "F") and the descr as written. `file` names the stream in errors.
 *
 * @example
 * ```ts
 * const a = await describeNpyStream([bytes], "a.npy", "a", {}); // { name: "a", shape, … }
 * ```
 */
export async function describeNpyStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file: string,
  name: string,
  opts: DescribeOptions,
): Promise<ArrayInfo> {
  let stats: ByteStats | null = null;
  const onData = (bytes: Uint8Array, h: NpyHeader) => {
    stats ??= new ByteStats(h.dtype, h.littleEndian);
    stats.push(bytes);
  };
  const h = await streamNpy(chunks, file, opts.stats ?? true ? onData : undefined);
  const st = opts.stats ?? true ? (stats ?? new ByteStats(h.dtype, true)).mm.result() : NO_STATS;
  return {
    name,
    shape: h.shape,
    dtype: h.dtype,
    ...st,
    order: h.fortranOrder ? "F" : "C",
    descr: h.descr,
  };
}

/**
 * Describes an NPY file; the array is named after the file.
 *
 * @example
 * ```ts
 * (await describeNpy("data/a.npy", { stats: false })).arrays[0].name; // "a.npy"
 * ```
 */
export async function describeNpy(path: string, opts: DescribeOptions): Promise<Details> {
  const src = fileSource(path);
  try {
    const name = path.replace(/^.*\//, "");
    return { arrays: [await describeNpyStream(sourceChunks(src, 0, BLOCK * 4), path, name, opts)] };
  } finally {
    src.close();
  }
}
