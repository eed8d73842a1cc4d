/**
 * What a scientific file holds: {@link describe} finds the format ({@link detectFormat}),
 * reads it with the format's reader, and returns its arrays with their minimum and maximum
 * (streamed, so a volume need not fit in memory) and the format's details: the HDF5 tree with
 * shapes, dtypes, chunks, filters, links and attributes; TIFF pages; NPY/NPZ arrays; the NIfTI
 * header and affine; archive listings; the structure of CSV, JSON and YAML files.
 * {@link formatDescription} prints it as text or as one JSON document.
 *
 * Minimum and maximum ignore NaN (counted in `nan`); they are JSON numbers, or the strings
 * "Infinity"/"-Infinity", or decimal strings for 64-bit integers beyond 2^53; null for empty
 * arrays or with `stats: false`.
 *
 * @example
 * ```ts
 * import { describe, formatDescription } from "./mod.ts";
 * const d = await describe("scan.nxs");
 * d.arrays.map((a) => [a.name, a.min, a.max]);
 * console.log(formatDescription(d));
 * ```
 * @module
 */
import { describeCsv } from "./csv.ts";
import { detectFormat } from "./detect.ts";
import { describeHdf5 } from "./hdf5.ts";
import { describeJpeg } from "./jpeg.ts";
import { describeJson, describeJsonLines } from "./json.ts";
import { describeNifti } from "./nifti.ts";
import { describeNpy } from "./npy.ts";
import { describeZip } from "./npz.ts";
import { describePng } from "./png.ts";
import { describeGzip, describeTar } from "./tar.ts";
import { describeTiff } from "./tiff.ts";
import type { DescribeOptions, Description, Details, FileFormat } from "./types.ts";
import { describeYaml } from "./yaml.ts";

export * from "./types.ts";
export { detectFormat } from "./detect.ts";
export { ByteStats, forEachBlock, jsonNumber, MinMax, type Stats, statsOf } from "./stats.ts";
export { formatDescription, type FormatOptions, prettyJson } from "./format.ts";

const DESCRIBERS: Record<FileFormat, (path: string, opts: DescribeOptions) => Promise<Details>> = {
  hdf5: describeHdf5,
  npy: describeNpy,
  npz: describeZip,
  zip: describeZip,
  tiff: describeTiff,
  png: describePng,
  jpeg: describeJpeg,
  csv: describeCsv,
  json: describeJson,
  jsonl: describeJsonLines,
  yaml: describeYaml,
  nifti: describeNifti,
  tar: describeTar,
  gzip: describeGzip,
};

/**
 * Describes one file: its format, size, arrays (with minimum and maximum unless
 * `stats: false`) and the format's details. A file that cannot be read is one LumenError line.
 *
 * @example
 * ```ts
 * const d = await describe("volume.nii.gz", { stats: false });
 * d.format; // "nifti"
 * d.arrays[0].shape; // [256, 256, 180]
 * ```
 */
export async function describe(path: string, opts: DescribeOptions = {}): Promise<Description> {
  const format = await detectFormat(path);
  const info = await Deno.stat(path);
  const part = await DESCRIBERS[format](path, opts);
  return {
    file: path,
    format: part.format ?? format,
    bytes: info.size,
    ...part,
    arrays: part.arrays,
  };
}
