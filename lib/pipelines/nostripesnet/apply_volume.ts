/**
 * Stripe removal over a whole scan, row by row, into a resumable HDF5 volume: a trained
 * generator on the patches its stripe mask marks (clean patches pass through), or Vo et al.'s
 * sorting. The volume is built as `<out>.partial` (dataset `/data`, float32 (angles, rows,
 * columns), chunks (angles, 1, columns), gzip) with the rows done and the run's arguments as
 * attributes, flushed after every row; a rerun with the same arguments and inputs continues at
 * the first missing row, one with other arguments is refused naming them. The rows are
 * compressed and written by a worker (row_writer.ts) while the next ones go through the network;
 * an interrupt writes the rows handed over before it closes the file. A row's patches go through
 * the generator together, clean ones included: its batch norm uses batch statistics, so they
 * are part of every striped patch's result (as in the original's batches of one row). The finished volume is renamed to `<out>` (HDF5)
 * or written in the format of `<out>`'s extension (lib/io/volume.ts).
 *
 * @example
 * ```ts
 * import { applyToScan } from "./apply_volume.ts";
 * const r = await applyToScan({ scan, out: "clean.h5", method: { kind: "vo-sorting", size: 31 }, args, uuid });
 * ```
 * @module
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import { H5File } from "../../io/hdf5.ts";
import type { TomoScan } from "../../io/nexus.ts";
import { volumeFormat, writeVolume } from "../../io/volume.ts";
import { canonicalJson } from "../../run/provenance.ts";
import { checkResumeArgs } from "../../run/resume.ts";
import { safePoint } from "../../run/interrupt.ts";
import type { Progress } from "../../run/progress.ts";
import type { PatchGrid } from "../../data/patches.ts";
import { removeStripeBasedSorting } from "../../tomo/vo_sorting.ts";
import { readSinograms } from "../../tomo/normalise.ts";
import { onAbort } from "../../run/main.ts";
import { inpaintSinogram } from "./model.ts";
import type { PatchUNet } from "./patch_unet.ts";
import { maskRow, type StripeMask } from "./stripe_mask.ts";
import { openRowWriter, type RowWriter } from "./row_writer.ts";

/** How the rows are corrected. */
export type ApplyMethod =
  | { kind: "model"; gen: PatchUNet; mask: StripeMask; grid: PatchGrid }
  | { kind: "vo-sorting"; size: number };

/** Options of {@link applyToScan}. */
export interface ApplyOptions {
  scan: TomoScan;
  /** The output file; its extension names the format. */
  out: string;
  method: ApplyMethod;
  /** The arguments that decide the output (compared on resume). */
  args: Record<string, unknown>;
  /** The provenance uuid of this computation (a partial of another one starts again). */
  uuid: string;
  /** Detector rows read at once (default 16). */
  chunkSize?: number;
  /** Replace an existing output. */
  overwrite?: boolean;
  bar?: Progress;
  /** false: write the HDF5 rows in this thread (default: in a worker where one starts). */
  writerWorker?: boolean;
  /** Told the row it resumes at. */
  onResume?: (row: number) => void;
  /** Attributes of the finished dataset (e.g. the embedded provenance). */
  attrs?: () => Record<string, string>;
}

/** What {@link applyToScan} did. */
export interface ApplyResult {
  /** Rows resumed from a partial output (0: started afresh). */
  resumedAt: number;
  /** Patches the model ran on. */
  patches: number;
  /** Wall seconds spent reading + normalising, correcting (network or sorting), writing + flushing. */
  seconds: { read: number; correct: number; write: number };
}

/** Opens the partial volume to continue, or null (none, or one of another computation). */
async function openPartial(
  partial: string,
  o: ApplyOptions,
): Promise<{ h: H5File; done: number } | null> {
  if (!existsSync(partial)) return null;
  const h = await H5File.open(partial, "a");
  const args = h.attr("/data", "args");
  if (typeof args === "string") {
    try {
      checkResumeArgs(o.out, JSON.parse(args), o.args);
    } catch (e) {
      h.close();
      throw e;
    }
  }
  if (h.attr("/data", "uuid") === o.uuid) {
    return { h, done: Number(h.attr("/data", "rows_done") ?? 0) };
  }
  h.close(); // the same arguments on other input bytes: start again
  rmSync(partial);
  return null;
}

/**
 * Corrects every detector row of a scan into `o.out` (see the module doc). Each row is a safe
 * point: an interrupt leaves the partial volume with the rows done.
 *
 * @example
 * ```ts
 * await applyToScan({ scan, out: "vo.npz", method: { kind: "vo-sorting", size: 31 }, args: {}, uuid });
 * ```
 */
export async function applyToScan(o: ApplyOptions): Promise<ApplyResult> {
  const fmt = volumeFormat(o.out, "--out");
  const { scan } = o;
  const angles = scan.projections.count, rows = scan.rows, cols = scan.cols;
  const partial = `${o.out}.partial`;
  let writer: RowWriter | null = null;
  try {
    const found = await openPartial(partial, o);
    let done = 0;
    if (found) {
      found.h.close();
      done = found.done;
    } else {
      const h = await H5File.open(partial, "w");
      h.createDataset("/data", [angles, rows, cols], "float32", {
        chunks: [angles, 1, cols],
        compression: 4,
        attrs: {
          method: o.method.kind,
          uuid: o.uuid,
          rows_done: 0,
          args: canonicalJson(o.args),
        },
      });
      h.close();
    }
    const w = writer = await openRowWriter(partial, { worker: o.writerWorker });
    // an interrupt writes the rows handed over and leaves a readable partial volume
    const forget = onAbort(() => w.close());
    if (done) o.onResume?.(done);
    o.bar?.set(done);
    let patches = 0;
    const seconds = { read: 0, correct: 0, write: 0 };
    let t = performance.now();
    const lap = (k: keyof typeof seconds) => {
      const now = performance.now();
      seconds[k] += (now - t) / 1000;
      t = now;
    };
    const chunk = o.chunkSize ?? 16;
    for (let r0 = done; r0 < rows; r0 += chunk) {
      const r1 = Math.min(rows, r0 + chunk);
      const sinos = (await readSinograms(scan, r0, r1)).data;
      lap("read");
      for (let row = r0; row < r1; row++) {
        const sino = sinos.subarray((row - r0) * angles * cols, (row - r0 + 1) * angles * cols);
        const m = o.method;
        if (m.kind === "model") {
          patches += await inpaintSinogram(m.gen, sino, maskRow(m.mask, row), m.grid);
        } else {
          sino.set(removeStripeBasedSorting(sino, angles, cols, { size: m.size }));
        }
        lap("correct");
        await w.write(row, sino, [angles, cols]);
        lap("write");
        o.bar?.tick();
        await safePoint();
        t = performance.now();
      }
    }
    await w.close(o.attrs?.() ?? {});
    lap("write");
    forget();
    if (fmt === "hdf5") {
      if (o.overwrite && existsSync(o.out)) rmSync(o.out);
      renameSync(partial, o.out);
    } else {
      const h = await H5File.open(partial, "r");
      let vol: ReturnType<H5File["read"]>;
      try {
        vol = h.read("/data");
      } finally {
        h.close();
      }
      await writeVolume(o.out, vol, { overwrite: o.overwrite });
      rmSync(partial);
    }
    return { resumedAt: done, patches, seconds };
  } finally {
    await writer?.close().catch(() => {}); // after a failure: keep the rows done, then rethrow
  }
}
