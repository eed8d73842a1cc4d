/**
 * Training and sampling of the class-conditional DDPM: ε-prediction (the original's) or
 * x₀-prediction with an MSE loss (phase dropped for 10 % of samples, for classifier-free
 * guidance), Adam, EMA weights (decay warmed up as min(d, (1 + step)/(10 + step))), exact resume
 * through lib/nn's training loop and checkpoints, DreamBooth-style fine-tuning of one phase with
 * prior preservation (class images of the other phases drawn from the base model, weighted
 * `priorWeight`), and seeded DDIM sampling per phase.
 *
 * @example
 * ```ts
 * import { sampleDdim, trainDiffusion } from "./diffusion_model.ts";
 * const r = await trainDiffusion({ data, preset: "tiny", steps: 200, batch: 8, out: "models/all" });
 * const imgs = sampleDdim(r.ema, r.meta, [3, 3], { steps: 50, seed: 0 });
 * ```
 * @module
 */
import { noGrad, resetArena, tensor } from "../../tensor/tensor.ts";
import { add, mul, narrow } from "../../tensor/ops/mod.ts";
import { mseLoss } from "../../nn/losses.ts";
import { Adam } from "../../optim/adam.ts";
import { trainLoop } from "../../nn/trainer.ts";
import { loadCheckpoint, readCheckpointRecord, saveCheckpoint } from "../../nn/checkpoint.ts";
import { manualInitSeed } from "../../nn/init.ts";
import { SimRng } from "../../data/rng.ts";
import { LumenError } from "../../run/errors.ts";
import { safePoint } from "../../run/interrupt.ts";
import {
  ddimStep,
  ddimTimesteps,
  makeSchedule,
  type NoiseSchedule,
  qSample,
} from "./diffusion_schedule.ts";
import { gaussian, type ImageSet, stepDraws } from "./diffusion_data.ts";
import { PRESETS, UNet, unetConditioning, type UNetConfig } from "./unet.ts";

/** What a saved model records besides its weights. */
export interface DiffusionMeta {
  preset: string;
  cfg: UNetConfig;
  schedule: "linear" | "cosine";
  T: number;
  /** Phase indices it was trained on. */
  phases: number[];
  /** The prompt it was trained with (the original's instance prompt). */
  prompt: string;
  /** The base model a fine-tuning started from, or null. */
  base: string | null;
  /** What the U-Net predicts: the noise ε (the original's) or the clean image x₀ (absent: ε). */
  prediction?: "eps" | "x0";
}

/** Options of {@link trainDiffusion}. */
export interface DiffusionTrainOptions {
  data: ImageSet;
  preset?: keyof typeof PRESETS;
  /** An architecture other than the presets' (recorded with preset "custom"). */
  cfg?: UNetConfig;
  /** A model folder to start from (fine-tuning); its architecture is kept. */
  init?: string;
  /** Class images for prior preservation and their loss weight. */
  prior?: { data: ImageSet; weight: number };
  steps: number;
  batch?: number;
  lr?: number;
  seed?: number;
  emaDecay?: number;
  schedule?: "linear" | "cosine";
  T?: number;
  /** The U-Net's target: ε (default) or x₀ (learns a usable model in fewer steps). */
  prediction?: "eps" | "x0";
  /** Steps between checkpoints (default: steps / 4). */
  checkpointEvery?: number;
  /** The run folder: checkpoints in `<out>/checkpoints`, the final model in `<out>/model.*`. */
  out: string;
  /** Resume from this checkpoint. */
  resume?: string;
  prompt?: string;
  /** Called after each checkpoint with the EMA model (sample grids for the report). */
  onCheckpoint?: (step: number, ema: UNet, meta: DiffusionMeta) => Promise<void> | void;
  log?: (r: Record<string, unknown>) => void;
}

/** What {@link trainDiffusion} produced. */
export interface DiffusionTrainResult {
  model: UNet;
  ema: UNet;
  meta: DiffusionMeta;
  steps: number;
  lastLoss: number;
  /** The final model's record path. */
  path: string;
}

/**
 * Copies every parameter of `from` into `to` (same architecture).
 *
 * @example
 * ```ts
 * copyWeights(model, ema);
 * ```
 */
export function copyWeights(from: UNet, to: UNet): void {
  const dst = new Map(to.namedParameters());
  for (const [name, p] of from.namedParameters()) {
    const q = dst.get(name)!;
    q.backend.write(q.storage, p.dataSync());
  }
}

/**
 * ema ← d·ema + (1 − d)·model, with d = min(decay, (1 + step)/(10 + step)).
 *
 * @example
 * ```ts
 * emaUpdate(ema, model, 0.999, 100);
 * ```
 */
export function emaUpdate(ema: UNet, model: UNet, decay: number, step: number): void {
  const d = Math.min(decay, (1 + step) / (10 + step));
  const src = new Map(model.namedParameters());
  for (const [name, e] of ema.namedParameters()) {
    const ev = e.dataSync(), pv = src.get(name)!.dataSync();
    const out = new Float32Array(ev.length);
    for (let i = 0; i < ev.length; i++) out[i] = d * ev[i] + (1 - d) * pv[i];
    e.backend.write(e.storage, out);
  }
}

