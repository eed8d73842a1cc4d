/**
 * Flair Visibility preparation: each patient's b1000 and b0 z-scored inside the brain mask
 * (given, or the original's median-Otsu mask), clipped to [−10, 10], ROIs thresholded at 0.5
 * (stroke ⊂ mask, visible ⊂ stroke), every axial slice rescaled and centre padded/cropped to
 * 256×256; patients dealt into K folds with a validation proportion in each. The dataset is
 * written patient by patient (memory bounded by one patient) into a folder that appears whole
 * or not at all:
 *
 * - `images.npy` float16 (Z, 2, 256, 256) [b1000, b0]; `labels.npy` uint8 (Z, 2, 256, 256)
 *   [stroke, visible]; `mask.npy` uint8 (Z, 256, 256); `meta.npy` int32 (Z, 5)
 *   [patient id, slice, has_stroke, fold, is_valid];
 * - `subjects.csv` (patient, id, slices, fold, valid, volvox_ml, scaling, size_x, size_y);
 * - `geometry.json`: each patient's folder (absolute), native shape and affine, to map
 *   predictions back.
 *
 * @example
 * ```ts
 * import { prepareDataset } from "./prepare.ts";
 * const r = await prepareDataset("input_data", "prepared", { kfolds: 10, valid: 0.2, seed: 0 });
 * console.log(r.slices);
 * ```
 * @module
 */
import { join, resolve } from "node:path";
import { buildDirAtomic } from "../../run/atomic.ts";
import { LumenError } from "../../run/errors.ts";
import { safePoint } from "../../run/interrupt.ts";
import { encodeFloat16 } from "../../io/float16.ts";
import { brainMask } from "./morphology.ts";
import { kfoldSplit } from "./folds.ts";
import { loadPatient, type Patient, patientFiles } from "./patient.ts";
import { rescaleFactor, SLICE, toModelSlice, zscoreInMask } from "./slices.ts";
import { NpyAppender } from "./npy_append.ts";

/** One patient on the model's grid. */
export interface PreparedPatient {
  /** Number of axial slices (z). */
  slices: number;
  /** float16 bits, (Z, 2, 256, 256) [b1000, b0]. */
  images: Uint16Array;
  /** (Z, 2, 256, 256) [stroke, visible], 0/1. */
  labels: Uint8Array;
  /** (Z, 256, 256), 0/1. */
  mask: Uint8Array;
  /** Per slice: 1 when the slice holds stroke voxels. */
  hasStroke: Uint8Array;
  /** In-plane rescale factor. */
  scaling: number;
  /** True when the brain mask was computed (no mask file). */
  maskComputed: boolean;
}

/** Slice `k` of an [x, y, z] C-ordered volume as a row-major x×y Float32Array. */
function axial(v: ArrayLike<number>, nx: number, ny: number, nz: number, k: number): Float32Array {
  const out = new Float32Array(nx * ny);
  for (let i = 0; i < nx * ny; i++) out[i] = v[i * nz + k];
  return out;
}

/**
 * Brings one patient onto the model's grid (see the module notes for the rules).
 *
 * @example
 * ```ts
 * import { loadPatient } from "./patient.ts";
 * import { preparePatient } from "./prepare.ts";
 * const pp = preparePatient(await loadPatient("input_data/P1"));
 * console.log(pp.slices, pp.scaling);
 * ```
 */
export function preparePatient(p: Patient): PreparedPatient {
  const [nx, ny, nz] = p.shape;
  const n = nx * ny * nz;
  const mask = p.mask
    ? Uint8Array.from(p.mask, (v) => (v > 0.5 ? 1 : 0))
    : brainMask(p.b0, p.b1000, p.shape);
  const z1000 = zscoreInMask(p.b1000, mask), z0 = zscoreInMask(p.b0, mask);
  const stroke = new Uint8Array(n), vis = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    stroke[i] = p.stroke[i] > 0.5 && mask[i] ? 1 : 0;
    vis[i] = p.visible[i] > 0.5 && stroke[i] ? 1 : 0;
  }
  const s = rescaleFactor(nx, ny), A = SLICE * SLICE;
  const images = new Uint16Array(nz * 2 * A), labels = new Uint8Array(nz * 2 * A);
  const maskOut = new Uint8Array(nz * A), hasStroke = new Uint8Array(nz);
  const bin = (v: ArrayLike<number>, k: number) =>
    Uint8Array.from(toModelSlice(axial(v, nx, ny, nz, k), nx, ny, s), (x) => (x > 0.5 ? 1 : 0));
  for (let k = 0; k < nz; k++) {
    encodeFloat16(
      toModelSlice(axial(z1000, nx, ny, nz, k), nx, ny, s),
      images.subarray(2 * k * A, (2 * k + 1) * A),
    );
    encodeFloat16(
      toModelSlice(axial(z0, nx, ny, nz, k), nx, ny, s),
      images.subarray((2 * k + 1) * A, (2 * k + 2) * A),
    );
    const m = bin(mask, k), st = bin(stroke, k), vi = bin(vis, k);
    let any = 0;
    for (let i = 0; i < A; i++) {
      st[i] &= m[i];
      vi[i] &= st[i];
      any |= st[i];
    }
    maskOut.set(m, k * A);
    labels.set(st, 2 * k * A);
    labels.set(vi, (2 * k + 1) * A);
    hasStroke[k] = any;
  }
  return {
    slices: nz,
    images,
    labels,
    mask: maskOut,
    hasStroke,
    scaling: s,
    maskComputed: !p.mask,
  };
}

