/**
 * SGD with momentum, dampening, Nesterov and L2 weight decay (torch.optim.SGD semantics: the
 * momentum buffer starts as the first gradient).
 *
 * @module
 */
import { sgdStep } from "../tensor/ops/optim.ts";
import type { Parameter } from "../nn/module.ts";
import { type GroupSpec, Optimizer } from "./optimizer.ts";

/** Options of {@link SGD}. */
export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** Stochastic gradient descent. */
export class SGD extends Optimizer {
  readonly kind = "SGD";

  constructor(params: Parameter[] | GroupSpec[], o: SgdOptions) {
    super(params, {
      lr: o.lr,
      momentum: o.momentum ?? 0,
      dampening: o.dampening ?? 0,
      weightDecay: o.weightDecay ?? 0,
      nesterov: o.nesterov ?? false,
    });
    for (const g of this.paramGroups) {
      if (g.nesterov && (!((g.momentum as number) > 0) || g.dampening !== 0)) {
        throw new RangeError("Nesterov momentum requires a momentum and zero dampening");
      }
    }
  }

  step(): void {
    for (const g of this.paramGroups) {
      const momentum = g.momentum as number;
      for (const p of g.params) {
        if (!p.grad) continue;
        let buf = null, first = false;
        if (momentum !== 0) {
          first = !this.hasState(p, "momentum_buffer");
          buf = this.stateTensor(p, "momentum_buffer");
        }
        sgdStep(p, p.grad, buf, {
          lr: g.lr,
          momentum,
          dampening: g.dampening as number,
          weightDecay: g.weightDecay as number,
          nesterov: g.nesterov as boolean,
          first,
        });
      }
    }
  }
}
