/**
 * torch.flip as a composite: the flipped axis is multiplied by an anti-identity matrix, so the
 * values are copied exactly and the gradient is the flipped output gradient.
 *
 * @module
 */
import { type Tensor, tensor } from "../tensor.ts";
import { matmul } from "./linalg.ts";
import { permute, reshape } from "./shape.ts";
import { normAxis } from "./util.ts";

/** The n×n anti-identity (ones on the anti-diagonal). */
function antiIdentity(n: number, x: Tensor): Tensor {
  const j = new Float32Array(n * n);
  for (let i = 0; i < n; i++) j[i * n + (n - 1 - i)] = 1;
  return tensor(j, [n, n], { backend: x.backend });
}

/** Reverses one axis. */
function flipAxis(x: Tensor, axis: number): Tensor {
  const a = normAxis("flip", axis, x.ndim);
  const n = x.shape[a];
  if (n <= 1) return x;
  const perm = x.shape.map((_, i) => i).filter((i) => i !== a);
  perm.push(a);
  const moved = permute(x, perm);
  const flat = reshape(moved, [moved.size / n, n]);
  const y = reshape(matmul(flat, antiIdentity(n, x)), moved.shape);
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => inv[p] = i);
  return permute(y, inv);
}

/**
 * torch.flip(x, dims): reverses every axis named (negative axes count from the end).
 *
 * @example
 * ```ts
 * const y = flip(tensor([1, 2, 3, 4], [2, 2]), [0, 1]); // [[4, 3], [2, 1]]
 * ```
 */
export function flip(x: Tensor, axes: readonly number[]): Tensor {
  let y = x;
  for (const a of axes) y = flipAxis(y, a);
  return y;
}
