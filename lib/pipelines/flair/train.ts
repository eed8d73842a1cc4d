/**
 * Training of one Flair Visibility fold: the fold's own patients are held out (test), patients
 * marked for validation validate, the others train. Adam (lr 1e-3), ReduceLROnPlateau on the
 * validation loss (factor 0.1, patience 6, absolute threshold 0.1, cooldown 2, min lr 1e-6),
 * batch 32, seeded shuffles and augmentations (augment.ts), the loss of loss.ts. Each epoch logs
 * the losses, Dice per structure and their mean, Cohen's κ on slice classes and the patient AUC
 * (metrics.ts) to `<run>/log.jsonl`; a model checkpoint `<save>/<name>-k<fold>-epoch<N>` is
 * written whenever one of Dice mean, visible/not-visible Dice, κ or AUC improves and
 * `<name>-k<fold>.best.json` names the best epoch of each. The run folder `<name>-k<fold>.run`
 * keeps a full checkpoint per epoch (weights, Adam, scheduler, best values) for exact resume.
 *
 * Options beyond the original, off by default: training on crops centred in the brain mask or
 * on the stroke (`crop`, `strokeBias`; crop.ts), re-estimating the batch-norm statistics on
 * whole training slices before each validation (`bnBatches`, the original re-estimates on 21
 * batches; bn_stats.ts), another weight of the visible term (`visibleWeight`).
 *
 * @example
 * ```ts
 * import { trainFold } from "./train.ts";
 * const r = await trainFold({ data: "prepared", kfold: 0, name: "FVV", saveDir: "saved_models" });
 * console.log(r.best.visDice);
 * ```
 * @module
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import { noGrad, resetArena, tensor } from "../../tensor/tensor.ts";
import { Adam } from "../../optim/adam.ts";
import { ReduceLROnPlateau, type SchedulerState } from "../../optim/schedulers.ts";
import { trainLoop } from "../../nn/trainer.ts";
import { saveCheckpoint, type Stateful } from "../../nn/checkpoint.ts";
import { openLog } from "../../run/log.ts";
import { SimRng } from "../../data/rng.ts";
import { InitRng } from "../../nn/init.ts";
import { PreparedDataset } from "./dataset.ts";
import { FlairUNet, type Preset, STACK } from "./model.ts";
import { flairLoss, VISIBLE_WEIGHT } from "./loss.ts";
import { augmentSample, augmentWindow, drawAugment, forwardPoint, sampleSeed } from "./augment.ts";
import { SegEvaluator, type SegMetrics } from "./metrics.ts";
import { SLICE } from "./slices.ts";
import { cropCentre, cropSample, cropWindow } from "./crop.ts";
import { reestimateBatchNorm } from "./bn_stats.ts";

/** Options of {@link trainFold}. */
export interface TrainFoldOptions {
  /** Prepared dataset folder. */
  data: string;
  kfold: number;
  /** Run name (`-n`, "FVV"). */
  name: string;
  saveDir: string;
  /** Passes over the fold's training slices (75). */
  epochs?: number;
  /** Slices per epoch instead of one pass (the original: 16384). */
  epochSlices?: number;
  preset?: Preset;
  /** Network width and depth instead of the preset's. */
  width?: number;
  depth?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Augment training samples (default true). */
  augment?: boolean;
  /** Validate on at most this many slices (evenly spaced; default all). */
  validMax?: number;
  /**
   * Train on crops of this side centred on brain-mask voxels (crop.ts; a multiple of 2^depth),
   * instead of whole 256×256 slices; validation and inference stay on whole slices.
   */
  crop?: number;
  /** Share of crops centred on a stroke voxel when the slice has one (default 0). */
  strokeBias?: number;
  /**
   * Before each validation, re-estimate the batch-norm statistics on this many whole-slice
   * training batches (bn_stats.ts; the original: 21; default 0 = keep the running averages).
   */
  bnBatches?: number;
  /**
   * What the batch-norm statistics are re-estimated on (with `bnBatches`): whole training slices
   * (default), or, with `crop`, augmented crops drawn as for training, so that the statistics
   * used at inference are those the network was trained with.
   */
  bnOn?: "slices" | "crops";
  /** Weight of the visible term of the loss (loss.ts; default the original's 100). */
  visibleWeight?: number;
  /** Continue from the run folder's last checkpoint. */
  resume?: boolean;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, m: EpochRecord) => void;
}

/** One epoch's log record. */
export interface EpochRecord {
  epoch: number;
  lr: number;
  train_loss: number;
  val_loss: number;
  metrics: SegMetrics;
}

/** The best values per metric. */
export type BestMetrics = Record<"diceMean" | "visDice" | "kappa" | "auc", {
  value: number;
  epoch: number;
  path: string;
}>;

/** What {@link trainFold} did. */
export interface TrainFoldResult {
  runDir: string;
  best: Partial<BestMetrics>;
  epochs: number;
  history: EpochRecord[];
  validFromTrain: boolean;
}

