/**
 * diffsims XL's 1D CNN (cnn_large_filter.py): Conv1D(64,6,relu) → MaxPool(2) → Conv1D(64,6,relu)
 * → MaxPool(2) → Dropout(0.5) → Conv1D(64,6,relu) → MaxPool(2) → Flatten → Dense(128,relu) →
 * Dense(n) with softmax, on profiles [N, 1, 147] (channels first: Flatten orders features
 * channel-major, where Keras orders them position-major). Keras' initialisation: Glorot-uniform
 * kernels, zero biases. The loss is categorical cross-entropy of the softmax, computed from the
 * logits; {@link predictProba} applies the softmax.
 *
 * @example
 * ```ts
 * import { buildCnn, predictProba } from "./cnn.ts";
 * const net = buildCnn(3, 147, 10);
 * const p = predictProba(net, new Float32Array(2 * 147), 2); // [2 × 3] probabilities
 * ```
 * @module
 */
import { Conv1d, Dropout, Flatten, Linear, MaxPool1d, ReLU, Sequential } from "../../nn/layers.ts";
import { InitRng, xavierUniform } from "../../nn/init.ts";
import { crossEntropy } from "../../nn/losses.ts";
import { noGrad, type Tensor, tensor } from "../../tensor/tensor.ts";
import { softmax } from "../../tensor/ops/softmax.ts";
import type { Adam } from "../../optim/adam.ts";

/**
 * Length after the three valid conv(6) + pool(2) stages.
 * @example
 * ```ts
 * cnnFeatureLength(147); // 14
 * ```
 */
export function cnnFeatureLength(len: number): number {
  let l = len;
  for (let i = 0; i < 3; i++) l = Math.floor((l - 5) / 2);
  return l;
}

/**
 * The network for `nPhases` classes and profiles of `len` points; `seed` fixes the weights.
 * @example
 * ```ts
 * const net = buildCnn(3); // 3 phases, 147-point profiles
 * ```
 */
export function buildCnn(nPhases: number, len = 147, seed = 10): Sequential {
  const rng = new InitRng(seed);
  const net = new Sequential(
    new Conv1d(1, 64, 6, { rng }),
    new ReLU(),
    new MaxPool1d(2),
    new Conv1d(64, 64, 6, { rng }),
    new ReLU(),
    new MaxPool1d(2),
    new Dropout(0.5),
    new Conv1d(64, 64, 6, { rng }),
    new ReLU(),
    new MaxPool1d(2),
    new Flatten(),
    new Linear(64 * cnnFeatureLength(len), 128, { rng }),
    new ReLU(),
    new Linear(128, nPhases, { rng }),
  );
  for (const m of net.layers) {
    if (m instanceof Conv1d || m instanceof Linear) {
      const w = m.weight;
      w.backend.write(w.storage, xavierUniform(w.shape, rng));
      if (m.bias) m.bias.backend.write(m.bias.storage, new Float32Array(m.bias.size));
    }
  }
  return net;
}

/** A batch: profiles [n, 1, len] and class indices [n]. */
export interface CnnBatch {
  x: Tensor;
  y: Tensor;
  n: number;
}

/**
 * Makes a batch from flat profiles (n × len) and labels.
 * @example
 * ```ts
 * const b = cnnBatch(new Float32Array(2 * 147), [0, 1], 147); // b.x [2, 1, 147]
 * ```
 */
export function cnnBatch(x: Float32Array, labels: ArrayLike<number>, len: number): CnnBatch {
  const n = labels.length;
  return {
    x: tensor(x, [n, 1, len]),
    y: tensor(Int32Array.from(labels), [n], { dtype: "int32" }),
    n,
  };
}

/**
 * One Adam step; returns the batch's loss and accuracy.
 * @example
 * ```ts
 * const { loss, acc } = await cnnTrainStep(net, new Adam(net.parameters()), batch);
 * ```
 */
export async function cnnTrainStep(
  net: Sequential,
  opt: Adam,
  b: CnnBatch,
): Promise<{ loss: number; acc: number }> {
  net.train();
  const logits = net.forward(b.x);
  const loss = crossEntropy(logits, b.y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  const l = (await loss.data())[0];
  return { loss: l, acc: accuracy(await logits.detach().data(), await b.y.dataInt()) };
}

/**
 * Loss and accuracy of a batch without training.
 * @example
 * ```ts
 * const { acc, pred } = await cnnEvaluate(net, batch);
 * ```
 */
export async function cnnEvaluate(
  net: Sequential,
  b: CnnBatch,
): Promise<{ loss: number; acc: number; pred: Int32Array }> {
  net.eval();
  const [logits, loss] = noGrad(() => {
    const lg = net.forward(b.x);
    return [lg, crossEntropy(lg, b.y)];
  });
  const lab = await b.y.dataInt();
  const lv = await logits.data();
  return { loss: (await loss.data())[0], acc: accuracy(lv, lab), pred: argmaxRows(lv, lab.length) };
}

/**
 * Row-wise argmax of a flat [n × c] array.
 * @example
 * ```ts
 * argmaxRows(new Float32Array([0.1, 0.9, 0.8, 0.2]), 2); // Int32Array [1, 0]
 * ```
 */
export function argmaxRows(v: Float32Array, n: number): Int32Array {
  const c = v.length / n;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (v[i * c + j] > v[i * c + best]) best = j;
    out[i] = best;
  }
  return out;
}

function accuracy(logits: Float32Array, labels: Int32Array): number {
  const p = argmaxRows(logits, labels.length);
  let ok = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) ok++;
  return ok / labels.length;
}

/**
 * Softmax probabilities [n × nPhases] of flat profiles (n × len), in evaluation mode.
 * @example
 * ```ts
 * const p = predictProba(net, profiles, n); // n × phases, rows sum to 1
 * ```
 */
export function predictProba(net: Sequential, x: Float32Array, n: number): Float32Array {
  net.eval();
  const len = x.length / n;
  return noGrad(() => softmax(net.forward(tensor(x, [n, 1, len])), -1).dataSync());
}
