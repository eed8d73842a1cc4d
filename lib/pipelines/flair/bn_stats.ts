/**
 * Re-estimation of a network's batch-norm running statistics: the running means and variances
 * are reset and replaced by the plain average of the batch statistics over the given batches
 * (forward passes in training mode without gradients; the weights do not change), as PyTorch's
 * `torch.optim.swa_utils.update_bn` does. The original re-estimates them on 21 batches before
 * each validation; here it also makes a network trained on crops (crop.ts) right on whole slices.
 *
 * @example
 * ```ts
 * import { reestimateBatchNorm } from "./bn_stats.ts";
 * await reestimateBatchNorm(net, batches.map((b) => () => toTensor(b)));
 * ```
 * @module
 */
import { noGrad, resetArena, type Tensor } from "../../tensor/tensor.ts";
import { BatchNorm } from "../../nn/layers.ts";
import type { Module } from "../../nn/module.ts";

/**
 * Resets `net`'s batch-norm statistics and re-estimates them on `inputs` (each a function
 * giving one input batch); leaves `net` in eval mode. Returns the number of layers updated.
 *
 * @example
 * ```ts
 * import { reestimateBatchNorm } from "./bn_stats.ts";
 * const n = await reestimateBatchNorm(net, [() => x1, () => x2]);
 * ```
 */
export async function reestimateBatchNorm(
  net: Module & { forward(x: Tensor): Tensor },
  inputs: ReadonlyArray<() => Tensor>,
): Promise<number> {
  const bns = net.namedModules().map(([, m]) => m).filter((m): m is BatchNorm =>
    m instanceof BatchNorm && m.trackRunningStats && m.runningMean !== null
  );
  if (!bns.length || !inputs.length) return bns.length;
  const saved = bns.map((b) => [b.momentum, b.numBatchesTracked] as const);
  for (const b of bns) {
    b.runningMean!.backend.fill(b.runningMean!.storage, 0);
    b.runningVar!.backend.fill(b.runningVar!.storage, 1);
  }
  net.train();
  try {
    for (let i = 0; i < inputs.length; i++) {
      // momentum 1/(i+1): running = mean of the first i+1 batches' statistics
      for (const b of bns) (b as { momentum: number }).momentum = 1 / (i + 1);
      const out = noGrad(() => net.forward(inputs[i]()));
      await out.data();
      resetArena();
    }
  } finally {
    bns.forEach((b, i) => {
      (b as { momentum: number }).momentum = saved[i][0];
      b.numBatchesTracked = saved[i][1];
    });
    net.eval();
  }
  return bns.length;
}
