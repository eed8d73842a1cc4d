/**
 * NIfTI-1 volumes (`.nii`, `.nii.gz`): header, affine, scaling, data; read and write.
 *
 * **Array layout.** NIfTI stores voxels with x fastest (Fortran order). Lumen returns them as a
 * C-ordered {@link NdArray} of shape `[nx, ny, nz, …]` (= `dim[1..dim[0]]`) that is indexed
 * exactly like nibabel's `img.get_fdata()` / `np.asanyarray(img.dataobj)`: element `[i, j, k]`
 * here, at flat index `(i * ny + j) * nz + k`, is nibabel's `arr[i, j, k]`. Writing takes the
 * same layout and stores it in NIfTI's order.
 *
 * **Affine.** {@link niftiAffine} follows nibabel's `get_best_affine`: the sform when
 * `sform_code > 0`, else the qform when `qform_code > 0`, else the "base" affine from the voxel
 * sizes (x flipped, origin at the centre). Header fixes nibabel applies on load are applied the
 * same way when computing it (zero voxel sizes → 1, negative → absolute value, qfac ∉ {-1, 1}
 * → 1).
 *
 * **Scaling.** `data` holds the stored values in their stored dtype. With `{ scale: true }`,
 * `scaled` holds `data * scl_slope + scl_inter` as float64, as nibabel's `get_fdata()` (a slope
 * of 0 or NaN means no scaling).
 *
 * **Writing** follows `nib.save(nib.Nifti1Image(data, affine), path)`: the affine goes into the
 * sform (code 2, "aligned") and the qform (code 0, "unknown"; quaternion, offsets, voxel sizes
 * and qfac in pixdim) and `scl_slope`/`scl_inter` are NaN (unscaled), unless the header passed in
 * says otherwise. A path ending in `.gz` is gzip-compressed.
 *
 * Header field names are those of the NIfTI-1 standard (and nibabel): `dim`, `pixdim`,
 * `vox_offset`, `scl_slope`, `qform_code`, `srow_x`…
 *
 * @example
 * ```ts
 * import { readNifti, writeNifti } from "./nifti.ts";
 * const img = await readNifti("brain.nii.gz", { scale: true });
 * console.log(img.data.shape, img.affine, img.header.datatype);
 * await writeNifti("copy.nii.gz", img.data, { affine: img.affine, overwrite: true });
 * ```
 * @module
 */
import { type DType, DTYPE_SIZE, type NdArray, sizeOf } from "./array.ts";
import { LumenError } from "../run/errors.ts";
import { readInput, writeChunksAtomicSync } from "../run/atomic.ts";
import { bytesToTyped, reorder, typedToBytes } from "./npy.ts";
import { gunzipChecked, gzip, isGzip } from "./zip.ts";
import { checkMemory, exactBytes, maxMemory } from "./budget.ts";
import * as zlib from "node:zlib";

/** The 348-byte NIfTI-1 header, field by field (names as in nifti1.h and nibabel). */
export interface NiftiHeader {
  /** Must be 348. */
  sizeof_hdr: number;
  /** Unused (ANALYZE). */
  data_type: string;
  /** Unused (ANALYZE). */
  db_name: string;
  /** Unused (ANALYZE). */
  extents: number;
  /** Unused (ANALYZE). */
  session_error: number;
  /** Unused (ANALYZE), "r" or "". */
  regular: string;
  /** MRI slice ordering (frequency, phase, slice dims). */
  dim_info: number;
  /** dim[0] = number of dimensions, dim[1..7] = sizes. */
  dim: number[];
  /** First intent parameter. */
  intent_p1: number;
  /** Second intent parameter. */
  intent_p2: number;
  /** Third intent parameter. */
  intent_p3: number;
  /** NIFTI_INTENT_* code. */
  intent_code: number;
  /** NIFTI_TYPE_* code (2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8…). */
  datatype: number;
  /** Bits per voxel. */
  bitpix: number;
  /** First slice index. */
  slice_start: number;
  /** pixdim[0] = qfac, pixdim[1..7] = voxel sizes / step. */
  pixdim: number[];
  /** Offset of the data in a .nii file (352 or more). */
  vox_offset: number;
  /** Data scaling slope (0 or NaN: none). */
  scl_slope: number;
  /** Data scaling offset. */
  scl_inter: number;
  /** Last slice index. */
  slice_end: number;
  /** Slice timing order. */
  slice_code: number;
  /** Units of pixdim[1..4]. */
  xyzt_units: number;
  /** Display maximum. */
  cal_max: number;
  /** Display minimum. */
  cal_min: number;
  /** Time for one slice. */
  slice_duration: number;
  /** Time axis shift. */
  toffset: number;
  /** Unused (ANALYZE). */
  glmax: number;
  /** Unused (ANALYZE). */
  glmin: number;
  /** Free text, up to 80 bytes. */
  descrip: string;
  /** Auxiliary filename, up to 24 bytes. */
  aux_file: string;
  /** NIFTI_XFORM_* code of the quaternion transform. */
  qform_code: number;
  /** NIFTI_XFORM_* code of the affine (srow) transform. */
  sform_code: number;
  /** Quaternion b parameter. */
  quatern_b: number;
  /** Quaternion c parameter. */
  quatern_c: number;
  /** Quaternion d parameter. */
  quatern_d: number;
  /** Quaternion x shift. */
  qoffset_x: number;
  /** Quaternion y shift. */
  qoffset_y: number;
  /** Quaternion z shift. */
  qoffset_z: number;
  /** First row of the sform affine. */
  srow_x: number[];
  /** Second row of the sform affine. */
  srow_y: number[];
  /** Third row of the sform affine. */
  srow_z: number[];
  /** Name or meaning of the data, up to 16 bytes. */
  intent_name: string;
  /** "n+1" for a single .nii file. */
  magic: string;
}

