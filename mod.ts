/**
 * Lumen: scientific-imaging ML pipelines in Deno, from instrument files to trained models,
 * measured results and deployed inference.
 *
 * This module re-exports the generic core, one `lib/<folder>/mod.ts` each, and each pipeline as a
 * namespace (`nostripesnet.buildNoStripesNet`, …).
 *
 * @example
 * ```ts
 * import { nostripesnet, readNpy, Tensor } from "./mod.ts";
 * const { gen } = nostripesnet.buildNoStripesNet({ preset: "tiny" }, 0);
 * ```
 * @module
 */
export * from "./lib/run/mod.ts";
export * from "./lib/version.ts";
export * from "./lib/tensor/mod.ts";
export * from "./lib/nn/mod.ts";
export * from "./lib/optim/mod.ts";
export * from "./lib/io/mod.ts";
export * from "./lib/data/mod.ts";
export * from "./lib/metrics/mod.ts";
export * from "./lib/viz/mod.ts";
export * from "./lib/tomo/mod.ts";
export * from "./lib/wasm/mod.ts";
export * from "./lib/dashboard/mod.ts";

export * as nostripesnet from "./lib/pipelines/nostripesnet/mod.ts";
export * as seamless from "./lib/pipelines/seamless/mod.ts";
export * as nsw from "./lib/pipelines/nsw/mod.ts";
export * as diffsims from "./lib/pipelines/diffsims/mod.ts";
export * as flair from "./lib/pipelines/flair/mod.ts";
