/**
 * Lumen: scientific-imaging ML pipelines in Deno, from instrument files to trained models,
 * measured results and deployed inference.
 *
 * This module re-exports the library (`lib/`), one section per concern.
 *
 * @module
 */
export * from "./lib/run/errors.ts";

// Tensor engine (lib/tensor): Tensor, autograd, ops, Backend interface, wasm backend.
export * from "./lib/tensor/mod.ts";
