/**
 * The training loop every pipeline uses: epochs of training steps, optional validation and an
 * end-of-epoch hook (schedulers), JSON-lines logging, checkpoints every k epochs (and at the
 * end), and exact resume from a checkpoint — also from one written mid-epoch, by skipping the
 * batches already done (the batch order must be a function of the epoch, e.g. a seeded shuffle).
 *
 * The loop knows nothing of the model: `step` runs one batch (e.g. {@link MaskedGAN.trainStep})
 * and returns its metrics; `parts` names what a checkpoint holds. Every step is a safe point
 * (lib/run/interrupt.ts): Ctrl-C stops the loop between two steps.
 *
 * @example
 * ```ts
 * const gan = new MaskedGAN(gen, disc);
 * await trainLoop({
 *   epochs: 100,
 *   batches: (epoch) => loader.epoch(epoch),          // Iterable or AsyncIterable of batches
 *   step: (b) => gan.trainStep(b),
 *   validation: (epoch) => loader.val(epoch),
 *   validate: (b) => gan.validate(b),
 *   endEpoch: (_e, _train, val) => gan.endEpoch(median(val.lossG), median(val.lossD)),
 *   checkpoint: { dir: "run", every: 25, parts: () => ({ modules: { gen, disc }, optimizers: { gen: gan.optG, disc: gan.optD } }) },
 * });
 * ```
 * @module
 */
import type { CheckpointParts } from "./checkpoint.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { defaultRng } from "../tensor/ops/random.ts";
import { safePoint } from "../run/interrupt.ts";

/** Metrics of one batch (numbers by name). */
export type Metrics = Record<string, number>;

/** Checkpoint settings of {@link trainLoop}. */
export interface TrainCheckpointOptions {
  /** Folder of the checkpoints (`<dir>/<name>_<epoch>` …). */
  dir: string;
  /** Name prefix of the checkpoints (default "ckpt"). */
  name?: string;
  /** Save after every `every` epochs (and after the last). 0: only at the end. */
  every?: number;
  /** Also save every `everySteps` training steps (mid-epoch; resume skips the done batches). */
  everySteps?: number;
  /** What to save/restore (modules, optimisers, schedulers, RNGs). The default RNG is added. */
  parts: () => Omit<CheckpointParts, "epoch" | "step" | "extra" | "provenance">;
  /** Provenance record to embed. */
  provenance?: unknown;
  /** More JSON to record in every checkpoint's `extra` (e.g. what the model was trained on). */
  extra?: Record<string, unknown>;
  /** Called (and awaited) after each checkpoint is written, with its path without extension. */
  onSaved?: (base: string) => void | Promise<void>;
}

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions<B> {
  /** Number of epochs in all (a resumed run continues up to it). */
  epochs: number;
  /** The training batches of an epoch, in a deterministic order. */
  batches: (epoch: number) => Iterable<B> | AsyncIterable<B>;
  /** One training step. */
  step: (
    batch: B,
    info: { epoch: number; step: number; batch: number },
  ) => Promise<object> | object;
  /** Validation batches of an epoch (optional). */
  validation?: (epoch: number) => Iterable<B> | AsyncIterable<B>;
  /** Metrics of a validation batch. */
  validate?: (batch: B) => Promise<object> | object;
  /** After each epoch: per-metric lists of the epoch's training and validation values. */
  endEpoch?: (
    epoch: number,
    train: Record<string, number[]>,
    val: Record<string, number[]>,
  ) => void | Promise<void>;
  /** Checkpoints. */
  checkpoint?: TrainCheckpointOptions;
  /** Resume from this checkpoint (its path without extension, or its .json). */
  resume?: string;
  /** Called with one JSON record per step and per epoch (e.g. a JSON-lines log). */
  log?: (record: Record<string, unknown>) => void;
}

/** What {@link trainLoop} did. */
export interface TrainLoopResult {
  /** Epochs completed in all (including those before a resume). */
  epochs: number;
  /** Training steps in all. */
  steps: number;
  /** Paths (without extension) of the checkpoints written. */
  checkpoints: string[];
  /** Mean training metrics of the last epoch run. */
  last: Metrics;
}

