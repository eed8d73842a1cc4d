/**
 * The original's penalties (loss.py and train.py's run_sample / run_pair): per-pixel squared
 * similarity averaged over the border mask and reweighted by the warped defect mask (λ4, λ5),
 * smoothness of the displacement (`jacob`, `lap`, `cjacob`, `tv`) summed under weights built
 * from the defect mask (λ2, λ3, `mask_smooth_radius`) and warped with the field, and the
 * consensus of a pair with its 180° rotation (λ6).
 *
 * @module
 */
import {
  abs,
  add,
  cat,
  div,
  gridSample,
  mean,
  mul,
  ne,
  neg,
  noGrad,
  pad,
  permute,
  slice,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
} from "../../tensor/mod.ts";
import { flip } from "../../tensor/ops/flip.ts";
import { gridSamplePadded } from "../../tensor/ops/grid_sample_border.ts";
import { LumenError } from "../../run/errors.ts";
import { boxAverage, contract, dilate, lowPass, mapPlanes, type Plane, plane } from "./masks.ts";
import { identityGrid } from "./pyramid.ts";

/** The smoothness penalties of the original. */
export const SMOOTHNESS_TYPES = ["jacob", "lap", "cjacob", "tv"] as const;
/** One of {@link SMOOTHNESS_TYPES}. */
export type SmoothnessType = typeof SMOOTHNESS_TYPES[number];

/**
 * Checks a `--smoothness_penalty_type` value.
 *
 * @example
 * ```ts
 * smoothnessType("lap"); // "lap"
 * ```
 */
export function smoothnessType(s: string): SmoothnessType {
  if (!(SMOOTHNESS_TYPES as readonly string[]).includes(s)) {
    throw new LumenError(
      "seamless",
      "--smoothness_penalty_type",
      `unknown penalty ${s} (use ${SMOOTHNESS_TYPES.join(", ")})`,
    );
  }
  return s as SmoothnessType;
}

type R = [number, number?] | null;
const rows = (f: Tensor, a: number, b?: number) => slice(f, [null, [a, b] as R]);
const cols = (f: Tensor, a: number, b?: number) => slice(f, [null, null, [a, b] as R]);
/** Zero rows (axis 1 of [B, H, W, 2]) before/after. */
const padRows = (f: Tensor, before: number, after: number) => pad(f, [0, 0, 0, 0, before, after]);
/** Zero columns (axis 2). */
const padCols = (f: Tensor, before: number, after: number) => pad(f, [0, 0, before, after]);

/** Centred differences along rows and columns, zero-padded at both ends. */
function centred(f: Tensor): [Tensor, Tensor] {
  const h = f.shape[1], w = f.shape[2];
  return [
    padRows(sub(rows(f, 2), rows(f, 0, h - 2)), 1, 1),
    padCols(sub(cols(f, 2), cols(f, 0, w - 2)), 1, 1),
  ];
}

/**
 * The per-pixel smoothness field [B, H, W] of a displacement field [B, H, W, 2] (loss.py).
 *
 * @example
 * ```ts
 * const s = smoothnessField(rfield, "jacob"); // Σ components of dx² + dy²
 * ```
 */
export function smoothnessField(f: Tensor, type: SmoothnessType): Tensor {
  const h = f.shape[1], w = f.shape[2];
  if (type === "jacob") {
    const dx = padRows(sub(rows(f, 1), rows(f, 0, h - 1)), 0, 1);
    const dy = padCols(sub(cols(f, 1), cols(f, 0, w - 1)), 0, 1);
    return sum(square(cat([dx, dy], -1)), -1);
  }
  if (type === "lap") {
    const mid = rows(f, 1, h - 1), midc = cols(f, 1, w - 1);
    const dx = padRows(sub(mid, rows(f, 0, h - 2)), 1, 1);
    const dxf = padRows(sub(mid, rows(f, 2)), 1, 1);
    const dy = padCols(sub(midc, cols(f, 0, w - 2)), 1, 1);
    const dyf = padCols(sub(midc, cols(f, 2)), 1, 1);
    return sum(square(div(add(add(dx, dy), add(dxf, dyf)), 4)), -1);
  }
  const [dx, dy] = centred(f);
  if (type === "tv") return sum(abs(cat([dx, dy], -1)), -1);
  // cjacob: the component means are constants (the original takes them with .item()).
  const center = (d: Tensor) => sub(d, noGrad(() => mean(d.detach(), [0, 1, 2])));
  return sum(square(cat([center(dx), center(dy)], -1)), -1);
}

/** λs and radii of the penalties (the original's flag names). */
export interface PenaltyParams {
  lambda2: number;
  lambda3: number;
  lambda4: number;
  lambda5: number;
  mask_smooth_radius: number;
  eps: number;
  smoothness: SmoothnessType;
  /** `--hm`: the warped smoothness weights carry no gradient to the field. */
  hm?: boolean;
}

/** The terms of one pass over a pair (run_sample). */
export interface SampleTerms {
  /** Source warped by the field [1, 1, h, w]. */
  pred: Tensor;
  /** Field − identity [1, h, w, 2]. */
  rfield: Tensor;
  /** Weighted similarity, mean over the border mask. */
  similarity: Tensor;
  /** Weighted smoothness, summed. */
  smoothness: Tensor;
  /** The border mask (pred ≠ 0 and target ≠ 0, low-passed, contracted 5 px). */
  border: Plane;
  similarityWeights: Plane;
  smoothnessWeights: Plane;
}

async function toPlane(t: Tensor): Promise<Plane> {
  return plane(t.shape[t.ndim - 2], t.shape[t.ndim - 1], await t.data());
}

