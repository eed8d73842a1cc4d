/**
 * A pool of workers that turn sinograms into their patch files ({@link PatchKernel} in
 * patch_worker.ts): the uint16 images ({@link PatchPool.run}) or the files written and committed
 * ({@link PatchPool.write}), so that normalising, cutting, stripe simulation, scaling and writing
 * run on every core while the caller reads the next sinograms. Each sinogram's files depend on
 * that sinogram alone (its seeds come from the row), so the bytes are the same for any number of
 * workers; with `workers: 0`, or where a worker cannot start (e.g. a bundle without the worker
 * module), the work runs on the calling thread.
 *
 * @example
 * ```ts
 * import { PatchPool } from "./patch_pool.ts";
 * const pool = new PatchPool(2);
 * const images = await pool.run({ row, sino, clean, seeds }, grid);
 * await pool.write({ row, raw, clean, seeds }, grid, { paths, frame });
 * pool.close();
 * ```
 * @module
 */
import type { PatchGrid } from "../../data/patches.ts";
import { LumenError } from "../../run/errors.ts";
import { type PatchJob, PatchKernel } from "./patch_kernel.ts";
import { type PatchFilesTarget, writePatchFiles } from "./patch_files.ts";

type Images = Uint16Array[];
interface Waiter {
  resolve: (f: Images) => void;
  reject: (e: Error) => void;
  job: PatchJob;
  grid: PatchGrid;
  to?: PatchFilesTarget;
}
interface Slot {
  worker: Worker;
  busy: number;
  /** The worker has answered once (an error before that means it could not start). */
  started: boolean;
}

/** Workers making the patch images of sinograms (see the module doc). */
export class PatchPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, Waiter & { slot: Slot }>();
  private next = 0;
  private kernel: Promise<PatchKernel> | null = null;

  /**
   * Starts `workers` workers (default: one per core; 0 runs everything on this thread).
   *
   * @example
   * ```ts
   * const inline = new PatchPool(0);
   * ```
   */
  constructor(workers: number = navigator.hardwareConcurrency ?? 1) {
    for (let i = 0; i < workers; i++) {
      let worker: Worker;
      try {
        worker = new Worker(new URL("./patch_worker.ts", import.meta.url), { type: "module" });
      } catch {
        break; // no worker module here: the rest runs on this thread
      }
      const slot: Slot = { worker, busy: 0, started: false };
      worker.onmessage = (e) => {
        slot.started = true;
        const w = this.waiting.get(e.data.id);
        if (!w) return;
        this.waiting.delete(e.data.id);
        w.slot.busy--;
        const l = e.data.lumen;
        if (e.data.error) w.reject(l ? new LumenError(l[0], l[1], l[2]) : new Error(e.data.error));
        else w.resolve(e.data.images);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        this.fail(slot, new Error(`patch worker: ${e.message}`));
      };
      this.slots.push(slot);
    }
  }

  /** Workers running (0: the work runs on the calling thread). */
  get size(): number {
    return this.slots.length;
  }

  /**
   * The images of one sinogram's files, in writing order ({@link PatchKernel.images}). A
   * sinogram in a SharedArrayBuffer is shared with the worker (do not change it until the images
   * arrive); one that fills its own ArrayBuffer is transferred; any other view is cloned with its
   * whole buffer.
   *
   * @example
   * ```ts
   * const images = await pool.run({ row: 3, sino: sino.slice(), clean, seeds }, grid);
   * ```
   */
  run(job: PatchJob, grid: PatchGrid): Promise<Images> {
    return this.send(job, grid);
  }

  /**
   * Writes one sinogram's files ({@link writePatchFiles}) to `to.paths`; resolves once they are
   * durable and in place. The sinogram is passed as {@link PatchPool.run} says.
   *
   * @example
   * ```ts
   * await pool.write({ row: 3, raw, clean, seeds }, grid, { paths, frame });
   * ```
   */
  write(job: PatchJob, grid: PatchGrid, to: PatchFilesTarget): Promise<void> {
    return this.send(job, grid, to).then(() => {});
  }

  private send(job: PatchJob, grid: PatchGrid, to?: PatchFilesTarget): Promise<Images> {
    if (!this.slots.length) {
      return (this.kernel ??= PatchKernel.load()).then((k) =>
        to ? writePatchFiles(k, job, grid, to).then(() => []) : k.images(job, grid)
      );
    }
    let slot = this.slots[0];
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    const id = this.next++;
    slot.busy++;
    return new Promise<Images>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot, job, grid, to });
      // a sinogram in shared memory is shared, one in its own buffer is moved
      const s = job.sino;
      const own = s && s.buffer instanceof ArrayBuffer && s.byteLength === s.buffer.byteLength;
      slot.worker.postMessage({ id, job, grid, to }, own ? [s.buffer as ArrayBuffer] : []);
    });
  }

  /**
   * Drops a failed worker. One that never answered could not start (a bundle without the worker
   * module): its requests run again elsewhere (another worker, else this thread), the same bytes;
   * a sinogram that was moved to it is gone, and that request fails.
   */
  private fail(slot: Slot, err: Error): void {
    slot.worker.terminate();
    this.slots.splice(this.slots.indexOf(slot), 1);
    for (const [id, w] of this.waiting) {
      if (w.slot !== slot) continue;
      this.waiting.delete(id);
      const moved = w.job.sino && w.job.sino.buffer.byteLength === 0;
      if (slot.started || moved) w.reject(err);
      else this.send(w.job, w.grid, w.to).then(w.resolve, w.reject);
    }
  }

  /** Stops the workers; requests still running are rejected. */
  close(): void {
    for (const s of this.slots) s.worker.terminate();
    this.slots.length = 0;
    for (const w of this.waiting.values()) w.reject(new Error("patch pool closed"));
    this.waiting.clear();
  }
}
