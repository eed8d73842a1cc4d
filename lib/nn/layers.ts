/**
 * Layers with PyTorch's semantics, defaults, default initialisation and state-dict names:
 * Conv1d, Conv2d, ConvTranspose2d, Linear, BatchNorm1d/2d, Dropout, LeakyReLU, ReLU, Tanh,
 * Sigmoid, Identity, Flatten, MaxPool1d/2d, AvgPool1d/2d, Upsample (and Sequential, from
 * module.ts). Each writes its ONNX nodes ({@link Module.toOnnx}).
 *
 * Initial weights are drawn on the host from an {@link InitRng} (option `rng`, else the default
 * one seeded by `manualInitSeed` of init.ts), so a seed gives the same weights on every backend.
 *
 * @example
 * ```ts
 * const block = new Sequential(new Conv2d(1, 64, 4, { stride: 2, padding: 1 }),
 *   new BatchNorm2d(64, { eps: 1e-3, trackRunningStats: false }), new LeakyReLU(0.2));
 * const y = block.forward(x);
 * ```
 * @module
 */
import { Tensor, TensorError } from "../tensor/tensor.ts";
import type { Backend } from "../tensor/backend.ts";
import {
  avgPool1d,
  avgPool2d,
  batchNorm,
  conv1d,
  conv2d,
  convTranspose2d,
  dropout,
  flatten,
  leakyRelu,
  linear,
  maxPool1d,
  maxPool2d,
  mul,
  relu,
  sigmoid,
  tanh,
  upsample,
} from "../tensor/ops/mod.ts";
import { defaultRng, type Rng } from "../tensor/ops/random.ts";
import type { FusedActivation } from "../tensor/backend.ts";
import { Module, type ModuleConfig, Parameter, persistentTensor } from "./module.ts";
import { constant, defaultInitRng, fans, type InitRng, kaimingUniform, uniform } from "./init.ts";
import { attr, batchNormBatchStatsOnnx, type OnnxGraph } from "./onnx_export.ts";
import type { OnnxAttr } from "./onnx_proto.ts";

export { Module };

type Pair = number | [number, number];
const pair = (v: Pair | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === "number" ? [v, v] : [v[0], v[1]];

/** Common options of layers with weights. */
export interface LayerInitOptions {
  /** Initialisation generator (default: init.ts's default). */
  rng?: InitRng;
  /** Backend for the parameters (default: the default backend). */
  backend?: Backend;
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions extends LayerInitOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  /** Default true. */
  bias?: boolean;
}

function initWeights(
  wShape: number[],
  biasLen: number,
  withBias: boolean,
  o: LayerInitOptions,
): { weight: Parameter; bias: Parameter | null } {
  const rng = o.rng ?? defaultInitRng();
  const w = kaimingUniform(wShape, rng, { a: Math.sqrt(5) });
  const weight = Parameter.from(w, wShape, o.backend);
  let bias: Parameter | null = null;
  if (withBias) {
    const { fanIn } = fans(wShape);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    bias = Parameter.from(uniform([biasLen], rng, -bound, bound), [biasLen], o.backend);
  }
  return { weight, bias };
}

/** 2-D convolution: weight [cOut, cIn, kh, kw] (+ bias [cOut]). */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    o: Conv2dOptions = {},
  ) {
    super();
    this.kernel = pair(kernel, 1);
    this.stride = pair(o.stride, 1);
    this.padding = pair(o.padding, 0);
    this.dilation = pair(o.dilation, 1);
    const { weight, bias } = initWeights(
      [outChannels, inChannels, ...this.kernel],
      outChannels,
      o.bias ?? true,
      o,
    );
    this.weight = this.param("weight", weight);
    this.bias = this.param("bias", bias);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    });
  }

  override config(): ModuleConfig {
    return {
      type: "Conv2d",
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernel: this.kernel,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      bias: !!this.bias,
    };
  }

  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const ins = [x, g.param(`${prefix}weight`, this.weight)];
    if (this.bias) ins.push(g.param(`${prefix}bias`, this.bias));
    return [g.op("Conv", ins, {
      kernel_shape: attr.ints(this.kernel),
      strides: attr.ints(this.stride),
      pads: attr.ints([this.padding[0], this.padding[1], this.padding[0], this.padding[1]]),
      dilations: attr.ints(this.dilation),
      group: attr.int(1),
    }, `${prefix}conv`)];
  }
}

