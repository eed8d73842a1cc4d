/**
 * Softmax and log-softmax along one axis, forward and backward side by side.
 *
 * @module
 */
import { empty, record, Tensor } from "../tensor.ts";
import { checkFloat, normAxis } from "./util.ts";
import { kPermute } from "./shape.ts";

function softmaxOp(x: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? "logSoftmax" : "softmax";
  checkFloat(name, x);
  if (x.ndim === 0) axis = 0;
  const a = x.ndim === 0 ? 0 : normAxis(name, axis, x.ndim);
  const last = x.ndim === 0 || a === x.ndim - 1;
  // Move the axis last when it is not.
  const perm = [...Array(x.ndim).keys()].filter((i) => i !== a).concat(x.ndim ? [a] : []);
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  const xs = last ? x : kPermute(x, perm);
  const cols = x.ndim === 0 ? 1 : x.shape[a];
  const rows = x.size / cols;
  const be = x.backend;
  const ys = empty(xs.shape, { backend: be });
  be.softmax(xs.storage, ys.storage, rows, cols, log);
  const y = last ? ys : kPermute(ys, inv);
  return record(y, name, [x], (g) => {
    const gs = last ? g : kPermute(g, perm);
    const dxs = empty(xs.shape, { backend: be });
    be.softmaxBackward(ys.storage, gs.storage, dxs.storage, rows, cols, log);
    return [last ? dxs : kPermute(dxs, inv)];
  });
}

/** softmax along `axis` (default last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp(x, axis, false);
}

/** log-softmax along `axis` (default last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxOp(x, axis, true);
}
