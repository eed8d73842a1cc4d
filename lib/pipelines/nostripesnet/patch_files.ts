/**
 * The patch files of one sinogram written straight from a {@link PatchKernel}'s memory: each
 * file whole (TIFF header, pixels, tail) goes from the kernel to a temporary file beside its
 * place, and the sinogram's files are synced together and renamed in writing order
 * ({@link FileGroup}). A worker of patch_pool.ts runs it; so does the calling thread without
 * workers.
 *
 * @example
 * ```ts
 * import { writePatchFiles } from "./patch_files.ts";
 * await writePatchFiles(kernel, job, grid, { paths, frame });
 * ```
 * @module
 */
import type { PatchGrid } from "../../data/patches.ts";
import { FileGroup } from "./batch_write.ts";
import type { PatchJob, PatchKernel, TiffFrame } from "./patch_kernel.ts";

/** Where a sinogram's files go, in writing order, and the TIFF bytes around their pixels. */
export interface PatchFilesTarget {
  paths: string[];
  frame: TiffFrame;
}

/**
 * Writes the files of `job` (as {@link PatchKernel.files} makes them) to `to.paths`; resolves
 * once all of them are durable and in place. On an error no temporary file is left, and the
 * files already renamed stay (each complete).
 *
 * @example
 * ```ts
 * await writePatchFiles(kernel, { row: 0, sino, clean, seeds }, grid, { paths, frame });
 * ```
 */
export function writePatchFiles(
  k: PatchKernel,
  job: PatchJob,
  grid: PatchGrid,
  to: PatchFilesTarget,
): Promise<void> {
  const group = new FileGroup();
  try {
    const made = k.files(job, grid, to.frame, (i, bytes) => group.add(to.paths[i], bytes));
    if (made !== to.paths.length) {
      throw new RangeError(`writePatchFiles: ${made} files for ${to.paths.length} paths`);
    }
  } catch (e) {
    group.abort();
    return Promise.reject(e);
  }
  return group.commit();
}
