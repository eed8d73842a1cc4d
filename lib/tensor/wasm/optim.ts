/**
 * The optim family of the wasm backend (lib/tensor/ops/optim.ts): Adam/AdamW and SGD updates in
 * place, on the engine's `adam_step`/`sgd_step` kernels (PyTorch 1.13 single-tensor arithmetic),
 * split into 16-aligned ranges across threads.
 *
 * @module
 */
import type { AdamParams, SgdParams, Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";
import { ranges } from "./launch.ts";

/**
 * One Adam/AdamW update in place, split across threads ({@link Backend.adamStep}).
 *
 * @example
 * const hp = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 };
 * adamStep(be, param, grad, m, v, n, { ...hp, decoupled: false, step: 1 });
 */
export function adamStep(
  be: WasmBackend,
  param: Storage,
  grad: Storage,
  m: Storage,
  v: Storage,
  size: number,
  p: AdamParams,
): void {
  const bc1 = 1 - Math.pow(p.beta1, p.step);
  const bc2 = 1 - Math.pow(p.beta2, p.step);
  const pp = be.p(param), pg = be.p(grad), pm = be.p(m), pv = be.p(v);
  const rest = [
    p.beta1,
    1 - p.beta1,
    p.beta2,
    1 - p.beta2,
    p.lr / bc1,
    Math.sqrt(bc2),
    p.eps,
    p.weightDecay,
    1 - p.lr * p.weightDecay,
    p.decoupled ? 1 : 0,
  ];
  be.run(
    "adam_step",
    ranges(size, be.parts(size)).map((
      [a, b],
    ) => [pp + a * 4, pg + a * 4, pm + a * 4, pv + a * 4, b - a, ...rest]),
  );
}

/**
 * One SGD update in place, split across threads ({@link Backend.sgdStep}).
 *
 * @example
 * const hp = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0 };
 * sgdStep(be, param, grad, null, n, { ...hp, nesterov: false, first: true });
 */
export function sgdStep(
  be: WasmBackend,
  param: Storage,
  grad: Storage,
  buf: Storage | null,
  size: number,
  p: SgdParams,
): void {
  if (p.momentum !== 0 && !buf) throw new Error("sgdStep: momentum needs a buffer");
  const pp = be.p(param), pg = be.p(grad), pb = be.p(buf);
  const rest = [
    p.lr,
    p.momentum,
    1 - p.dampening,
    p.weightDecay,
    p.nesterov ? 1 : 0,
    p.first ? 1 : 0,
  ];
  be.run(
    "sgd_step",
    ranges(size, be.parts(size)).map((
      [a, b],
    ) => [pp + a * 4, pg + a * 4, pb === 0 ? 0 : pb + a * 4, b - a, ...rest]),
  );
}