/** A NIfTI extension block (code and payload). */
export interface NiftiExtension {
  /** NIFTI_ECODE_* code. */
  code: number;
  /** The payload (without the 8-byte size/code prefix). */
  data: Uint8Array;
}

/** A NIfTI volume as read. */
export interface NiftiImage {
  /** Every header field as stored. */
  header: NiftiHeader;
  /** 4×4 voxel-to-world affine, nibabel's `img.affine` (row-major rows). */
  affine: number[][];
  /** Stored voxel values, shape `dim[1..dim[0]]`, indexed like nibabel (see module docs). */
  data: NdArray;
  /** `data * scl_slope + scl_inter` as float64, when read with `{ scale: true }`. */
  scaled?: NdArray;
  /** Extension blocks between the header and the data. */
  extensions: NiftiExtension[];
  /** True when the file was big-endian. */
  bigEndian: boolean;
}

const DATATYPES: [number, DType][] = [
  [2, "uint8"],
  [4, "int16"],
  [8, "int32"],
  [16, "float32"],
  [64, "float64"],
  [256, "int8"],
  [512, "uint16"],
  [768, "uint32"],
  [1024, "int64"],
  [1280, "uint64"],
];

const UNSUPPORTED_TYPES: Record<number, string> = {
  1: "binary",
  32: "complex64",
  128: "RGB24",
  1536: "float128",
  1792: "complex128",
  2048: "complex256",
  2304: "RGBA32",
};

/** The NIfTI datatype code of a dtype (2 uint8, 4 int16, 16 float32…). */
export function niftiDatatype(dtype: DType): number {
  const e = DATATYPES.find(([, d]) => d === dtype);
  if (!e) throw new RangeError(`NIfTI cannot store ${dtype}`);
  return e[0];
}

