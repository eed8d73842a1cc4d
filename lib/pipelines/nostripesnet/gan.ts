/**
 * NoStripesNet's MaskedGAN training step (network/models/gans.py), on lib/nn modules:
 *
 * - `gen_in` = the stripe image with masked pixels set to 0; `fakeB = gen_in + mask · G(gen_in)`;
 * - D update: ½[BCE(D(cat(mask, fakeB.detach())), 0) + BCE(D(cat(mask, realB)), 1)], Adam step;
 * - G update (D's parameters frozen, D already updated): BCE(D(cat(mask, fakeB)), 1) +
 *   λ·L1(fakeB[mask], realB[mask]) (λ = 100), Adam step;
 * - `lsgan`: MSE in place of BCE.
 * Adam lr 2e-4, betas (0.5, 0.999); ReduceLROnPlateau on the validation losses (G patience 1,
 * D patience 2) through {@link MaskedGAN.endEpoch}.
 *
 * Unlike the original (a **bug** there), {@link MaskedGAN.validate} takes no optimiser steps.
 *
 * @example
 * ```ts
 * const gan = new MaskedGAN(new PatchUNet({ rng }), new PatchDiscriminator({ rng }));
 * const r = await gan.trainStep({ stripe, mask, clean }); // tensors [N, 1, H, W]
 * console.log(r.lossD, r.lossG);
 * ```
 * @module
 */
import {
  fmtShape,
  noGrad,
  ones,
  resetArena,
  type Tensor,
  TensorError,
  zeros,
} from "../../tensor/tensor.ts";
import {
  abs,
  add,
  cat,
  clamp,
  div,
  mean,
  mul,
  sigmoid,
  sub,
  sum,
  where,
} from "../../tensor/ops/mod.ts";
import type { Module } from "../../nn/module.ts";
import { bceWithLogits, mseLoss } from "../../nn/losses.ts";
import { Adam } from "../../optim/adam.ts";
import { ReduceLROnPlateau } from "../../optim/schedulers.ts";

/** Options of {@link MaskedGAN} (NoStripesNet's defaults). */
export interface MaskedGanOptions {
  lr?: number;
  betas?: [number, number];
  /** Weight of the masked L1 term (100). */
  lambdaL1?: number;
  /** Least-squares GAN: MSE instead of BCE-with-logits. */
  lsgan?: boolean;
  /** ReduceLROnPlateau patience of G (1) and D (2). */
  genPatience?: number;
  discPatience?: number;
}

/** One batch: stripe image (realA), its mask (0/1), and the clean image (realB), [N, 1, H, W]. */
export interface GanBatch {
  stripe: Tensor;
  mask: Tensor;
  clean: Tensor;
}

/** The losses and discriminator outputs of one step, read back as numbers. */
export interface GanStepResult {
  lossD: number;
  lossDFake: number;
  lossDReal: number;
  lossG: number;
  lossGGan: number;
  lossGL1: number;
  /** mean σ(D(real)) */
  dX: number;
  /** mean σ(D(fake)) before the D update, and after it. */
  dGx1: number;
  dGx2: number;
}

/** The tensors of a step before they are read back (for callers that keep them on device). */
export interface GanStepTensors {
  fakeB: Tensor;
  lossD: Tensor;
  lossDFake: Tensor;
  lossDReal: Tensor;
  lossG: Tensor;
  lossGGan: Tensor;
  lossGL1: Tensor;
  dX: Tensor;
  dGx1: Tensor;
  dGx2: Tensor;
}

/** NoStripesNet's masked conditional GAN: generator, discriminator, their optimisers. */
export class MaskedGAN {
  readonly optG: Adam;
  readonly optD: Adam;
  readonly schedG: ReduceLROnPlateau;
  readonly schedD: ReduceLROnPlateau;
  readonly lambdaL1: number;
  readonly lsgan: boolean;

  constructor(readonly gen: Module, readonly disc: Module, o: MaskedGanOptions = {}) {
    const lr = o.lr ?? 2e-4;
    const betas = o.betas ?? [0.5, 0.999];
    this.optG = new Adam(gen.parameters(), { lr, betas });
    this.optD = new Adam(disc.parameters(), { lr, betas });
    this.schedG = new ReduceLROnPlateau(this.optG, { patience: o.genPatience ?? 1 });
    this.schedD = new ReduceLROnPlateau(this.optD, { patience: o.discPatience ?? 2 });
    this.lambdaL1 = o.lambdaL1 ?? 100;
    this.lsgan = !!o.lsgan;
  }

  private ganLoss(logits: Tensor, real: boolean): Tensor {
    const target = real
      ? ones(logits.shape, { backend: logits.backend })
      : zeros(logits.shape, { backend: logits.backend });
    return this.lsgan ? mseLoss(logits, target) : bceWithLogits(logits, target);
  }

  private check(b: GanBatch): void {
    for (const [n, t] of [["mask", b.mask], ["clean", b.clean]] as const) {
      if (
        t.shape.length !== b.stripe.shape.length || t.shape.some((d, i) => d !== b.stripe.shape[i])
      ) {
        throw new TensorError(
          "MaskedGAN",
          `${n} ${fmtShape(t.shape)} differs from stripe ${fmtShape(b.stripe.shape)}`,
        );
      }
    }
    if (b.stripe.ndim !== 4 || b.stripe.shape[1] !== 1) {
      throw new TensorError(
        "MaskedGAN",
        `batches must be [N, 1, H, W], got ${fmtShape(b.stripe.shape)}`,
      );
    }
  }

  /** gen_in (masked pixels zeroed) and fakeB = gen_in + mask · G(gen_in). */
  generate(stripe: Tensor, mask: Tensor): { genIn: Tensor; fakeB: Tensor } {
    const genIn = noGrad(() => where(mask, 0, stripe));
    const out = this.gen.forward(genIn);
    return { genIn, fakeB: add(genIn, mul(mask, out)) };
  }

