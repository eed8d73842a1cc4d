/**
 * The softmax family of the wasm backend (lib/tensor/ops/softmax.ts): row-wise softmax and
 * log-softmax, forward and backward, on the engine's `softmax`/`softmax_backward` kernels.
 *
 * @module
 */
import type { Storage } from "../backend.ts";
import type { WasmBackend } from "./backend.ts";

/**
 * Softmax (or log-softmax) of each of `rows` contiguous rows of `cols` ({@link Backend.softmax}).
 *
 * @example
 * softmax(be, x, y, rows, cols, false);
 */
export function softmax(
  be: WasmBackend,
  x: Storage,
  y: Storage,
  rows: number,
  cols: number,
  log: boolean,
): void {
  be.engine.softmax(be.p(x), be.p(y), rows, cols, log ? 1 : 0);
}

/**
 * Backward of {@link softmax} from its output y ({@link Backend.softmaxBackward}).
 *
 * @example
 * softmaxBackward(be, y, dy, dx, rows, cols, false);
 */
export function softmaxBackward(
  be: WasmBackend,
  y: Storage,
  dy: Storage,
  dx: Storage,
  rows: number,
  cols: number,
  log: boolean,
): void {
  be.engine.softmax_backward(be.p(y), be.p(dy), be.p(dx), rows, cols, log ? 1 : 0);
}
