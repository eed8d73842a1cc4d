/**
 * Loading Lumen's WebAssembly modules and WGSL files (from beside the code, by URL, or from a bundle).
 *
 * @example
 * ```ts
 * import { loadWasm } from "./mod.ts";
 * ```
 * @module
 */
export * from "./load.ts";
