/**
 * Tomography: flat/dark normalisation, stripe detection (Larix), Vo's sorting, filtered back-projection, simulated phantoms and scans.
 *
 * @example
 * ```ts
 * import { flatDark, readSinograms } from "./mod.ts";
 * ```
 * @module
 */
export * from "./normalise.ts";
export * from "./stripes.ts";
export * from "./vo_sorting.ts";
export * from "./fbp.ts";
export * from "./phantom.ts";
export * from "./scan_sim.ts";
export * from "./scan_flags.ts";
