/**
 * The random family of the wasm backend (lib/tensor/ops/random.ts): counter-based Philox4x32-10
 * fills (uniform, normal, bernoulli) on the engine's `random_fill` kernel
 * (wasm/engine/src/random.rs).
 *
 * @module
 */
import type { RandomKind, Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";

/** The engine's codes of the distributions. */
const RANDOM: Record<RandomKind, number> = { uniform: 0, normal: 1, bernoulli: 2 };

/**
 * Fills `size` elements from Philox4x32-10 ({@link Backend.random}): same arguments, same bytes.
 *
 * @example
 * random(be, out, n, "normal", 42, 0, 0);
 */
export function random(
  be: WasmBackend,
  out: Storage,
  size: number,
  kind: RandomKind,
  seedLo: number,
  seedHi: number,
  counter: number,
  p = 0.5,
  scale = 1,
): void {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`random: bad counter ${counter}`);
  }
  const lo = counter % 4294967296, hi = Math.floor(counter / 4294967296);
  be.engine.random_fill(
    be.p(out),
    size,
    RANDOM[kind],
    seedLo >>> 0,
    seedHi >>> 0,
    lo >>> 0,
    hi >>> 0,
    p,
    scale,
  );
}
