/**
 * Gradient clipping (torch.nn.utils.clip_grad_norm_ and clip_grad_value_), on the device: the
 * total norm is never read back unless the caller asks for it.
 *
 * @module
 */
import { noGrad, type Tensor } from "../tensor/tensor.ts";
import { abs, add, clamp, div, full, max, mul, sqrt, square, stack, sum } from "./_ops.ts";

/**
 * Scales the gradients in place so that their joint `normType`-norm (2 or Infinity) is at
 * most `maxNorm`: coef = min(maxNorm / (norm + 1e-6), 1), as PyTorch 1.13 (always applied).
 * Returns the total norm before clipping (a scalar tensor; `await t.item()` to read it).
 */
export function clipGradNorm(
  params: Tensor[],
  maxNorm: number,
  normType: number = 2,
): Tensor | null {
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (!grads.length) return null;
  return noGrad(() => {
    let total: Tensor;
    if (normType === Infinity) {
      total = max(stack(grads.map((g) => max(abs(g)))));
    } else if (normType === 2) {
      total = sqrt(sum(stack(grads.map((g) => sum(square(g))))));
    } else {
      throw new RangeError(`clipGradNorm: norm type ${normType} is not supported (2 or Infinity)`);
    }
    const coef = clamp(
      div(full([], maxNorm, { backend: total.backend }), add(total, 1e-6)),
      -Infinity,
      1,
    );
    for (const g of grads) {
      const scaled = mul(g, coef);
      copyInto(g, scaled);
    }
    return total;
  });
}

function copyInto(dst: Tensor, src: Tensor): void {
  const v = { offset: 0, strides: [1] };
  dst.backend.copy(src.storage, v, dst.storage, v, [dst.size], false);
}

/** Clamps every gradient to [−clip, clip] in place (torch.nn.utils.clip_grad_value_). */
export function clipGradValue(params: Tensor[], clip: number): void {
  noGrad(() => {
    for (const p of params) if (p.grad) copyInto(p.grad, clamp(p.grad, -clip, clip));
  });
}
