/**
 * Flair Visibility inference: logits (> 0) of each 256×256 slice mapped back to the patient's
 * native grid (the inverse of preparation's rescale and pad/crop), the brain mask reduced to its
 * largest component, stroke inside the mask, visible inside the stroke; volumes in mL from the
 * native voxel size; Dice against the ground truth; an RGB heatmap on the native grid (the
 * b1000 image in grey, clamped to [0, 255] rather than wrapped; mask outline green, stroke
 * outline blue, visible red); the K-model ensemble of a new patient (mask and stroke by
 * majority vote, the visible map as the vote count 0–K, and the visible volume both as the
 * original computes it, the mean over models of each model's visible voxels inside the majority
 * stroke, and by majority vote).
 *
 * @example
 * ```ts
 * import { nativeMaps, postprocess } from "./infer.ts";
 * const seg = postprocess(nativeMaps(logits, 24, 128, 96, 2), [128, 96, 24]);
 * ```
 * @module
 */
import { largestComponent } from "./morphology.ts";
import { fromModelSlice, SLICE } from "./slices.ts";
import { STACK } from "./model.ts";

/** Three native binary volumes [x, y, z] (C order, as nibabel indexes them). */
export interface Segmentation {
  mask: Uint8Array;
  stroke: Uint8Array;
  visible: Uint8Array;
}

/** Voxel counts and volumes of a segmentation. */
export interface Volumes {
  maskVox: number;
  strokeVox: number;
  visibleVox: number;
  maskMl: number;
  strokeMl: number;
  visibleMl: number;
  /** visible / stroke (0 without stroke). */
  ratio: number;
}

/**
 * The 2.5D stack (2, 7, 256, 256) of slice `z` from a patient's (Z, 2, 256, 256) images; a
 * neighbour beyond the first or last slice is the slice's per-channel minimum.
 *
 * @example
 * ```ts
 * import { stackOf } from "./infer.ts";
 * console.log(stackOf(new Float32Array(2 * 65536), 1, 0).length); // 917504
 * ```
 */
export function stackOf(images: Float32Array, Z: number, z: number): Float32Array {
  const A = SLICE * SLICE, h = STACK >> 1;
  const out = new Float32Array(2 * STACK * A);
  for (let c = 0; c < 2; c++) {
    const own = images.subarray((2 * z + c) * A, (2 * z + c + 1) * A);
    let mn = Infinity;
    for (let q = 0; q < A; q++) if (own[q] < mn) mn = own[q];
    for (let s = 0; s < STACK; s++) {
      const j = z + s - h;
      const dst = out.subarray((c * STACK + s) * A, (c * STACK + s + 1) * A);
      if (j >= 0 && j < Z) dst.set(images.subarray((2 * j + c) * A, (2 * j + c + 1) * A));
      else dst.fill(mn);
    }
  }
  return out;
}

/** Runs a model on N stacks (N·2·7·256·256) and returns its logits (N·3·256·256). */
export type Predict = (x: Float32Array, n: number) => Promise<Float32Array>;

/**
 * Logits (Z, 3, 256, 256) of every slice of a patient, `batch` stacks at a time.
 *
 * @example
 * ```ts
 * import { predictSlices } from "./infer.ts";
 * const logits = await predictSlices(images, 24, predict, 4);
 * ```
 */
export async function predictSlices(
  images: Float32Array,
  Z: number,
  predict: Predict,
  batch = 4,
): Promise<Float32Array> {
  const A = SLICE * SLICE, xs = 2 * STACK * A;
  const out = new Float32Array(Z * 3 * A);
  for (let z0 = 0; z0 < Z; z0 += batch) {
    const n = Math.min(batch, Z - z0);
    const x = new Float32Array(n * xs);
    for (let k = 0; k < n; k++) x.set(stackOf(images, Z, z0 + k), k * xs);
    out.set(await predict(x, n), z0 * 3 * A);
  }
  return out;
}

/**
 * Logits (Z, 3, 256, 256) → native binary maps (logit > 0) [x, y, z] for an nx×ny grid that
 * preparation rescaled by `s`.
 *
 * @example
 * ```ts
 * import { nativeMaps } from "./infer.ts";
 * const m = nativeMaps(new Float32Array(3 * 65536), 1, 256, 256, 1); // all 0
 * ```
 */
export function nativeMaps(
  logits: Float32Array,
  Z: number,
  nx: number,
  ny: number,
  s: number,
): Segmentation {
  const A = SLICE * SLICE, n = nx * ny * Z;
  const maps = [new Uint8Array(n), new Uint8Array(n), new Uint8Array(n)];
  for (let z = 0; z < Z; z++) {
    for (let c = 0; c < 3; c++) {
      const plane = logits.subarray((3 * z + c) * A, (3 * z + c + 1) * A);
      const nat = fromModelSlice(plane, nx, ny, s, -1e4);
      const m = maps[c];
      for (let i = 0; i < nx * ny; i++) m[i * Z + z] = nat[i] > 0 ? 1 : 0;
    }
  }
  return { mask: maps[0], stroke: maps[1], visible: maps[2] };
}

/**
 * Mask reduced to its largest component, stroke inside it, visible inside the stroke.
 *
 * @example
 * ```ts
 * import { postprocess } from "./infer.ts";
 * const seg = postprocess(raw, [128, 96, 24]);
 * ```
 */
export function postprocess(seg: Segmentation, shape: readonly number[]): Segmentation {
  const mask = largestComponent(seg.mask, shape);
  const stroke = Uint8Array.from(seg.stroke, (v, i) => v & mask[i]);
  const visible = Uint8Array.from(seg.visible, (v, i) => v & stroke[i]);
  return { mask, stroke, visible };
}

