/**
 * NSW embryo augmentation pipeline: the ten archives checked and extracted, the dataset's
 * layout, the original's rarest-first video split (CPython's random replayed), image folders
 * (median frame per phase per video), a class-conditional DDPM trained here (U-Net, DDIM, EMA,
 * prior-preservation fine-tuning), synthetic datasets with formatted prompts, the phase
 * classifier with its metrics, FID from the classifier's features of every image, and
 * synthetic embryo-like time-lapses for tests and the demo.
 *
 * @example
 * ```ts
 * import { extractDataset, makeSplit } from "./mod.ts";
 * await extractDataset("/data/archives", "/data/extracted");
 * makeSplit("/data/extracted", [0.6, 0.2, 0.2], 1234567890);
 * ```
 * @module
 */
export * from "./extract.ts";
export * from "./dataset.ts";
export * from "./py_random.ts";
export * from "./split.ts";
export * from "./image_folder.ts";
export * from "./jpeg_write.ts";
export * from "./tar_write.ts";
export * from "./synthetic_embryo.ts";
export * from "./gray_jpeg_encoder.ts";
export * from "./fid.ts";
export * from "./diffusion_schedule.ts";
export * from "./unet.ts";
export * from "./diffusion_data.ts";
export * from "./diffusion_model.ts";
export * from "./phase_models.ts";
export * from "./diffusion_report.ts";
export * from "./synthetic_dataset.ts";
export * from "./pooled_features.ts";
export * from "./cls_metrics.ts";
export * from "./classifier.ts";
export * from "./evaluate.ts";
export * from "./train_diffusion_flags.ts";
export * from "./demo_report.ts";
export * from "./demo_score.ts";
