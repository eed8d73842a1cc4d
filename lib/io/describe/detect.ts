/**
 * Format detection: from a file's first bytes (HDF5/NeXus, with or without a user block, TIFF
 * and BigTIFF, NPY, ZIP/NPZ, PNG, JPEG, NIfTI-1, tar, gzip holding NIfTI or tar), then from its
 * name for text formats (CSV/TSV, JSON, JSON lines, YAML). A name that promises a binary format
 * whose signature is missing goes to that format's reader, which says what is wrong.
 *
 * @example
 * ```ts
 * import { detectFormat } from "./detect.ts";
 * await detectFormat("scan.nxs"); // "hdf5"
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { isNiftiHeader } from "../nifti.ts";
import { isTarHeader } from "../tar.ts";
import { gunzipHead, readAt, readHead } from "./bytes.ts";
import type { FileFormat } from "./types.ts";

const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const GZIP = [0x1f, 0x8b];

/** Signatures at byte 0, checked in this order. */
const MAGIC: [FileFormat, number[]][] = [
  ["hdf5", HDF5],
  ["tiff", [0x49, 0x49, 0x2a, 0x00]], // II*\0
  ["tiff", [0x4d, 0x4d, 0x00, 0x2a]], // MM\0*
  ["tiff", [0x49, 0x49, 0x2b, 0x00]], // II+\0 (BigTIFF)
  ["tiff", [0x4d, 0x4d, 0x00, 0x2b]], // MM\0+
  ["npy", [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]], // \x93NUMPY
  ["zip", [0x50, 0x4b, 0x03, 0x04]], // PK\3\4
  ["zip", [0x50, 0x4b, 0x05, 0x06]], // PK\5\6 (empty archive)
  ["png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["jpeg", [0xff, 0xd8, 0xff]],
];

/** Names of text formats (no signature) and of binary ones whose reader should explain. */
const BY_NAME: [RegExp, FileFormat][] = [
  [/\.(csv|tsv)$/, "csv"],
  [/\.(jsonl|ndjson)$/, "jsonl"],
  [/\.json$/, "json"],
  [/\.ya?ml$/, "yaml"],
];
const PROMISED: [RegExp, FileFormat][] = [
  [/\.nii(\.gz)?$/, "nifti"],
  [/\.tiff?$/, "tiff"],
  [/\.npy$/, "npy"],
  [/\.npz$/, "zip"],
  [/\.(tar|tar\.gz|tgz)$/, "tar"],
  [/\.png$/, "png"],
  [/\.jpe?g$/, "jpeg"],
];

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x);

/**
 * True when the file starts with the gzip magic (1f 8b).
 *
 * @example
 * ```ts
 * isGzipFile("seg.nii.gz"); // true
 * ```
 */
export function isGzipFile(path: string): boolean {
  return startsWith(readHead(path, 2), GZIP);
}

/**
 * The format of a file, from its first bytes and, for text formats, its name. Refuses with one
 * line a missing file, a directory, and bytes of no known format.
 *
 * @example
 * ```ts
 * await detectFormat("volume.nii.gz"); // "nifti"
 * ```
 */
export async function detectFormat(path: string): Promise<FileFormat> {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new LumenError(path, "", "no such file");
    throw new LumenError(path, "", `cannot read: ${(e as Error).message}`);
  }
  if (st.isDirectory) throw new LumenError(path, "", "is a directory, expected a file");
  const head = readHead(path, 4096);
  const lower = path.toLowerCase();
  for (const [format, sig] of MAGIC) if (startsWith(head, sig)) return format;
  if (isNiftiHeader(head)) return "nifti";
  if (isTarHeader(head)) return "tar";
  if (startsWith(head, GZIP)) {
    const inner = await gunzipHead(path, 512);
    if (inner && isNiftiHeader(inner)) return "nifti";
    if (inner && isTarHeader(inner)) return "tar";
    if (/\.nii\.gz$/.test(lower)) return "nifti";
    if (/\.(tar\.gz|tgz)$/.test(lower)) return "tar";
    return "gzip";
  }
  // HDF5 with a user block: the signature sits at 512, 1024, 2048…
  for (let at = 512; at + 8 <= st.size && at <= 1 << 20; at *= 2) {
    const b = at + 8 <= head.length ? head.subarray(at) : readAt(path, at, 8);
    if (startsWith(b, HDF5)) return "hdf5";
  }
  for (const [re, format] of BY_NAME) if (re.test(lower)) return format;
  if (/\.(h5|hdf5|hdf|nxs|nx5)$/.test(lower)) {
    throw new LumenError(path, "byte 0", "not an HDF5 file (no HDF5 signature)");
  }
  for (const [re, format] of PROMISED) if (re.test(lower)) return format;
  const shown = Array.from(head.subarray(0, 8), (x) => x.toString(16).padStart(2, "0")).join(" ");
  throw new LumenError(
    path,
    "byte 0",
    `unknown format (first bytes: ${shown || "none, empty file"})`,
  );
}
