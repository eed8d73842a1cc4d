/**
 * Every tensor op (forward and backward side by side, one file per family).
 *
 * @module
 */
import { _setGradHooks, empty, Tensor } from "../tensor.ts";
import { kBinary } from "./elementwise.ts";
import { contiguousView } from "./util.ts";

export * from "./elementwise.ts";
export * from "./reduce.ts";
export * from "./shape.ts";
export * from "./linalg.ts";
export * from "./conv.ts";
export * from "./norm.ts";
export * from "./pool.ts";
export * from "./resample.ts";
export * from "./softmax.ts";
export * from "./random.ts";
export * from "./optim.ts";
export * from "./flip.ts";
export * from "./grid_sample_border.ts";
export { broadcastShapes, sumTo } from "./util.ts";

_setGradHooks({
  add: (a: Tensor, b: Tensor) => kBinary("add", a, b),
  copyPersistent: (a: Tensor) => {
    const t = empty(a.shape, { backend: a.backend, persistent: true });
    const v = contiguousView([a.size]);
    a.backend.copy(a.storage, v, t.storage, v, [a.size], false);
    return t;
  },
  addInPlace: (dst: Tensor, src: Tensor) => {
    const v = contiguousView([dst.size]);
    dst.backend.copy(src.storage, v, dst.storage, v, [dst.size], true);
  },
});
