/**
 * Image-comparison metrics (L1, MSE, SSIM, PSNR, Dice, IoU, histogram intersection).
 *
 * @example
 * ```ts
 * import { psnr, ssim } from "./mod.ts";
 * ```
 * @module
 */
export * from "./image.ts";
