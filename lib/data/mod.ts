/**
 * Data handling shared by the pipelines: patch grids, image resizing, the seeded random generator.
 *
 * @example
 * ```ts
 * import { patchGrid, SimRng } from "./mod.ts";
 * ```
 * @module
 */
export * from "./patches.ts";
export * from "./resize.ts";
export * from "./rng.ts";
