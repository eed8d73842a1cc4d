/**
 * The 16-way phase classifier: a small ResNet (basic blocks with batch norm, three stages, global
 * average pooling — the penultimate features — and a linear head) on gray images, trained with
 * class-weighted cross-entropy (weights N/n_c, 0 for absent phases), Adam and a per-step cosine
 * schedule through lib/nn's training loop; prediction and features over every image.
 *
 * @example
 * ```ts
 * import { predictAll, trainClassifier } from "./classifier.ts";
 * const r = await trainClassifier({ data, epochs: 5, out: "runs/cls" });
 * const { probs, features } = await predictAll(r.model, data.images);
 * ```
 * @module
 */
import { noGrad, resetArena, tensor } from "../../tensor/tensor.ts";
import { add, mean, relu, softmax } from "../../tensor/ops/mod.ts";
import { Module, type ModuleConfig } from "../../nn/module.ts";
import { BatchNorm2d, Conv2d, Linear } from "../../nn/layers.ts";
import { crossEntropy } from "../../nn/losses.ts";
import { manualInitSeed } from "../../nn/init.ts";
import { Adam } from "../../optim/adam.ts";
import { CosineAnnealingLR } from "../../optim/schedulers.ts";
import { trainLoop } from "../../nn/trainer.ts";
import { loadCheckpoint, readCheckpointRecord, saveCheckpoint } from "../../nn/checkpoint.ts";
import { SimRng } from "../../data/rng.ts";
import { LumenError } from "../../run/errors.ts";
import type { ImageSet } from "./diffusion_data.ts";
import type { Tensor } from "../../tensor/tensor.ts";

/** The classifier's architecture. */
export interface ClassifierConfig {
  size: number;
  channels: number[];
  classes: number;
}

/**
 * The default: 32 px input, stages of 16, 32, 64 channels (64 features).
 *
 * @example
 * ```ts
 * new PhaseResNet(CLASSIFIER_CONFIG);
 * ```
 */
export const CLASSIFIER_CONFIG: ClassifierConfig = {
  size: 32,
  channels: [16, 32, 64],
  classes: 16,
};

class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly down: Conv2d | null;
  readonly downBn: BatchNorm2d | null;
  constructor(cin: number, cout: number, stride: number) {
    super();
    this.conv1 = this.child("conv1", new Conv2d(cin, cout, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.child("bn1", new BatchNorm2d(cout));
    this.conv2 = this.child("conv2", new Conv2d(cout, cout, 3, { padding: 1, bias: false }));
    this.bn2 = this.child("bn2", new BatchNorm2d(cout));
    const proj = stride !== 1 || cin !== cout;
    this.down = proj ? this.child("down", new Conv2d(cin, cout, 1, { stride, bias: false })) : null;
    this.downBn = proj ? this.child("down_bn", new BatchNorm2d(cout)) : null;
  }
  forward(x: Tensor): Tensor {
    const h = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
    const s = this.down ? this.downBn!.forward(this.down.forward(x)) : x;
    return relu(add(h, s));
  }
}

/**
 * The phase ResNet.
 *
 * @example
 * ```ts
 * new PhaseResNet(CLASSIFIER_CONFIG).features(x); // [n, 64]
 * ```
 */
export class PhaseResNet extends Module {
  readonly stem: Conv2d;
  readonly stemBn: BatchNorm2d;
  readonly blocks: BasicBlock[] = [];
  readonly fc: Linear;
  constructor(readonly cfg: ClassifierConfig) {
    super();
    const ch = cfg.channels;
    this.stem = this.child("stem", new Conv2d(1, ch[0], 3, { padding: 1, bias: false }));
    this.stemBn = this.child("stem_bn", new BatchNorm2d(ch[0]));
    let cur = ch[0];
    ch.forEach((c, i) => {
      this.blocks.push(this.child(`block${i}`, new BasicBlock(cur, c, i === 0 ? 1 : 2)));
      cur = c;
    });
    this.fc = this.child("fc", new Linear(cur, cfg.classes));
  }
  /** The penultimate features [n, channels.at(-1)]. */
  features(x: Tensor): Tensor {
    let h = relu(this.stemBn.forward(this.stem.forward(x)));
    for (const b of this.blocks) h = b.forward(h);
    return mean(h, [2, 3]);
  }
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }
  override config(): ModuleConfig {
    return { type: "NswPhaseResNet", ...this.cfg };
  }
}

/**
 * Class weights N/n_c (0 for a class with no sample).
 *
 * @example
 * ```ts
 * classWeights([0, 0, 1], 3); // [1.5, 3, 0]
 * ```
 */
export function classWeights(labels: readonly number[], classes: number): Float32Array {
  const n = new Array<number>(classes).fill(0);
  for (const l of labels) n[l]++;
  return Float32Array.from(n, (c) => (c ? labels.length / c : 0));
}

/** Options of {@link trainClassifier}. */
export interface ClassifierTrainOptions {
  data: ImageSet;
  epochs: number;
  batch?: number;
  lr?: number;
  seed?: number;
  out: string;
  cfg?: ClassifierConfig;
  resume?: string;
  log?: (r: Record<string, unknown>) => void;
}

