/**
 * The softmax family of the webgpu backend (lib/tensor/ops/softmax.ts): row-wise softmax and
 * log-softmax, forward and backward, on the softmax entry points of kernels/reduce.wgsl (one
 * thread per row for rows of up to 64, else one workgroup per row).
 *
 * @module
 */
import type { Storage } from "../backend.ts";
import { Params } from "./runtime.ts";
import type { WebGpuBackend } from "./backend.ts";

/**
 * Softmax (or log-softmax) of each of `rows` contiguous rows of `cols` ({@link Backend.softmax}).
 *
 * @example
 * softmax(be, x, y, rows, cols, false);
 */
export function softmax(
  be: WebGpuBackend,
  x: Storage,
  y: Storage,
  rows: number,
  cols: number,
  log: boolean,
): void {
  if (rows === 0 || cols === 0) return;
  const thread = cols <= 64;
  be.run(
    {
      file: "reduce",
      entry: thread ? "softmax_thread" : "softmax_wg",
      layout: "urw",
      constants: { LOG: log ? 1 : 0 },
    },
    [null, be.b(x), be.b(y)],
    new Params().u(rows, cols),
    thread ? be.groups1(rows) : be.rt.grid(rows),
  );
}

/**
 * Backward of {@link softmax} from its output y ({@link Backend.softmaxBackward}).
 *
 * @example
 * softmaxBackward(be, y, dy, dx, rows, cols, false);
 */
export function softmaxBackward(
  be: WebGpuBackend,
  y: Storage,
  dy: Storage,
  dx: Storage,
  rows: number,
  cols: number,
  log: boolean,
): void {
  if (rows === 0 || cols === 0) return;
  const thread = cols <= 64;
  be.run(
    {
      file: "reduce",
      entry: thread ? "softmax_bwd_thread" : "softmax_bwd_wg",
      layout: "urrw",
      constants: { LOG: log ? 1 : 0 },
    },
    [null, be.b(y), be.b(dy), be.b(dx)],
    new Params().u(rows, cols),
    thread ? be.groups1(rows) : be.rt.grid(rows),
  );
}
