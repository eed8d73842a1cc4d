/**
 * In-place optimiser updates on persistent tensors, run by the backend's fused kernels
 * (lib/optim builds Adam, AdamW, SGD on these).
 *
 * @module
 */
import type { AdamParams, SgdParams } from "../backend.ts";
import { fmtShape, Tensor, TensorError } from "../tensor.ts";

function check(op: string, p: Tensor, ...ts: (Tensor | null)[]): void {
  for (const t of ts) {
    if (t && (t.size !== p.size || t.backend !== p.backend)) {
      throw new TensorError(
        op,
        `${t.name || "state"} ${fmtShape(t.shape)} does not match parameter ${p.name || ""} ${
          fmtShape(p.shape)
        }`,
      );
    }
  }
}

/** One Adam/AdamW update of `param` in place, with its gradient and moments m, v. */
export function adamStep(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, p: AdamParams): void {
  check("adamStep", param, grad, m, v);
  param.backend.adamStep(param.storage, grad.storage, m.storage, v.storage, param.size, p);
}

/** One SGD update (momentum buffer `buf` may be null when momentum is 0). */
export function sgdStep(param: Tensor, grad: Tensor, buf: Tensor | null, p: SgdParams): void {
  check("sgdStep", param, grad, buf);
  param.backend.sgdStep(param.storage, grad.storage, buf?.storage ?? null, param.size, p);
}