function gather(set: ImageSet, index: number[]): Float32Array {
  const per = set.size * set.size;
  const out = new Float32Array(index.length * per);
  index.forEach((k, i) => out.set(set.images[k], i * per));
  return out;
}

/**
 * Reads a saved model folder (`<dir>/model.json`): its metadata and EMA weights.
 *
 * @example
 * ```ts
 * const { ema, meta } = await loadDiffusionModel("models/phase-t2");
 * ```
 */
export async function loadDiffusionModel(
  dir: string,
  which: "ema" | "model" = "ema",
): Promise<{ net: UNet; meta: DiffusionMeta }> {
  const path = `${dir}/model.json`;
  const rec = await readCheckpointRecord(path);
  const meta = rec.extra.meta as DiffusionMeta | undefined;
  if (!meta?.cfg) throw new LumenError(path, "extra.meta", "not an NSW diffusion model");
  const net = new UNet(meta.cfg);
  await loadCheckpoint(path, { modules: { [which]: net } });
  return { net, meta };
}

/**
 * Trains (or fine-tunes) the DDPM; see the module doc.
 *
 * @example
 * ```ts
 * await trainDiffusion({ data, preset: "tiny", steps: 100, out: "models/all" });
 * ```
 */
export async function trainDiffusion(o: DiffusionTrainOptions): Promise<DiffusionTrainResult> {
  const seed = o.seed ?? 0, batch = o.batch ?? 8, decay = o.emaDecay ?? 0.999;
  let cfg: UNetConfig, base: string | null = null;
  let preset: string = o.cfg ? "custom" : o.preset ?? "tiny";
  let schedKind = o.schedule ?? "linear", T = o.T ?? 1000;
  let prediction = o.prediction ?? "eps";
  manualInitSeed(seed);
  let model: UNet;
  if (o.init) {
    const b = await loadDiffusionModel(o.init, "ema");
    cfg = b.meta.cfg;
    preset = b.meta.preset;
    schedKind = b.meta.schedule;
    T = b.meta.T;
    prediction = b.meta.prediction ?? "eps";
    model = b.net;
    base = o.init;
  } else {
    cfg = o.cfg ?? PRESETS[o.preset ?? "tiny"];
    model = new UNet(cfg);
  }
  if (o.data.size !== cfg.size) {
    throw new LumenError("data", "", `images are ${o.data.size} px, the model takes ${cfg.size}`);
  }
  const ema = new UNet(cfg);
  copyWeights(model, ema);
  const sched = makeSchedule(schedKind, T);
  const meta: DiffusionMeta = {
    preset,
    cfg,
    schedule: schedKind,
    T,
    phases: [...new Set(o.data.labels)].sort((a, b) => a - b),
    prompt: o.prompt ?? "",
    base,
    prediction,
  };
  const opt = new Adam(model.parameters(), { lr: o.lr ?? 2e-4 });
  const every = Math.max(1, o.checkpointEvery ?? Math.ceil(o.steps / 4));
  const epochs = Math.ceil(o.steps / every);
  const per = cfg.size * cfg.size;
  let lastLoss = NaN;
  const r = await trainLoop<number>({
    epochs,
    batches: function* (epoch) {
      for (let s = epoch * every; s < Math.min(o.steps, (epoch + 1) * every); s++) yield s;
    },
    step: async (step) => {
      model.zeroGrad();
      const d = stepDraws(o.data.images.length, batch, T, per, seed, step);
      const y = d.index.map((k, i) => (d.drop[i] ? cfg.classes : o.data.labels[k]));
      let x0 = gather(o.data, d.index), noise = d.noise, t = d.t;
      let n = batch;
      if (o.prior) {
        const p = stepDraws(o.prior.data.images.length, batch, T, per, seed + 500_000, step);
        const xp = gather(o.prior.data, p.index);
        const cat0 = new Float32Array(2 * batch * per);
        cat0.set(x0);
        cat0.set(xp, batch * per);
        const catN = new Float32Array(2 * batch * per);
        catN.set(noise);
        catN.set(p.noise, batch * per);
        x0 = cat0;
        noise = catN;
        t = [...t, ...p.t];
        p.index.forEach((k, i) => y.push(p.drop[i] ? cfg.classes : o.prior!.data.labels[k]));
        n = 2 * batch;
      }
      const xt = qSample(sched, x0, noise, t, per);
      const c = unetConditioning(cfg, t, y);
      const out = model.forward(tensor(xt, [n, 1, cfg.size, cfg.size]), c.temb, c.y);
      const target = tensor(prediction === "x0" ? x0 : noise, [n, 1, cfg.size, cfg.size]);
      let loss = mseLoss(narrow(out, 0, 0, batch), narrow(target, 0, 0, batch));
      if (o.prior) {
        const lp = mseLoss(narrow(out, 0, batch, batch), narrow(target, 0, batch, batch));
        loss = add(loss, mul(lp, o.prior.weight));
      }
      loss.backward();
      opt.step();
      lastLoss = await loss.item();
      resetArena();
      emaUpdate(ema, model, decay, step);
      return { loss: lastLoss };
    },
    endEpoch: async (epoch) => {
      await o.onCheckpoint?.(Math.min(o.steps, (epoch + 1) * every), ema, meta);
    },
    checkpoint: {
      dir: `${o.out}/checkpoints`,
      every: 1,
      parts: () => ({ modules: { model, ema }, optimizers: { adam: opt } }),
      extra: { meta },
    },
    resume: o.resume,
    log: o.log,
  });
  const path = `${o.out}/model`;
  await saveCheckpoint(path, {
    modules: { model, ema },
    epoch: r.epochs,
    step: r.steps,
    extra: { meta },
  });
  return { model, ema, meta, steps: r.steps, lastLoss, path: `${path}.json` };
}

