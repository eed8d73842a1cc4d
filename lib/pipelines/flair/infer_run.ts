/**
 * The two inference runs of Flair Visibility, on ONNX models (`model<k+1>.onnx`, run by
 * onnxruntime-web):
 *
 * - {@link inferOutOfFold}: each fold's model on its own test patients of a prepared dataset;
 *   per patient `<out>/<patient>/{predictions,heatmap}.nii.gz` on the native grid and a row of
 *   `<out>/test_inference.csv` (voxels and mL of mask, stroke and visible, the visible/stroke
 *   ratio, the ground truth's, and Dice against it);
 * - {@link inferPatient}: a new patient folder through all K models, majority vote
 *   (infer.ts's {@link ensemble}); `<out>/{predictions,heatmap}.nii.gz`, `results.csv` and
 *   `key_slices.png`.
 *
 * `predictions.nii.gz` is uint8 (x, y, z, 3): [mask, stroke, visible] (for the ensemble, the
 * visible channel is the vote count 0–K); `heatmap.nii.gz` uint8 (x, y, z, 3) RGB. Both carry
 * the patient's affine and b0's units. Output folders appear whole or not at all.
 *
 * @example
 * ```ts
 * import { inferPatient } from "./infer_run.ts";
 * const r = await inferPatient("input_data/NEW", "saved_models_ONNX", "results/NEW");
 * console.log(r.visibleMlMean);
 * ```
 * @module
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { writeNifti } from "../../io/nifti.ts";
import { decodeFloat16 } from "../../io/float16.ts";
import { encodePng } from "../../io/png.ts";
import { OnnxInference } from "../../nn/onnx_runtime.ts";
import { buildDirAtomic } from "../../run/atomic.ts";
import { LumenError } from "../../run/errors.ts";
import { safePoint } from "../../run/interrupt.ts";
import { PreparedDataset } from "./dataset.ts";
import { loadPatient, type Patient } from "./patient.ts";
import { preparePatient } from "./prepare.ts";
import { brainMask } from "./morphology.ts";
import { ONNX_INPUT, ONNX_OUTPUT } from "./export.ts";
import { SLICE } from "./slices.ts";
import { CHANNELS, STACK } from "./model.ts";
import {
  dice,
  ensemble,
  heatmapRgb,
  nativeMaps,
  postprocess,
  type Predict,
  predictSlices,
  rgbSlice,
  type Segmentation,
  volumesOf,
} from "./infer.ts";

/** An ONNX model as a {@link Predict} function, and its release. */
export async function onnxPredictor(
  path: string,
  threads = 1,
): Promise<{ predict: Predict; release: () => Promise<void> }> {
  if (!existsSync(path)) throw new LumenError(path, "", "missing: export the fold models first");
  const s = await OnnxInference.create(path, { provider: "wasm", threads });
  return {
    predict: async (x, n) => {
      const shape = [n, CHANNELS, STACK, SLICE, SLICE];
      const r = await s.run({ [ONNX_INPUT]: { dtype: "float32", shape, data: x } });
      return r.get(ONNX_OUTPUT)!.data as Float32Array;
    },
    release: () => s.release(),
  };
}

/** The ground truth of a patient on its native grid, by preparation's rules. */
export function groundTruth(p: Patient): Segmentation {
  const mask = p.mask
    ? Uint8Array.from(p.mask, (v) => (v > 0.5 ? 1 : 0))
    : brainMask(p.b0, p.b1000, p.shape);
  const stroke = Uint8Array.from(p.stroke, (v, i) => (v > 0.5 && mask[i] ? 1 : 0));
  const visible = Uint8Array.from(p.visible, (v, i) => (v > 0.5 && stroke[i] ? 1 : 0));
  return { mask, stroke, visible };
}

async function writeVolumes(
  dir: string,
  p: Patient,
  channels: readonly Uint8Array[],
  heat: Uint8Array,
): Promise<void> {
  const [nx, ny, nz] = p.shape, n = nx * ny * nz;
  const pred = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) pred[i * 3 + c] = channels[c][i];
  const opts = { affine: p.affine, header: { xyzt_units: p.xyztUnits }, overwrite: true };
  const shape = [nx, ny, nz, 3];
  await writeNifti(join(dir, "predictions.nii.gz"), { dtype: "uint8", shape, data: pred }, opts);
  await writeNifti(join(dir, "heatmap.nii.gz"), { dtype: "uint8", shape, data: heat }, opts);
}