/** Options of {@link Conv1d}. */
export interface Conv1dLayerOptions extends LayerInitOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  bias?: boolean;
}

/** 1-D convolution: weight [cOut, cIn, k] (+ bias [cOut]). */
export class Conv1d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    o: Conv1dLayerOptions = {},
  ) {
    super();
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    const { weight, bias } = initWeights(
      [outChannels, inChannels, kernel],
      outChannels,
      o.bias ?? true,
      o,
    );
    this.weight = this.param("weight", weight);
    this.bias = this.param("bias", bias);
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    });
  }

  override config(): ModuleConfig {
    return {
      type: "Conv1d",
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernel: this.kernel,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      bias: !!this.bias,
    };
  }

  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const ins = [x, g.param(`${prefix}weight`, this.weight)];
    if (this.bias) ins.push(g.param(`${prefix}bias`, this.bias));
    return [g.op("Conv", ins, {
      kernel_shape: attr.ints([this.kernel]),
      strides: attr.ints([this.stride]),
      pads: attr.ints([this.padding, this.padding]),
      dilations: attr.ints([this.dilation]),
      group: attr.int(1),
    }, `${prefix}conv`)];
  }
}

/** Options of {@link ConvTranspose2d}. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: Pair;
}

/** 2-D transposed convolution: weight [cIn, cOut, kh, kw] (+ bias [cOut]). */
export class ConvTranspose2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  outputPadding: [number, number];
  readonly dilation: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    o: ConvTranspose2dOptions = {},
  ) {
    super();
    this.kernel = pair(kernel, 1);
    this.stride = pair(o.stride, 1);
    this.padding = pair(o.padding, 0);
    this.outputPadding = pair(o.outputPadding, 0);
    this.dilation = pair(o.dilation, 1);
    // torch: fan_in from dim 1 of [cIn, cOut, kh, kw]; bias has cOut entries
    const { weight, bias } = initWeights(
      [inChannels, outChannels, ...this.kernel],
      outChannels,
      o.bias ?? true,
      o,
    );
    this.weight = this.param("weight", weight);
    this.bias = this.param("bias", bias);
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
    });
  }

  override config(): ModuleConfig {
    return {
      type: "ConvTranspose2d",
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernel: this.kernel,
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      bias: !!this.bias,
    };
  }

  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const ins = [x, g.param(`${prefix}weight`, this.weight)];
    if (this.bias) ins.push(g.param(`${prefix}bias`, this.bias));
    return [g.op("ConvTranspose", ins, {
      kernel_shape: attr.ints(this.kernel),
      strides: attr.ints(this.stride),
      pads: attr.ints([this.padding[0], this.padding[1], this.padding[0], this.padding[1]]),
      output_padding: attr.ints(this.outputPadding),
      dilations: attr.ints(this.dilation),
      group: attr.int(1),
    }, `${prefix}convT`)];
  }
}

/** Options of {@link Linear}. */
export interface LinearOptions extends LayerInitOptions {
  bias?: boolean;
}

/** y = x Wᵀ + b, weight [out, in]. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, o: LinearOptions = {}) {
    super();
    const { weight, bias } = initWeights([outFeatures, inFeatures], outFeatures, o.bias ?? true, o);
    this.weight = this.param("weight", weight);
    this.bias = this.param("bias", bias);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override config(): ModuleConfig {
    return {
      type: "Linear",
      inFeatures: this.inFeatures,
      outFeatures: this.outFeatures,
      bias: !!this.bias,
    };
  }

  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const wt = g.op("Transpose", [g.param(`${prefix}weight`, this.weight)], {
      perm: attr.ints([1, 0]),
    }, `${prefix}weightT`);
    let y = g.op("MatMul", [x, wt], {}, `${prefix}matmul`);
    if (this.bias) y = g.op("Add", [y, g.param(`${prefix}bias`, this.bias)], {}, `${prefix}linear`);
    return [y];
  }
}

/** Options of the batch norms (PyTorch's names and defaults). */
export interface BatchNormLayerOptions {
  eps?: number;
  momentum?: number;
  affine?: boolean;
  /** false: batch statistics in training and inference, no running buffers (NoStripesNet). */
  trackRunningStats?: boolean;
  backend?: Backend;
}