function count(a: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i]) c++;
  return c;
}

/**
 * Voxel counts and mL of a segmentation with voxels of `voxelMl` mL.
 *
 * @example
 * ```ts
 * import { volumesOf } from "./infer.ts";
 * const v = volumesOf(seg, 0.02);
 * console.log(v.visibleMl, v.ratio);
 * ```
 */
export function volumesOf(seg: Segmentation, voxelMl: number): Volumes {
  const maskVox = count(seg.mask), strokeVox = count(seg.stroke), visibleVox = count(seg.visible);
  return {
    maskVox,
    strokeVox,
    visibleVox,
    maskMl: maskVox * voxelMl,
    strokeMl: strokeVox * voxelMl,
    visibleMl: visibleVox * voxelMl,
    ratio: strokeVox ? visibleVox / strokeVox : 0,
  };
}

/**
 * Dice of two binary volumes (1 when both are empty).
 *
 * @example
 * ```ts
 * import { dice } from "./infer.ts";
 * console.log(dice(new Uint8Array([1, 1, 0]), new Uint8Array([1, 0, 0]))); // 0.666…
 * ```
 */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let i = 0, s = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] ? 1 : 0, y = b[k] ? 1 : 0;
    i += x & y, s += x + y;
  }
  return s ? (2 * i) / s : 1;
}

/** The K-model ensemble of one patient. */
export interface Ensemble {
  /** Majority mask and stroke; `visible` = majority visible inside the majority stroke. */
  seg: Segmentation;
  /** Per voxel, the number of models that see it visible inside the majority stroke (0–K). */
  visibleVotes: Uint8Array;
  /** The original's visible volume: mean over models of visible voxels ∧ majority stroke. */
  visibleVoxMean: number;
}

/**
 * Majority vote of K post-processed segmentations.
 *
 * @example
 * ```ts
 * import { ensemble } from "./infer.ts";
 * const e = ensemble([segA, segB, segC]);
 * console.log(e.visibleVoxMean);
 * ```
 */
export function ensemble(segs: readonly Segmentation[]): Ensemble {
  const K = segs.length, n = segs[0].mask.length, half = K / 2;
  const mask = new Uint8Array(n), stroke = new Uint8Array(n), visible = new Uint8Array(n);
  const votes = new Uint8Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let m = 0, s = 0;
    for (const g of segs) m += g.mask[i], s += g.stroke[i];
    mask[i] = m > half ? 1 : 0;
    stroke[i] = s > half && mask[i] ? 1 : 0;
    if (!stroke[i]) continue;
    let v = 0;
    for (const g of segs) v += g.visible[i];
    votes[i] = v;
    total += v;
    visible[i] = v > half ? 1 : 0;
  }
  return { seg: { mask, stroke, visible }, visibleVotes: votes, visibleVoxMean: total / K };
}

/**
 * The RGB heatmap (x, y, z, 3) uint8: `background` in grey scaled so its 99th percentile inside
 * the mask is 255 (clamped), mask outline green, stroke outline blue, visible voxels red.
 * Outlines are in-plane (a voxel with a face neighbour outside, within its slice).
 *
 * @example
 * ```ts
 * import { heatmapRgb } from "./infer.ts";
 * const rgb = heatmapRgb(b1000, seg, [128, 96, 24]);
 * ```
 */
export function heatmapRgb(
  background: ArrayLike<number>,
  seg: Segmentation,
  shape: readonly [number, number, number],
): Uint8Array {
  const [nx, ny, nz] = shape, n = nx * ny * nz;
  const inside: number[] = [];
  for (let i = 0; i < n; i++) if (seg.mask[i]) inside.push(background[i]);
  inside.sort((a, b) => a - b);
  const hi = inside.length ? inside[Math.floor(0.99 * (inside.length - 1))] : 1;
  const scale = hi > 0 ? 255 / hi : 1;
  const out = new Uint8Array(n * 3);
  const edge = (m: Uint8Array, i: number) => {
    if (!m[i]) return false;
    const z = i % nz, xy = (i - z) / nz, x = Math.floor(xy / ny), y = xy % ny;
    const at = (a: number, b: number) =>
      a >= 0 && a < nx && b >= 0 && b < ny ? m[(a * ny + b) * nz + z] : 0;
    return !at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1);
  };
  for (let i = 0; i < n; i++) {
    const g = Math.max(0, Math.min(255, Math.round(background[i] * scale)));
    let rgb = [g, g, g];
    if (seg.visible[i]) rgb = [255, 0, 0];
    else if (edge(seg.stroke, i)) rgb = [0, 0, 255];
    else if (edge(seg.mask, i)) rgb = [0, 255, 0];
    out.set(rgb, i * 3);
  }
  return out;
}

/**
 * RGB volume (x, y, z, 3) → the (x, y, 3) image of slice `z`, x as rows.
 *
 * @example
 * ```ts
 * import { rgbSlice } from "./infer.ts";
 * const img = rgbSlice(rgb, [128, 96, 24], 12); // 128·96·3 bytes
 * ```
 */
export function rgbSlice(
  rgb: Uint8Array,
  shape: readonly [number, number, number],
  z: number,
): Uint8Array {
  const [nx, ny, nz] = shape;
  const out = new Uint8Array(nx * ny * 3);
  for (let i = 0; i < nx * ny; i++) {
    out.set(rgb.subarray((i * nz + z) * 3, (i * nz + z) * 3 + 3), i * 3);
  }
  return out;
}
