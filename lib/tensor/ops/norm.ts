/**
 * Batch normalisation, forward and backward side by side, with an optional fused activation
 * (relu / leakyRelu) applied in the same pass, as NoStripesNet's Conv → BN → LeakyReLU blocks
 * use it.
 *
 * @module
 */
import type { BatchNormParams, FusedActivation } from "../backend.ts";
import { empty, fmtShape, record, Tensor, TensorError } from "../tensor.ts";
import { checkFloat, checkSame } from "./util.ts";

/** Options of {@link batchNorm} (PyTorch's defaults). */
export interface BatchNormOptions {
  /** γ [C] (null: affine = false). */
  weight?: Tensor | null;
  /** β [C]. */
  bias?: Tensor | null;
  /** Running statistics [C] (persistent), updated in place when batch statistics are used. */
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** true (default): batch statistics. false: running statistics (if given). */
  training?: boolean;
  momentum?: number;
  eps?: number;
  /** Fused activation after the affine transform (default "none"). */
  activation?: FusedActivation;
  /** leakyRelu slope (default 0.01). */
  slope?: number;
}

/**
 * Batch norm over axis 1 of x [N, C, ...]. Batch statistics are used when `training` or when no
 * running statistics are given (track_running_stats = False, as in NoStripesNet).
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions = {}): Tensor {
  const gamma = opts.weight ?? null, beta = opts.bias ?? null;
  const rm = opts.runningMean ?? null, rv = opts.runningVar ?? null;
  const ts = [x, gamma, beta, rm, rv].filter((t): t is Tensor => t !== null);
  checkSame("batchNorm", ...ts);
  checkFloat("batchNorm", ...ts);
  if (x.ndim < 2) {
    throw new TensorError("batchNorm", `input must be [N, C, ...], got ${fmtShape(x.shape)}`);
  }
  const n = x.shape[0], c = x.shape[1], hw = x.size / (n * c || 1);
  for (
    const [name, t] of [["weight", gamma], ["bias", beta], ["runningMean", rm], [
      "runningVar",
      rv,
    ]] as const
  ) {
    if (t && t.size !== c) {
      throw new TensorError(
        "batchNorm",
        `${name} ${fmtShape(t.shape)} for input ${fmtShape(x.shape)} with ${c} channels`,
      );
    }
  }
  if ((rm === null) !== (rv === null)) {
    throw new TensorError("batchNorm", "give both running mean and running var, or neither");
  }
  const useBatchStats = (opts.training ?? true) || rm === null;
  if (useBatchStats && n * hw <= 1) {
    throw new TensorError(
      "batchNorm",
      `expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`,
    );
  }
  const p: BatchNormParams = {
    n,
    c,
    hw,
    eps: opts.eps ?? 1e-5,
    useBatchStats,
    momentum: opts.momentum ?? 0.1,
    activation: opts.activation ?? "none",
    slope: opts.slope ?? 0.01,
  };
  const be = x.backend;
  const y = empty(x.shape, { backend: be });
  const mean = empty([c], { backend: be }), invstd = empty([c], { backend: be });
  be.batchNorm(
    x.storage,
    gamma?.storage ?? null,
    beta?.storage ?? null,
    rm?.storage ?? null,
    rv?.storage ?? null,
    y.storage,
    mean.storage,
    invstd.storage,
    p,
  );
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return record(y, "batchNorm", inputs, (g) => {
    const dx = empty(x.shape, { backend: be });
    let dg: Tensor | null = null, db: Tensor | null = null;
    if (gamma && gamma.requiresGrad) {
      dg = empty([c], { backend: be });
      be.fill(dg.storage, 0);
    }
    if (beta && beta.requiresGrad) {
      db = empty([c], { backend: be });
      be.fill(db.storage, 0);
    }
    be.batchNormBackward(
      x.storage,
      y.storage,
      g.storage,
      gamma?.storage ?? null,
      mean.storage,
      invstd.storage,
      dx.storage,
      dg?.storage ?? null,
      db?.storage ?? null,
      p,
    );
    const r: (Tensor | null)[] = [x.requiresGrad ? dx : null];
    if (gamma) r.push(dg);
    if (beta) r.push(db);
    return r;
  });
}
