/**
 * The `native` CPU backend: oneDNN (libdnnl.so.2) through Deno's FFI, organised by op family:
 * library.ts (finding and loading the library), dnnl.ts (engine, stream, descriptors, memory
 * objects, primitives), linalg.ts (GEMM on host arrays), conv.ts (convolution primitives),
 * backend.ts (the Backend: wasm storage and memory-bound kernels, dense ops on oneDNN).
 *
 * @example
 * ```ts
 * import { nativeBackendOrNull } from "./mod.ts";
 * const be = nativeBackendOrNull(); // null without libdnnl or --allow-ffi
 * ```
 *
 * @module
 */
export { DNNL_CANDIDATES, dnnlAvailable, ffiGranted, findDnnl, loadDnnl } from "./library.ts";
export type { DnnlLibrary, DnnlSymbols } from "./library.ts";
export { sgemm } from "./linalg.ts";
export { Dnnl, dnnl } from "./dnnl.ts";
export type { MemoryDesc } from "./dnnl.ts";
export { ConvPlans, geometryKey } from "./conv.ts";
export type { ConvKind, ScratchSource } from "./conv.ts";
export {
  createNativeBackend,
  NativeBackend,
  nativeBackendOrNull,
  setNativeThreads,
} from "./backend.ts";
