/**
 * Worker of {@link maskScanToArchive} (mask_parallel.ts): opens the scan itself, makes the stripe
 * mask of its share of detector rows with lib/tomo/stripes_planes.ts (reading its halo rows as
 * well) and posts each slab's mask planes (rows × angles × columns, uint8) to the parent.
 *
 * Messages in: one {@link MaskJob}, then `{ recycle: ArrayBuffer }` for each slab's buffer the
 * parent is done with (reused for a later slab, so that no fresh pages are faulted in per slab).
 * Out: `{ y0, y1, mask }` per slab (its buffer transferred), then `{ done: true }`, or `{ error }`
 * with the message of what went wrong.
 *
 * @example
 * ```ts
 * const w = new Worker(new URL("./mask_worker.ts", import.meta.url), { type: "module" });
 * w.postMessage({ path, scanOptions: {}, rows: [0, 128], detect, merge, slabRows: 4 });
 * ```
 * @module
 */
import { openScan, type OpenScanOptions } from "../../io/nexus.ts";
import { readSinograms } from "../../tomo/normalise.ts";
import type { DetectParams, MergeParams } from "../../tomo/stripes.ts";
import { stripesMaskPlanes } from "../../tomo/stripes_planes.ts";

/** What a worker is asked to do. */
export interface MaskJob {
  path: string;
  scanOptions: OpenScanOptions;
  rows: [number, number];
  detect: DetectParams;
  merge: MergeParams;
  slabRows: number;
}

/**
 * Runs one job, posting the slabs through `post`. Each slab's mask is copied into a buffer taken
 * from `pool` (or a new one where it is empty), which is transferred with the message; whoever
 * is done with a buffer may push it back into `pool`.
 *
 * @example
 * ```ts
 * const pool: ArrayBuffer[] = [];
 * await runMaskJob(job, (m) => { save(m); pool.push((m as { mask: Uint8Array }).mask.buffer); }, pool);
 * ```
 */
export async function runMaskJob(
  job: MaskJob,
  post: (msg: unknown, transfer?: Transferable[]) => void,
  pool: ArrayBuffer[] = [],
): Promise<void> {
  const scan = await openScan(job.path, job.scanOptions);
  try {
    const shape = [scan.projections.count, scan.rows, scan.cols] as const;
    await stripesMaskPlanes(
      shape,
      async (r0, r1, dst) => {
        await readSinograms(scan, r0, r1, { out: dst, blockBytes: 8 << 20 });
      },
      (y0, y1, mask) => {
        let buf = pool.pop();
        while (buf && buf.byteLength < mask.length) buf = pool.pop();
        const copy = new Uint8Array(buf ?? new ArrayBuffer(mask.length), 0, mask.length);
        copy.set(mask);
        post({ y0, y1, mask: copy }, [copy.buffer]);
      },
      { detect: job.detect, merge: job.merge, slabRows: job.slabRows, rows: job.rows },
    );
  } finally {
    scan.close();
  }
}

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
if (typeof self_.WorkerGlobalScope !== "undefined" && self_ instanceof self_.WorkerGlobalScope) {
  const pool: ArrayBuffer[] = [];
  self_.onmessage = async (e: MessageEvent<MaskJob | { recycle: ArrayBuffer }>) => {
    if ("recycle" in e.data) {
      pool.push(e.data.recycle);
      return;
    }
    try {
      await runMaskJob(e.data, (m, t) => self_.postMessage(m, t ?? []), pool);
      self_.postMessage({ done: true });
    } catch (err) {
      self_.postMessage({ error: err instanceof Error ? err.message : String(err) });
    }
  };
}