/** Batch norm over channel axis 1 (of [N, C, H, W] for 2d, [N, C] or [N, C, L] for 1d). */
export class BatchNorm extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  readonly trackRunningStats: boolean;
  /** Batches seen in training (PyTorch's num_batches_tracked; kept on the host). */
  numBatchesTracked = 0;

  constructor(readonly numFeatures: number, readonly rank: number, o: BatchNormLayerOptions = {}) {
    super();
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum ?? 0.1;
    this.trackRunningStats = o.trackRunningStats ?? true;
    const affine = o.affine ?? true;
    this.weight = this.param(
      "weight",
      affine ? Parameter.from(constant([numFeatures], 1), [numFeatures], o.backend) : null,
    );
    this.bias = this.param(
      "bias",
      affine ? Parameter.from(constant([numFeatures], 0), [numFeatures], o.backend) : null,
    );
    this.runningMean = this.buffer(
      "running_mean",
      this.trackRunningStats
        ? persistentTensor(constant([numFeatures], 0), [numFeatures], o.backend)
        : null,
    );
    this.runningVar = this.buffer(
      "running_var",
      this.trackRunningStats
        ? persistentTensor(constant([numFeatures], 1), [numFeatures], o.backend)
        : null,
    );
  }

  /** Forward with an optional fused activation (used by Sequential for BN → (Leaky)ReLU). */
  forwardFused(x: Tensor, activation: FusedActivation, slope: number): Tensor {
    if (x.ndim !== this.rank && !(this.rank === 3 && x.ndim === 2)) {
      throw new TensorError(
        this.constructor.name,
        `expected a ${this.rank}-D input, got [${x.shape.join(", ")}]`,
      );
    }
    const useBatch = this.training || !this.trackRunningStats;
    if (this.training && this.trackRunningStats) this.numBatchesTracked++;
    return batchNorm(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.trackRunningStats ? this.runningMean : null,
      runningVar: this.trackRunningStats ? this.runningVar : null,
      training: useBatch,
      momentum: this.momentum,
      eps: this.eps,
      activation,
      slope,
    });
  }

  forward(x: Tensor): Tensor {
    return this.forwardFused(x, "none", 0);
  }

  override config(): ModuleConfig {
    return {
      type: this.constructor.name,
      numFeatures: this.numFeatures,
      eps: this.eps,
      momentum: this.momentum,
      affine: !!this.weight,
      trackRunningStats: this.trackRunningStats,
    };
  }

  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const gamma = this.weight ? g.param(`${prefix}weight`, this.weight) : null;
    const beta = this.bias ? g.param(`${prefix}bias`, this.bias) : null;
    if (!this.trackRunningStats || this.training) {
      return [batchNormBatchStatsOnnx(g, x, this.rank, this.eps, gamma, beta, `${prefix}bn`)];
    }
    const c = this.numFeatures;
    return [g.op(
      "BatchNormalization",
      [
        x,
        gamma ?? g.constFloat(`${prefix}ones`, constant([c], 1), [c]),
        beta ?? g.constFloat(`${prefix}zeros`, constant([c], 0), [c]),
        g.param(`${prefix}running_mean`, this.runningMean!),
        g.param(`${prefix}running_var`, this.runningVar!),
      ],
      { epsilon: attr.float(this.eps), momentum: attr.float(1 - this.momentum) },
      `${prefix}bn`,
    )];
  }
}

/** Batch norm of [N, C, H, W]. */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, o: BatchNormLayerOptions = {}) {
    super(numFeatures, 4, o);
  }
}

/** Batch norm of [N, C, L] (or [N, C]; the ONNX form with batch statistics assumes [N, C, L]). */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, o: BatchNormLayerOptions = {}) {
    super(numFeatures, 3, o);
  }
}

/**
 * Inverted dropout with probability p in training, identity in inference. Masks come from an
 * {@link Rng} (option `rng`, default: the tensor library's default generator), or from
 * {@link Dropout.maskProvider} when set (e.g. to replay another framework's masks in a test).
 */
export class Dropout extends Module {
  rng: Rng;
  /** When set: returns the keep mask (0/1, same shape as x) to use instead of drawing one. */
  maskProvider: ((shape: readonly number[]) => Tensor) | null = null;

