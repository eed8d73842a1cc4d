/**
 * The optim family of the webgpu backend (lib/tensor/ops/optim.ts): Adam/AdamW and SGD updates
 * in place on kernels/optim.wgsl, one thread per element.
 *
 * @module
 */
import type { AdamParams, SgdParams, Storage } from "../backend.ts";
import { Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/**
 * One Adam/AdamW update in place ({@link Backend.adamStep}).
 *
 * @example
 * adamStep(be, param, grad, m, v, n, p);
 */
export function adamStep(
  be: WebGpuBackend,
  param: Storage,
  grad: Storage,
  m: Storage,
  v: Storage,
  size: number,
  p: AdamParams,
): void {
  if (size === 0) return;
  const bc1 = 1 - Math.pow(p.beta1, p.step);
  const bc2 = 1 - Math.pow(p.beta2, p.step);
  const prm = new Params().u(size, 0, 0, 0).f(
    p.beta1,
    1 - p.beta1,
    p.beta2,
    1 - p.beta2,
    p.lr / bc1,
    Math.sqrt(bc2),
    p.eps,
    p.weightDecay,
    1 - p.lr * p.weightDecay,
  );
  be.run(
    {
      file: "optim",
      entry: "adam",
      layout: "uwrww",
      constants: { WD: p.weightDecay !== 0 ? 1 : 0, DECOUPLED: p.decoupled ? 1 : 0 },
    },
    [null, be.b(param), be.b(grad), be.b(m), be.b(v)],
    prm,
    be.groups1(size),
  );
}

/**
 * One SGD update in place ({@link Backend.sgdStep}).
 *
 * @example
 * sgdStep(be, param, grad, null, n, p);
 */
export function sgdStep(
  be: WebGpuBackend,
  param: Storage,
  grad: Storage,
  buf: Storage | null,
  size: number,
  p: SgdParams,
): void {
  if (size === 0) return;
  const mom = p.momentum !== 0;
  if (mom && !buf) throw new Error("webgpu: SGD with momentum needs a momentum buffer");
  const prm = new Params().u(size, 0, 0, 0).f(p.lr, p.momentum, 1 - p.dampening, p.weightDecay);
  be.run(
    {
      file: "optim",
      entry: "sgd",
      layout: "uwrw",
      constants: {
        WD: p.weightDecay !== 0 ? 1 : 0,
        MOMENTUM: mom ? 1 : 0,
        FIRST: p.first ? 1 : 0,
        NESTEROV: p.nesterov ? 1 : 0,
      },
    },
    [null, be.b(param), be.b(grad), mom ? be.b(buf!) : be.dummy(0)],
    prm,
    be.groups1(size),
  );
}
