/**
 * Worker of {@link PatchPool} (patch_pool.ts): turns one sinogram into the uint16 images of its
 * patch files with {@link PatchKernel} (cutting, stripe simulation, scaling) and posts them back;
 * TIFF encoding and writing stay with the parent, which commits in row order.
 *
 * Messages in: `{ id, job, grid }` ({@link PatchJob}, PatchGrid). Out: `{ id, images }` (the
 * buffers transferred) or `{ id, error }`.
 *
 * @example
 * ```ts
 * const w = new Worker(new URL("./patch_worker.ts", import.meta.url), { type: "module" });
 * w.postMessage({ id: 0, job: { row, sino, clean, seeds }, grid });
 * ```
 * @module
 */
import type { PatchGrid } from "../../data/patches.ts";
import { type PatchJob, PatchKernel } from "./patch_kernel.ts";

/** A request to a patch worker. */
export interface PatchRequest {
  id: number;
  job: PatchJob;
  grid: PatchGrid;
}

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
if (typeof self_.WorkerGlobalScope !== "undefined" && self_ instanceof self_.WorkerGlobalScope) {
  let kernel: Promise<PatchKernel> | null = null;
  self_.onmessage = async (e: MessageEvent<PatchRequest>) => {
    const { id, job, grid } = e.data;
    try {
      const images = (await (kernel ??= PatchKernel.load())).images(job, grid);
      self_.postMessage({ id, images }, images.map((b) => b.buffer));
    } catch (err) {
      self_.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
    }
  };
}