  constructor(readonly p = 0.5, o: { rng?: Rng } = {}) {
    super();
    this.rng = o.rng ?? defaultRng;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    if (this.maskProvider) {
      const m = this.maskProvider(x.shape);
      return mul(x, mul(m, 1 / (1 - this.p)));
    }
    return dropout(x, this.p, true, this.rng);
  }

  override config(): ModuleConfig {
    return { type: "Dropout", p: this.p };
  }

  override toOnnx(_g: OnnxGraph, inputs: string[]): string[] {
    return inputs;
  }
}

/** max(0, x)·… with negative slope. */
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override config(): ModuleConfig {
    return { type: "LeakyReLU", negativeSlope: this.negativeSlope };
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("LeakyRelu", [x], { alpha: attr.float(this.negativeSlope) }, `${prefix}leaky`)];
  }
}

/** max(0, x). */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("Relu", [x], {}, `${prefix}relu`)];
  }
}

/** tanh. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("Tanh", [x], {}, `${prefix}tanh`)];
  }
}

/** The logistic function. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("Sigmoid", [x], {}, `${prefix}sigmoid`)];
  }
}

/** Passes its input through. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
  override toOnnx(_g: OnnxGraph, inputs: string[]): string[] {
    return inputs;
  }
}

/** Flattens axes start..end (default 1..−1) into one. */
export class Flatten extends Module {
  constructor(readonly start = 1, readonly end = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.start, this.end);
  }
  override config(): ModuleConfig {
    return { type: "Flatten", start: this.start, end: this.end };
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    if (this.end !== -1) return super.toOnnx(g, [x], prefix);
    return [g.op("Flatten", [x], { axis: attr.int(this.start) }, `${prefix}flatten`)];
  }
}

/** Options of the 2-D pools. */
export interface Pool2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

/** 2-D max pooling. */
export class MaxPool2d extends Module {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  constructor(kernel: Pair, o: Pool2dOptions = {}) {
    super();
    this.kernel = pair(kernel, 1);
    this.stride = o.stride === undefined ? this.kernel : pair(o.stride, 1);
    this.padding = pair(o.padding, 0);
    this.dilation = pair(o.dilation, 1);
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernel, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    });
  }
  override config(): ModuleConfig {
    return {
      type: "MaxPool2d",
      kernel: this.kernel,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    };
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("MaxPool", [x], {
      kernel_shape: attr.ints(this.kernel),
      strides: attr.ints(this.stride),
      pads: attr.ints([this.padding[0], this.padding[1], this.padding[0], this.padding[1]]),
      dilations: attr.ints(this.dilation),
    }, `${prefix}maxpool`)];
  }
}

/** 2-D average pooling (padding counted, as PyTorch's default). */
export class AvgPool2d extends Module {
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(kernel: Pair, o: Omit<Pool2dOptions, "dilation"> = {}) {
    super();
    this.kernel = pair(kernel, 1);
    this.stride = o.stride === undefined ? this.kernel : pair(o.stride, 1);
    this.padding = pair(o.padding, 0);
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernel, { stride: this.stride, padding: this.padding });
  }
  override config(): ModuleConfig {
    return { type: "AvgPool2d", kernel: this.kernel, stride: this.stride, padding: this.padding };
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("AveragePool", [x], {
      kernel_shape: attr.ints(this.kernel),
      strides: attr.ints(this.stride),
      pads: attr.ints([this.padding[0], this.padding[1], this.padding[0], this.padding[1]]),
      count_include_pad: attr.int(1),
    }, `${prefix}avgpool`)];
  }
}

/** 1-D max pooling. */
export class MaxPool1d extends Module {
  readonly stride: number;
  constructor(
    readonly kernel: number,
    o: { stride?: number; padding?: number; dilation?: number } = {},
  ) {
    super();
    this.stride = o.stride ?? kernel;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
  }
  readonly padding: number;
  readonly dilation: number;
  forward(x: Tensor): Tensor {
    return maxPool1d(x, this.kernel, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    });
  }
  override config(): ModuleConfig {
    return {
      type: "MaxPool1d",
      kernel: this.kernel,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    };
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("MaxPool", [x], {
      kernel_shape: attr.ints([this.kernel]),
      strides: attr.ints([this.stride]),
      pads: attr.ints([this.padding, this.padding]),
      dilations: attr.ints([this.dilation]),
    }, `${prefix}maxpool`)];
  }
}