/** Options of {@link prepareDataset}. */
export interface PrepareOptions {
  /** Number of folds (`-k/--kfolds`). */
  kfolds: number;
  /** Validation proportion inside each fold (`-v/--valid_proportion`). */
  valid: number;
  /** Seed of the fold split. */
  seed: number;
  /** Replace an existing output folder. */
  overwrite?: boolean;
  /** Called after each patient (progress). */
  onPatient?: (name: string, done: number, total: number) => void;
}

/** One patient's row of `geometry.json`. */
export interface PatientGeometry {
  name: string;
  id: number;
  dir: string;
  shape: [number, number, number];
  affine: number[][];
  voxelMl: number;
  scaling: number;
  fold: number;
  valid: boolean;
  /** Index of the patient's first slice in the stacked arrays. */
  first: number;
  slices: number;
  maskComputed: boolean;
}

/** What {@link prepareDataset} wrote. */
export interface PrepareResult {
  patients: PatientGeometry[];
  slices: number;
}

/**
 * The patient folders of `input` (sorted sub-folders), each checked to hold its four volumes.
 *
 * @example
 * ```ts
 * import { listPatients } from "./prepare.ts";
 * console.log(listPatients("input_data")); // ["input_data/P1", …]
 * ```
 */
export function listPatients(input: string): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(input)];
  } catch {
    throw new LumenError(input, "", "not a readable folder of patient folders");
  }
  const dirs = entries.filter((e) => e.isDirectory).map((e) => e.name).sort()
    .map((d) => join(input, d));
  if (dirs.length === 0) throw new LumenError(input, "", "holds no patient folders");
  for (const d of dirs) patientFiles(d);
  return dirs;
}

/**
 * Prepares every patient of `input` into the folder `out` (see the module notes).
 *
 * @example
 * ```ts
 * import { prepareDataset } from "./prepare.ts";
 * await prepareDataset("input_data", "prepared", { kfolds: 3, valid: 0.2, seed: 0 });
 * ```
 */
export async function prepareDataset(
  input: string,
  out: string,
  opts: PrepareOptions,
): Promise<PrepareResult> {
  const dirs = listPatients(input);
  const names = dirs.map((d) => d.slice(input.length).replace(/^\/+/, ""));
  let split;
  try {
    split = kfoldSplit(names, opts.kfolds, opts.valid, opts.seed);
  } catch (e) {
    throw new LumenError(input, "", (e as Error).message);
  }
  const byName = new Map(split.map((a) => [a.patient, a]));
  return await buildDirAtomic(out, async (tmp) => {
    const images = NpyAppender.create(join(tmp, "images.npy"), "<f2", [2, SLICE, SLICE]);
    const labels = NpyAppender.create(join(tmp, "labels.npy"), "|u1", [2, SLICE, SLICE]);
    const mask = NpyAppender.create(join(tmp, "mask.npy"), "|u1", [SLICE, SLICE]);
    const meta = NpyAppender.create(join(tmp, "meta.npy"), "<i4", [5]);
    const geo: PatientGeometry[] = [];
    const rows = ["patient,id,slices,fold,valid,volvox_ml,scaling,size_x,size_y"];
    try {
      for (let id = 0; id < dirs.length; id++) {
        const p = await loadPatient(dirs[id]);
        const a = byName.get(names[id])!;
        const pp = preparePatient(p);
        const first = images.rows;
        images.append(pp.images, pp.slices);
        labels.append(pp.labels, pp.slices);
        mask.append(pp.mask, pp.slices);
        const m = new Int32Array(pp.slices * 5);
        for (let k = 0; k < pp.slices; k++) {
          m.set([id, k, pp.hasStroke[k], a.fold, a.isValid ? 1 : 0], k * 5);
        }
        meta.append(m, pp.slices);
        rows.push(
          [
            names[id],
            id,
            pp.slices,
            a.fold,
            a.isValid ? 1 : 0,
            p.voxelMl,
            pp.scaling,
            ...p.shape.slice(0, 2),
          ]
            .join(","),
        );
        geo.push({
          name: names[id],
          id,
          dir: resolve(dirs[id]),
          shape: p.shape,
          affine: p.affine,
          voxelMl: p.voxelMl,
          scaling: pp.scaling,
          fold: a.fold,
          valid: a.isValid,
          first,
          slices: pp.slices,
          maskComputed: pp.maskComputed,
        });
        opts.onPatient?.(names[id], id + 1, dirs.length);
        await safePoint();
      }
    } finally {
      for (const f of [images, labels, mask, meta]) f.close();
    }
    await Deno.writeTextFile(join(tmp, "subjects.csv"), rows.join("\n") + "\n");
    const g = {
      slice: SLICE,
      kfolds: opts.kfolds,
      valid: opts.valid,
      seed: opts.seed,
      patients: geo,
    };
    await Deno.writeTextFile(join(tmp, "geometry.json"), JSON.stringify(g, null, 1) + "\n");
    return { patients: geo, slices: images.rows };
  }, { overwrite: opts.overwrite });
}
