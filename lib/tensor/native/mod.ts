/**
 * Native CPU kernels over oneDNN (libdnnl.so.2) through Deno's FFI, organised by op family:
 * library.ts (loading), linalg.ts (GEMM). Work in progress toward the `native` Backend.
 *
 * @example
 * ```ts
 * import { dnnlAvailable, sgemm } from "./mod.ts";
 * if (dnnlAvailable()) sgemm(false, false, 1, 1, 1, new Float32Array([2]), new Float32Array([3]), new Float32Array(1));
 * ```
 *
 * @module
 */
export { DNNL_CANDIDATES, dnnlAvailable, findDnnl, loadDnnl } from "./library.ts";
export type { DnnlLibrary } from "./library.ts";
export { sgemm } from "./linalg.ts";
