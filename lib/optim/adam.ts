/**
 * Adam (torch.optim.Adam, PyTorch 1.13 single-tensor semantics; L2 weight decay added to the
 * gradient) on the backend's fused in-place kernel.
 *
 * @example
 * ```ts
 * const opt = new Adam(gen.parameters(), { lr: 2e-4, betas: [0.5, 0.999] });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 * @module
 */
import { adamStep } from "../tensor/ops/optim.ts";
import type { Parameter } from "../nn/module.ts";
import { type GroupSpec, Optimizer } from "./optimizer.ts";

/** Options of {@link Adam} and AdamW (PyTorch's names and defaults). */
export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Adam. */
export class Adam extends Optimizer {
  readonly kind: string = "Adam";
  protected decoupled = false;

  constructor(params: Parameter[] | GroupSpec[], o: AdamOptions = {}, defaultWd = 0) {
    super(params, {
      lr: o.lr ?? 1e-3,
      betas: o.betas ?? [0.9, 0.999],
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? defaultWd,
    });
    for (const g of this.paramGroups) {
      const [b1, b2] = g.betas as [number, number];
      if (!(g.lr >= 0)) throw new RangeError(`Invalid learning rate: ${g.lr}`);
      if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) {
        throw new RangeError(`Invalid betas: ${g.betas}`);
      }
    }
  }

  step(): void {
    for (const g of this.paramGroups) {
      const [beta1, beta2] = g.betas as [number, number];
      for (const p of g.params) {
        if (!p.grad) continue;
        const s = this.scalars(p);
        s.step = (s.step ?? 0) + 1;
        const m = this.stateTensor(p, "exp_avg");
        const v = this.stateTensor(p, "exp_avg_sq");
        adamStep(p, p.grad, m, v, {
          lr: g.lr,
          beta1,
          beta2,
          eps: g.eps as number,
          weightDecay: g.weightDecay as number,
          decoupled: this.decoupled,
          step: s.step,
        });
      }
    }
  }
}
