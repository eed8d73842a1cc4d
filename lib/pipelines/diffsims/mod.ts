/**
 * diffsims XL (electron-diffraction phase classification): CIF reading with symmetry expansion,
 * and the X-ray powder peak list of pymatgen's XRDCalculator that its evaluator compares against.
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