/** One row of test_inference.csv. */
export interface OutOfFoldRow {
  patient: string;
  fold: number;
  pred: ReturnType<typeof volumesOf>;
  truth: ReturnType<typeof volumesOf>;
  dice: { mask: number; stroke: number; visible: number };
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(6));

/**
 * Each fold's model on its own test patients (see the module notes).
 *
 * @example
 * ```ts
 * import { inferOutOfFold } from "./infer_run.ts";
 * const rows = await inferOutOfFold("prepared", "saved_models_ONNX", "results");
 * ```
 */
export async function inferOutOfFold(
  data: string,
  models: string,
  out: string,
  o: { threads?: number; overwrite?: boolean; onPatient?: (r: OutOfFoldRow) => void } = {},
): Promise<OutOfFoldRow[]> {
  const ds = PreparedDataset.open(data);
  const A = SLICE * SLICE;
  try {
    for (let k = 0; k < ds.kfolds; k++) {
      const m = join(models, `model${k + 1}.onnx`);
      if (!existsSync(m)) throw new LumenError(m, "", "missing: export the fold models first");
    }
    return await buildDirAtomic(out, async (tmp) => {
      const rows: OutOfFoldRow[] = [];
      for (let k = 0; k < ds.kfolds; k++) {
        const model = await onnxPredictor(join(models, `model${k + 1}.onnx`), o.threads);
        try {
          for (const g of ds.patients.filter((q) => q.fold === k)) {
            const images = new Float32Array(g.slices * 2 * A);
            for (let z = 0; z < g.slices; z++) images.set(ds.image(g.first + z), z * 2 * A);
            const logits = await predictSlices(images, g.slices, model.predict);
            const p = await loadPatient(g.dir);
            const seg = postprocess(
              nativeMaps(logits, g.slices, p.shape[0], p.shape[1], g.scaling),
              p.shape,
            );
            const gt = groundTruth(p);
            const row: OutOfFoldRow = {
              patient: g.name,
              fold: k,
              pred: volumesOf(seg, p.voxelMl),
              truth: volumesOf(gt, p.voxelMl),
              dice: {
                mask: dice(seg.mask, gt.mask),
                stroke: dice(seg.stroke, gt.stroke),
                visible: dice(seg.visible, gt.visible),
              },
            };
            const dir = join(tmp, g.name);
            await Deno.mkdir(dir, { recursive: true });
            await writeVolumes(
              dir,
              p,
              [seg.mask, seg.stroke, seg.visible],
              heatmapRgb(p.b1000, seg, p.shape),
            );
            rows.push(row);
            o.onPatient?.(row);
            await safePoint();
          }
        } finally {
          await model.release();
        }
      }
      const head = "patient,fold,mask_vox,mask_ml,stroke_vox,stroke_ml,visible_vox,visible_ml," +
        "ratio,gt_stroke_ml,gt_visible_ml,dice_mask,dice_stroke,dice_visible";
      const lines = rows.map((r) =>
        [
          r.patient,
          r.fold,
          r.pred.maskVox,
          r.pred.maskMl,
          r.pred.strokeVox,
          r.pred.strokeMl,
          r.pred.visibleVox,
          r.pred.visibleMl,
          r.pred.ratio,
          r.truth.strokeMl,
          r.truth.visibleMl,
          r.dice.mask,
          r.dice.stroke,
          r.dice.visible,
        ].map((v) => (typeof v === "number" ? fmt(v) : v)).join(",")
      );
      await Deno.writeTextFile(join(tmp, "test_inference.csv"), [head, ...lines].join("\n") + "\n");
      return rows;
    }, { overwrite: o.overwrite });
  } finally {
    ds.close();
  }
}

