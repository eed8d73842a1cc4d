/**
 * NSW embryo augmentation pipeline (issue 12): dataset extraction so far.
 *
 * @example
 * ```ts
 * import { extractDataset } from "./mod.ts";
 * await extractDataset("/data/archives", "/data/extracted");
 * ```
 * @module
 */
export * from "./extract.ts";
