/**
 * The class-conditional DDPM U-Net (Ho et al.'s layout, small): residual blocks with group norm,
 * SiLU and a time + phase embedding added per block, single-head self-attention at the low
 * resolutions, stride-2 convolutions down, nearest ×2 + convolution up, skip concatenation.
 * Presets `micro` (16 px, the demo's), `tiny` (32 px), `small` (64 px), `paper` (128 px);
 * grayscale in and out. Group norm,
 * SiLU, the embeddings and attention are composites of the engine's ops.
 *
 * @example
 * ```ts
 * import { PRESETS, UNet, unetConditioning } from "./unet.ts";
 * const net = new UNet(PRESETS.tiny);
 * const { temb, y } = unetConditioning(net.cfg, [10, 500], [3, 16]);
 * const eps = net.forward(xt, temb, y); // [2, 1, 32, 32]
 * ```
 * @module
 */
import { type Tensor, tensor } from "../../tensor/tensor.ts";
import {
  add,
  cat,
  matmul,
  mean,
  mul,
  narrow,
  reshape,
  rsqrt,
  sigmoid,
  softmax,
  sub,
  transpose,
  upsample,
  variance,
} from "../../tensor/ops/mod.ts";

import { Module, type ModuleConfig, Parameter } from "../../nn/module.ts";
import { Conv2d, type LayerInitOptions, Linear } from "../../nn/layers.ts";
import { LumenError } from "../../run/errors.ts";

/** The U-Net's architecture. */
export interface UNetConfig {
  /** Image side in pixels. */
  size: number;
  /** Channels per level (the first is the stem's). */
  channels: number[];
  /** Residual blocks per level. */
  resBlocks: number;
  /** Resolutions (pixels) with self-attention. */
  attnRes: number[];
  /** Group norm groups. */
  groups: number;
  /** Phase classes; one more embedding stands for "no phase". */
  classes: number;
}

/**
 * The presets: `micro` for the demo (16 px, a few CPU minutes), `tiny` for tests, `small` for a
 * laptop, `paper` for a long run.
 *
 * @example
 * ```ts
 * new UNet(PRESETS.small);
 * ```
 */
export const PRESETS: Readonly<Record<"micro" | "tiny" | "small" | "paper", UNetConfig>> = {
  micro: { size: 16, channels: [16, 32], resBlocks: 1, attnRes: [], groups: 8, classes: 16 },
  tiny: { size: 32, channels: [16, 32, 32], resBlocks: 1, attnRes: [8], groups: 8, classes: 16 },
  small: {
    size: 64,
    channels: [32, 64, 64, 128],
    resBlocks: 1,
    attnRes: [16, 8],
    groups: 8,
    classes: 16,
  },
  paper: {
    size: 128,
    channels: [64, 128, 256, 256],
    resBlocks: 2,
    attnRes: [16],
    groups: 32,
    classes: 16,
  },
};

/**
 * x · σ(x).
 *
 * @example
 * ```ts
 * silu(x); // x · sigmoid(x)
 * ```
 */
export function silu(x: Tensor): Tensor {
  return mul(x, sigmoid(x));
}

/**
 * Group normalisation over (C/G, H, W) per group, with a per-channel affine (PyTorch's).
 *
 * @example
 * ```ts
 * new GroupNorm(8, 32).forward(x); // x: [n, 32, h, w]
 * ```
 */
export class GroupNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  constructor(readonly groups: number, readonly channels: number, readonly eps = 1e-5) {
    super();
    if (channels % groups) throw new LumenError("GroupNorm", "", "channels % groups ≠ 0");
    this.weight = this.param(
      "weight",
      Parameter.from(new Float32Array(channels).fill(1), [channels]),
    );
    this.bias = this.param("bias", Parameter.from(new Float32Array(channels), [channels]));
  }
  forward(x: Tensor): Tensor {
    const [b, c, h, w] = x.shape;
    const g = reshape(x, [b, this.groups, (c / this.groups) * h * w]);
    const m = mean(g, 2, true);
    const v = variance(g, 2, false, true);
    const n = reshape(mul(sub(g, m), rsqrt(add(v, this.eps))), [b, c, h, w]);
    return add(mul(n, reshape(this.weight, [1, c, 1, 1])), reshape(this.bias, [1, c, 1, 1]));
  }
  override config(): ModuleConfig {
    return { type: "GroupNorm", groups: this.groups, channels: this.channels, eps: this.eps };
  }
}

