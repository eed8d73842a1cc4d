/**
 * One SEAMLeSS training step as train.py runs it: for each neighbouring pair of a stack
 * (sections i, i+1 for i in 1 … height−2, blank sections skipped), a forward pass and a pass
 * rotated by 180°, each contributing (similarity + λ1·factor·smoothness)/2, plus λ6·consensus,
 * then one Adam step. The optimizer follows the level schedule (schedule.ts).
 *
 * @module
 */
import { add, avgPool2d, cat, mul, noGrad, slice, type Tensor, tensor } from "../../tensor/mod.ts";
import { resetArena } from "../../tensor/tensor.ts";
import { Adam } from "../../optim/adam.ts";
import type { Optimizer } from "../../optim/optimizer.ts";
import { H5File } from "../../io/hdf5.ts";
import { LumenError } from "../../run/errors.ts";
import { type Plane, plane, ternaryMask } from "./masks.ts";
import { consensus, type PenaltyParams, sampleTerms, type SmoothnessType } from "./penalties.ts";
import { identityGrid, type Pyramid } from "./pyramid.ts";
import { type LevelPlan, levelPlan, lrAt, planParams, type ScheduleArgs } from "./schedule.ts";

/** Training hyperparameters (the original's names and defaults). */
export interface TrainArgs extends ScheduleArgs {
  lambda1: number;
  lambda2: number;
  lambda3: number;
  lambda4: number;
  lambda5: number;
  lambda6: number;
  mask_smooth_radius: number;
  mask_neighborhood_radius: number;
  eps: number;
  blank_var_threshold: number;
  padding: number;
  smoothness_penalty_type: SmoothnessType;
  hm: boolean;
  /** Adam's β2 (default 0.999, PyTorch's and so the original's). */
  adam_beta2?: number;
}

/**
 * train.py's defaults.
 *
 * @example
 * ```ts
 * const args = { ...TRAIN_DEFAULTS, size: 8, lambda1: 2 };
 * ```
 */
export const TRAIN_DEFAULTS: TrainArgs = {
  lambda1: 0.1,
  lambda2: 0.3,
  lambda3: 0.00001,
  lambda4: 10,
  lambda5: 0,
  lambda6: 0,
  mask_smooth_radius: 20,
  mask_neighborhood_radius: 20,
  eps: 1e-6,
  blank_var_threshold: 0.001,
  padding: 128,
  smoothness_penalty_type: "jacob",
  hm: false,
  trunc: 4,
  fall_time: 2,
  size: 5,
  fine_tuning: false,
  skip: 0,
  lr: 0.0002,
  fine_tuning_lr_factor: 0.2,
};

/** A training stack: `height` sections of dim×dim and their ternary masks (or none). */
export interface TrainStack {
  sections: Plane[];
  masks: Plane[] | null;
}

/**
 * Reads `main` (count, height, dim, dim) and, when present, `mask` of the same shape (binary
 * defects become ternary with `mask_neighborhood_radius`; values above 1 are taken as ternary).
 *
 * @example
 * ```ts
 * const stacks = await readTrainStacks("basil_v0_train_mip5.h5", 75);
 * ```
 */
export async function readTrainStacks(path: string, neighborhood: number): Promise<TrainStack[]> {
  const f = await H5File.open(path, "r");
  try {
    if (!f.isDataset("main")) throw new LumenError(path, "main", "no dataset `main`");
    const main = f.read("main");
    if (main.shape.length !== 4 || main.shape[2] !== main.shape[3]) {
      throw new LumenError(path, "main", `shape (${main.shape}) is not (count, height, dim, dim)`);
    }
    const mask = f.paths().includes("mask") || f.paths().includes("/mask") ? f.read("mask") : null;
    if (mask && mask.shape.join() !== main.shape.join()) {
      throw new LumenError(path, "mask", `shape (${mask.shape}) differs from main (${main.shape})`);
    }
    const [count, height, dim] = main.shape;
    const n = dim * dim;
    const md = Float32Array.from(main.data as ArrayLike<number>);
    const kd = mask ? Float32Array.from(mask.data as ArrayLike<number>) : null;
    const cut = (d: Float32Array, s: number, z: number) =>
      plane(dim, dim, d.subarray((s * height + z) * n, (s * height + z + 1) * n));
    return Array.from({ length: count }, (_, s) => ({
      sections: Array.from({ length: height }, (_, z) => cut(md, s, z)),
      masks: kd
        ? Array.from({ length: height }, (_, z) => {
          const m = cut(kd, s, z);
          return m.data.some((v) => v > 1) ? m : ternaryMask(m, neighborhood);
        })
        : null,
    }));
  } finally {
    f.close();
  }
}