function planeTensor(p: Plane, like: Tensor): Tensor {
  return tensor(p.data, [1, 1, p.h, p.w], { backend: like.backend });
}

/**
 * One pass of the original's run_sample: `src`, `target` [1, 1, h, w] at the field's level,
 * the sampling grid `field` [1, h, w, 2], ternary masks of source and target (or null).
 * Returns null where the original skips the sample (empty border mask, all-zero weights).
 *
 * @example
 * ```ts
 * const t = await sampleTerms(src, tgt, field, srcMask, tgtMask, params);
 * const cost = add(t.similarity, mul(t.smoothness, lambda1 * factor));
 * ```
 */
export async function sampleTerms(
  src: Tensor,
  target: Tensor,
  field: Tensor,
  srcMask: Plane | null,
  targetMask: Plane | null,
  p: PenaltyParams,
): Promise<SampleTerms | null> {
  const pred = gridSample(src, field, { alignCorners: true });
  const [h, w] = [pred.shape[2], pred.shape[3]];
  const fd = field.detach();
  const [predP, tgtP, srcP] = await Promise.all([toPlane(pred), toPlane(target), toPlane(src)]);
  const valid = mapPlanes([predP, tgtP], ([a, b]) => a !== 0 && b !== 0 ? 1 : 0);
  const border = contract(lowPass(valid), 5);
  if (!border.data.some((v) => v > 0)) return null;
  let warpedMask: Plane | null = null;
  if (srcMask) {
    const wm = noGrad(() =>
      gridSamplePadded(planeTensor(srcMask, src), fd, { padding: "border", alignCorners: true })
    );
    warpedMask = mapPlanes([await toPlane(wm)], ([v]) => Math.ceil(v));
  }
  let binary = border;
  if (targetMask) {
    const tm = dilate(targetMask, 1);
    binary = mapPlanes(
      [binary, contract(mapPlanes([tm], ([v]) => v < 2 ? 1 : 0), 2)],
      ([a, b]) => Math.min(a, b),
    );
  }
  const simW = plane(h, w).data.fill(1);
  if (warpedMask) {
    const big = dilate(mapPlanes([warpedMask], ([v]) => v > 1 ? 1 : 0), 2);
    for (let i = 0; i < simW.length; i++) {
      const m = warpedMask.data[i];
      if (m > 0 && m <= 1) simW[i] = p.lambda4;
      if (big.data[i] > 0) simW[i] = p.lambda5;
    }
  }
  let simSum = 0, nBorder = 0;
  for (let i = 0; i < simW.length; i++) {
    simW[i] *= binary.data[i];
    if (border.data[i] > 0) simSum += simW[i], nBorder++;
  }
  if (simSum < p.eps) return null;
  const simWeights: Plane = { data: simW, h, w };
  // mean over the border mask of (pred − target)² · weights
  const borderT = planeTensor(border, src);
  const simField = mul(square(sub(pred, target)), planeTensor(simWeights, src));
  const similarity = div(sum(mul(simField, borderT)), nBorder);

  const sbin = mapPlanes([srcP, tgtP], ([a, b]) => a !== 0 && b !== 0 ? 1 : 0);
  let sw = plane(h, w);
  sw.data.fill(1);
  if (srcMask) {
    for (let i = 0; i < sw.data.length; i++) {
      if (srcMask.data[i] > 0) sw.data[i] = p.lambda2;
      if (srcMask.data[i] > 1) sw.data[i] = p.lambda3;
    }
  }
  const r = p.mask_smooth_radius;
  sw = contract(sw, r, false);
  sw = mapPlanes([sw, sbin], ([a, b]) => a * b);
  sw = mapPlanes([boxAverage(sw, r)], ([v]) => Math.sqrt(v));
  if (srcMask) {
    for (let i = 0; i < sw.data.length; i++) if (srcMask.data[i] > 1) sw.data[i] = p.lambda3;
  }
  sw = boxAverage(sw, 2);
  let swSum = 0;
  for (let i = 0; i < sw.data.length; i++) if (sbin.data[i] > 0) swSum += sw.data[i];
  if (swSum < p.eps) return null;
  const warpedW = gridSamplePadded(planeTensor(sw, src), p.hm ? fd : field, {
    padding: "border",
    alignCorners: true,
  });
  const smoothW = mul(p.hm ? warpedW.detach() : warpedW, borderT);
  const rfield = sub(field, identityGrid(h, w, field));
  const smoothness = sum(mul(smoothnessField(rfield, p.smoothness), smoothW));
  return {
    pred,
    rfield,
    similarity,
    smoothness,
    border,
    similarityWeights: simWeights,
    smoothnessWeights: sw,
  };
}

/**
 * The consensus penalty of run_pair: the forward field and the reversed, negated field of the
 * pass rotated by 180°, each masked by pred ≠ 0 and target ≠ 0; mean of the squared
 * difference.
 *
 * @example
 * ```ts
 * const c = consensus(fwd.rfield, fwd.pred, tgt, bwd.rfield, bwd.pred, tgtRotated);
 * ```
 */
export function consensus(
  rfF: Tensor,
  predF: Tensor,
  targetF: Tensor,
  rfB: Tensor,
  predB: Tensor,
  targetB: Tensor,
): Tensor {
  const zm = (pred: Tensor, tgt: Tensor) =>
    noGrad(() => {
      const m = permute(mul(ne(pred.detach(), 0), ne(tgt.detach(), 0)), [0, 2, 3, 1]);
      return cat([m, m], 3);
    });
  const f = mul(rfF, zm(predF, targetF));
  const b = neg(flip(mul(rfB, zm(predB, targetB)), [1, 2]));
  return mean(sum(square(sub(f, b)), -1));
}