/**
 * A residual block: GN → SiLU → conv, + embedding, GN → SiLU → conv, + skip (1×1 when needed).
 *
 * @example
 * ```ts
 * new ResBlock(16, 32, 64, 8).forward(x, emb); // emb: [n, 64]
 * ```
 */
export class ResBlock extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly emb: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly skip: Conv2d | null;
  constructor(
    cin: number,
    readonly cout: number,
    embDim: number,
    groups: number,
    o: LayerInitOptions = {},
  ) {
    super();
    this.norm1 = this.child("norm1", new GroupNorm(groups, cin));
    this.conv1 = this.child("conv1", new Conv2d(cin, cout, 3, { padding: 1, ...o }));
    this.emb = this.child("emb", new Linear(embDim, cout, o));
    this.norm2 = this.child("norm2", new GroupNorm(groups, cout));
    this.conv2 = this.child("conv2", new Conv2d(cout, cout, 3, { padding: 1, ...o }));
    this.skip = cin === cout ? null : this.child("skip", new Conv2d(cin, cout, 1, o));
  }
  forward(x: Tensor, emb: Tensor): Tensor {
    let h = this.conv1.forward(silu(this.norm1.forward(x)));
    h = add(h, reshape(this.emb.forward(silu(emb)), [x.shape[0], this.cout, 1, 1]));
    h = this.conv2.forward(silu(this.norm2.forward(h)));
    return add(h, this.skip ? this.skip.forward(x) : x);
  }
}

/**
 * Single-head self-attention over the pixels, residual.
 *
 * @example
 * ```ts
 * new AttnBlock(32, 8).forward(x); // x: [n, 32, 8, 8]
 * ```
 */
export class AttnBlock extends Module {
  readonly norm: GroupNorm;
  readonly qkv: Conv2d;
  readonly proj: Conv2d;
  constructor(readonly channels: number, groups: number, o: LayerInitOptions = {}) {
    super();
    this.norm = this.child("norm", new GroupNorm(groups, channels));
    this.qkv = this.child("qkv", new Conv2d(channels, 3 * channels, 1, o));
    this.proj = this.child("proj", new Conv2d(channels, channels, 1, o));
  }
  forward(x: Tensor): Tensor {
    const [b, c, h, w] = x.shape;
    const qkv = reshape(this.qkv.forward(this.norm.forward(x)), [b, 3 * c, h * w]);
    const q = narrow(qkv, 1, 0, c), k = narrow(qkv, 1, c, c), v = narrow(qkv, 1, 2 * c, c);
    const att = softmax(mul(matmul(transpose(q, 1, 2), k), 1 / Math.sqrt(c)), -1); // [b, n, n]
    const o = matmul(v, transpose(att, 1, 2)); // [b, c, n]
    return add(x, this.proj.forward(reshape(o, [b, c, h, w])));
  }
}

/**
 * Sinusoidal timestep embeddings [n, dim] (half sines, half cosines, DDPM's frequencies).
 *
 * @example
 * ```ts
 * timestepEmbedding([0, 10], 16).length; // 32
 * ```
 */
export function timestepEmbedding(t: readonly number[], dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  t.forEach((ti, n) => {
    for (let i = 0; i < half; i++) {
      const f = Math.exp(-Math.log(10000) * i / (half - 1));
      out[n * dim + i] = Math.sin(ti * f);
      out[n * dim + half + i] = Math.cos(ti * f);
    }
  });
  return out;
}

/**
 * The U-Net's conditioning tensors for timesteps and phase indices (`classes` = no phase).
 *
 * @example
 * ```ts
 * const { temb, y } = unetConditioning(PRESETS.tiny, [999], [3]);
 * ```
 */
export function unetConditioning(
  cfg: UNetConfig,
  t: readonly number[],
  y: readonly number[],
): { temb: Tensor; y: Tensor } {
  const dim = cfg.channels[0];
  const oh = new Float32Array(y.length * (cfg.classes + 1));
  y.forEach((c, i) => oh[i * (cfg.classes + 1) + c] = 1);
  return {
    temb: tensor(timestepEmbedding(t, dim), [t.length, dim]),
    y: tensor(oh, [y.length, cfg.classes + 1]),
  };
}

interface Level {
  res: ResBlock[];
  attn: (AttnBlock | null)[];
  sample: Conv2d | null;
}

/**
 * The DDPM U-Net predicting the noise ε of x_t.
 *
 * @example
 * ```ts
 * new UNet(PRESETS.tiny).forward(xt, temb, y);
 * ```
 */
