/**
 * NoStripesNet's `PatchDiscriminator` (network/models/discriminators.py), exactly: 7 blocks of
 * Conv(k4, s2, p1, bias) → BatchNorm2d(eps 1e-3, batch statistics; not on the first block) →
 * LeakyReLU(0.2), channels 2→64→128→256→512→512→512→512, then Conv(512→1, k4, s2, p1) with no
 * sigmoid (the losses take logits). Input cat(mask, image) [N, 2, H, W]; for 1801×256 the
 * output is [N, 1, 7, 1]. 15,353,025 parameters at the paper size. State-dict names equal
 * PyTorch's (`model.0.0.weight`, `model.1.1.weight`, …, `model.7.bias`).
 *
 * `width` (64) and `depth` (number of blocks, 7) give small presets.
 *
 * @module
 */
import { fmtShape, Tensor, TensorError } from "../../tensor/tensor.ts";
import { Module, type ModuleConfig } from "../../nn/module.ts";
import { BatchNorm2d, Conv2d, Identity, LeakyReLU, Sequential } from "../../nn/layers.ts";
import type { InitRng } from "../../nn/init.ts";
import { initNoStripesNet } from "./patch_unet.ts";
import type { OnnxGraph } from "../../nn/onnx_export.ts";
import type { Backend } from "../../tensor/backend.ts";

/** Options of {@link PatchDiscriminator}. */
export interface PatchDiscriminatorOptions {
  /** Filters of the first block (64). */
  width?: number;
  /** Number of Conv-BN-LeakyReLU blocks (7). */
  depth?: number;
  /** Input channels (2: mask and image). */
  inChannels?: number;
  /** Batch-norm eps (1e-3). */
  eps?: number;
  /** When given, NoStripesNet's initialisation (see initNoStripesNet). */
  rng?: InitRng;
  backend?: Backend;
}

/** The NoStripesNet patch discriminator. */
export class PatchDiscriminator extends Module {
  readonly width: number;
  readonly depth: number;
  readonly inChannels: number;
  readonly eps: number;
  readonly model: Sequential;

  constructor(o: PatchDiscriminatorOptions = {}) {
    super();
    const f = (this.width = o.width ?? 64);
    const D = (this.depth = o.depth ?? 7);
    if (!(D >= 1) || !(f >= 1)) {
      throw new TensorError("PatchDiscriminator", `width ${f}, depth ${D}`);
    }
    this.inChannels = o.inChannels ?? 2;
    this.eps = o.eps ?? 1e-3;
    const lo = { rng: o.rng, backend: o.backend, stride: 2, padding: 1 };
    const ch = (i: number) => Math.min(f * 2 ** i, 8 * f);
    const blocks: Module[] = [];
    for (let i = 0; i < D; i++) {
      const cin = i === 0 ? this.inChannels : ch(i - 1);
      blocks.push(
        new Sequential(
          new Conv2d(cin, ch(i), 4, lo),
          i === 0 ? new Identity() : new BatchNorm2d(ch(i), {
            eps: this.eps,
            trackRunningStats: false,
            backend: o.backend,
          }),
          new LeakyReLU(0.2),
        ),
      );
    }
    blocks.push(new Conv2d(ch(D - 1), 1, 4, lo));
    this.model = this.child("model", new Sequential(...blocks));
    if (o.rng) initNoStripesNet(this, o.rng);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new TensorError(
        "PatchDiscriminator",
        `input must be [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`,
      );
    }
    return this.model.forward(x);
  }

  override config(): ModuleConfig {
    return {
      type: "PatchDiscriminator",
      width: this.width,
      depth: this.depth,
      inChannels: this.inChannels,
      eps: this.eps,
    };
  }

  override toOnnx(g: OnnxGraph, inputs: string[], prefix: string): string[] {
    return this.model.toOnnx(g, inputs, `${prefix}model.`);
  }
}
