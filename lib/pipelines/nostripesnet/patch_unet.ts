/**
 * NoStripesNet's generator `PatchUNet` (network/models/generators.py), exactly: 8 down and 8 up
 * levels, all kernels 4×4, stride 2, padding 1, bias on; batch norm with eps 1e-3 and batch
 * statistics always (track_running_stats=False); dropout 0.5 on up1–up3; skip connections by
 * concatenation; Tanh at the end. 54,413,313 parameters at the paper size (width 64, depth 8).
 * State-dict names equal PyTorch's (`down1.0.weight`, `down2.1.bias`, `up8.0.weight`, …).
 *
 * `width` (filters of the first level, 64) and `depth` (levels, 8) give small presets for
 * tests and quick runs. Channels per level: min(width·2^(i−1), 8·width).
 *
 * The transposed convolutions' output padding is chosen from the skip connection's size at run
 * time (torch's `output_size`), so any input size works whose halvings stay ≥ 1; for
 * 1801×256 it is (1, 0) on up5 and up8, as in the original.
 *
 * @example
 * ```ts
 * const g = new PatchUNet();                  // paper size
 * const small = new PatchUNet({ width: 8, depth: 4 });
 * const y = small.forward(x);                 // x [N, 1, H, W] → [N, 1, H, W]
 * ```
 * @module
 */
import { fmtShape, Tensor, TensorError } from "../../tensor/tensor.ts";
import { cat } from "../../tensor/ops/mod.ts";
import { Module, type ModuleConfig } from "../../nn/module.ts";
import {
  BatchNorm,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Identity,
  LeakyReLU,
  ReLU,
  Sequential,
  Tanh,
} from "../../nn/layers.ts";
import type { InitRng } from "../../nn/init.ts";
import { normal } from "../../nn/init.ts";
import type { Rng } from "../../tensor/ops/random.ts";
import { attr, type OnnxGraph } from "../../nn/onnx_export.ts";
import type { Backend } from "../../tensor/backend.ts";

/** Options of {@link PatchUNet}. */
export interface PatchUNetOptions {
  /** Filters of the first level (paper: 64). */
  width?: number;
  /** Number of down (and up) levels (paper: 8; at least 2). */
  depth?: number;
  /** Input channels (1). */
  inChannels?: number;
  /** Output channels (1). */
  outChannels?: number;
  /** Dropout probability on up1–up3 (0.5). */
  dropout?: number;
  /** Levels from the bottom that have dropout (3). */
  dropoutLevels?: number;
  /** Batch-norm eps (1e-3). */
  eps?: number;
  /** Initialisation generator (weights are NoStripesNet-initialised when given, see initNoStripesNet). */
  rng?: InitRng;
  /** Generator of the dropout masks. */
  dropoutRng?: Rng;
  backend?: Backend;
}

/** Channels of down level i (1-based). */
function levelChannels(width: number, i: number): number {
  return Math.min(width * 2 ** (i - 1), width * 8);
}

/** The NoStripesNet U-Net generator. */
export class PatchUNet extends Module {
  readonly width: number;
  readonly depth: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly dropoutP: number;
  readonly dropoutLevels: number;
  readonly eps: number;
  /** down1 … downD. */
  readonly downs: Sequential[] = [];
  /** up1 … upD. */
  readonly ups: Sequential[] = [];

  constructor(o: PatchUNetOptions = {}) {
    super();
    const f = (this.width = o.width ?? 64);
    const D = (this.depth = o.depth ?? 8);
    if (!(D >= 2) || !(f >= 1)) {
      throw new TensorError("PatchUNet", `width ${f} and depth ${D}: need width ≥ 1, depth ≥ 2`);
    }
    this.inChannels = o.inChannels ?? 1;
    this.outChannels = o.outChannels ?? 1;
    this.dropoutP = o.dropout ?? 0.5;
    this.dropoutLevels = o.dropoutLevels ?? 3;
    this.eps = o.eps ?? 1e-3;
    const lo = { rng: o.rng, backend: o.backend };
    const conv = (i: number, oc: number) => new Conv2d(i, oc, 4, { stride: 2, padding: 1, ...lo });
    const convT = (i: number, oc: number) =>
      new ConvTranspose2d(i, oc, 4, { stride: 2, padding: 1, ...lo });
    const bn = (c: number) =>
      new BatchNorm2d(c, { eps: this.eps, trackRunningStats: false, backend: o.backend });
    const ch = (i: number) => levelChannels(f, i);
    for (let i = 1; i <= D; i++) {
      let s: Sequential;
      if (i === 1) {
        s = new Sequential(conv(this.inChannels, ch(1)), new Identity(), new LeakyReLU(0.2));
      } else if (i === D) s = new Sequential(conv(ch(D - 1), ch(D)), new ReLU());
      else s = new Sequential(conv(ch(i - 1), ch(i)), bn(ch(i)), new LeakyReLU(0.2));
      this.downs.push(this.child(`down${i}`, s));
    }
    for (let k = 1; k <= D; k++) {
      const cin = k === 1 ? ch(D) : 2 * ch(D - k + 1);
      let s: Sequential;
      if (k === D) s = new Sequential(convT(cin, this.outChannels), new Tanh());
      else {
        const drop = k <= this.dropoutLevels
          ? new Dropout(this.dropoutP, { rng: o.dropoutRng })
          : new Identity();
        s = new Sequential(convT(cin, ch(D - k)), bn(ch(D - k)), drop, new ReLU());
      }
      this.ups.push(this.child(`up${k}`, s));
    }
    if (o.rng) initNoStripesNet(this, o.rng);
  }

