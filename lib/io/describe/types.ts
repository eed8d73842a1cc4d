/**
 * What {@link describe} returns: a file's format, its numeric arrays with their minimum and
 * maximum, and per-format details. Every value is JSON-safe, so `JSON.stringify` prints it as
 * `inspect --json` does.
 *
 * @example
 * ```ts
 * import type { Description } from "./types.ts";
 * const d: Description = { file: "a.npy", format: "npy", bytes: 144, arrays: [] };
 * ```
 * @module
 */

/** A JSON-safe number: finite numbers as numbers, ±Infinity and 64-bit integers beyond 2^53 as strings. */
export type JsonNumber = number | string | null;

/** The formats {@link detectFormat} tells apart. */
export type FileFormat =
  | "hdf5"
  | "tiff"
  | "npy"
  | "npz"
  | "zip"
  | "nifti"
  | "tar"
  | "gzip"
  | "png"
  | "jpeg"
  | "csv"
  | "json"
  | "jsonl"
  | "yaml";

/** One numeric array (dataset, page stack, NPY entry, image, volume). */
export interface ArrayInfo {
  /** Dataset path, entry name, "data", "page 3"… */
  name: string;
  /** The array's shape. */
  shape: number[];
  /**
   * The shape as decimal strings, where a dimension is beyond 2^53 (HDF5): `shape` then holds
   * the nearest doubles, this the exact values.
   */
  exactShape?: string[];
  /** NumPy dtype name. */
  dtype: string;
  /** Minimum ignoring NaN; null when empty or not computed. */
  min: JsonNumber;
  /** Maximum ignoring NaN. */
  max: JsonNumber;
  /** Number of NaN elements (floats only, when any). */
  nan?: number;
  /** Anything else worth knowing (chunks, order, compression, an `error` that hid the data…). */
  [extra: string]: unknown;
}

/** What a format's describer finds: the arrays and the details of that format. */
export interface Details {
  /** The numeric arrays, in file order. */
  arrays: ArrayInfo[];
  /** Set where the describer refines the detected format (a ZIP of NPY files is "npz"). */
  format?: FileFormat;
  /** Per-format details (`tree`, `pages`, `header`, `members`…). */
  [details: string]: unknown;
}

/** A file described: its name, format and size, then the format's {@link Details}. */
export interface Description extends Details {
  /** The path as given. */
  file: string;
  /** The format found. */
  format: FileFormat;
  /** File size in bytes. */
  bytes: number;
}

/** Options of {@link describe}. */
export interface DescribeOptions {
  /** Compute the minimum and maximum of every array (default true). */
  stats?: boolean;
  /**
   * Memory budget in bytes for a reader that decodes a whole image (JPEG, PNG); default the
   * process-wide one that `--max-memory` sets (lib/io/budget.ts).
   */
  maxMemory?: number;
}
