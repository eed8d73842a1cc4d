/**
 * The SEAMLeSS alignment network (pyramid.py): an optional pre-encoder, one Siamese encoder per
 * level (levels linked by 2×2 max pooling), one field net per level refining a displacement
 * field coarse to fine. Parameter names equal the original's `pyramid.*` state (`mlist.3.conv2.weight`,
 * `enclist.0.c1.bias`, `pe.c4.weight`), so weights move between the two unchanged.
 *
 * Sampling follows PyTorch 0.4, which the original ran on: the identity grid and every
 * grid_sample use align_corners = true, the field upsampling (nn.Upsample(bilinear)) uses
 * align_corners = false (`upsampleAlignCorners` switches it to true, which keeps the identity).
 *
 * @module
 */
import {
  add,
  cat,
  gridSample,
  leakyRelu,
  maxPool2d,
  mul,
  noGrad,
  permute,
  slice,
  type Tensor,
  tensor,
  upsample,
} from "../../tensor/mod.ts";
import { contiguousView } from "../../tensor/ops/util.ts";
import { Conv2d } from "../../nn/layers.ts";
import { Module, type ModuleConfig } from "../../nn/module.ts";
import type { InitRng } from "../../nn/init.ts";
import { LumenError } from "../../run/errors.ts";

/** Architecture of a {@link Pyramid}. */
export interface PyramidConfig {
  /** Number of levels (the original's `--size`). */
  size: number;
  /** Residual fields omitted from the bottom (`--skip`, default 0). */
  skip?: number;
  /** Levels omitted from the top (default 0). */
  topskips?: number;
  /** Field-net kernel (`--k`, default 7). */
  k?: number;
  /** The original's TRAIN_SIZE for the residual scale (default 1280). */
  trainSize?: number;
  /** Run the pre-encoder (`--pe`, default false). */
  pe?: boolean;
  /**
   * Upsample the field with align_corners = true (default false, the original's
   * nn.Upsample(bilinear)). The original's upsampling does not keep the identity grid: from n to
   * 2n pixels it stretches the field by about 1/(2n − 2), so an untrained pyramid of 3 levels on
   * 32 px already displaces the edges by a pixel, a ramp the convolutional field nets learn
   * slowly. With true the identity is kept exactly and a zero residual is a zero field.
   */
  upsampleAlignCorners?: boolean;
}

/** What {@link Pyramid.forward} gives. */
export interface PyramidOutput {
  /** Source warped by the field, at the field's size [B, 1, h, w]. */
  pred: Tensor;
  /** The sampling grid [B, h, w, 2] (x then y, in [−1, 1]). */
  field: Tensor;
  /** The identity grid of the top level, then each level's residual. */
  residuals: Tensor[];
}

const SQRT6 = Math.sqrt(6);

/** Scales a conv's weight by √6 in place (the original's `initc`). */
function initc(c: Conv2d): Conv2d {
  const w = c.weight;
  const scaled = noGrad(() => mul(w.detach(), SQRT6));
  const v = contiguousView([w.size]);
  w.backend.copy(scaled.storage, v, w.storage, v, [w.size], false);
  return c;
}

function conv(cin: number, cout: number, k: number, rng?: InitRng): Conv2d {
  return initc(new Conv2d(cin, cout, k, { padding: (k - 1) >> 1, rng }));
}

/**
 * A numbered list of modules (torch's ModuleList): names `0`, `1`, …
 *
 * @example
 * ```ts
 * const l = new ModuleList([new Enc(1, 12), new Enc(12, 18)]); // enclist.0.c1.weight …
 * ```
 */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
  forward(): Tensor {
    throw new LumenError("seamless", "ModuleList", "a module list has no forward");
  }
}

/**
 * A level's field net G: k×k convs 2c→32→64→32→16→2, LeakyReLU between, output [B,H,W,2]/10.
 *
 * @example
 * ```ts
 * const r = new FieldNet(24).forward(x); // x [1, 24, h, w] → [1, h, w, 2]
 * ```
 */
