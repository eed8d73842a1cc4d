/**
 * One Flair Visibility patient folder: `b0`, `b1000`, `stroke_roi`, `flairviz_roi` (`.nii.gz`
 * or `.nii`) and an optional brain mask (`mask` as the original's README names it, or
 * `mask_roi` as its code reads it). Every volume is read as nibabel's `get_fdata()` (float64,
 * indexed `[x, y, z]`), a trailing axis of length 1 dropped, and checked to lie on b0's grid
 * (same shape, same affine) with one line naming the patient and the file otherwise.
 *
 * @example
 * ```ts
 * import { loadPatient } from "./patient.ts";
 * const p = await loadPatient("input_data/P1");
 * console.log(p.shape, p.voxelMl, p.mask === null);
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { readNifti } from "../../io/nifti.ts";
import { LumenError } from "../../run/errors.ts";

/** The volumes a patient folder must hold, by base name. */
export const REQUIRED_VOLUMES = ["b0", "b1000", "stroke_roi", "flairviz_roi"] as const;
/** Brain-mask base names accepted, in order of preference. */
export const MASK_NAMES = ["mask", "mask_roi"] as const;

/** A patient's volumes on its native grid. */
export interface Patient {
  /** Folder name. */
  name: string;
  /** Folder path. */
  dir: string;
  /** [x, y, z] as nibabel's shape. */
  shape: [number, number, number];
  /** b0's voxel-to-world affine. */
  affine: number[][];
  /** Volume of one voxel in mL (|det| of the affine's 3×3 part / 1000). */
  voxelMl: number;
  /** b0's header `xyzt_units` (kept in the NIfTI files written for the patient). */
  xyztUnits: number;
  b0: Float64Array;
  b1000: Float64Array;
  stroke: Float64Array;
  visible: Float64Array;
  /** The brain mask when the folder has one, else null. */
  mask: Float64Array | null;
  /** The file each volume came from. */
  files: Record<string, string>;
}

/**
 * The path of `name` inside `dir` (`.nii.gz`, else `.nii`), or null.
 *
 * @example
 * ```ts
 * import { volumePath } from "./patient.ts";
 * console.log(volumePath("input_data/P1", "b0")); // "input_data/P1/b0.nii.gz" when it exists
 * ```
 */
export function volumePath(dir: string, name: string): string | null {
  for (const ext of [".nii.gz", ".nii"]) {
    const p = join(dir, name + ext);
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * |det| of the 3×3 part of an affine, divided by 1000: the voxel volume in mL for mm units.
 *
 * @example
 * ```ts
 * import { voxelVolumeMl } from "./patient.ts";
 * console.log(voxelVolumeMl([[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 5, 0], [0, 0, 0, 1]])); // 0.02
 * ```
 */
export function voxelVolumeMl(a: number[][]): number {
  const det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
    a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
    a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  return Math.abs(det) / 1000;
}

function sameAffine(a: number[][], b: number[][]): boolean {
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      if (Math.abs(a[i][j] - b[i][j]) > 1e-4 * (1 + Math.abs(a[i][j]))) return false;
    }
  }
  return true;
}

async function readVolume(
  path: string,
): Promise<{ shape: number[]; affine: number[][]; data: Float64Array; units: number }> {
  const img = await readNifti(path, { scale: true });
  const shape = img.data.shape.slice();
  while (shape.length > 3 && shape[shape.length - 1] === 1) shape.pop();
  if (shape.length !== 3) {
    throw new LumenError(path, "dim", `a 3D volume is needed, not shape [${img.data.shape}]`);
  }
  const data = img.scaled!.data as Float64Array;
  return { shape, affine: img.affine, data, units: img.header.xyzt_units };
}

/**
 * Finds a patient's files and fails with one line when one is missing.
 *
 * @example
 * ```ts
 * import { patientFiles } from "./patient.ts";
 * const f = patientFiles("input_data/P1"); // { b0: ".../b0.nii.gz", …, mask?: … }
 * ```
 */
export function patientFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const v of REQUIRED_VOLUMES) {
    const p = volumePath(dir, v);
    if (!p) {
      throw new LumenError(
        join(dir, `${v}.nii.gz`),
        "",
        `missing: patient ${basename(dir)} needs ${REQUIRED_VOLUMES.join(", ")} (.nii.gz or .nii)`,
      );
    }
    files[v] = p;
  }
  for (const m of MASK_NAMES) {
    const p = volumePath(dir, m);
    if (p) {
      files.mask = p;
      break;
    }
  }
  return files;
}

/**
 * Reads a patient folder and checks every volume against b0's grid.
 *
 * @example
 * ```ts
 * import { loadPatient } from "./patient.ts";
 * const p = await loadPatient("input_data/P1");
 * ```
 */
export async function loadPatient(dir: string): Promise<Patient> {
  const files = patientFiles(dir);
  const name = basename(dir);
  const vols: Record<string, Float64Array> = {};
  const b0 = await readVolume(files.b0);
  for (const [key, path] of Object.entries(files)) {
    const v = key === "b0" ? b0 : await readVolume(path);
    if (v.shape.join() !== b0.shape.join()) {
      throw new LumenError(
        path,
        "shape",
        `patient ${name}: [${v.shape}] differs from b0's [${b0.shape}]`,
      );
    }
    if (!sameAffine(v.affine, b0.affine)) {
      throw new LumenError(path, "affine", `patient ${name}: not on b0's grid (affines differ)`);
    }
    vols[key] = v.data;
  }
  return {
    name,
    dir,
    shape: b0.shape as [number, number, number],
    affine: b0.affine,
    voxelMl: voxelVolumeMl(b0.affine),
    xyztUnits: b0.units,
    b0: vols.b0,
    b1000: vols.b1000,
    stroke: vols.stroke_roi,
    visible: vols.flairviz_roi,
    mask: vols.mask ?? null,
    files,
  };
}