const TRACKED = ["diceMean", "visDice", "kappa", "auc"] as const;

/** Offset of the augmentation epochs of the batch-norm crops (distinct from training's). */
const BN_EPOCH = 1_000_000;

/** The run folder of a fold. */
export function runDirOf(saveDir: string, name: string, kfold: number): string {
  return join(saveDir, `${name}-k${kfold}.run`);
}

function lastCheckpoint(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  let best = -1;
  for (const e of Deno.readDirSync(dir)) {
    const m = e.name.match(/^ckpt_(\d+)\.json$/);
    if (m && Number(m[1]) > best) best = Number(m[1]);
  }
  return best >= 0 ? join(dir, `ckpt_${best}`) : undefined;
}

/**
 * The deterministic order of epoch `epoch`'s training slices, in batches.
 *
 * @example
 * ```ts
 * import { epochBatches } from "./train.ts";
 * console.log(epochBatches([5, 6, 7], 2, 0, 0).flat().sort()); // [5, 6, 7]
 * ```
 */
export function epochBatches(
  slices: readonly number[],
  batch: number,
  seed: number,
  epoch: number,
  total = slices.length,
): number[][] {
  const r = new SimRng(seed * 7919 + epoch + 1);
  const order: number[] = [];
  while (order.length < total) {
    const a = slices.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    order.push(...a.slice(0, total - order.length));
  }
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batch) out.push(order.slice(i, i + batch));
  return out;
}

/**
 * Trains fold `kfold`; see the module notes.
 *
 * @example
 * ```ts
 * import { trainFold } from "./train.ts";
 * await trainFold({ data: "prepared", kfold: 1, name: "FVV", saveDir: "saved_models", preset: "tiny", epochs: 2 });
 * ```
 */