/** The dtype of a NIfTI datatype code, or null. */
export function dtypeOfNifti(code: number): DType | null {
  return DATATYPES.find(([c]) => c === code)?.[1] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Header layout: [name, kind, offset, count]

type Kind = "i32" | "i16" | "u8" | "f32" | "str";
const LAYOUT: [keyof NiftiHeader, Kind, number, number][] = [
  ["sizeof_hdr", "i32", 0, 1],
  ["data_type", "str", 4, 10],
  ["db_name", "str", 14, 18],
  ["extents", "i32", 32, 1],
  ["session_error", "i16", 36, 1],
  ["regular", "str", 38, 1],
  ["dim_info", "u8", 39, 1],
  ["dim", "i16", 40, 8],
  ["intent_p1", "f32", 56, 1],
  ["intent_p2", "f32", 60, 1],
  ["intent_p3", "f32", 64, 1],
  ["intent_code", "i16", 68, 1],
  ["datatype", "i16", 70, 1],
  ["bitpix", "i16", 72, 1],
  ["slice_start", "i16", 74, 1],
  ["pixdim", "f32", 76, 8],
  ["vox_offset", "f32", 108, 1],
  ["scl_slope", "f32", 112, 1],
  ["scl_inter", "f32", 116, 1],
  ["slice_end", "i16", 120, 1],
  ["slice_code", "u8", 122, 1],
  ["xyzt_units", "u8", 123, 1],
  ["cal_max", "f32", 124, 1],
  ["cal_min", "f32", 128, 1],
  ["slice_duration", "f32", 132, 1],
  ["toffset", "f32", 136, 1],
  ["glmax", "i32", 140, 1],
  ["glmin", "i32", 144, 1],
  ["descrip", "str", 148, 80],
  ["aux_file", "str", 228, 24],
  ["qform_code", "i16", 252, 1],
  ["sform_code", "i16", 254, 1],
  ["quatern_b", "f32", 256, 1],
  ["quatern_c", "f32", 260, 1],
  ["quatern_d", "f32", 264, 1],
  ["qoffset_x", "f32", 268, 1],
  ["qoffset_y", "f32", 272, 1],
  ["qoffset_z", "f32", 276, 1],
  ["srow_x", "f32", 280, 4],
  ["srow_y", "f32", 296, 4],
  ["srow_z", "f32", 312, 4],
  ["intent_name", "str", 328, 16],
  ["magic", "str", 344, 4],
];

const KIND_SIZE: Record<Kind, number> = { i32: 4, i16: 2, u8: 1, f32: 4, str: 1 };

/**
 * Parses a 348-byte NIfTI-1 header. The byte order is found from `sizeof_hdr`; anything but 348
 * in either order is an error naming the field.
 */
export function parseNiftiHeader(
  bytes: Uint8Array,
  file = "<nifti>",
): { header: NiftiHeader; littleEndian: boolean } {
  if (bytes.length < 348) {
    throw new LumenError(
      file,
      "sizeof_hdr (byte 0)",
      `file is ${bytes.length} bytes, shorter than the 348-byte NIfTI-1 header`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  const l = dv.getInt32(0, true), b = dv.getInt32(0, false);
  if (l === 348) le = true;
  else if (b === 348) le = false;
  else if (l === 540 || b === 540) {
    throw new LumenError(file, "sizeof_hdr (byte 0)", "NIfTI-2 (540) is not supported");
  } else {
    throw new LumenError(
      file,
      "sizeof_hdr (byte 0)",
      `expected 348, found ${l} (not a NIfTI-1 file)`,
    );
  }
  const h: Record<string, unknown> = {};
  for (const [name, kind, off, count] of LAYOUT) {
    if (kind === "str") {
      let s = "";
      for (let k = 0; k < count && bytes[off + k] !== 0; k++) {
        s += String.fromCharCode(bytes[off + k]);
      }
      h[name] = s;
      continue;
    }
    const vals: number[] = [];
    for (let k = 0; k < count; k++) {
      const o = off + k * KIND_SIZE[kind];
      vals.push(
        kind === "i32"
          ? dv.getInt32(o, le)
          : kind === "i16"
          ? dv.getInt16(o, le)
          : kind === "u8"
          ? dv.getUint8(o)
          : dv.getFloat32(o, le),
      );
    }
    h[name] = count === 1 ? vals[0] : vals;
  }
  return { header: h as unknown as NiftiHeader, littleEndian: le };
}

/** Encodes a header into 348 bytes (little-endian). */
export function encodeNiftiHeader(h: NiftiHeader): Uint8Array {
  const out = new Uint8Array(348);
  const dv = new DataView(out.buffer);
  for (const [name, kind, off, count] of LAYOUT) {
    const v = h[name];
    if (kind === "str") {
      const s = String(v ?? "");
      for (let k = 0; k < Math.min(count, s.length); k++) out[off + k] = s.charCodeAt(k) & 255;
      continue;
    }
    const vals = Array.isArray(v) ? v : [v as number];
    for (let k = 0; k < count; k++) {
      const x = Number(vals[k] ?? 0);
      const o = off + k * KIND_SIZE[kind];
      if (kind === "i32") dv.setInt32(o, x, true);
      else if (kind === "i16") dv.setInt16(o, x, true);
      else if (kind === "u8") dv.setUint8(o, x);
      else dv.setFloat32(o, x, true);
    }
  }
  return out;
}

/** A header as nibabel's `Nifti1Header()` makes it, for a single-file image. */
export function defaultNiftiHeader(): NiftiHeader {
  return {
    sizeof_hdr: 348,
    data_type: "",
    db_name: "",
    extents: 0,
    session_error: 0,
    regular: "",
    dim_info: 0,
    dim: [0, 1, 1, 1, 1, 1, 1, 1],
    intent_p1: 0,
    intent_p2: 0,
    intent_p3: 0,
    intent_code: 0,
    datatype: 2,
    bitpix: 8,
    slice_start: 0,
    pixdim: [1, 1, 1, 1, 1, 1, 1, 1],
    vox_offset: 352,
    scl_slope: NaN,
    scl_inter: NaN,
    slice_end: 0,
    slice_code: 0,
    xyzt_units: 0,
    cal_max: 0,
    cal_min: 0,
    slice_duration: 0,
    toffset: 0,
    glmax: 0,
    glmin: 0,
    descrip: "",
    aux_file: "",
    qform_code: 0,
    sform_code: 0,
    quatern_b: 0,
    quatern_c: 0,
    quatern_d: 0,
    qoffset_x: 0,
    qoffset_y: 0,
    qoffset_z: 0,
    srow_x: [0, 0, 0, 0],
    srow_y: [0, 0, 0, 0],
    srow_z: [0, 0, 0, 0],
    intent_name: "",
    magic: "n+1",
  };
}

// ---------------------------------------------------------------------------------------------
// Affines

type M3 = number[][];

/** The voxel sizes nibabel uses after its load-time fixes (0 → 1, negative → abs). */
function fixedZooms(h: NiftiHeader): number[] {
  return h.pixdim.slice(1, 4).map((v) => (v === 0 ? 1 : Math.abs(v)));
}

/** The sform affine (srow_x/y/z), regardless of sform_code. */
export function sformAffine(h: NiftiHeader): number[][] {
  return [h.srow_x.slice(), h.srow_y.slice(), h.srow_z.slice(), [0, 0, 0, 1]];
}

/** The qform affine (quaternion, voxel sizes, qfac, offsets), regardless of qform_code. */
export function qformAffine(h: NiftiHeader, file = "<nifti>"): number[][] {
  const b = h.quatern_b, c = h.quatern_c, d = h.quatern_d;
  let w2 = 1 - (b * b + c * c + d * d);
  if (w2 < 0) {
    if (w2 < -3 * 1.1920928955078125e-7) {
      throw new LumenError(file, "quatern_b/c/d", "quaternion b, c, d has norm above 1");
    }
    w2 = 0;
  }
  const R = quat2mat([Math.sqrt(w2), b, c, d]);
  const vox = fixedZooms(h);
  const qfac = h.pixdim[0] === -1 ? -1 : 1;
  vox[2] *= qfac;
  return [
    [R[0][0] * vox[0], R[0][1] * vox[1], R[0][2] * vox[2], h.qoffset_x],
    [R[1][0] * vox[0], R[1][1] * vox[1], R[1][2] * vox[2], h.qoffset_y],
    [R[2][0] * vox[0], R[2][1] * vox[1], R[2][2] * vox[2], h.qoffset_z],
    [0, 0, 0, 1],
  ];
}

/** nibabel's base affine: voxel sizes on the diagonal, x flipped, origin at the centre. */
export function baseAffine(h: NiftiHeader): number[][] {
  const nd = Math.max(0, Math.min(7, h.dim[0]));
  const shape = [1, 1, 1], zooms = [1, 1, 1];
  for (let i = 0; i < Math.min(3, nd); i++) {
    shape[i] = h.dim[i + 1];
    zooms[i] = h.pixdim[i + 1];
  }
  // nibabel's load-time fixes apply to pixdim[1..3]
  for (let i = 0; i < 3; i++) if (i < nd) zooms[i] = zooms[i] === 0 ? 1 : Math.abs(zooms[i]);
  zooms[0] *= -1;
  const out = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  for (let i = 0; i < 3; i++) {
    out[i][i] = zooms[i];
    out[i][3] = -((shape[i] - 1) / 2) * zooms[i];
  }
  return out;
}

/** The best affine, as nibabel's `header.get_best_affine()` (sform, else qform, else base). */
export function niftiAffine(h: NiftiHeader, file = "<nifti>"): number[][] {
  if (h.sform_code !== 0) return sformAffine(h);
  if (h.qform_code !== 0) return qformAffine(h, file);
  return baseAffine(h);
}

function quat2mat([w, x, y, z]: number[]): M3 {
  const nq = w * w + x * x + y * y + z * z;
  if (nq < 2.220446049250313e-16) return [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  const s = 2 / nq;
  const X = x * s, Y = y * s, Z = z * s;
  const wX = w * X, wY = w * Y, wZ = w * Z;
  const xX = x * X, xY = x * Y, xZ = x * Z;
  const yY = y * Y, yZ = y * Z, zZ = z * Z;
  return [
    [1 - (yY + zZ), xY - wZ, xZ + wY],
    [xY + wZ, 1 - (xX + zZ), yZ - wX],
    [xZ - wY, yZ + wX, 1 - (xX + yY)],
  ];
}

function det3(m: M3): number {
  return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/** Inverse transpose of a 3×3 matrix. */
function invT3(m: M3): M3 {
  const d = det3(m);
  const c = (r0: number, c0: number, r1: number, c1: number) =>
    m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
  // cofactor matrix / det = inverse transpose
  return [
    [c(1, 1, 2, 2) / d, -c(1, 0, 2, 2) / d, c(1, 0, 2, 1) / d],
    [-c(0, 1, 2, 2) / d, c(0, 0, 2, 2) / d, -c(0, 0, 2, 1) / d],
    [c(0, 1, 1, 2) / d, -c(0, 0, 1, 2) / d, c(0, 0, 1, 1) / d],
  ];
}

/** Closest orthogonal matrix (polar decomposition), by Newton's iteration. */
function orthogonalize(m: M3): M3 {
  let x = m.map((r) => r.slice());
  for (let it = 0; it < 100; it++) {
    const y = invT3(x);
    const next = x.map((r, i) => r.map((v, j) => (v + y[i][j]) / 2));
    let diff = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) diff += Math.abs(next[i][j] - x[i][j]);
    x = next;
    if (diff < 1e-15) break;
  }
  return x;
}

/** Quaternion [w, x, y, z] of a rotation matrix, w ≥ 0. */
function mat2quat(m: M3): number[] {
  const [[r00, r01, r02], [r10, r11, r12], [r20, r21, r22]] = m;
  const t = r00 + r11 + r22;
  let q: number[];
  if (t > 0) {
    const s = Math.sqrt(t + 1) * 2;
    q = [0.25 * s, (r21 - r12) / s, (r02 - r20) / s, (r10 - r01) / s];
  } else if (r00 > r11 && r00 > r22) {
    const s = Math.sqrt(1 + r00 - r11 - r22) * 2;
    q = [(r21 - r12) / s, 0.25 * s, (r01 + r10) / s, (r02 + r20) / s];
  } else if (r11 > r22) {
    const s = Math.sqrt(1 + r11 - r00 - r22) * 2;
    q = [(r02 - r20) / s, (r01 + r10) / s, 0.25 * s, (r12 + r21) / s];
  } else {
    const s = Math.sqrt(1 + r22 - r00 - r11) * 2;
    q = [(r10 - r01) / s, (r02 + r20) / s, (r12 + r21) / s, 0.25 * s];
  }
  const n = Math.hypot(...q);
  q = q.map((v) => v / n);
  if (q[0] < 0) q = q.map((v) => -v);
  return q;
}

/** Sets the sform of `h` from a 4×4 affine (nibabel's `set_sform`). */
export function setSform(h: NiftiHeader, affine: number[][], code = 2): void {
  h.sform_code = code;
  h.srow_x = affine[0].slice(0, 4);
  h.srow_y = affine[1].slice(0, 4);
  h.srow_z = affine[2].slice(0, 4);
}

/**
 * Sets the qform of `h` from a 4×4 affine as nibabel's `set_qform` does: voxel sizes from the
 * column norms into pixdim[1..3], qfac into pixdim[0], the closest rotation as a quaternion.
 */
export function setQform(h: NiftiHeader, affine: number[][], code = 0): void {
  h.qform_code = code;
  const rzs = [0, 1, 2].map((i) => affine[i].slice(0, 3));
  const zooms = [0, 1, 2].map((j) => Math.hypot(rzs[0][j], rzs[1][j], rzs[2][j]));
  const r = rzs.map((row) => row.map((v, j) => v / zooms[j]));
  let qfac = 1;
  if (!(det3(r) > 0)) {
    qfac = -1;
    for (let i = 0; i < 3; i++) r[i][2] *= -1;
  }
  const q = mat2quat(orthogonalize(r));
  h.qoffset_x = affine[0][3];
  h.qoffset_y = affine[1][3];
  h.qoffset_z = affine[2][3];
  h.pixdim = h.pixdim.slice();
  h.pixdim[0] = qfac;
  h.pixdim[1] = zooms[0];
  h.pixdim[2] = zooms[1];
  h.pixdim[3] = zooms[2];
  h.quatern_b = q[1];
  h.quatern_c = q[2];
  h.quatern_d = q[3];
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Where a single-file NIfTI-1 image keeps its voxels, from {@link niftiLayout}. */
export interface NiftiLayout {
  /** `dim[1..dim[0]]`. */
  shape: number[];
  /** The stored dtype. */
  dtype: DType;
  /** Byte offset of the first voxel (`vox_offset`, at least 352). */
  offset: number;
  /** Bytes of voxel data. */
  bytes: number;
}

/**
 * Checks a parsed header for a single-file image (magic `n+1`, 1 to 7 dimensions, no negative
 * size, a supported datatype) and says where its voxels lie. With `available` (the bytes of
 * the uncompressed file), also refuses data that the file is too short to hold.
 *
 * @example
 * ```ts
 * const { header } = parseNiftiHeader(head, "t1.nii");
 * const { shape, dtype, offset } = niftiLayout(header, "t1.nii"); // [256, 256, 180], "int16", 352
 * ```
 */
export function niftiLayout(h: NiftiHeader, file = "<nifti>", available?: number): NiftiLayout {
  if (h.magic === "ni1") {
    throw new LumenError(
      file,
      "magic (byte 344)",
      "header/image pairs (.hdr/.img) are not supported",
    );
  }
  if (h.magic !== "n+1") {
    throw new LumenError(file, "magic (byte 344)", `expected 'n+1', found '${h.magic}'`);
  }
  const nd = h.dim[0];
  if (!(nd >= 1 && nd <= 7)) {
    throw new LumenError(file, "dim[0] (byte 40)", `number of dimensions ${nd} is not in 1..7`);
  }
  const shape = h.dim.slice(1, nd + 1);
  const bad = shape.findIndex((d) => d < 0);
  if (bad >= 0) {
    throw new LumenError(file, `dim[${bad + 1}]`, `negative size ${shape[bad]}`);
  }
  const dtype = dtypeOfNifti(h.datatype);
  if (!dtype) {
    const name = UNSUPPORTED_TYPES[h.datatype];
    throw new LumenError(
      file,
      "datatype (byte 70)",
      name ? `${name} data is not supported` : `unknown datatype code ${h.datatype}`,
    );
  }
  // 0 means "right after the header" (nibabel reads it so); anything else inside it is corrupt
  if (!Number.isFinite(h.vox_offset) || h.vox_offset < 0 || (h.vox_offset && h.vox_offset < 352)) {
    throw new LumenError(
      file,
      "vox_offset (byte 108)",
      `voxel offset ${h.vox_offset} is not a position after the 352-byte header`,
    );
  }
  const offset = Math.max(352, Math.floor(h.vox_offset));
  const need = sizeOf(shape) * DTYPE_SIZE[dtype];
  if (available !== undefined && offset + need > available) {
    throw new LumenError(
      file,
      `vox_offset ${offset}`,
      `data truncated: ${shape.join("×")} ${dtype} needs ${need} bytes, found ${
        Math.max(0, available - offset)
      }`,
    );
  }
  return { shape, dtype, offset, bytes: need };
}

/**
 * True when `bytes` start with a NIfTI-1 header: `sizeof_hdr` 348 in either byte order and the
 * magic `n+1` (single file) or `ni1` (header/image pair).
 *
 * @example
 * ```ts
 * isNiftiHeader(await Deno.readFile("t1.nii")); // true
 * ```
 */
export function isNiftiHeader(bytes: Uint8Array): boolean {
  if (bytes.length < 348) return false;
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(344, 348));
  return (d.getInt32(0, true) === 348 || d.getInt32(0, false) === 348) &&
    (magic === "n+1\0" || magic === "ni1\0");
}

/** Options of {@link decodeNifti} / {@link readNifti}. */
export interface NiftiReadOptions {
  /** Also compute `scaled` = data * scl_slope + scl_inter (float64), as nibabel's get_fdata. */
  scale?: boolean;
  /** Memory budget in bytes (default: the process-wide one, see lib/io/budget.ts). */
  maxMemory?: number;
}

/**
 * The first decompressed bytes of gzip data, from at most 4 KiB of it (so at most about 4 MiB
 * out); null where they cannot be had.
 */
function gunzipPrefix(bytes: Uint8Array): Uint8Array | null {
  try {
    const out = zlib.gunzipSync(bytes.subarray(0, 4096), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return null;
  }
}

/**
 * Refuses, before allocating, an image whose decode exceeds the memory budget: the voxels twice
 * (stored order, then C order), the uncompressed file for `.nii.gz`, float64 voxels with `scale`.
 */
function checkNiftiMemory(
  head: Uint8Array,
  file: string,
  gz: boolean,
  opts: NiftiReadOptions,
): void {
  const { header: h } = parseNiftiHeader(head, file);
  const { shape, dtype, offset } = niftiLayout(h, file);
  const exact = exactBytes(shape, DTYPE_SIZE[dtype]);
  const cost = 2n * exact + (gz ? BigInt(offset) + exact : 0n) +
    (opts.scale ? exactBytes(shape, 8) : 0n);
  checkMemory(file, "dim (byte 40)", `${shape.join("×")} ${dtype} voxels`, cost, opts.maxMemory);
}

/**
 * Decodes a NIfTI-1 file held in memory (gzip-compressed or not).
 *
 * @example
 * ```ts
 * const img = decodeNifti(await Deno.readFile("t1.nii.gz"), "t1.nii.gz", { scale: true });
 * ```
 */
export function decodeNifti(
  bytes: Uint8Array,
  file = "<nifti>",
  opts: NiftiReadOptions = {},
): NiftiImage {
  const limit = opts.maxMemory ?? maxMemory();
  if (isGzip(bytes)) {
    const head = gunzipPrefix(bytes);
    if (head && head.length >= 348) checkNiftiMemory(head, file, true, opts);
    bytes = gunzipChecked(bytes, file, limit);
  } else if (file.endsWith(".gz")) bytes = gunzipChecked(bytes, file); // reports "no gzip magic"
  const { header: h, littleEndian } = parseNiftiHeader(bytes, file);
  const { shape, dtype, offset } = niftiLayout(h, file, bytes.length);
  checkNiftiMemory(bytes, file, false, opts);
  // Extensions (between byte 352 and vox_offset).
  const extensions: NiftiExtension[] = [];
  if (bytes.length >= 352 && bytes[348] !== 0) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let p = 352;
    while (p + 8 <= offset) {
      const esize = dv.getInt32(p, littleEndian), ecode = dv.getInt32(p + 4, littleEndian);
      if (esize < 8 || p + esize > offset) break;
      extensions.push({ code: ecode, data: bytes.slice(p + 8, p + esize) });
      p += esize;
    }
  }
  const n = sizeOf(shape);
  const fdata = bytesToTyped(bytes.subarray(offset), dtype, n, littleEndian);
  const data: NdArray = { dtype, shape, data: reorder(fdata, shape, true) };
  const img: NiftiImage = {
    header: h,
    affine: niftiAffine(h, file),
    data,
    extensions,
    bigEndian: !littleEndian,
  };
  if (opts.scale) img.scaled = scaleNifti(img);
  return img;
}

/**
 * True when the header scales its voxels (a finite, non-zero `scl_slope`); refuses a valid
 * slope with a NaN or infinite `scl_inter`, as nibabel does.
 *
 * @example
 * ```ts
 * checkScaling({ scl_slope: 2, scl_inter: 0 }, "a.nii"); // true
 * checkScaling({ scl_slope: NaN, scl_inter: NaN }, "a.nii"); // false
 * ```
 */
export function checkScaling(
  h: Pick<NiftiHeader, "scl_slope" | "scl_inter">,
  file = "<nifti>",
): boolean {
  const scaled = h.scl_slope !== 0 && Number.isFinite(h.scl_slope);
  if (scaled && !Number.isFinite(h.scl_inter)) {
    throw new LumenError(file, "scl_inter", `valid slope but invalid intercept ${h.scl_inter}`);
  }
  return scaled;
}

/**
 * The voxel values with `scl_slope`/`scl_inter` applied, as float64 (nibabel's `get_fdata()`).
 * A slope of 0, NaN or ±Inf means unscaled.
 */
export function scaleNifti(img: Pick<NiftiImage, "header" | "data">, file = "<nifti>"): NdArray {
  const { scl_slope: slope, scl_inter: inter } = img.header;
  const src = img.data.data;
  const out = new Float64Array(src.length);
  const scaled = checkScaling(img.header, file);
  for (let i = 0; i < src.length; i++) {
    const v = Number(src[i]);
    out[i] = scaled ? v * slope + inter : v;
  }
  return { dtype: "float64", shape: img.data.shape.slice(), data: out };
}

/** Reads a `.nii` or `.nii.gz` file (see {@link decodeNifti}). */
export async function readNifti(path: string, opts: NiftiReadOptions = {}): Promise<NiftiImage> {
  const head = fileHead(path, 352);
  if (head && head.length >= 348 && !isGzip(head)) {
    // an uncompressed file: a truncated one is refused as such, a huge one before it is read
    const { header } = parseNiftiHeader(head, path);
    niftiLayout(header, path, Deno.statSync(path).size);
    checkNiftiMemory(head, path, false, opts);
  }
  return decodeNifti(await readInput(path), path, opts);
}

/** The first `n` bytes of a file, or null where it cannot be opened (readInput says why). */
function fileHead(path: string, n: number): Uint8Array | null {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true });
  } catch {
    return null;
  }
  try {
    const buf = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const r = f.readSync(buf.subarray(off));
      if (r === null || r === 0) break;
      off += r;
    }
    return buf.subarray(0, off);
  } catch {
    return null; // a directory, a device…: readInput says why
  } finally {
    f.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Options of {@link encodeNifti} / {@link writeNifti}. */
export interface NiftiWriteOptions {
  /** Voxel-to-world 4×4 affine: written as sform (code 2) and qform (code 0), as nibabel does. */
  affine?: number[][];
  /** Header fields to set (anything not derived from the data). Applied before the affine. */
  header?: Partial<NiftiHeader>;
  /** sform_code to use with `affine` (default 2, "aligned"). */
  sformCode?: number;
  /** qform_code to use with `affine` (default 0, "unknown"). */
  qformCode?: number;
  /** Gzip the file (default: when the path ends in ".gz"; encodeNifti: false). */
  gzip?: boolean;
  /** Replace an existing file (writeNifti only). */
  overwrite?: boolean;
}

/** The header that {@link encodeNifti} writes for `data` with `opts`. */
export function niftiHeaderFor(data: NdArray, opts: NiftiWriteOptions = {}): NiftiHeader {
  const nd = data.shape.length;
  if (nd < 1 || nd > 7) throw new RangeError(`NIfTI holds 1 to 7 dimensions, not ${nd}`);
  if (data.shape.some((d) => d > 32767)) {
    throw new RangeError("NIfTI-1 dimensions are at most 32767");
  }
  const h: NiftiHeader = { ...defaultNiftiHeader(), ...(opts.header ?? {}) };
  h.dim = [nd, ...data.shape, ...Array(7 - nd).fill(1)];
  h.pixdim = (h.pixdim ?? defaultNiftiHeader().pixdim).slice();
  h.datatype = niftiDatatype(data.dtype);
  h.bitpix = DTYPE_SIZE[data.dtype] * 8;
  h.sizeof_hdr = 348;
  h.magic = "n+1";
  h.vox_offset = 352;
  if (opts.affine) {
    setSform(h, opts.affine, opts.sformCode ?? 2);
    setQform(h, opts.affine, opts.qformCode ?? 0);
  }
  return h;
}

/** The bytes of a .nii file for `data` (see {@link niftiHeaderFor}), in pieces. */
export function encodeNiftiChunks(data: NdArray, opts: NiftiWriteOptions = {}): Uint8Array[] {
  if (data.data.length !== sizeOf(data.shape)) {
    throw new RangeError(`shape [${data.shape}] holds ${sizeOf(data.shape)} elements`);
  }
  const h = niftiHeaderFor(data, opts);
  const head = new Uint8Array(352);
  head.set(encodeNiftiHeader(h));
  const body = typedToBytes(reorder(data.data, data.shape, false), true);
  if (opts.gzip) {
    const all = new Uint8Array(352 + body.length);
    all.set(head);
    all.set(body, 352);
    return [gzip(all)];
  }
  return [head, body];
}

/**
 * Encodes a volume as a .nii file (or .nii.gz with `gzip`).
 *
 * @example
 * ```ts
 * const bytes = encodeNifti(vol, { affine: [[2,0,0,0],[0,2,0,0],[0,0,2,0],[0,0,0,1]] });
 * ```
 */
export function encodeNifti(data: NdArray, opts: NiftiWriteOptions = {}): Uint8Array {
  const parts = encodeNiftiChunks(data, opts);
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts[0].length + parts[1].length);
  out.set(parts[0]);
  out.set(parts[1], parts[0].length);
  return out;
}

/**
 * Writes a .nii (or, for a path ending in .gz, .nii.gz) file atomically.
 *
 * @example
 * ```ts
 * await writeNifti("seg.nii.gz", labels, { affine, overwrite: true });
 * ```
 */
export function writeNifti(
  path: string,
  data: NdArray,
  opts: NiftiWriteOptions = {},
): Promise<void> {
  return Promise.resolve().then(() => {
    const o = { ...opts, gzip: opts.gzip ?? path.endsWith(".gz") };
    writeChunksAtomicSync(path, encodeNiftiChunks(data, o), { overwrite: opts.overwrite });
  });
}