/** 1-D average pooling. */
export class AvgPool1d extends Module {
  readonly stride: number;
  readonly padding: number;
  constructor(readonly kernel: number, o: { stride?: number; padding?: number } = {}) {
    super();
    this.stride = o.stride ?? kernel;
    this.padding = o.padding ?? 0;
  }
  forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernel, { stride: this.stride, padding: this.padding });
  }
  override config(): ModuleConfig {
    return { type: "AvgPool1d", kernel: this.kernel, stride: this.stride, padding: this.padding };
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    return [g.op("AveragePool", [x], {
      kernel_shape: attr.ints([this.kernel]),
      strides: attr.ints([this.stride]),
      pads: attr.ints([this.padding, this.padding]),
      count_include_pad: attr.int(1),
    }, `${prefix}avgpool`)];
  }
}

/** Options of {@link Upsample}: `size` or `scaleFactor`. */
export interface UpsampleLayerOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: "nearest" | "bilinear";
  alignCorners?: boolean;
}

/** nn.Upsample (nearest or bilinear) of [N, C, H, W]. */
export class Upsample extends Module {
  constructor(readonly o: UpsampleLayerOptions) {
    super();
    if ((o.size === undefined) === (o.scaleFactor === undefined)) {
      throw new TensorError("Upsample", "give exactly one of size and scaleFactor");
    }
  }
  forward(x: Tensor): Tensor {
    return upsample(x, this.o);
  }
  override config(): ModuleConfig {
    return { type: "Upsample", ...this.o };
  }
  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const mode = this.o.mode ?? "nearest";
    const attrs: Record<string, OnnxAttr> = mode === "nearest"
      ? {
        mode: attr.str("nearest"),
        coordinate_transformation_mode: attr.str("asymmetric"),
        nearest_mode: attr.str("floor"),
      }
      : {
        mode: attr.str("linear"),
        coordinate_transformation_mode: attr.str(
          this.o.alignCorners ? "align_corners" : "pytorch_half_pixel",
        ),
      };
    if (this.o.scaleFactor !== undefined) {
      const [sh, sw] = pair(this.o.scaleFactor, 1);
      const scales = g.constFloat(`${prefix}scales`, [1, 1, sh, sw], [4]);
      return [g.op("Resize", [x, "", scales], attrs, `${prefix}resize`)];
    }
    const [oh, ow] = pair(this.o.size, 1);
    const shape = g.op("Shape", [x], {}, `${prefix}shape`);
    const nc = g.op(
      "Slice",
      [shape, g.constInt64(`${prefix}s0`, [0]), g.constInt64(`${prefix}s2`, [2])],
      {},
      `${prefix}nc`,
    );
    const sizes = g.op(
      "Concat",
      [nc, g.constInt64(`${prefix}hw`, [oh, ow])],
      { axis: attr.int(0) },
      `${prefix}sizes`,
    );
    return [g.op("Resize", [x, "", "", sizes], attrs, `${prefix}resize`)];
  }
}

/**
 * Applies its children in order (state-dict names "0.", "1.", …). A batch norm directly
 * followed by ReLU or LeakyReLU runs as one fused kernel (same values, one pass less).
 */
export class Sequential extends Module {
  readonly layers: Module[];
  /** Fuse BatchNorm → (Leaky)ReLU (default true). */
  fuse = true;

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.child(String(i), m));
  }

  forward(x: Tensor): Tensor {
    const ls = this.layers;
    for (let i = 0; i < ls.length; i++) {
      const m = ls[i], next = ls[i + 1];
      if (
        this.fuse && m instanceof BatchNorm && (next instanceof ReLU || next instanceof LeakyReLU)
      ) {
        x = m.forwardFused(
          x,
          next instanceof ReLU ? "relu" : "leakyRelu",
          next instanceof LeakyReLU ? next.negativeSlope : 0,
        );
        i++;
        continue;
      }
      x = m.forward(x);
    }
    return x;
  }

  override toOnnx(g: OnnxGraph, inputs: string[], prefix: string): string[] {
    let xs = inputs;
    this.layers.forEach((m, i) => (xs = m.toOnnx(g, xs, `${prefix}${i}.`)));
    return xs;
  }

  override config(): ModuleConfig {
    return { type: "Sequential", layers: this.layers.map((m) => m.config()) };
  }
}
