/**
 * One NoStripesNet training run: the split of a patch dataset (seeded, as the original's 3:1:1),
 * the networks fitted to the patch size (or loaded from a checkpoint to fine-tune), the masked
 * GAN with Adam and ReduceLROnPlateau on the median validation losses, lib/nn/trainer.ts's loop
 * with checkpoints that record the data they were trained on, and the JSON-lines log.
 *
 * @example
 * ```ts
 * import { trainPatchGan } from "./train_run.ts";
 * const r = await trainPatchGan({ root: "data", saveDir: "runs", name: "patch", epochs: 10, seed: 0, provenance });
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { openLog } from "../../run/log.ts";
import type { Progress } from "../../run/progress.ts";
import { type Provenance, writeProvenance } from "../../run/provenance.ts";
import { trainLoop, type TrainLoopResult } from "../../nn/trainer.ts";
import { manualSeed } from "../../tensor/ops/random.ts";
import { listPatchPairs, PatchSet, splitPairs } from "./patch_loader.ts";
import {
  buildNoStripesNet,
  fitToPatch,
  loadNoStripesNet,
  type NoStripesNetSpec,
  nsnConfig,
  type TrainingData,
} from "./model.ts";
import { MaskedGAN, median } from "./gan.ts";

/** What a run trains with (the flags of `train`). */
export interface TrainRunOptions {
  root: string;
  saveDir: string;
  name: string;
  epochs: number;
  seed: number;
  /** The record every checkpoint embeds. */
  provenance: Provenance;
  /** Name of the engine's backend (for the log). */
  backendName?: string;
  spec?: NoStripesNetSpec;
  tvt?: [number, number, number];
  subset?: number;
  batchSize?: number;
  lr?: number;
  betas?: [number, number];
  lambda?: number;
  lsgan?: boolean;
  plateauPatience?: [number, number];
  saveEvery?: number;
  saveEverySteps?: number;
  /** A checkpoint to start from (fine-tuning), when not resuming. */
  modelFile?: string;
  /** A checkpoint of this run to continue. */
  resume?: string;
  bar?: (total: number) => Progress;
  /** Lines for `--verbose`. */
  say?: (line: string) => void;
}

/**
 * Trains (or continues) a run; returns the loop's result.
 *
 * @example
 * ```ts
 * const r = await trainPatchGan({ ...opts, resume: "runs/patch_3.json" });
 * r.checkpoints; // ["runs/patch_4", …]
 * ```
 */
export async function trainPatchGan(o: TrainRunOptions): Promise<TrainLoopResult> {
  const tvt = o.tvt ?? [3, 1, 1], B = o.batchSize ?? 16;
  manualSeed(o.seed);
  const pairs = await listPatchPairs(o.root);
  const split = splitPairs(pairs.length, tvt, 0);
  let trainIdx = split.train;
  if (o.subset !== undefined && o.subset < trainIdx.length) trainIdx = trainIdx.slice(0, o.subset);
  if (!trainIdx.length) {
    throw new LumenError(
      o.root,
      "",
      `${pairs.length} pairs leave none for training at --tvt ${tvt}`,
    );
  }
  const trainSet = new PatchSet(pairs, trainIdx), valSet = new PatchSet(pairs, split.val);
  const data: TrainingData = {
    patchSize: (await trainSet.get(0)).shape,
    tvt,
    splitSeed: 0,
    pairs: pairs.length,
  };
  const fitted = fitToPatch(nsnConfig(o.spec), data.patchSize);
  if (fitted.lowered.length) {
    o.say?.(`${data.patchSize.join("×")} patches: ${fitted.lowered.join(", ")}`);
  }
  const net = o.modelFile && !o.resume
    ? await loadNoStripesNet(o.modelFile, fitted.config)
    : buildNoStripesNet(fitted.config, o.seed);
  const patience = o.plateauPatience ?? [1, 2];
  const gan = new MaskedGAN(net.gen, net.disc, {
    lr: o.lr ?? 2e-4,
    betas: o.betas ?? [0.5, 0.999],
    lambdaL1: o.lambda ?? 100,
    lsgan: o.lsgan,
    genPatience: patience[0],
    discPatience: patience[1],
  });
  const log = openLog(`${o.saveDir}/${o.name}.log.jsonl`, { elapsed: true });
  const bar = o.bar?.(o.epochs * Math.ceil(trainSet.size / B));
  log.write({
    event: "start",
    tool: "train",
    backend: o.backendName ?? null,
    pairs: pairs.length,
    train: trainSet.size,
    val: valSet.size,
    test: split.test.length,
    config: net.config,
    resume: o.resume ?? null,
    uuid: o.provenance.uuid,
  });
  if (o.resume) o.say?.(`resuming from ${o.resume}`);
  const mean = (xs?: number[]) =>
    xs?.length ? (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(5) : "-";
  const result = await trainLoop({
    epochs: o.epochs,
    batches: (epoch) => trainSet.batches(B, { shuffle: true, seed: o.seed, epoch }),
    step: (b) => {
      bar?.tick();
      return gan.trainStep(b);
    },
    validation: valSet.size ? () => valSet.batches(B) : undefined,
    validate: (b) => gan.validate(b),
    endEpoch: (epoch, tr, val) => {
      if (val.lossG?.length) gan.endEpoch(median(val.lossG), median(val.lossD));
      log.write({
        event: "lr",
        epoch,
        lr_g: gan.optG.paramGroups[0].lr,
        lr_d: gan.optD.paramGroups[0].lr,
      });
      o.say?.(
        `epoch ${epoch + 1}/${o.epochs}: loss_D ${mean(tr.lossD)} loss_G ${
          mean(tr.lossG)
        } val_loss_G ${mean(val.lossG)}`,
      );
    },
    checkpoint: {
      dir: o.saveDir,
      name: o.name,
      every: o.saveEvery ?? 25,
      everySteps: o.saveEverySteps ?? 0,
      provenance: o.provenance,
      extra: { data },
      // each checkpoint's sidecar is written with it, so a killed run keeps them
      onSaved: (base) => writeProvenance(base, o.provenance).then(() => {}),
      parts: () => ({
        modules: { gen: net.gen, disc: net.disc },
        optimizers: { gen: gan.optG, disc: gan.optD },
        schedulers: { gen: gan.schedG, disc: gan.schedD },
      }),
    },
    resume: o.resume,
    log: (r) => log.write(r),
  });
  bar?.done();
  log.write({ event: "end", epochs: result.epochs, steps: result.steps, ...result.last });
  log.close();
  return result;
}
