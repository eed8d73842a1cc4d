/**
 * NoStripesNet (tomography stripe removal): the PatchUNet generator and PatchDiscriminator, the masked GAN step, the patch dataset and its loader, simulated stripes, the nine test metrics and the RMSE table, test results and figures.
 *
 * @example
 * ```ts
 * import { buildNoStripesNet, NsnMetricsAccumulator } from "./mod.ts";
 * ```
 * @module
 */
export * from "./model.ts";
export * from "./patch_unet.ts";
export * from "./patch_discriminator.ts";
export * from "./gan.ts";
export * from "./patch_dataset.ts";
export * from "./patch_loader.ts";
export * from "./stripe_sim.ts";
export * from "./metrics.ts";
export * from "./test_result.ts";
export * from "./test_split.ts";
export * from "./figures.ts";
export * from "./flags.ts";
export * from "./stripe_mask.ts";
export * from "./patch_sample.ts";
export * from "./sinogram_dataset.ts";
export * from "./generator_flags.ts";
export * from "./evaluate.ts";
export * from "./visual.ts";
export * from "./visual_report.ts";
export * from "./sample_index.ts";
export * from "./mask_scan.ts";
export * from "./train_run.ts";
export * from "./apply_volume.ts";
export * from "./row_writer.ts";
export * from "./original_cli.ts";
export * from "./train_flags.ts";
export * from "./test_flags.ts";
export * from "./visualize_flags.ts";
export * from "./generate_mask_flags.ts";
export * from "./apply_model_flags.ts";
export * from "./patch_kernel.ts";
export * from "./patch_pool.ts";
export * from "./patch_files.ts";
export * from "./row_blocks.ts";
export * from "./mask_flags.ts";
export * from "./generator_run.ts";