/**
 * Turns a predicted x₀ (clipped to [−1, 1]) into the ε it implies at timestep `t`, in place:
 * ε = (x_t − √ᾱ_t x₀) / √(1 − ᾱ_t).
 *
 * @example
 * ```ts
 * epsFromX0(makeSchedule("linear", 1000), xt, pred, 500); // pred now holds ε
 * ```
 */
export function epsFromX0(s: NoiseSchedule, xt: ArrayLike<number>, pred: Float32Array, t: number) {
  const a = Math.sqrt(s.alphasCumprod[t]), b = Math.sqrt(1 - s.alphasCumprod[t]);
  for (let i = 0; i < pred.length; i++) {
    pred[i] = (xt[i] - a * Math.max(-1, Math.min(1, pred[i]))) / b;
  }
}

/** Options of {@link sampleDdim}. */
export interface SampleOptions {
  steps?: number;
  seed?: number;
  eta?: number;
  /** Classifier-free guidance scale (1: the conditional model alone). */
  guidance?: number;
  /** Samples per forward pass (default 16). */
  chunk?: number;
  /** Called after each DDIM step (progress). */
  onStep?: (done: number, total: number) => void;
}

/**
 * DDIM samples, one per entry of `phases` (phase indices), each `size × size` in [−1, 1].
 * The starting noise of sample i depends only on (seed, i).
 *
 * @example
 * ```ts
 * const imgs = sampleDdim(net, meta, [3, 3, 7], { steps: 50, seed: 0 });
 * ```
 */
export async function sampleDdim(
  net: UNet,
  meta: Pick<DiffusionMeta, "cfg" | "schedule" | "T" | "prediction">,
  phases: readonly number[],
  o: SampleOptions = {},
): Promise<Float32Array[]> {
  const cfg = meta.cfg, per = cfg.size * cfg.size;
  const sched: NoiseSchedule = makeSchedule(meta.schedule, meta.T);
  const ts = ddimTimesteps(meta.T, o.steps ?? 50);
  const seed = o.seed ?? 0, eta = o.eta ?? 0, w = o.guidance ?? 1, chunk = o.chunk ?? 16;
  const out: Float32Array[] = [];
  net.eval();
  for (let c0 = 0; c0 < phases.length; c0 += chunk) {
    const ph = phases.slice(c0, c0 + chunk), n = ph.length;
    const rngs = ph.map((_, i) => new SimRng(seed * 1_000_003 + c0 + i));
    let x: Float32Array = new Float32Array(n * per);
    ph.forEach((_, i) => {
      for (let k = 0; k < per; k++) x[i * per + k] = gaussian(rngs[i]);
    });
    for (let s = 0; s < ts.length; s++) {
      const t = ts[s], tPrev = s + 1 < ts.length ? ts[s + 1] : -1;
      const out0 = await noGrad(async () => {
        const cond = unetConditioning(cfg, ph.map(() => t), ph);
        const e = await net.forward(tensor(x, [n, 1, cfg.size, cfg.size]), cond.temb, cond.y)
          .data();
        if (w === 1) return e;
        const un = unetConditioning(cfg, ph.map(() => t), ph.map(() => cfg.classes));
        const u = await net.forward(tensor(x, [n, 1, cfg.size, cfg.size]), un.temb, un.y).data();
        const g = new Float32Array(e.length);
        for (let i = 0; i < g.length; i++) g[i] = u[i] + w * (e[i] - u[i]);
        return g;
      });
      if (meta.prediction === "x0") epsFromX0(sched, x, out0, t);
      resetArena();
      let noise: Float32Array | undefined;
      if (eta > 0) {
        noise = new Float32Array(n * per);
        ph.forEach((_, i) => {
          for (let k = 0; k < per; k++) noise![i * per + k] = gaussian(rngs[i]);
        });
      }
      x = ddimStep(sched, x, out0, t, tPrev, { eta, noise });
      o.onStep?.(s + 1, ts.length);
      await safePoint();
    }
    for (let i = 0; i < n; i++) out.push(x.slice(i * per, (i + 1) * per));
  }
  net.train();
  return out;
}
