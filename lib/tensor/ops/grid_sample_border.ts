/**
 * grid_sample with `padding_mode="border"` as a composite of clamp and the zero-padded kernel:
 * the grid is clamped to the centres of the edge pixels, where the zero-padded bilinear sample
 * equals the border-padded one. Gradients match PyTorch's: none flows to a clamped coordinate, nor to one
 * exactly on an edge (PyTorch counts the edges as outside).
 *
 * @module
 */
import { type Tensor, tensor, TensorError } from "../tensor.ts";
import { gt, lt, maximum, minimum, mul, where } from "./elementwise.ts";
import { gridSample } from "./resample.ts";

/**
 * F.grid_sample(x, grid, mode="bilinear", padding_mode, align_corners) for both padding modes.
 *
 * @example
 * ```ts
 * const y = gridSamplePadded(x, grid, { padding: "border", alignCorners: true });
 * ```
 */
export function gridSamplePadded(
  x: Tensor,
  grid: Tensor,
  opts: { padding?: "zeros" | "border"; alignCorners?: boolean } = {},
): Tensor {
  const alignCorners = opts.alignCorners ?? false;
  const padding = opts.padding ?? "zeros";
  if (padding === "zeros") return gridSample(x, grid, { alignCorners });
  if (padding !== "border") {
    throw new TensorError("gridSamplePadded", `padding must be zeros or border, got ${padding}`);
  }
  if (x.ndim !== 4) throw new TensorError("gridSamplePadded", "input must be [N, C, H, W]");
  const [h, w] = [x.shape[2], x.shape[3]];
  const lim = (n: number) => alignCorners ? 1 : 1 - 1 / n;
  const hi = tensor([lim(w), lim(h)], [2], { backend: x.backend });
  const lo = tensor([-lim(w), -lim(h)], [2], { backend: x.backend });
  const gd = grid.detach();
  const inside = mul(gt(gd, lo), lt(gd, hi));
  const clamped = where(inside, grid, minimum(maximum(gd, lo), hi));
  return gridSample(x, clamped, { alignCorners });
}