  /** The masked L1 term: mean |fakeB − realB| over the masked pixels (0 when there are none). */
  maskedL1(fakeB: Tensor, clean: Tensor, mask: Tensor): Tensor {
    const m = mask.detach();
    // a batch without masked pixels contributes 0 (the original's mean over none is NaN, which
    // then poisons every weight through Adam)
    return div(sum(mul(abs(sub(fakeB, clean)), m)), clamp(sum(m), 1));
  }

  /**
   * One training step (D update, then G update), tensors left on the device. The arena is not
   * reset (the caller reads what it needs, then calls resetArena).
   */
  trainStepTensors(b: GanBatch): GanStepTensors {
    this.check(b);
    this.gen.train();
    this.disc.train();
    this.gen.requiresGrad(true);
    const { fakeB } = this.generate(b.stripe, b.mask);
    // ---- D
    this.disc.requiresGrad(true);
    this.optD.zeroGrad();
    // each half of ½(fake + real) is backpropagated on its own, so that one discriminator graph
    // is alive at a time; its activations are freed as backward passes them (the same gradients:
    // the halves' sum accumulates in the parameters' .grad)
    const outFake = this.disc.forward(cat([b.mask, fakeB.detach()], 1));
    const lossDFake = this.ganLoss(outFake, false);
    mul(lossDFake, 0.5).backward(undefined, { freeGraph: true, keep: [lossDFake, outFake] });
    const outReal = this.disc.forward(cat([b.mask, b.clean], 1));
    const lossDReal = this.ganLoss(outReal, true);
    mul(lossDReal, 0.5).backward(undefined, { freeGraph: true, keep: [lossDReal, outReal] });
    const lossD = noGrad(() => mul(add(lossDFake, lossDReal), 0.5));
    this.optD.step();
    // ---- G
    this.disc.requiresGrad(false);
    this.optG.zeroGrad();
    const outFake2 = this.disc.forward(cat([b.mask, fakeB], 1));
    const lossGGan = this.ganLoss(outFake2, true);
    const lossGL1 = mul(this.maskedL1(fakeB, b.clean, b.mask), this.lambdaL1);
    const lossG = add(lossGGan, lossGL1);
    lossG.backward(undefined, { freeGraph: true, keep: [lossGGan, lossGL1, outFake2, fakeB] });
    this.optG.step();
    this.disc.requiresGrad(true);
    const stats = noGrad(() => ({
      dX: mean(sigmoid(outReal.detach())),
      dGx1: mean(sigmoid(outFake.detach())),
      dGx2: mean(sigmoid(outFake2.detach())),
    }));
    return {
      fakeB: fakeB.detach(),
      lossD,
      lossDFake,
      lossDReal,
      lossG,
      lossGGan,
      lossGL1,
      ...stats,
    };
  }

  /** One training step; reads the losses back and resets the step arena. */
  async trainStep(b: GanBatch, o: { resetArena?: boolean } = {}): Promise<GanStepResult> {
    const t = this.trainStepTensors(b);
    const r = await readResult(t);
    if (o.resetArena ?? true) resetArena(b.stripe.backend);
    return r;
  }

  /**
   * Validation losses of a batch, without optimiser steps (NoStripesNet's validation stepped
   * the optimisers: a bug not copied). Inference mode (dropout off; batch norm still uses batch
   * statistics, as the original's track_running_stats=False does).
   */
  async validate(b: GanBatch, o: { resetArena?: boolean } = {}): Promise<GanStepResult> {
    this.check(b);
    const wasG = this.gen.training, wasD = this.disc.training;
    this.gen.eval();
    this.disc.eval();
    try {
      const t = noGrad(() => {
        const { fakeB } = this.generate(b.stripe, b.mask);
        const outFake = this.disc.forward(cat([b.mask, fakeB], 1));
        const outReal = this.disc.forward(cat([b.mask, b.clean], 1));
        const lossDFake = this.ganLoss(outFake, false);
        const lossDReal = this.ganLoss(outReal, true);
        const lossGGan = this.ganLoss(outFake, true);
        const lossGL1 = mul(this.maskedL1(fakeB, b.clean, b.mask), this.lambdaL1);
        const dGx = mean(sigmoid(outFake));
        return {
          fakeB,
          lossD: mul(add(lossDFake, lossDReal), 0.5),
          lossDFake,
          lossDReal,
          lossG: add(lossGGan, lossGL1),
          lossGGan,
          lossGL1,
          dX: mean(sigmoid(outReal)),
          dGx1: dGx,
          dGx2: dGx,
        };
      });
      const r = await readResult(t);
      if (o.resetArena ?? true) resetArena(b.stripe.backend);
      return r;
    } finally {
      this.gen.train(wasG);
      this.disc.train(wasD);
    }
  }

  /** Steps the schedulers with an epoch's median validation losses (as the original). */
  endEpoch(valLossG: number, valLossD: number): void {
    this.schedG.step(valLossG);
    this.schedD.step(valLossD);
  }
}

async function readResult(t: GanStepTensors): Promise<GanStepResult> {
  return {
    lossD: await t.lossD.item(),
    lossDFake: await t.lossDFake.item(),
    lossDReal: await t.lossDReal.item(),
    lossG: await t.lossG.item(),
    lossGGan: await t.lossGGan.item(),
    lossGL1: await t.lossGL1.item(),
    dX: await t.dX.item(),
    dGx1: await t.dGx1.item(),
    dGx2: await t.dGx2.item(),
  };
}

/** The median of a list (the original steps its schedulers on medians of validation losses). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return NaN;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
