/**
 * File formats: HDF5/NeXus (h5wasm), TIFF, NPY/NPZ (ZIP), NIfTI-1, tar/tar.gz, CSV, JSON, YAML,
 * PNG, JPEG, the NdArray they share, and the readers' memory budget (`--max-memory`).
 *
 * @example
 * ```ts
 * import { readNpy } from "./mod.ts";
 * const a = await readNpy("volume.npy");
 * ```
 * @module
 */
export {
  type DType,
  DTYPE_SIZE,
  dtypeOf,
  type NdArray,
  ndarray,
  type TypedArray,
} from "./array.ts";
export * from "./hdf5.ts";
export * from "./nexus.ts";
export * from "./tiff.ts";
export * from "./npy.ts";
export * from "./npz.ts";
export * from "./zip.ts";
export * from "./nifti.ts";
export * from "./tar.ts";
export { scanTarFile, TAR_MAX_META, type TarScanHandlers, TarScanner } from "./tar_scan.ts";
export * from "./budget.ts";
export * from "./csv.ts";
export * from "./json.ts";
export * from "./yaml.ts";
export * from "./png.ts";
export * from "./jpeg.ts";
export * from "./float16.ts";
export * from "./describe/mod.ts";
export * from "./volume.ts";
