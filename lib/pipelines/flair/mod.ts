/**
 * Flair Visibility (stroke MRI): preparation of NIfTI patients into a k-fold dataset, brain-mask
 * morphology, the 2.5D segmentation network, training, ONNX export and inference.
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
export * from "./patient.ts";
export * from "./npy_append.ts";
export * from "./prepare.ts";
export * from "./model.ts";
export * from "./loss.ts";
export * from "./dataset.ts";
export * from "./augment.ts";
export * from "./crop.ts";
export * from "./bn_stats.ts";
export * from "./metrics.ts";
export * from "./train.ts";
export * from "./train_flags.ts";
export * from "./report.ts";
export * from "./export.ts";
export * from "./infer.ts";
export * from "./infer_run.ts";
export * from "./synth.ts";
export * from "./demo_report.ts";
export * from "./demo_train.ts";
