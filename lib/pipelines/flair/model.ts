/**
 * The Flair Visibility 2.5D segmentation network: input (N, 2, 7, H, W), the b1000 and b0
 * channels of slices z−3 … z+3, folded into 14 channels; a U-Net (double 3×3 conv → batch norm →
 * ReLU per level, convolutions without bias before the norms, 2×2 max pooling, 2×2 stride-2 transposed convolutions, skip connections by
 * concatenation) and a 1×1 head giving 3 logit maps [brain mask, stroke, visible] for slice z.
 *
 * The original uses DeepLabV3+ with an ImageNet-pretrained 3D EfficientNet-B0 encoder; those
 * weights cannot be had here, so this U-Net trained from scratch stands in for it. Presets:
 * `paper` (width 32, 4 poolings), `small` (16, 3), `tiny` (4, 2) for tests and `demo` (8, 2) for
 * the demo's few CPU minutes (4 features are too few to learn the stroke besides the
 * 100×-weighted visible term). The head's biases start at
 * the prior log-odds of each map ({@link HEAD_PRIOR}), the usual start for rare classes. State-dict names equal those
 * of the PyTorch twin in tests/fixtures/flair/torch_unet.py (`down0.0.weight`, `up1.weight`,
 * `dec1.3.bias`, `head.weight`…).
 *
 * @example
 * ```ts
 * import { FlairUNet } from "./model.ts";
 * const net = new FlairUNet({ preset: "tiny" });
 * // net.forward(x): x [N, 2, 7, H, W] (H, W divisible by 2^depth) → [N, 3, H, W]
 * ```
 * @module
 */
import { fmtShape, type Tensor, TensorError } from "../../tensor/tensor.ts";
import { cat, reshape } from "../../tensor/ops/mod.ts";
import { Module, type ModuleConfig } from "../../nn/module.ts";
import {
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  ReLU,
  Sequential,
} from "../../nn/layers.ts";
import type { InitRng } from "../../nn/init.ts";
import { attr, type OnnxGraph } from "../../nn/onnx_export.ts";
import type { Backend } from "../../tensor/backend.ts";

/** Network sizes by preset name. */
export const PRESETS = {
  paper: { width: 32, depth: 4 },
  small: { width: 16, depth: 3 },
  tiny: { width: 4, depth: 2 },
  demo: { width: 8, depth: 2 },
} as const;

/** A preset's name. */
export type Preset = keyof typeof PRESETS;

/** Slices of the 2.5D stack (z−3 … z+3). */
export const STACK = 7;
/** Image channels [b1000, b0]. */
export const CHANNELS = 2;
/** Output maps [brain mask, stroke, visible]. */
export const OUTPUTS = 3;

/**
 * Prior probabilities the head's biases start at (log-odds), [brain mask, stroke, visible]:
 * about half of a slice is brain, stroke and visible voxels are rare. A head starting at 0
 * (p = 0.5 everywhere) spends its first hundreds of Adam steps only moving these biases.
 */
export const HEAD_PRIOR = [0.5, 0.01, 0.005] as const;

/** Options of {@link FlairUNet}. */
export interface FlairUNetOptions {
  /** Size preset (default "paper"); `width`/`depth` override it. */
  preset?: Preset;
  width?: number;
  depth?: number;
  rng?: InitRng;
  backend?: Backend;
  /** Start the head's biases at {@link HEAD_PRIOR}'s log-odds (default true). */
  headPrior?: boolean;
}

/** The 2.5D U-Net; see the module notes. */
export class FlairUNet extends Module {
  readonly width: number;
  readonly depth: number;
  readonly downs: Sequential[] = [];
  readonly ups: ConvTranspose2d[] = [];
  readonly decs: Sequential[] = [];
  readonly head: Conv2d;
  readonly pool = new MaxPool2d(2);

  constructor(o: FlairUNetOptions = {}) {
    super();
    const p = PRESETS[o.preset ?? "paper"];
    const f = (this.width = o.width ?? p.width);
    const D = (this.depth = o.depth ?? p.depth);
    const lo = { rng: o.rng, backend: o.backend };
    const block = (i: number, c: number) =>
      new Sequential(
        new Conv2d(i, c, 3, { padding: 1, bias: false, ...lo }),
        new BatchNorm2d(c, { backend: o.backend }),
        new ReLU(),
        new Conv2d(c, c, 3, { padding: 1, bias: false, ...lo }),
        new BatchNorm2d(c, { backend: o.backend }),
        new ReLU(),
      );
    const ch = (i: number) => f * 2 ** i;
    for (let i = 0; i <= D; i++) {
      this.downs.push(this.child(`down${i}`, block(i === 0 ? CHANNELS * STACK : ch(i - 1), ch(i))));
    }
    for (let i = D; i >= 1; i--) {
      this.ups.push(
        this.child(`up${i}`, new ConvTranspose2d(ch(i), ch(i - 1), 2, { stride: 2, ...lo })),
      );
      this.decs.push(this.child(`dec${i}`, block(2 * ch(i - 1), ch(i - 1))));
    }
    this.head = this.child("head", new Conv2d(f, OUTPUTS, 1, lo));
    if (o.headPrior ?? true) {
      const b = this.head.bias!;
      b.backend.write(b.storage, Float32Array.from(HEAD_PRIOR, (p) => Math.log(p / (1 - p))));
    }
  }

  forward(x: Tensor): Tensor {
    const [n, c, s, h, w] = x.shape;
    const m = 2 ** this.depth;
    if (x.ndim !== 5 || c !== CHANNELS || s !== STACK || h % m || w % m) {
      throw new TensorError(
        "FlairUNet",
        `input must be [N, 2, 7, H, W] with H, W divisible by ${m}, got ${fmtShape(x.shape)}`,
      );
    }
    let y = reshape(x, [n, c * s, h, w]);
    const skips: Tensor[] = [];
    this.downs.forEach((d, i) => {
      if (i > 0) y = this.pool.forward(y);
      y = d.forward(y);
      skips.push(y);
    });
    for (let k = 0; k < this.depth; k++) {
      y = this.ups[k].forward(y);
      y = this.decs[k].forward(cat([y, skips[this.depth - 1 - k]], 1));
    }
    return this.head.forward(y);
  }

  override config(): ModuleConfig {
    return { type: "FlairUNet", width: this.width, depth: this.depth };
  }

  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const [, , , h, w] = g.inputDims;
    if (typeof h !== "number" || typeof w !== "number") {
      throw new TensorError("FlairUNet", "ONNX export needs a fixed H and W");
    }
    const shape = g.constInt64(`${prefix}fold_shape`, [0, CHANNELS * STACK, h, w]);
    let y = g.op("Reshape", [x, shape], {}, `${prefix}folded`);
    const skips: string[] = [];
    this.downs.forEach((d, i) => {
      if (i > 0) y = this.pool.toOnnx(g, [y], `${prefix}pool${i}.`)[0];
      y = d.toOnnx(g, [y], `${prefix}down${i}.`)[0];
      skips.push(y);
    });
    for (let k = 0; k < this.depth; k++) {
      const lvl = this.depth - k;
      y = this.ups[k].toOnnx(g, [y], `${prefix}up${lvl}.`)[0];
      const c = g.op("Concat", [y, skips[lvl - 1]], { axis: attr.int(1) }, `${prefix}cat${lvl}`);
      y = this.decs[k].toOnnx(g, [c], `${prefix}dec${lvl}.`)[0];
    }
    return this.head.toOnnx(g, [y], `${prefix}head.`);
  }
}