export class UNet extends Module {
  readonly convIn: Conv2d;
  readonly time1: Linear;
  readonly time2: Linear;
  readonly classEmb: Linear;
  readonly down: Level[] = [];
  readonly mid1: ResBlock;
  readonly midAttn: AttnBlock;
  readonly mid2: ResBlock;
  readonly up: Level[] = [];
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(readonly cfg: UNetConfig, o: LayerInitOptions = {}) {
    super();
    const ch = cfg.channels, g = cfg.groups, e = 4 * ch[0];
    this.convIn = this.child("conv_in", new Conv2d(1, ch[0], 3, { padding: 1, ...o }));
    this.time1 = this.child("time1", new Linear(ch[0], e, o));
    this.time2 = this.child("time2", new Linear(e, e, o));
    this.classEmb = this.child("class_emb", new Linear(cfg.classes + 1, e, { ...o, bias: false }));
    const skips: number[] = [ch[0]];
    let cur = ch[0], res = cfg.size;
    for (let i = 0; i < ch.length; i++) {
      const lv: Level = { res: [], attn: [], sample: null };
      for (let j = 0; j < cfg.resBlocks; j++) {
        lv.res.push(this.child(`down.${i}.res.${j}`, new ResBlock(cur, ch[i], e, g, o)));
        cur = ch[i];
        lv.attn.push(
          cfg.attnRes.includes(res)
            ? this.child(`down.${i}.attn.${j}`, new AttnBlock(cur, g, o))
            : null,
        );
        skips.push(cur);
      }
      if (i < ch.length - 1) {
        lv.sample = this.child(
          `down.${i}.down`,
          new Conv2d(cur, cur, 3, { stride: 2, padding: 1, ...o }),
        );
        skips.push(cur);
        res /= 2;
      }
      this.down.push(lv);
    }
    this.mid1 = this.child("mid.res1", new ResBlock(cur, cur, e, g, o));
    this.midAttn = this.child("mid.attn", new AttnBlock(cur, g, o));
    this.mid2 = this.child("mid.res2", new ResBlock(cur, cur, e, g, o));
    for (let i = ch.length - 1; i >= 0; i--) {
      const lv: Level = { res: [], attn: [], sample: null };
      for (let j = 0; j <= cfg.resBlocks; j++) {
        const s = skips.pop()!;
        lv.res.push(this.child(`up.${i}.res.${j}`, new ResBlock(cur + s, ch[i], e, g, o)));
        cur = ch[i];
        lv.attn.push(
          cfg.attnRes.includes(res)
            ? this.child(`up.${i}.attn.${j}`, new AttnBlock(cur, g, o))
            : null,
        );
      }
      if (i > 0) {
        lv.sample = this.child(`up.${i}.up`, new Conv2d(cur, cur, 3, { padding: 1, ...o }));
        res *= 2;
      }
      this.up.push(lv);
    }
    this.normOut = this.child("norm_out", new GroupNorm(g, cur));
    this.convOut = this.child("conv_out", new Conv2d(cur, 1, 3, { padding: 1, ...o }));
  }

  /** ε̂ for x_t [n, 1, size, size], the sinusoidal embedding [n, ch₀] and one-hot phases. */
  forward(x: Tensor, temb: Tensor, y: Tensor): Tensor {
    const emb = add(this.time2.forward(silu(this.time1.forward(temb))), this.classEmb.forward(y));
    let h = this.convIn.forward(x);
    const hs: Tensor[] = [h];
    for (const lv of this.down) {
      lv.res.forEach((r, j) => {
        h = r.forward(h, emb);
        const a = lv.attn[j];
        if (a) h = a.forward(h);
        hs.push(h);
      });
      if (lv.sample) {
        h = lv.sample.forward(h);
        hs.push(h);
      }
    }
    h = this.mid2.forward(this.midAttn.forward(this.mid1.forward(h, emb)), emb);
    for (const lv of this.up) {
      lv.res.forEach((r, j) => {
        h = r.forward(cat([h, hs.pop()!], 1), emb);
        const a = lv.attn[j];
        if (a) h = a.forward(h);
      });
      if (lv.sample) h = lv.sample.forward(upsample(h, { scaleFactor: 2, mode: "nearest" }));
    }
    return this.convOut.forward(silu(this.normOut.forward(h)));
  }

  override config(): ModuleConfig {
    return { type: "NswUNet", ...this.cfg };
  }
}
