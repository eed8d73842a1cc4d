/**
 * Lumen's tensor engine: Tensor + autograd tape, the op set (forward and backward side by
 * side), the Backend interface and its `wasm` (and `webgpu`) implementations.
 *
 * @module
 */
export * from "./backend.ts";
export * from "./tensor.ts";
export * from "./ops/mod.ts";
export * from "./engine.ts";
export { WasmBackend, wasmBackend, WasmStorage } from "./wasm/backend.ts";
