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
export * from "./figures.ts";
export * from "./flags.ts";