  /** The dropout layers (up1–up3). */
  dropouts(): Dropout[] {
    return this.ups.flatMap((s) => s.layers.filter((m): m is Dropout => m instanceof Dropout));
  }

  /** Spatial sizes of each down level's output for an input of h×w (index 0 = input). */
  static spatialPath(h: number, w: number, depth: number): Array<[number, number]> {
    const out: Array<[number, number]> = [[h, w]];
    for (let i = 0; i < depth; i++) {
      const [a, b] = out[out.length - 1];
      out.push([Math.floor(a / 2), Math.floor(b / 2)]);
    }
    return out;
  }

  /** Output padding of each up level (1-based index k−1) for an input of h×w. */
  static outputPaddings(h: number, w: number, depth: number): Array<[number, number]> {
    const p = PatchUNet.spatialPath(h, w, depth);
    const out: Array<[number, number]> = [];
    for (let k = 1; k <= depth; k++) {
      const [ih, iw] = p[depth - k + 1];
      const [th, tw] = p[depth - k];
      out.push([th - 2 * ih, tw - 2 * iw]);
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new TensorError(
        "PatchUNet",
        `input must be [N, ${this.inChannels}, H, W], got ${fmtShape(x.shape)}`,
      );
    }
    const D = this.depth;
    const [h, w] = [x.shape[2], x.shape[3]];
    const path = PatchUNet.spatialPath(h, w, D);
    if (path[D][0] < 1 || path[D][1] < 1) {
      throw new TensorError(
        "PatchUNet",
        `input ${fmtShape(x.shape)} is too small for ${D} levels (needs ≥ 2^${D} per axis)`,
      );
    }
    const ops = PatchUNet.outputPaddings(h, w, D);
    const downs: Tensor[] = [];
    let y = x;
    for (const d of this.downs) {
      y = d.forward(y);
      downs.push(y);
    }
    for (let k = 1; k <= D; k++) {
      const up = this.ups[k - 1];
      const inp = k === 1 ? downs[D - 1] : cat([y, downs[D - k]], 1);
      (up.layers[0] as ConvTranspose2d).outputPadding = ops[k - 1];
      y = up.forward(inp);
    }
    return y;
  }

  override config(): ModuleConfig {
    return {
      type: "PatchUNet",
      width: this.width,
      depth: this.depth,
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      dropout: this.dropoutP,
      dropoutLevels: this.dropoutLevels,
      eps: this.eps,
    };
  }

  override toOnnx(g: OnnxGraph, [x]: string[], prefix: string): string[] {
    const dims = g.inputDims;
    const [h, w] = [dims[2], dims[3]];
    if (typeof h !== "number" || typeof w !== "number") {
      throw new TensorError(
        "PatchUNet",
        "ONNX export needs a fixed spatial size (the output paddings depend on it)",
      );
    }
    const D = this.depth;
    const ops = PatchUNet.outputPaddings(h, w, D);
    const downs: string[] = [];
    let y = x;
    this.downs.forEach((d, i) => {
      y = d.toOnnx(g, [y], `${prefix}down${i + 1}.`)[0];
      downs.push(y);
    });
    for (let k = 1; k <= D; k++) {
      const up = this.ups[k - 1];
      const inp = k === 1
        ? downs[D - 1]
        : g.op("Concat", [y, downs[D - k]], { axis: attr.int(1) }, `${prefix}cat${k}`);
      (up.layers[0] as ConvTranspose2d).outputPadding = ops[k - 1];
      y = up.toOnnx(g, [inp], `${prefix}up${k}.`)[0];
    }
    return [y];
  }
}

/**
 * NoStripesNet's `init_weights`: every Conv/ConvTranspose weight N(0, 0.02) (biases keep their
 * default), every BatchNorm weight N(1, 0.02) and bias 0. Draws in state-dict order.
 */
export function initNoStripesNet(m: Module, rng: InitRng): void {
  for (const [, mod] of m.namedModules()) {
    if (mod instanceof Conv2d || mod instanceof ConvTranspose2d) {
      const w = mod.weight;
      w.backend.write(w.storage, normal(w.shape, rng, 0, 0.02));
    } else if (mod instanceof BatchNorm && mod.weight && mod.bias) {
      mod.weight.backend.write(mod.weight.storage, normal(mod.weight.shape, rng, 1, 0.02));
      mod.bias.backend.fill(mod.bias.storage, 0);
    }
  }
}