function padPlane(p: Plane, padding: number): Plane {
  if (padding <= 0) return p;
  const a = padding >> 1, h = p.h + padding, w = p.w + padding;
  const out = plane(h, w);
  for (let y = 0; y < p.h; y++) {
    out.data.set(p.data.subarray(y * p.w, (y + 1) * p.w), (y + a) * w + a);
  }
  return out;
}

function rot180(p: Plane): Plane {
  const out = plane(p.h, p.w);
  for (let i = 0; i < p.data.length; i++) out.data[i] = p.data[p.data.length - 1 - i];
  return out;
}

function variance(p: Plane): number {
  let s = 0, s2 = 0;
  for (const v of p.data) s += v, s2 += v * v;
  const m = s / p.data.length;
  return s2 / p.data.length - m * m;
}

/** Terms of one pair (both passes). */
export interface PairTerms {
  /** The summed cost to back-propagate (null when both passes were skipped). */
  loss: Tensor | null;
  similarity: number[];
  smoothness: number[];
  consensus: number | null;
  /** Mean |field − identity| of the forward pass (grid units). */
  fieldNorm: number;
}

/**
 * run_pair: the forward and the 180°-rotated pass of (src, target) at the plan's level, and the
 * consensus penalty when λ6 > 0. Masks are used at level 0 only, as in the original.
 *
 * @example
 * ```ts
 * const t = await runPair(net, src, tgt, null, null, levelPlan(0, args), args);
 * t.loss?.backward();
 * ```
 */
export async function runPair(
  net: Pyramid,
  src: Plane,
  tgt: Plane,
  srcMask: Plane | null,
  tgtMask: Plane | null,
  plan: LevelPlan,
  a: TrainArgs,
): Promise<PairTerms> {
  const factor = plan.fineTuning && plan.trunc === 0 ? 1 : 0.05;
  const p: PenaltyParams = {
    lambda2: a.lambda2,
    lambda3: a.lambda3,
    lambda4: a.lambda4,
    lambda5: a.lambda5,
    mask_smooth_radius: a.mask_smooth_radius,
    eps: a.eps,
    smoothness: a.smoothness_penalty_type,
    hm: a.hm,
  };
  const t4 = (q: Plane) => tensor(q.data, [1, 1, q.h, q.w]);
  const down = (x: Tensor) => plan.trunc > 0 ? avgPool2d(x, 2 ** plan.trunc) : x;
  const useMasks = plan.trunc === 0;
  // Both passes go through the network as one batch of two (the convolutions per sample are
  // the same; one batched GEMM costs less than two); the penalties are taken per pass.
  const sr = rot180(src), tr = rot180(tgt);
  const [sf, tf, sb, tb] = [src, tgt, sr, tr].map(t4);
  const fields = net.fieldAt(cat([cat([sf, tf], 1), cat([sb, tb], 1)], 0), plan.trunc).field;
  const pass = async (i: number, st: Tensor, tt: Tensor, sm: Plane | null, tm: Plane | null) => {
    const field = slice(fields, [[i, i + 1]]);
    const sl = down(st), tl = down(tt);
    const terms = await sampleTerms(sl, tl, field, useMasks ? sm : null, useMasks ? tm : null, p);
    return { terms, tl, field };
  };
  const f = await pass(0, sf, tf, srcMask, tgtMask);
  const b = await pass(1, sb, tb, srcMask && rot180(srcMask), tgtMask && rot180(tgtMask));
  const out: PairTerms = {
    loss: null,
    similarity: [],
    smoothness: [],
    consensus: null,
    fieldNorm: 0,
  };
  for (const { terms } of [f, b]) {
    if (!terms) continue;
    const cost = mul(add(terms.similarity, mul(terms.smoothness, a.lambda1 * factor)), 0.5);
    out.loss = out.loss ? add(out.loss, cost) : cost;
    out.similarity.push(await terms.similarity.item());
    out.smoothness.push(await terms.smoothness.item());
  }
  const fd = await f.field.data();
  const id = await identityGrid(f.field.shape[1], f.field.shape[2], f.field).data();
  out.fieldNorm = fd.reduce((s, v, i) => s + Math.abs(v - id[i]), 0) / fd.length;
  if (a.lambda6 > 0 && f.terms && b.terms && out.loss) {
    const c = consensus(f.terms.rfield, f.terms.pred, f.tl, b.terms.rfield, b.terms.pred, b.tl);
    out.consensus = await c.item();
    out.loss = add(out.loss, mul(c, a.lambda6));
  }
  return out;
}