/** `<dir>/<name>_<epoch>` (NoStripesNet's naming), `<dir>/<name>_<epoch>_b<batch>` mid-epoch. */
export function ckptName(dir: string, epoch: number, batch: number, name = "ckpt"): string {
  return batch ? `${dir}/${name}_${epoch}_b${batch}` : `${dir}/${name}_${epoch}`;
}

/** The numeric fields of a step's result. */
function numbers(r: object): Metrics {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => typeof v === "number"));
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
}

/** Runs the loop; see the module doc. */
export async function trainLoop<B>(o: TrainLoopOptions<B>): Promise<TrainLoopResult> {
  let startEpoch = 0, skip = 0, steps = 0;
  const partsWithRng = () => {
    const p = o.checkpoint!.parts();
    return { ...p, rngs: { default: defaultRng, ...(p.rngs ?? {}) } };
  };
  if (o.resume) {
    if (!o.checkpoint) throw new Error("trainLoop: resume needs checkpoint.parts");
    const rec = await loadCheckpoint(o.resume, partsWithRng());
    const ex = rec.extra as { epoch?: number; batch?: number; steps?: number };
    startEpoch = ex.epoch ?? rec.epoch;
    skip = ex.batch ?? 0;
    steps = ex.steps ?? rec.step;
    o.log?.({ event: "resume", from: o.resume, epoch: startEpoch, batch: skip, step: steps });
  }
  const written: string[] = [];
  const save = async (epoch: number, batch: number) => {
    if (!o.checkpoint) return;
    await Deno.mkdir(o.checkpoint.dir, { recursive: true });
    const base = ckptName(o.checkpoint.dir, epoch, batch, o.checkpoint.name);
    await saveCheckpoint(base, {
      ...partsWithRng(),
      epoch,
      step: steps,
      extra: { ...(o.checkpoint.extra ?? {}), epoch, batch, steps },
      provenance: o.checkpoint.provenance,
    });
    await o.checkpoint.onSaved?.(base);
    written.push(base);
    o.log?.({ event: "checkpoint", path: base, epoch, batch, step: steps });
  };
  let last: Metrics = {};
  for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
    const train: Record<string, number[]> = {};
    let b = 0;
    for await (const batch of o.batches(epoch)) {
      if (b < skip) {
        b++;
        continue;
      }
      const m = numbers(await o.step(batch, { epoch, step: steps, batch: b }));
      steps++;
      b++;
      for (const [k, v] of Object.entries(m)) (train[k] ??= []).push(v);
      o.log?.({ event: "step", epoch, batch: b - 1, step: steps, ...m });
      const every = o.checkpoint?.everySteps ?? 0;
      if (every > 0 && steps % every === 0) await save(epoch, b);
      await safePoint();
    }
    skip = 0;
    const val: Record<string, number[]> = {};
    if (o.validation && o.validate) {
      for await (const batch of o.validation(epoch)) {
        const m = numbers(await o.validate(batch));
        for (const [k, v] of Object.entries(m)) (val[k] ??= []).push(v);
        await safePoint();
      }
    }
    await o.endEpoch?.(epoch, train, val);
    last = Object.fromEntries(Object.entries(train).map(([k, v]) => [k, mean(v)]));
    o.log?.({
      event: "epoch",
      epoch,
      step: steps,
      ...Object.fromEntries(Object.entries(last).map(([k, v]) => [`train_${k}`, v])),
      ...Object.fromEntries(Object.entries(val).map(([k, v]) => [`val_${k}`, mean(v)])),
    });
    const every = o.checkpoint?.every ?? 0;
    if (o.checkpoint && ((every > 0 && (epoch + 1) % every === 0) || epoch + 1 === o.epochs)) {
      await save(epoch + 1, 0);
    }
  }
  return { epochs: o.epochs, steps, checkpoints: written, last };
}