/**
 * Trains the classifier; writes `<out>/classifier.*` and per-epoch checkpoints.
 *
 * @example
 * ```ts
 * await trainClassifier({ data, epochs: 10, out: "runs/cls" });
 * ```
 */
export async function trainClassifier(
  o: ClassifierTrainOptions,
): Promise<{ model: PhaseResNet; path: string; steps: number; lastLoss: number }> {
  const cfg = o.cfg ?? { ...CLASSIFIER_CONFIG, size: o.data.size };
  if (cfg.size !== o.data.size) throw new LumenError("data", "", "image size ≠ classifier size");
  const seed = o.seed ?? 0, batch = o.batch ?? 16, n = o.data.images.length;
  manualInitSeed(seed);
  const model = new PhaseResNet(cfg);
  const opt = new Adam(model.parameters(), { lr: o.lr ?? 1e-3 });
  const perEpoch = Math.ceil(n / batch);
  const sched = new CosineAnnealingLR(opt, { tMax: o.epochs * perEpoch });
  const weight = tensor(classWeights(o.data.labels, cfg.classes), [cfg.classes], {
    persistent: true,
  });
  const per = cfg.size * cfg.size;
  let lastLoss = NaN;
  const r = await trainLoop<number[]>({
    epochs: o.epochs,
    batches: function* (epoch) {
      const order = [...Array(n).keys()];
      const rng = new SimRng(seed * 7919 + epoch);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [order[i], order[j]] = [order[j], order[i]];
      }
      for (let s = 0; s < n; s += batch) yield order.slice(s, s + batch);
    },
    step: async (idx) => {
      model.zeroGrad();
      const x = new Float32Array(idx.length * per);
      idx.forEach((k, i) => x.set(o.data.images[k], i * per));
      const y = tensor(Float32Array.from(idx, (k) => o.data.labels[k]), [idx.length]);
      const logits = model.forward(tensor(x, [idx.length, 1, cfg.size, cfg.size]));
      const loss = crossEntropy(logits, y, { weight });
      loss.backward();
      opt.step();
      sched.step();
      lastLoss = await loss.item();
      resetArena();
      return { loss: lastLoss };
    },
    checkpoint: {
      dir: `${o.out}/checkpoints`,
      every: 1,
      parts: () => ({
        modules: { classifier: model },
        optimizers: { adam: opt },
        schedulers: { cosine: sched },
      }),
    },
    resume: o.resume,
    log: o.log,
  });
  const path = `${o.out}/classifier`;
  await saveCheckpoint(path, {
    modules: { classifier: model },
    epoch: r.epochs,
    step: r.steps,
    extra: { cfg },
  });
  return { model, path: `${path}.json`, steps: r.steps, lastLoss };
}

/**
 * Loads `<dir>/classifier.json`.
 *
 * @example
 * ```ts
 * const model = await loadClassifier("runs/cls");
 * ```
 */
export async function loadClassifier(dir: string): Promise<PhaseResNet> {
  const path = `${dir}/classifier.json`;
  const rec = await readCheckpointRecord(path);
  const cfg = rec.extra.cfg as ClassifierConfig | undefined;
  if (!cfg?.channels) throw new LumenError(path, "extra.cfg", "not an NSW phase classifier");
  const model = new PhaseResNet(cfg);
  await loadCheckpoint(path, { modules: { classifier: model } });
  return model;
}

/**
 * Softmax rows and penultimate features of every image (in batches; none is left out).
 *
 * @example
 * ```ts
 * const { probs, features, dims } = await predictAll(model, images, 50);
 * ```
 */
export async function predictAll(
  model: PhaseResNet,
  images: readonly Float32Array[],
  batch = 50,
): Promise<{ probs: Float32Array; features: Float32Array; dims: number }> {
  const s = model.cfg.size, per = s * s, C = model.cfg.classes;
  const dims = model.cfg.channels[model.cfg.channels.length - 1];
  const probs = new Float32Array(images.length * C),
    features = new Float32Array(images.length * dims);
  model.eval();
  for (let b0 = 0; b0 < images.length; b0 += batch) {
    const part = images.slice(b0, b0 + batch);
    const x = new Float32Array(part.length * per);
    part.forEach((img, i) => x.set(img, i * per));
    await noGrad(async () => {
      const f = model.features(tensor(x, [part.length, 1, s, s]));
      const p = softmax(model.fc.forward(f), 1);
      features.set(await f.data(), b0 * dims);
      probs.set(await p.data(), b0 * C);
    });
    resetArena();
  }
  model.train();
  return { probs, features, dims };
}

/**
 * Top-1 accuracy of the classifier on `images` with phase indices `labels`.
 *
 * @example
 * ```ts
 * const acc = await phaseAccuracy(model, samples, labels); // 0…1
 * ```
 */
export async function phaseAccuracy(
  model: PhaseResNet,
  images: readonly Float32Array[],
  labels: readonly number[],
): Promise<number> {
  const { probs } = await predictAll(model, images);
  const C = model.cfg.classes;
  let right = 0;
  labels.forEach((l, i) => {
    let best = 0;
    for (let k = 1; k < C; k++) if (probs[i * C + k] > probs[i * C + best]) best = k;
    if (best === l) right++;
  });
  return labels.length ? right / labels.length : NaN;
}
