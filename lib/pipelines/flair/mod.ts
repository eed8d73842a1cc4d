/**
 * Flair Visibility (stroke MRI): preparation helpers so far, brain-mask morphology and the
 * patient-level K-fold split.
 *
 * @example
 * ```ts
 * import { kfoldSplit, otsuThreshold } from "./mod.ts";
 * console.log(typeof otsuThreshold, typeof kfoldSplit); // "function" "function"
 * ```
 * @module
 */
export * from "./morphology.ts";
export * from "./folds.ts";
export * from "./slices.ts";
