/**
 * The Flair Visibility loss: BCE(brain mask) + BCE(stroke, inside the mask) + 100·BCE(visible,
 * inside the mask), on logits, with label smoothing ε (targets y·(1 − ε) + ε/2; 0.01 in the
 * original). "Inside the mask" weights each voxel's BCE by the ground-truth mask and averages
 * over all voxels. The visible weight is a parameter (default the original's 100).
 *
 * @example
 * ```ts
 * import { flairLoss } from "./loss.ts";
 * // logits, target: [N, 3, H, W] ([mask, stroke, visible]; target 0/1)
 * const { loss, parts } = flairLoss(logits, target);
 * loss.backward();
 * ```
 * @module
 */
import { noGrad, type Tensor } from "../../tensor/tensor.ts";
import { add, mul, narrow } from "../../tensor/ops/mod.ts";
import { bceWithLogits } from "../../nn/losses.ts";

/** Weight of the visible term. */
export const VISIBLE_WEIGHT = 100;

/** The total loss and its three terms (tensors of shape []). */
export interface FlairLoss {
  loss: Tensor;
  parts: { mask: Tensor; stroke: Tensor; visible: Tensor };
}

/**
 * The loss of `logits` [N, 3, H, W] against 0/1 `target` [N, 3, H, W].
 *
 * @example
 * ```ts
 * import { flairLoss } from "./loss.ts";
 * const l = flairLoss(logits, target, 0.01).loss;
 * ```
 */
export function flairLoss(
  logits: Tensor,
  target: Tensor,
  smoothing = 0.01,
  visibleWeight = VISIBLE_WEIGHT,
): FlairLoss {
  const ch = (t: Tensor, c: number) => narrow(t, 1, c, 1);
  const gt = target.detach();
  const m = ch(gt, 0);
  const smooth = noGrad(() => add(mul(gt, 1 - smoothing), smoothing / 2));
  const mask = bceWithLogits(ch(logits, 0), ch(smooth, 0));
  const stroke = bceWithLogits(ch(logits, 1), ch(smooth, 1), { weight: m });
  const visible = bceWithLogits(ch(logits, 2), ch(smooth, 2), { weight: m });
  return {
    loss: add(add(mask, stroke), mul(visible, visibleWeight)),
    parts: { mask, stroke, visible },
  };
}
