/**
 * diffsims XL (electron-diffraction phase classification): CIF reading with symmetry expansion,
 * the X-ray powder peak list of pymatgen's XRDCalculator that its evaluator compares against,
 * the parameter-space YAML, kinematical electron-diffraction simulation to 1D profiles, the 1D
 * CNN with its training, predictions on experimental maps and the peak-position evaluation.
 *
 * @example
 * ```ts
 * import { parseCif, xrdPeaks } from "./mod.ts";
 * const cif = parseCif(await Deno.readTextFile("pb.cif"), "pb.cif");
 * console.log(xrdPeaks(cif, { wavelength: 0.61992 }).slice(0, 3));
 * ```
 * @module
 */
export * from "./cif.ts";
export * from "./xrd.ts";
export * from "./param_space.ts";
export * from "./demo_data.ts";
export * from "./kinematic.ts";
export * from "./kinematic_wasm.ts";
export * from "./sim_point.ts";
export * from "./sim_threads.ts";
export * from "./orientations.ts";
export * from "./simulate.ts";
export * from "./sim_io.ts";
export * from "./sim_data.ts";
export * from "./cnn.ts";
export * from "./train_cnn.ts";
export * from "./predict.ts";
export * from "./npz_text.ts";
export * from "./peaks.ts";
export * from "./evaluate.ts";
export * from "./exp_map.ts";
export { DEMO_CIFS } from "./demo_cifs.ts";
