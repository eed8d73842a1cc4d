/**
 * NIfTI-1 described (`.nii`, `.nii.gz`): the header, the affine, and the voxels' statistics
 * streamed through (gunzipped as read), with the scaled range where `scl_slope`/`scl_inter`
 * apply. The header checks are the reader's ({@link niftiLayout}).
 *
 * @example
 * ```ts
 * import { describeNifti } from "./nifti.ts";
 * const d = await describeNifti("t1.nii.gz", {}); // { arrays, compressed, byteOrder, header, affine }
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { checkScaling, niftiAffine, niftiLayout, parseNiftiHeader } from "../nifti.ts";
import { gunzipHead, readHead, streamBytes } from "./bytes.ts";
import { isGzipFile } from "./detect.ts";
import { ByteStats, jsonNumber, NO_STATS } from "./stats.ts";
import type { ArrayInfo, DescribeOptions, Description, Details } from "./types.ts";

/** What {@link describeNifti} finds. */
export interface NiftiDetails extends Details {
  /** True for `.nii.gz`. */
  compressed: boolean;
  /** "little" or "big". */
  byteOrder: string;
  /** Every header field, JSON-safe. */
  header: Record<string, unknown>;
  /** nibabel's best affine, or "invalid: …" where the header's cannot be built. */
  affine: unknown;
}

/**
 * Describes a NIfTI-1 file.
 *
 * @example
 * ```ts
 * (await describeNifti("vol.nii", {})).arrays[0]; // { name: "data", shape: [6, 7, 8], … }
 * ```
 */
export async function describeNifti(path: string, opts: DescribeOptions): Promise<NiftiDetails> {
  const gz = isGzipFile(path);
  const head = gz ? (await gunzipHead(path, 352, true))! : readHead(path, 352);
  const { header: h, littleEndian } = parseNiftiHeader(head, path);
  const { shape, dtype, offset, bytes: need } = niftiLayout(h, path);
  checkScaling(h, path); // a valid slope with a NaN intercept: no values can be given
  const bs = new ByteStats(dtype, littleEndian);
  const stats = opts.stats ?? true;
  let pos = 0;
  const total = await streamBytes(path, gz, (b) => {
    // only the data bytes [offset, offset + need)
    const lo = Math.max(0, offset - pos), hi = Math.min(b.length, offset + need - pos);
    if (stats && hi > lo) bs.push(b.subarray(lo, hi));
    pos += b.length;
  });
  niftiLayout(h, path, total); // refuses truncated data
  const st = stats ? bs.mm.result() : NO_STATS;
  const arr: ArrayInfo = { name: "data", shape, dtype, ...st };
  const slope = h.scl_slope, inter = h.scl_inter;
  if (
    checkScaling(h, path) && (slope !== 1 || inter !== 0) &&
    typeof st.min === "number" && typeof st.max === "number"
  ) {
    const a = st.min * slope + inter, b = st.max * slope + inter;
    arr.scaledMin = Math.min(a, b);
    arr.scaledMax = Math.max(a, b);
  }
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    header[k] = typeof v === "number"
      ? jsonNumber(v)
      : Array.isArray(v)
      ? v.map((x) => jsonNumber(x))
      : v;
  }
  let affine: unknown = null;
  try {
    affine = niftiAffine(h, path).map((row) => row.map((x) => jsonNumber(x)));
  } catch (e) {
    if (!(e instanceof LumenError)) throw e;
    affine = `invalid: ${e.problem}`;
  }
  return {
    arrays: [arr],
    compressed: gz,
    byteOrder: littleEndian ? "little" : "big",
    header,
    affine,
  };
}

const SHOWN = [
  "dim",
  "pixdim",
  "datatype",
  "bitpix",
  "vox_offset",
  "scl_slope",
  "scl_inter",
  "xyzt_units",
  "qform_code",
  "sform_code",
  "descrip",
  "intent_code",
];

/**
 * The text lines of a NIfTI description after its arrays: the main header fields, the affine
 * and the byte order.
 *
 * @example
 * ```ts
 * niftiLines(d); // ["  dim: [3,6,7,8,1,1,1,1]", …, "  byte order little"]
 * ```
 */
export function niftiLines(d: Description): string[] {
  const n = d as Description & NiftiDetails;
  return [
    ...SHOWN.map((k) => `  ${k}: ${JSON.stringify(n.header[k])}`),
    `  affine: ${JSON.stringify(n.affine)}`,
    `  byte order ${n.byteOrder}${n.compressed ? ", gzip-compressed" : ""}`,
  ];
}
