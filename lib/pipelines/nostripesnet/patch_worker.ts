/**
 * Worker of {@link PatchPool} (patch_pool.ts): turns one sinogram into its patch files with
 * {@link PatchKernel} (normalising, cutting, stripe simulation, scaling): either the uint16
 * images, posted back, or the files themselves, written from the kernel's memory and committed
 * (patch_files.ts) before the answer. While a sinogram's files are syncing the next request
 * already runs.
 *
 * Messages in: `{ id, job, grid, to? }` ({@link PatchJob}, PatchGrid, PatchFilesTarget). Out:
 * `{ id, images }` (the buffers transferred), `{ id }` once `to` is written, or
 * `{ id, error, lumen? }` (a LumenError's file, place and problem).
 *
 * @example
 * ```ts
 * const w = new Worker(new URL("./patch_worker.ts", import.meta.url), { type: "module" });
 * w.postMessage({ id: 0, job: { row, sino, clean, seeds }, grid });
 * ```
 * @module
 */
import type { PatchGrid } from "../../data/patches.ts";
import { LumenError } from "../../run/errors.ts";
import { type PatchJob, PatchKernel } from "./patch_kernel.ts";
import { type PatchFilesTarget, writePatchFiles } from "./patch_files.ts";

/** A request to a patch worker. */
export interface PatchRequest {
  id: number;
  job: PatchJob;
  grid: PatchGrid;
  /** Write the files there instead of posting the images back. */
  to?: PatchFilesTarget;
}

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
if (typeof self_.WorkerGlobalScope !== "undefined" && self_ instanceof self_.WorkerGlobalScope) {
  let kernel: Promise<PatchKernel> | null = null;
  self_.onmessage = async (e: MessageEvent<PatchRequest>) => {
    const { id, job, grid, to } = e.data;
    try {
      const k = await (kernel ??= PatchKernel.load());
      if (to) {
        await writePatchFiles(k, job, grid, to);
        self_.postMessage({ id });
      } else {
        const images = k.images(job, grid);
        self_.postMessage({ id, images }, images.map((b) => b.buffer));
      }
    } catch (err) {
      const lumen = err instanceof LumenError ? [err.file, err.place, err.problem] : undefined;
      self_.postMessage({ id, error: err instanceof Error ? err.message : String(err), lumen });
    }
  };
}
