/**
 * The norm family of the webgpu backend (lib/tensor/ops/norm.ts): batch norm over [n, c, hw]
 * with a fused activation, forward and backward, on kernels/norm.wgsl (per-channel statistics
 * by one workgroup per channel in a fixed order).
 *
 * @module
 */
import type { BatchNormParams, Storage } from "../backend.ts";
import { Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/** The parameter block of the batch-norm kernels. */
function bnParams(p: BatchNormParams): Params {
  return new Params().u(p.n, p.c, p.hw, 0).f(p.eps, p.momentum, p.slope);
}

/** The kernels' code of the fused activation (0 none, 1 relu, 2 leaky relu). */
function actCode(p: BatchNormParams): number {
  return p.activation === "relu" ? 1 : p.activation === "leakyRelu" ? 2 : 0;
}

/**
 * Batch norm with its fused activation ({@link Backend.batchNorm}).
 *
 * @example
 * batchNorm(be, x, gamma, beta, rm, rv, y, mean, invstd, p);
 */
export function batchNorm(
  be: WebGpuBackend,
  x: Storage,
  gamma: Storage | null,
  beta: Storage | null,
  runningMean: Storage | null,
  runningVar: Storage | null,
  y: Storage,
  mean: Storage,
  invstd: Storage,
  p: BatchNormParams,
): void {
  if (p.c === 0) return;
  const running = !!(runningMean && runningVar);
  if (!p.useBatchStats && !running) {
    throw new Error("webgpu: batchNorm without batch statistics needs running mean and variance");
  }
  if (p.n * p.hw === 0) return;
  be.run(
    {
      file: "norm",
      entry: "bn_stats",
      layout: "urwwww",
      constants: { BATCH: p.useBatchStats ? 1 : 0, RUNNING: running ? 1 : 0 },
    },
    [
      null,
      be.b(x),
      be.b(mean),
      be.b(invstd),
      runningMean ? be.b(runningMean) : be.dummy(0),
      runningVar ? be.b(runningVar) : be.dummy(1),
    ],
    bnParams(p),
    be.rt.grid(p.c),
  );
  const affine = !!(gamma && beta);
  if ((gamma === null) !== (beta === null)) {
    throw new Error("webgpu: batchNorm needs both gamma and beta, or neither");
  }
  const n = p.n * p.c * p.hw;
  be.run(
    {
      file: "norm",
      entry: "bn_apply",
      layout: "urrrrrw",
      constants: { AFFINE: affine ? 1 : 0, ACT: actCode(p) },
    },
    [
      null,
      be.b(x),
      be.b(mean),
      be.b(invstd),
      gamma ? be.b(gamma) : be.dummy(0),
      beta ? be.b(beta) : be.dummy(1),
      be.b(y),
    ],
    bnParams(p),
    be.groups1(n),
  );
}

/**
 * Backward of {@link batchNorm} ({@link Backend.batchNormBackward}).
 *
 * @example
 * batchNormBackward(be, x, y, dy, gamma, mean, invstd, dx, dgamma, dbeta, p);
 */
export function batchNormBackward(
  be: WebGpuBackend,
  x: Storage,
  y: Storage,
  dy: Storage,
  gamma: Storage | null,
  mean: Storage,
  invstd: Storage,
  dx: Storage,
  dgamma: Storage | null,
  dbeta: Storage | null,
  p: BatchNormParams,
): void {
  if (p.c === 0) return;
  const n = p.n * p.c * p.hw;
  const act = actCode(p);
  const stats = be.rt.alloc(p.c * 2 * 4);
  if (n === 0) be.rt.zero(stats, 0, p.c * 8);
  else {
    be.run(
      { file: "norm", entry: "bn_bwd_reduce", layout: "urrrrw", constants: { ACT: act } },
      [null, be.b(x), be.b(y), be.b(dy), be.b(mean), stats],
      bnParams(p),
      be.rt.grid(p.c),
    );
    be.run(
      {
        file: "norm",
        entry: "bn_bwd_dx",
        layout: "urrrrrrrw",
        constants: { ACT: act, AFFINE: gamma ? 1 : 0, BATCH: p.useBatchStats ? 1 : 0 },
      },
      [
        null,
        be.b(x),
        be.b(y),
        be.b(dy),
        be.b(mean),
        be.b(invstd),
        gamma ? be.b(gamma) : be.dummy(0),
        stats,
        be.b(dx),
      ],
      bnParams(p),
      be.groups1(n),
    );
  }
  if (dgamma || dbeta) {
    be.run(
      {
        file: "norm",
        entry: "bn_param_grads",
        layout: "urrww",
        constants: { HAS_DG: dgamma ? 1 : 0, HAS_DB: dbeta ? 1 : 0 },
      },
      [
        null,
        stats,
        be.b(invstd),
        dgamma ? be.b(dgamma) : be.dummy(0),
        dbeta ? be.b(dbeta) : be.dummy(1),
      ],
      bnParams(p),
      be.groups1(p.c),
    );
  }
  be.rt.release(stats);
}
