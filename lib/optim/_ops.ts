// Internal: the tensor ops the optimisers use.
export { abs, add, clamp, div, max, mul, sqrt, square, stack, sum } from "../tensor/ops/mod.ts";
export { full } from "../tensor/tensor.ts";
