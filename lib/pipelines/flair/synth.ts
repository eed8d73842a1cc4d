/**
 * Synthetic Flair Visibility patients for demos and tests (real patients' data are not
 * public): an ellipsoid head with b0/b1000 contrast like diffusion MRI (the lesion bright on
 * b1000, its FLAIR-visible part a little brighter on b0), a lesion and its visible part of known
 * volume, anisotropic voxels, a matrix that need not be 256×256 and an oblique affine. Written
 * as `b0`, `b1000`, `stroke_roi`, `flairviz_roi` `.nii.gz` (float32, int16, uint8, uint8).
 *
 * @example
 * ```ts
 * import { writeSyntheticPatient } from "./synth.ts";
 * const p = await writeSyntheticPatient("input_data/S1", { shape: [128, 96, 10], seed: 1 });
 * console.log(p.visibleMl, p.strokeMl);
 * ```
 * @module
 */
import { join } from "node:path";
import { writeNifti } from "../../io/nifti.ts";
import { SimRng } from "../../data/rng.ts";
import { voxelVolumeMl } from "./patient.ts";

/** Options of {@link writeSyntheticPatient}. */
export interface SynthOptions {
  /** Matrix [x, y, z]. */
  shape: [number, number, number];
  /** Voxel size in mm (default [1.8, 1.8, 5]). */
  voxel?: [number, number, number];
  /** In-plane rotation of the affine in degrees (default 10). */
  angle?: number;
  /** How much brighter the FLAIR-visible part of the lesion is on b0 (head 300 ± 10; default 60). */
  visibleB0?: number;
  seed: number;
}

/** What was written, with the true volumes. */
export interface SynthPatient {
  dir: string;
  affine: number[][];
  strokeMl: number;
  visibleMl: number;
  voxelMl: number;
}

/**
 * Writes one synthetic patient folder.
 *
 * @example
 * ```ts
 * import { writeSyntheticPatient } from "./synth.ts";
 * await writeSyntheticPatient("/tmp/S2", { shape: [320, 320, 8], voxel: [0.7, 0.7, 5], seed: 2 });
 * ```
 */
export async function writeSyntheticPatient(dir: string, o: SynthOptions): Promise<SynthPatient> {
  const [nx, ny, nz] = o.shape, [vx, vy, vz] = o.voxel ?? [1.8, 1.8, 5];
  const r = new SimRng(o.seed);
  const t = ((o.angle ?? 10) * Math.PI) / 180, c = Math.cos(t), s = Math.sin(t);
  const affine = [
    [c * vx, -s * vy, 0, -nx * vx / 2],
    [s * vx, c * vy, 0, -ny * vy / 2],
    [0, 0, vz, -nz * vz / 2],
    [0, 0, 0, 1],
  ];
  const n = nx * ny * nz;
  const b0 = new Float32Array(n), b1000 = new Int16Array(n);
  const stroke = new Uint8Array(n), vis = new Uint8Array(n);
  // the lesion: centre offset to one side, radii in mm so volumes do not depend on the matrix
  const side = r.uniform() < 0.5 ? -1 : 1;
  const lc = [side * r.range(25, 40), r.range(-20, 20), r.range(-5, 5)];
  const lr = [r.range(12, 20), r.range(10, 18), r.range(12, 20)];
  const visFrac = r.range(0.2, 0.8), visB0 = o.visibleB0 ?? 60;
  const head = [0.42 * nx * vx, 0.45 * ny * vy, Math.max(0.55 * nz * vz, 40)];
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      for (let k = 0; k < nz; k++) {
        const x = (i - (nx - 1) / 2) * vx, y = (j - (ny - 1) / 2) * vy, z = (k - (nz - 1) / 2) * vz;
        const q = (i * ny + j) * nz + k;
        const inHead = (x / head[0]) ** 2 + (y / head[1]) ** 2 + (z / head[2]) ** 2 < 1;
        const d = ((x - lc[0]) / lr[0]) ** 2 + ((y - lc[1]) / lr[1]) ** 2 +
          ((z - lc[2]) / lr[2]) ** 2;
        const inLes = inHead && d < 1;
        const inVis = inLes && (x - lc[0]) * side > lr[0] * (1 - 2 * visFrac);
        stroke[q] = inLes ? 1 : 0;
        vis[q] = inVis ? 1 : 0;
        const noise = r.normal();
        b0[q] = inHead ? 300 + 10 * noise + (inVis ? visB0 : 0) : 0.4 * r.uniform();
        b1000[q] = inHead ? Math.round(90 + 6 * noise + (inLes ? 170 : 0)) : 0;
      }
    }
  }
  await Deno.mkdir(dir, { recursive: true });
  const w = (
    name: string,
    data: Float32Array | Int16Array | Uint8Array,
    dtype: "float32" | "int16" | "uint8",
  ) =>
    writeNifti(join(dir, `${name}.nii.gz`), { dtype, shape: [nx, ny, nz], data }, {
      affine,
      header: { xyzt_units: 10 },
      overwrite: true,
    });
  await w("b0", b0, "float32");
  await w("b1000", b1000, "int16");
  await w("stroke_roi", stroke, "uint8");
  await w("flairviz_roi", vis, "uint8");
  const voxelMl = voxelVolumeMl(affine);
  const sum = (a: Uint8Array) => a.reduce((p, v) => p + v, 0);
  return { dir, affine, strokeMl: sum(stroke) * voxelMl, visibleMl: sum(vis) * voxelMl, voxelMl };
}
