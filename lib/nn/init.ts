/**
 * Parameter initialisers with PyTorch's formulas (torch.nn.init): normal, uniform, constant,
 * kaiming (He) normal/uniform, xavier (Glorot) normal/uniform, and the default initialisation of
 * each layer type. Values are drawn on the host from a seeded generator ({@link InitRng}), so
 * the same seed gives the same weights on every backend.
 *
 * @example
 * ```ts
 * import { InitRng, kaimingUniform } from "./init.ts";
 * const rng = new InitRng(0);
 * const w = kaimingUniform([64, 1, 4, 4], rng, { a: Math.sqrt(5) }); // Float32Array
 * ```
 * @module
 */
import { SimRng } from "../data/rng.ts";

/**
 * The weights' seeded generator: the one xoshiro128** of lib/data/rng.ts ({@link SimRng}) with
 * the seeding the initial weights have always used. Its state is four uint32 and can be saved.
 */
export class InitRng extends SimRng {
  constructor(seed = 0) {
    super(0);
    // the weights' own seeding (kept so that a seed gives the weights it always gave)
    const w: number[] = [];
    let x = (seed >>> 0) ^ 0x9e3779b9;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9 + (i === 1 ? hi : 0)) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      w.push((z ^ (z >>> 16)) >>> 0);
    }
    if (!(w[0] | w[1] | w[2] | w[3])) w[0] = 1;
    this.state = [...w, NaN];
  }
}

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** fan_in and fan_out as torch computes them (dim 1 and dim 0 times the receptive field). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new RangeError(`fan in/out need at least 2 dimensions, got [${shape.join(", ")}]`);
  }
  const rf = count(shape.slice(2));
  return { fanIn: shape[1] * rf, fanOut: shape[0] * rf };
}

/** torch.nn.init.calculate_gain. */
export function gain(nonlinearity: string, param?: number): number {
  switch (nonlinearity) {
    case "linear":
    case "conv1d":
    case "conv2d":
    case "conv_transpose1d":
    case "conv_transpose2d":
    case "sigmoid":
      return 1;
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leaky_relu": {
      const a = param ?? 0.01;
      return Math.sqrt(2 / (1 + a * a));
    }
    case "selu":
      return 3 / 4;
    default:
      throw new RangeError(`unsupported nonlinearity ${nonlinearity}`);
  }
}

/** N(mean, std²). */
export function normal(shape: readonly number[], rng: InitRng, mean = 0, std = 1): Float32Array {
  const out = new Float32Array(count(shape));
  for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  return out;
}

/** U(a, b). */
export function uniform(shape: readonly number[], rng: InitRng, a = 0, b = 1): Float32Array {
  const out = new Float32Array(count(shape));
  for (let i = 0; i < out.length; i++) out[i] = a + (b - a) * rng.uniform();
  return out;
}

/** A constant. */
export function constant(shape: readonly number[], value: number): Float32Array {
  return new Float32Array(count(shape)).fill(value);
}

/** Options of the kaiming initialisers (torch's names). */
export interface KaimingOptions {
  a?: number;
  mode?: "fan_in" | "fan_out";
  nonlinearity?: string;
}

function kaimingStd(shape: readonly number[], o: KaimingOptions): number {
  const f = fans(shape);
  const fan = (o.mode ?? "fan_in") === "fan_in" ? f.fanIn : f.fanOut;
  return gain(o.nonlinearity ?? "leaky_relu", o.a ?? 0) / Math.sqrt(fan);
}

/** torch.nn.init.kaiming_uniform_. */
export function kaimingUniform(
  shape: readonly number[],
  rng: InitRng,
  o: KaimingOptions = {},
): Float32Array {
  const bound = Math.sqrt(3) * kaimingStd(shape, o);
  return uniform(shape, rng, -bound, bound);
}

/** torch.nn.init.kaiming_normal_. */
export function kaimingNormal(
  shape: readonly number[],
  rng: InitRng,
  o: KaimingOptions = {},
): Float32Array {
  return normal(shape, rng, 0, kaimingStd(shape, o));
}

/** torch.nn.init.xavier_uniform_. */
export function xavierUniform(shape: readonly number[], rng: InitRng, g = 1): Float32Array {
  const f = fans(shape);
  const a = g * Math.sqrt(6 / (f.fanIn + f.fanOut));
  return uniform(shape, rng, -a, a);
}

/** torch.nn.init.xavier_normal_. */
export function xavierNormal(shape: readonly number[], rng: InitRng, g = 1): Float32Array {
  const f = fans(shape);
  return normal(shape, rng, 0, g * Math.sqrt(2 / (f.fanIn + f.fanOut)));
}

/**
 * PyTorch's default initialisation of Conv/ConvTranspose/Linear: weight kaiming_uniform with
 * a = √5 (bound 1/√fan_in), bias U(−1/√fan_in, 1/√fan_in).
 */
export function defaultLayerInit(
  weightShape: readonly number[],
  rng: InitRng,
  withBias: boolean,
): { weight: Float32Array; bias: Float32Array | null } {
  const weight = kaimingUniform(weightShape, rng, { a: Math.sqrt(5) });
  if (!withBias) return { weight, bias: null };
  const { fanIn } = fans(weightShape);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  // bias length: out channels = dim 0 (conv, linear); ConvTranspose callers pass their own shape
  return { weight, bias: uniform([weightShape[0]], rng, -bound, bound) };
}

/** The process-wide initialisation generator used when a layer is given none. */
let globalRng = new InitRng(0);

/** Seeds the default initialisation generator (like torch.manual_seed for init). */
export function manualInitSeed(seed: number): void {
  globalRng = new InitRng(seed);
}

/** The default initialisation generator. */
export function defaultInitRng(): InitRng {
  return globalRng;
}
