/**
 * The norm family of the wasm backend (lib/tensor/ops/norm.ts): batch norm over [n, c, hw] with a
 * fused activation, forward and backward, on the engine's `batch_norm`/`batch_norm_backward`
 * kernels (wasm/engine/src/norm.rs; statistics in f64), channels split across threads.
 *
 * @module
 */
import type { BatchNormParams, Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";

/** The engine's codes of the activation fused into batch norm. */
const ACT = { none: 0, relu: 1, leakyRelu: 2 } as const;

/** Channel ranges of a per-channel kernel over n·c·hw elements. */
function channelRanges(be: WasmBackend, c: number, total: number): [number, number][] {
  const parts = Math.min(be.parts(total), c);
  const per = Math.ceil(c / parts);
  const out: [number, number][] = [];
  for (let c0 = 0; c0 < c; c0 += per) out.push([c0, Math.min(c, c0 + per)]);
  return out;
}

/**
 * Batch norm with its fused activation, channels split across threads ({@link Backend.batchNorm}).
 *
 * @example
 * batchNorm(be, x, gamma, beta, rm, rv, y, mean, invstd, p);
 */
export function batchNorm(
  be: WasmBackend,
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
  const a = [
    be.p(x),
    be.p(gamma),
    be.p(beta),
    be.p(runningMean),
    be.p(runningVar),
    be.p(y),
    be.p(mean),
    be.p(invstd),
    p.n,
    p.c,
    p.hw,
    p.eps,
    p.useBatchStats ? 1 : 0,
    p.momentum,
    ACT[p.activation],
    p.slope,
  ];
  be.run(
    "batch_norm",
    channelRanges(be, p.c, p.n * p.c * p.hw).map(([c0, c1]) => [...a, c0, c1]),
  );
}

/**
 * Backward of {@link batchNorm}, channels split across threads ({@link Backend.batchNormBackward}).
 *
 * @example
 * batchNormBackward(be, x, y, dy, gamma, mean, invstd, dx, dgamma, dbeta, p);
 */
export function batchNormBackward(
  be: WasmBackend,
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
  const a = [
    be.p(x),
    be.p(y),
    be.p(dy),
    be.p(gamma),
    be.p(mean),
    be.p(invstd),
    be.p(dx),
    be.p(dgamma),
    be.p(dbeta),
    p.n,
    p.c,
    p.hw,
    p.useBatchStats ? 1 : 0,
    ACT[p.activation],
    p.slope,
  ];
  be.run(
    "batch_norm_backward",
    channelRanges(be, p.c, p.n * p.c * p.hw).map(([c0, c1]) => [...a, c0, c1]),
  );
}