/** What {@link inferPatient} found. */
export interface PatientResult {
  patient: string;
  models: number;
  maskMl: number;
  strokeMl: number;
  /** The original's visible volume (mean of each model's visible voxels in the majority stroke). */
  visibleMlMean: number;
  /** The majority-vote visible volume. */
  visibleMlMajority: number;
  ratio: number;
}

/** The `model<k>.onnx` files of a folder, in order. */
export function onnxModels(models: string): string[] {
  const out: string[] = [];
  for (let k = 1; existsSync(join(models, `model${k}.onnx`)); k++) {
    out.push(join(models, `model${k}.onnx`));
  }
  if (!out.length) throw new LumenError(join(models, "model1.onnx"), "", "missing: no models");
  return out;
}

/** Up to 4 slices with the most stroke, side by side, as PNG. */
function keySlicesPng(
  rgb: Uint8Array,
  seg: Segmentation,
  shape: [number, number, number],
): Uint8Array {
  const [nx, ny, nz] = shape;
  const per = new Array(nz).fill(0);
  for (let i = 0; i < seg.stroke.length; i++) if (seg.stroke[i]) per[i % nz]++;
  const zs = [...per.keys()].sort((a, b) => per[b] - per[a] || a - b).slice(0, Math.min(4, nz))
    .sort((a, b) => a - b);
  const gap = 4, W = zs.length * ny + (zs.length - 1) * gap;
  const img = new Uint8Array(nx * W * 3).fill(255);
  zs.forEach((z, t) => {
    const s = rgbSlice(rgb, shape, z);
    for (let x = 0; x < nx; x++) {
      img.set(s.subarray(x * ny * 3, (x + 1) * ny * 3), (x * W + t * (ny + gap)) * 3);
    }
  });
  return encodePng({ dtype: "uint8", shape: [nx, W, 3], data: img });
}

/**
 * A new patient through every model of `models` (see the module notes).
 *
 * @example
 * ```ts
 * import { inferPatient } from "./infer_run.ts";
 * await inferPatient("input_data/NEW", "saved_models_ONNX", "results/NEW", { overwrite: true });
 * ```
 */
export async function inferPatient(
  dir: string,
  models: string,
  out: string,
  o: { threads?: number; overwrite?: boolean } = {},
): Promise<PatientResult> {
  const paths = onnxModels(models);
  const p = await loadPatient(dir);
  const pp = preparePatient(p);
  const images = decodeFloat16(pp.images);
  const segs: Segmentation[] = [];
  for (const path of paths) {
    const m = await onnxPredictor(path, o.threads);
    try {
      const logits = await predictSlices(images, pp.slices, m.predict);
      segs.push(
        postprocess(nativeMaps(logits, pp.slices, p.shape[0], p.shape[1], pp.scaling), p.shape),
      );
    } finally {
      await m.release();
    }
    await safePoint();
  }
  const e = ensemble(segs);
  const v = volumesOf(e.seg, p.voxelMl);
  const res: PatientResult = {
    patient: p.name,
    models: paths.length,
    maskMl: v.maskMl,
    strokeMl: v.strokeMl,
    visibleMlMean: e.visibleVoxMean * p.voxelMl,
    visibleMlMajority: v.visibleMl,
    ratio: v.strokeVox ? e.visibleVoxMean / v.strokeVox : 0,
  };
  const heat = heatmapRgb(p.b1000, e.seg, p.shape);
  await buildDirAtomic(out, async (tmp) => {
    await writeVolumes(tmp, p, [e.seg.mask, e.seg.stroke, e.visibleVotes], heat);
    const head = "patient,models,mask_ml,stroke_ml,visible_ml_mean,visible_ml_majority,ratio";
    const row = [
      res.patient,
      res.models,
      res.maskMl,
      res.strokeMl,
      res.visibleMlMean,
      res.visibleMlMajority,
      res.ratio,
    ]
      .map((x) => (typeof x === "number" ? fmt(x) : x)).join(",");
    await Deno.writeTextFile(join(tmp, "results.csv"), `${head}\n${row}\n`);
    await Deno.writeFile(join(tmp, "key_slices.png"), keySlicesPng(heat, e.seg, p.shape));
  }, { overwrite: o.overwrite });
  return res;
}
