/**
 * The random family of the webgpu backend (lib/tensor/ops/random.ts): counter-based Philox4x32-10
 * fills (uniform, normal, bernoulli) on the `random` entry point of kernels/elementwise.wgsl, four
 * numbers per thread; the same arguments give the same bytes as the wasm backend's.
 *
 * @module
 */
import type { RandomKind, Storage } from "../backend.ts";
import { Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/**
 * Fills `size` elements from Philox4x32-10 ({@link Backend.random}): same arguments, same bytes.
 *
 * @example
 * random(be, out, n, "normal", 42, 0, 0);
 */
export function random(
  be: WebGpuBackend,
  out: Storage,
  size: number,
  kind: RandomKind,
  seedLo: number,
  seedHi: number,
  counter: number,
  p = 0.5,
  value = 1,
): void {
  if (size === 0) return;
  const KIND = kind === "uniform" ? 0 : kind === "normal" ? 1 : kind === "bernoulli" ? 2 : -1;
  if (KIND < 0) throw new Error(`webgpu: unknown random kind "${kind}"`);
  const prm = new Params().u(
    size,
    seedLo,
    seedHi,
    0,
    counter % 4294967296,
    Math.floor(counter / 4294967296),
  )
    .f(p, value);
  be.run(
    { file: "elementwise", entry: "random", layout: "uw", constants: { KIND } },
    [null, be.b(out)],
    prm,
    be.groups1(Math.ceil(size / 4)),
  );
}