export class FieldNet extends Module {
  readonly convs: Conv2d[];
  constructor(readonly infm: number, readonly k = 7, rng?: InitRng) {
    super();
    const ch = [infm, 32, 64, 32, 16, 2];
    this.convs = ch.slice(1).map((c, i) => this.child(`conv${i + 1}`, conv(ch[i], c, k, rng)));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    this.convs.forEach((c, i) => {
      y = c.forward(y);
      if (i < this.convs.length - 1) y = leakyRelu(y);
    });
    return mul(permute(y, [0, 2, 3, 1]), 0.1);
  }
}

/**
 * A level's encoder: two 3×3 convs with LeakyReLU, applied to each group of `infm` channels.
 *
 * @example
 * ```ts
 * const e = new Enc(1, 12).forward(stack); // [1, 2, h, w] → [1, 24, h, w] (Siamese)
 * ```
 */
export class Enc extends Module {
  readonly c1: Conv2d;
  readonly c2: Conv2d;
  constructor(readonly infm: number, readonly outfm: number, rng?: InitRng) {
    super();
    this.c1 = this.child("c1", conv(infm, outfm, 3, rng));
    this.c2 = this.child("c2", conv(outfm, outfm, 3, rng));
  }
  forward(x: Tensor): Tensor {
    const groups = Math.floor(x.shape[1] / this.infm);
    const g1: Tensor[] = [], g2: Tensor[] = [];
    for (let i = 0; i < groups; i++) {
      g1.push(leakyRelu(this.c1.forward(slice(x, [null, [i * this.infm, (i + 1) * this.infm]]))));
    }
    const out1 = cat(g1, 1);
    for (let i = 0; i < groups; i++) {
      g2.push(
        leakyRelu(this.c2.forward(slice(out1, [null, [i * this.outfm, (i + 1) * this.outfm]]))),
      );
    }
    return cat(g2, 1);
  }
}

/**
 * The pre-encoder: per channel five 7×7 convs 1→6→6→12→6→1, LeakyReLU between.
 *
 * @example
 * ```ts
 * const residual = new PreEnc().forward(stack); // same shape as stack
 * ```
 */
export class PreEnc extends Module {
  readonly convs: Conv2d[];
  constructor(outfm = 12, rng?: InitRng) {
    super();
    const h = outfm >> 1;
    const ch = [1, h, h, outfm, h, 1];
    this.convs = ch.slice(1).map((c, i) => this.child(`c${i + 1}`, conv(ch[i], c, 7, rng)));
  }
  forward(x: Tensor): Tensor {
    const outs: Tensor[] = [];
    for (let c = 0; c < x.shape[1]; c++) {
      let y = slice(x, [null, [c, c + 1]]);
      this.convs.forEach((m, i) => {
        y = m.forward(y);
        if (i < this.convs.length - 1) y = leakyRelu(y);
      });
      outs.push(y);
    }
    return cat(outs, 1);
  }
}

const identities = new Map<string, Tensor>();

/**
 * The identity sampling grid [1, h, w, 2] of align_corners = true (np.linspace(−1, 1, n)).
 *
 * @example
 * ```ts
 * const I = identityGrid(8, 8); // I[..., 0] = x, I[..., 1] = y
 * ```
 */
export function identityGrid(h: number, w: number, like?: Tensor): Tensor {
  const key = `${h}x${w}:${like?.backend.name ?? ""}`;
  const hit = identities.get(key);
  if (hit) return hit;
  const lin = (n: number, i: number) => n > 1 ? -1 + (2 * i) / (n - 1) : -1;
  const d = new Float32Array(h * w * 2);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      d[(y * w + x) * 2] = lin(w, x);
      d[(y * w + x) * 2 + 1] = lin(h, y);
    }
  }
  const t = tensor(d, [1, h, w, 2], { backend: like?.backend, persistent: true });
  identities.set(key, t);
  return t;
}

/**
 * The pyramid (EPyramid + PyramidTransformer): `forward(stack, level)` with stack [B, 2, H, W]
 * (channel 0 source, 1 target) aligns the source to the target at pyramid level `level`.
 *
 * @example
 * ```ts
 * const net = new Pyramid({ size: 3 });
 * const { pred, field } = net.align(stack, 0); // stack [1, 2, 64, 64]
 * ```
 */