/** Metrics of one stack. */
export interface StackMetrics {
  /** err + λ1·factor·penalty (the original logged err + penalty·factor). */
  total: number;
  error: number;
  penalty: number;
  consensus: number;
  field_norm: number;
  pairs: number;
  trunc: number;
  fine_tuning: number;
  lr: number;
}

const meanOf = (xs: number[]) => xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : 0;

/**
 * The training state: the network, the optimizer of the current plan, and the per-stack step.
 *
 * @example
 * ```ts
 * const tr = new SeamlessTrainer(net, args);
 * tr.prepare(epoch, batch); // before resuming
 * const m = await tr.step(stack, epoch, batch);
 * ```
 */
export class SeamlessTrainer {
  optimizer: Optimizer;
  private plan: LevelPlan;

  constructor(readonly net: Pyramid, readonly args: TrainArgs) {
    if (args.trunc >= net.size || args.trunc < 0) {
      throw new LumenError(
        "seamless",
        "--trunc",
        `must be in [0, ${net.size - 1}], got ${args.trunc}`,
      );
    }
    this.plan = levelPlan(0, args);
    this.optimizer = this.build(0);
  }

  private build(epoch: number): Optimizer {
    const { params, lr } = planParams(this.net, this.plan, epoch, this.args);
    return new Adam(params, { lr, betas: [0.9, this.args.adam_beta2 ?? 0.999] });
  }

  /**
   * Rebuilds the optimizer that was live at (epoch, batch), so a checkpoint's state loads into
   * it: at batch 0 the one of the previous epoch.
   */
  prepare(epoch: number, batch: number): void {
    const e = batch > 0 ? epoch : epoch - 1;
    if (e < 0) return;
    this.plan = levelPlan(e, this.args);
    this.optimizer = this.build(this.plan.builtAt);
  }

  /** One stack: every pair, one optimizer step per pair. */
  async step(stack: TrainStack, epoch: number, batch: number): Promise<StackMetrics> {
    if (batch === 0) {
      this.plan = levelPlan(epoch, this.args);
      if (this.plan.rebuild) this.optimizer = this.build(epoch);
    }
    const a = this.args;
    const lr = lrAt(epoch, this.plan, a);
    for (const g of this.optimizer.paramGroups) g.lr = lr;
    const secs = stack.sections.map((s) => padPlane(s, a.padding));
    const masks = stack.masks?.map((m) => padPlane(m, a.padding)) ?? null;
    const err: number[] = [], pen: number[] = [], con: number[] = [], norms: number[] = [];
    let pairs = 0;
    for (let i = 1; i < secs.length - 1; i++) {
      const src = secs[i], tgt = secs[i + 1];
      if (Math.min(variance(src), variance(tgt)) < a.blank_var_threshold) continue;
      const t = await runPair(
        this.net,
        src,
        tgt,
        masks?.[i] ?? null,
        masks?.[i + 1] ?? null,
        this.plan,
        a,
      );
      if (t.loss) {
        t.loss.backward();
        this.optimizer.step();
        pairs++;
      }
      for (const p of this.net.parameters()) p.grad = null;
      err.push(...t.similarity);
      pen.push(...t.smoothness);
      if (t.consensus !== null) con.push(t.consensus, t.consensus);
      norms.push(t.fieldNorm);
      resetArena();
    }
    const factor = this.plan.fineTuning && this.plan.trunc === 0 ? 1 : 0.05;
    return {
      total: meanOf(err) + a.lambda1 * meanOf(pen) * factor,
      error: meanOf(err),
      penalty: meanOf(pen),
      consensus: meanOf(con),
      field_norm: meanOf(norms),
      pairs,
      trunc: this.plan.trunc,
      fine_tuning: this.plan.fineTuning ? 1 : 0,
      lr: this.optimizer.paramGroups[0].lr,
    };
  }
}

/**
 * The warped source of a trained network for one pair at level 0 (for figures and alignment).
 *
 * @example
 * ```ts
 * const { warped, field } = await alignPair(net, src, tgt);
 * ```
 */
export async function alignPair(
  net: Pyramid,
  src: Plane,
  tgt: Plane,
): Promise<{ warped: Plane; field: Float32Array }> {
  const st = tensor(src.data, [1, 1, src.h, src.w]), tt = tensor(tgt.data, [1, 1, tgt.h, tgt.w]);
  const { pred, field } = noGrad(() => net.align(cat([st, tt], 1), 0));
  const warped = plane(src.h, src.w, await pred.data());
  const f = await field.data();
  resetArena();
  return { warped, field: f };
}
