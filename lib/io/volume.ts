/**
 * A 3-D volume written in the format its file name asks for: `.h5`/`.hdf5`/`.hdf`/`.nxs` HDF5
 * (dataset `/data`), `.npz` (array `data`), `.npy`, `.tif`/`.tiff` (one page per first index).
 * Anything else is refused with one line that lists the extensions, so a tool never writes one
 * format under another's name.
 *
 * @example
 * ```ts
 * import { volumeFormat, writeVolume } from "./volume.ts";
 * volumeFormat("clean.npz"); // "npz"
 * await writeVolume("clean.npz", ndarray(new Float32Array(8), [2, 2, 2]), { overwrite: true });
 * ```
 * @module
 */
import { extname } from "node:path";
import { LumenError } from "../run/errors.ts";
import type { NdArray } from "./array.ts";
import { writeNpy } from "./npy.ts";
import { writeNpz } from "./npz.ts";
import { writeTiff } from "./tiff.ts";
import { H5File } from "./hdf5.ts";
import { tempPathBeside } from "../run/atomic.ts";
import { existsSync, renameSync, rmSync } from "node:fs";

/** The formats a volume can be written in. */
export type VolumeFormat = "hdf5" | "npz" | "npy" | "tiff";

const BY_EXT: Record<string, VolumeFormat> = {
  ".h5": "hdf5",
  ".hdf5": "hdf5",
  ".hdf": "hdf5",
  ".nxs": "hdf5",
  ".npz": "npz",
  ".npy": "npy",
  ".tif": "tiff",
  ".tiff": "tiff",
};

/**
 * The format a volume file's extension names.
 *
 * @example
 * ```ts
 * volumeFormat("out/vo.tif"); // "tiff"
 * ```
 * @throws LumenError for any other extension
 */
export function volumeFormat(path: string, flag = path): VolumeFormat {
  const f = BY_EXT[extname(path).toLowerCase()];
  if (!f) {
    throw new LumenError(
      flag,
      "",
      `cannot tell the output format from "${extname(path) || "no extension"}"; use ${
        Object.keys(BY_EXT).join(", ")
      }`,
    );
  }
  return f;
}

/** Options of {@link writeVolume}. */
export interface WriteVolumeOptions {
  /** Replace an existing file. */
  overwrite?: boolean;
  /** HDF5: attributes of `/data` (strings or numbers). */
  attrs?: Record<string, string | number>;
}

/**
 * Writes a volume atomically (temporary name, then rename) in the format of its extension.
 *
 * @example
 * ```ts
 * await writeVolume("vol.h5", vol, { attrs: { method: "vo-sorting" } });
 * ```
 */
export async function writeVolume(
  path: string,
  arr: NdArray,
  opts: WriteVolumeOptions = {},
): Promise<void> {
  const fmt = volumeFormat(path);
  if (!opts.overwrite && existsSync(path)) {
    throw new LumenError(path, "", "exists; pass --overwrite to replace it");
  }
  const overwrite = opts.overwrite ?? false;
  switch (fmt) {
    case "npz":
      return await writeNpz(path, { data: arr }, { overwrite });
    case "npy":
      return await writeNpy(path, arr, { overwrite });
    case "tiff":
      return await writeTiff(path, arr, { overwrite });
    case "hdf5": {
      const tmp = tempPathBeside(path, ".tmp.h5");
      const h = await H5File.open(tmp, "w");
      try {
        h.write("/data", arr, { attrs: opts.attrs ?? {} });
      } finally {
        h.close();
      }
      try {
        renameSync(tmp, path);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    }
  }
}