export async function trainFold(o: TrainFoldOptions): Promise<TrainFoldResult> {
  const ds = PreparedDataset.open(o.data);
  const split = ds.foldSlices(o.kfold);
  if (o.validMax && split.valid.length > o.validMax) {
    const v = split.valid, m = o.validMax;
    split.valid = Array.from({ length: m }, (_, i) => v[Math.floor((i * v.length) / m)]);
  }
  const seed = o.seed ?? 0, bs = o.batchSize ?? 32, epochs = o.epochs ?? 75;
  const A = SLICE * SLICE;
  const net = new FlairUNet({
    preset: o.preset ?? "paper",
    width: o.width,
    depth: o.depth,
    rng: new InitRng(seed),
  });
  const opt = new Adam(net.parameters(), { lr: o.lr ?? 1e-3 });
  const plateau = new ReduceLROnPlateau(opt, {
    factor: 0.1,
    patience: 6,
    threshold: 0.1,
    thresholdMode: "abs",
    cooldown: 2,
    minLr: 1e-6,
  });
  const best: Partial<BestMetrics> = {};
  const bestState: Stateful<unknown> = {
    stateDict: () => JSON.parse(JSON.stringify(best)),
    loadStateDict: (s) => Object.assign(best, s as object),
  };
  const runDir = runDirOf(o.saveDir, o.name, o.kfold);
  await Deno.mkdir(runDir, { recursive: true });
  const resume = o.resume ? lastCheckpoint(runDir) : undefined;
  const log = openLog(join(runDir, "log.jsonl"), { append: !!resume, time: true });
  const history: EpochRecord[] = [];
  const n = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
  let ev = new SegEvaluator();
  const vw = o.visibleWeight;
  const toBatch = (idx: number[], epoch: number, first: number, aug: boolean, crop = 0) => {
    let { x, y } = ds.batch(idx);
    const xs = 2 * STACK * A;
    let side = SLICE;
    if (crop && crop < SLICE) {
      const cx = new Float32Array(idx.length * 2 * STACK * crop * crop);
      const cy = new Float32Array(idx.length * 3 * crop * crop);
      idx.forEach((_, k) => {
        const xk = x.subarray(k * xs, (k + 1) * xs), yk = y.subarray(k * 3 * A, (k + 1) * 3 * A);
        const cs = sampleSeed(seed + 1, epoch, first + k);
        let c: { x: Float32Array; y: Float32Array };
        if (aug) {
          // the window is drawn on the source and follows it through the flip and the affine
          const p = drawAugment(sampleSeed(seed, epoch, first + k));
          const [r0, c0] = cropCentre(yk, SLICE, SLICE, cs, o.strokeBias ?? 0);
          const [r1, c1] = forwardPoint(p, SLICE, SLICE, r0, c0);
          const [top, left] = cropWindow(r1, c1, SLICE, SLICE, crop);
          c = augmentWindow(xk, yk, SLICE, SLICE, p, top, left, crop);
        } else c = cropSample(xk, yk, SLICE, SLICE, crop, cs, o.strokeBias ?? 0);
        cx.set(c.x, k * c.x.length);
        cy.set(c.y, k * c.y.length);
      });
      x = cx, y = cy, side = crop;
    } else if (aug) {
      idx.forEach((_, k) => {
        augmentSample(
          x.subarray(k * xs, (k + 1) * xs),
          y.subarray(k * 3 * A, (k + 1) * 3 * A),
          SLICE,
          SLICE,
          sampleSeed(seed, epoch, first + k),
        );
      });
    }
    return {
      x: tensor(x, [idx.length, 2, STACK, side, side]),
      y: tensor(y, [idx.length, 3, side, side]),
      yData: y,
      patients: idx.map((i) => ds.meta[i].patient),
    };
  };
  async function* validationBatches(epoch: number): AsyncGenerator<B> {
    if (o.bnBatches) {
      const bb = epochBatches(split.train, bs, seed + 2, epoch, o.bnBatches * bs)
        .slice(0, o.bnBatches);
      const crops = o.bnOn === "crops" && o.crop;
      await reestimateBatchNorm(
        net,
        bb.map((idx, i) => () =>
          crops
            ? toBatch(idx, BN_EPOCH + epoch, i * bs, o.augment ?? true, o.crop).x
            : toBatch(idx, 0, 0, false).x
        ),
      );
    }
    for (const idx of epochBatches(split.valid, bs, 0, 0)) yield { idx, epoch: 0, first: 0 };
  }
  type B = { idx: number[]; epoch: number; first: number };
  try {
    const r = await trainLoop<B>({
      epochs,
      batches: (epoch) =>
        epochBatches(split.train, bs, seed, epoch, o.epochSlices ?? split.train.length)
          .map((idx, i) => ({ idx, epoch, first: i * bs })),
      step: async (b) => {
        net.train();
        const t = toBatch(b.idx, b.epoch, b.first, o.augment ?? true, o.crop);
        opt.zeroGrad();
        const { loss, parts } = flairLoss(net.forward(t.x), t.y, 0.01, vw);
        loss.backward();
        opt.step();
        const out = {
          loss: await loss.item(),
          loss_mask: await parts.mask.item(),
          loss_stroke: await parts.stroke.item(),
          loss_visible: await parts.visible.item(),
        };
        resetArena();
        return out;
      },
      validation: validationBatches,
      validate: async (b) => {
        net.eval();
        const t = toBatch(b.idx, 0, 0, false);
        const out = noGrad(() => {
          const logits = net.forward(t.x);
          return { logits, loss: flairLoss(logits, t.y, 0.01, vw).loss };
        });
        ev.add(await out.logits.data(), t.yData, A, t.patients);
        const loss = await out.loss.item();
        resetArena();
        return { loss };
      },
      endEpoch: async (epoch, train, val) => {
        const metrics = ev.result();
        ev = new SegEvaluator();
        const rec: EpochRecord = {
          epoch: epoch + 1,
          lr: opt.paramGroups[0].lr,
          train_loss: n(train.loss ?? []),
          val_loss: n(val.loss ?? []),
          metrics,
        };
        plateau.step(rec.val_loss);
        let saved: string | null = null;
        for (const k of TRACKED) {
          const v = metrics[k];
          if (!Number.isFinite(v) || (best[k] && v <= best[k]!.value)) continue;
          saved ??= join(o.saveDir, `${o.name}-k${o.kfold}-epoch${epoch + 1}`);
          best[k] = { value: v, epoch: epoch + 1, path: saved };
        }
        if (saved) {
          await saveCheckpoint(saved, { modules: { net }, epoch: epoch + 1 });
          await Deno.writeTextFile(
            join(o.saveDir, `${o.name}-k${o.kfold}.best.json`),
            JSON.stringify(
              {
                preset: o.preset ?? "paper",
                width: net.width,
                depth: net.depth,
                kfold: o.kfold,
                best,
              },
              null,
              1,
            ) + "\n",
          );
        }
        history.push(rec);
        log.write({ event: "metrics", ...rec, saved });
        o.onEpoch?.(epoch + 1, rec);
      },
      checkpoint: {
        dir: runDir,
        every: 1,
        parts: () => ({
          modules: { net },
          optimizers: { adam: opt },
          schedulers: {
            plateau,
            best: bestState as unknown as Stateful<SchedulerState>,
          },
        }),
        extra: {
          kfold: o.kfold,
          preset: o.preset ?? "paper",
          width: net.width,
          depth: net.depth,
          seed,
          crop: o.crop ?? 0,
          bnBatches: o.bnBatches ?? 0,
          bnOn: o.bnOn ?? "slices",
          visibleWeight: vw ?? VISIBLE_WEIGHT,
        },
      },
      resume,
      log: (rec) => log.write(rec),
    });
    return { runDir, best, epochs: r.epochs, history, validFromTrain: split.validFromTrain };
  } finally {
    log.close();
    ds.close();
  }
}
