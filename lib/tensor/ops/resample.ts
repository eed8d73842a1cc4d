/**
 * Resampling, forward and backward side by side: upsample (nearest, bilinear; align_corners
 * true/false) and grid_sample (bilinear, zero padding).
 *
 * @module
 */
import type { GridSampleParams, Upsample2dParams } from "../backend.ts";
import { empty, fmtShape, record, Tensor, TensorError } from "../tensor.ts";
import { checkFloat, checkSame, reshapeNoGrad } from "./util.ts";

/** Options of {@link upsample}: give `size` or `scaleFactor`. */
export interface UpsampleOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: "nearest" | "bilinear";
  /** bilinear only (default false). */
  alignCorners?: boolean;
}

/**
 * F.interpolate of x [N, C, H, W] (or [N, C, L] for nearest/"linear" along L via bilinear with
 * H = 1).
 */
export function upsample(x: Tensor, opts: UpsampleOptions): Tensor {
  checkFloat("upsample", x);
  if (x.ndim === 3) {
    const x4 = new Tensor(x.storage, [x.shape[0], x.shape[1], 1, x.shape[2]]);
    const x4r = record(x4, "reshape", [x], (g) => [reshapeNoGrad(g, x.shape)]);
    const size = opts.size === undefined
      ? undefined
      : [1, typeof opts.size === "number" ? opts.size : opts.size[0]] as [number, number];
    const sf = opts.scaleFactor === undefined
      ? undefined
      : [1, typeof opts.scaleFactor === "number" ? opts.scaleFactor : opts.scaleFactor[0]] as [
        number,
        number,
      ];
    const y4 = upsample(x4r, { ...opts, size, scaleFactor: sf });
    const y = new Tensor(y4.storage, [y4.shape[0], y4.shape[1], y4.shape[3]]);
    return record(y, "reshape", [y4], (g) => [reshapeNoGrad(g, y4.shape)]);
  }
  if (x.ndim !== 4) {
    throw new TensorError("upsample", `input must be [N, C, H, W], got ${fmtShape(x.shape)}`);
  }
  const mode = opts.mode ?? "nearest";
  const alignCorners = opts.alignCorners ?? false;
  if (mode === "nearest" && opts.alignCorners) {
    throw new TensorError("upsample", "alignCorners only applies to bilinear");
  }
  const [n, c, h, w] = x.shape;
  let oh: number, ow: number, scaleH: number, scaleW: number;
  if (opts.size !== undefined) {
    [oh, ow] = typeof opts.size === "number" ? [opts.size, opts.size] : opts.size;
    scaleH = h / oh;
    scaleW = w / ow;
  } else if (opts.scaleFactor !== undefined) {
    const [sh, sw] = typeof opts.scaleFactor === "number"
      ? [opts.scaleFactor, opts.scaleFactor]
      : opts.scaleFactor;
    oh = Math.floor(h * sh);
    ow = Math.floor(w * sw);
    scaleH = 1 / sh;
    scaleW = 1 / sw;
  } else {
    throw new TensorError("upsample", "give size or scaleFactor");
  }
  if (oh < 1 || ow < 1) throw new TensorError("upsample", `output size ${oh}×${ow} is empty`);
  if (mode === "bilinear" && alignCorners) {
    scaleH = oh > 1 ? (h - 1) / (oh - 1) : 0;
    scaleW = ow > 1 ? (w - 1) / (ow - 1) : 0;
  }
  const p: Upsample2dParams = { n, c, h, w, oh, ow, mode, alignCorners, scaleH, scaleW };
  const be = x.backend;
  const y = empty([n, c, oh, ow], { backend: be });
  be.upsample2d(x.storage, y.storage, p);
  return record(y, "upsample", [x], (g) => {
    const dx = empty(x.shape, { backend: be });
    be.upsample2dBackward(g.storage, dx.storage, p);
    return [dx];
  });
}

/** F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners). */
export function gridSample(x: Tensor, grid: Tensor, opts: { alignCorners?: boolean } = {}): Tensor {
  checkSame("gridSample", x, grid);
  checkFloat("gridSample", x, grid);
  if (x.ndim !== 4 || grid.ndim !== 4 || grid.shape[3] !== 2 || grid.shape[0] !== x.shape[0]) {
    throw new TensorError(
      "gridSample",
      `input [N, C, H, W] and grid [N, Ho, Wo, 2] expected, got ${fmtShape(x.shape)} and ${
        fmtShape(grid.shape)
      }`,
    );
  }
  const [n, c, h, w] = x.shape;
  const p: GridSampleParams = {
    n,
    c,
    h,
    w,
    oh: grid.shape[1],
    ow: grid.shape[2],
    alignCorners: opts.alignCorners ?? false,
  };
  const be = x.backend;
  const y = empty([n, c, p.oh, p.ow], { backend: be });
  be.gridSample(x.storage, grid.storage, y.storage, p);
  return record(y, "gridSample", [x, grid], (g) => {
    const dx = x.requiresGrad ? empty(x.shape, { backend: be }) : null;
    const dg = grid.requiresGrad ? empty(grid.shape, { backend: be }) : null;
    be.gridSampleBackward(
      x.storage,
      grid.storage,
      g.storage,
      dx?.storage ?? null,
      dg?.storage ?? null,
      p,
    );
    return [dx, dg];
  });
}
