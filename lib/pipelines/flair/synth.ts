/**
 * Synthetic Flair Visibility patients for demos and tests (real patients' data are not
 * public): an ellipsoid head with b0/b1000 contrast like diffusion MRI (brain tissue; fluid in
 * a rim under the skull and in two ventricles, bright on b0 and dark on b1000; the lesion bright
 * on b1000, i.e. a low ADC, and its FLAIR-visible part also brighter on b0, as T2 signal
 * appears), a lesion and its visible part of known volume, anisotropic voxels, a matrix that need not be 256×256 and an oblique affine. Written
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

/** Thickness of the fluid rim under the skull, in mm. */
const CSF_RIM_MM = 4;

/** Options of {@link writeSyntheticPatient}. */
export interface SynthOptions {
  /** Matrix [x, y, z]. */
  shape: [number, number, number];
  /** Voxel size in mm (default [1.8, 1.8, 5]). */
  voxel?: [number, number, number];
  /** In-plane rotation of the affine in degrees (default 10). */
  angle?: number;
  /** How much brighter the FLAIR-visible part of the lesion is on b0 (tissue 300 ± 10; default 120). */
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
  const visFrac = r.range(0.2, 0.8), visB0 = o.visibleB0 ?? 120;
  const head = [0.42 * nx * vx, 0.45 * ny * vy, Math.max(0.55 * nz * vz, 40)];
  // cerebrospinal fluid: a rim under the skull and two ventricles beside the midline, bright on
  // b0 (long T2) and dark on b1000 (free diffusion, high ADC), so that brightness on b0 alone
  // does not mark the FLAIR-visible lesion
  const rim = 1 - CSF_RIM_MM / Math.min(head[0], head[1]);
  const vent = [r.range(5, 8), r.range(-5, 10), 0];
  const ventR = [r.range(4, 6), r.range(14, 20), 14];
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      for (let k = 0; k < nz; k++) {
        const x = (i - (nx - 1) / 2) * vx, y = (j - (ny - 1) / 2) * vy, z = (k - (nz - 1) / 2) * vz;
        const q = (i * ny + j) * nz + k;
        const h2 = (x / head[0]) ** 2 + (y / head[1]) ** 2 + (z / head[2]) ** 2;
        const inHead = h2 < 1;
        const v2 = ((Math.abs(x) - vent[0]) / ventR[0]) ** 2 + ((y - vent[1]) / ventR[1]) ** 2 +
          ((z - vent[2]) / ventR[2]) ** 2;
        const csf = inHead && (h2 > rim * rim || v2 < 1);
        const d = ((x - lc[0]) / lr[0]) ** 2 + ((y - lc[1]) / lr[1]) ** 2 +
          ((z - lc[2]) / lr[2]) ** 2;
        const inLes = inHead && !csf && d < 1;
        const inVis = inLes && (x - lc[0]) * side > lr[0] * (1 - 2 * visFrac);
        stroke[q] = inLes ? 1 : 0;
        vis[q] = inVis ? 1 : 0;
        const noise = r.normal();
        const t0 = csf ? 540 : 300 + (inVis ? visB0 : 0);
        const t1 = csf ? 30 : 90 + (inLes ? 170 : 0);
        b0[q] = inHead ? t0 + 10 * noise : 0.4 * r.uniform();
        b1000[q] = inHead ? Math.round(t1 + 6 * noise) : 0;
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

/** The demo's patients: four matrices (128×96 with anisotropic voxels, 256², 320², 200×176). */
const DEMO_SHAPES: [number, number, number][] = [
  [128, 96, 6],
  [256, 256, 6],
  [320, 320, 6],
  [200, 176, 6],
];

/**
 * Writes the demo's cohort: `<root>/input_data/S1…S4` (oblique, non-256 matrices) and a new
 * patient `<root>/new_patient/NEW`; returns each patient's true volumes.
 *
 * @example
 * ```ts
 * const { truth, fresh } = await writeDemoCohort("demo_out/flair", 0);
 * truth.get("S1")!.strokeMl;
 * ```
 */
export async function writeDemoCohort(
  root: string,
  seed: number,
  visibleB0?: number,
): Promise<{ truth: Map<string, SynthPatient>; fresh: SynthPatient }> {
  const truth = new Map<string, SynthPatient>();
  for (let i = 0; i < DEMO_SHAPES.length; i++) {
    const [nx, ny] = DEMO_SHAPES[i];
    const voxel: [number, number, number] = i === 0 ? [1.8, 2.2, 5] : [230 / nx, 230 / ny, 5];
    const p = await writeSyntheticPatient(join(root, "input_data", `S${i + 1}`), {
      shape: DEMO_SHAPES[i],
      voxel,
      angle: 6 * i - 8,
      visibleB0,
      seed: seed * 100 + i + 1,
    });
    truth.set(`S${i + 1}`, p);
  }
  const fresh = await writeSyntheticPatient(join(root, "new_patient", "NEW"), {
    shape: [192, 160, 6],
    voxel: [1.2, 1.4, 5],
    angle: 15,
    visibleB0,
    seed: seed * 100 + 99,
  });
  return { truth, fresh };
}