export class Pyramid extends Module {
  readonly size: number;
  readonly skip: number;
  readonly topskips: number;
  readonly k: number;
  readonly trainSize: number;
  readonly usePe: boolean;
  readonly upsampleAlignCorners: boolean;
  readonly mlist: ModuleList<FieldNet>;
  readonly enclist: ModuleList<Enc>;
  readonly pe: PreEnc;

  constructor(c: PyramidConfig, rng?: InitRng) {
    super();
    if (!Number.isInteger(c.size) || c.size < 1) {
      throw new LumenError("seamless", "--size", `must be a positive integer, got ${c.size}`);
    }
    this.size = c.size;
    this.skip = c.skip ?? 0;
    this.topskips = c.topskips ?? 0;
    this.k = c.k ?? 7;
    this.trainSize = c.trainSize ?? 1280;
    this.usePe = c.pe ?? false;
    this.upsampleAlignCorners = c.upsampleAlignCorners ?? false;
    const outfms = Array.from({ length: this.size }, (_, l) => 12 + 6 * l);
    const infms = [1, ...outfms.slice(0, -1)];
    this.mlist = this.child(
      "mlist",
      new ModuleList(outfms.map((f) => new FieldNet(2 * f, this.k, rng))),
    );
    this.enclist = this.child(
      "enclist",
      new ModuleList(outfms.map((f, l) => new Enc(infms[l], f, rng))),
    );
    this.pe = this.child("pe", new PreEnc(12, rng));
  }

  override config(): ModuleConfig {
    return {
      type: "SeamlessPyramid",
      size: this.size,
      skip: this.skip,
      topskips: this.topskips,
      k: this.k,
      trainSize: this.trainSize,
      pe: this.usePe,
      upsampleAlignCorners: this.upsampleAlignCorners,
    };
  }

  /** The sampling grid at `level` and the residuals (EPyramid.forward). */
  fieldAt(stack: Tensor, level: number): { field: Tensor; residuals: Tensor[] } {
    const top = this.size - 1 - this.topskips;
    if (level < 0 || level > top) {
      throw new LumenError("seamless", "level", `must be in [0, ${top}], got ${level}`);
    }
    const side = 2 ** top;
    if (stack.shape[2] % side || stack.shape[3] % side) {
      throw new LumenError(
        "seamless",
        "input",
        `${stack.shape[2]}×${stack.shape[3]} is not divisible by 2^${top} (--size ${this.size})`,
      );
    }
    const x = this.usePe ? add(stack, this.pe.forward(stack)) : stack;
    const enc = [this.enclist.items[0].forward(x)];
    for (let l = 1; l <= top; l++) {
      enc.push(this.enclist.items[l].forward(maxPool2d(enc[l - 1], 2)));
    }
    const I1 = identityGrid(enc[top].shape[2], enc[top].shape[3], stack);
    // One identity grid per pair of the batch.
    const b = stack.shape[0];
    const I = b > 1 ? cat(Array.from({ length: b }, () => I1), 0) : I1;
    const residuals: Tensor[] = [I];
    let field = I;
    for (let i = top; i >= level; i--) {
      if (i >= this.skip) {
        const e = enc[i];
        const half = e.shape[1] >> 1;
        const src = gridSample(slice(e, [null, [0, half]]), field, { alignCorners: true });
        const input = cat([src, slice(e, [null, [half, e.shape[1]]])], 1);
        const factor = this.trainSize / 2 ** i / input.shape[3];
        const r = mul(this.mlist.items[i].forward(input), factor);
        residuals.push(r);
        field = add(r, field);
      }
      if (i !== level) {
        const up = upsample(permute(field, [0, 3, 1, 2]), {
          scaleFactor: 2,
          mode: "bilinear",
          alignCorners: this.upsampleAlignCorners,
        });
        field = permute(up, [0, 2, 3, 1]);
      }
    }
    return { field, residuals };
  }

  /** Warped source, field and residuals (PyramidTransformer.forward). */
  align(stack: Tensor, level = 0): PyramidOutput {
    const { field, residuals } = this.fieldAt(stack, level);
    const pred = gridSample(slice(stack, [null, [0, 1]]), field, { alignCorners: true });
    return { pred, field, residuals };
  }

  /** The warped source (Module's one-output forward). */
  forward(stack: Tensor): Tensor {
    return this.align(stack, 0).pred;
  }
}
