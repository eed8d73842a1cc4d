/**
 * Writes finished detector rows into apply_model's partial volume (`/data`, float32 (angles,
 * rows, columns), gzip chunks (angles, 1, columns)): each row is written, `rows_done` set to the
 * row + 1 and the file flushed, in row order. The HDF5 work (the gzip compression above all)
 * runs in a worker (row_writer_worker.ts), so the next rows go through the network meanwhile; at
 * most {@link MAX_PENDING} rows wait there. Where no worker starts (e.g. a bundle without the
 * worker module) the same calls run in this thread. Both do the same HDF5 calls in the same
 * order, so the file's bytes are the same.
 *
 * @example
 * ```ts
 * import { openRowWriter } from "./row_writer.ts";
 * const w = await openRowWriter("clean.h5.partial");
 * await w.write(0, row0, [1801, 2560]);
 * await w.close({ provenance: "{…}" });
 * ```
 * @module
 */
import { ndarray } from "../../io/array.ts";
import { H5File } from "../../io/hdf5.ts";
import { LumenError } from "../../run/errors.ts";

/**
 * Rows handed to the worker and not yet written, at most.
 *
 * @example
 * ```ts
 * MAX_PENDING; // 2: two rows of 1801 × 2560 float32, 37 MB, wait at most
 * ```
 */
export const MAX_PENDING = 2;

/**
 * A message to the writer worker.
 *
 * @example
 * ```ts
 * const r: RowWriterRequest = { op: "close", attrs: { provenance: "{…}" } };
 * ```
 */
export type RowWriterRequest =
  | { op: "open"; path: string }
  | { op: "row"; row: number; data: Float32Array; angles: number; cols: number }
  | { op: "close"; attrs: Record<string, string> };

/**
 * A reply of the writer worker: one per request, in order.
 *
 * @example
 * ```ts
 * const r: RowWriterReply = { ok: false, error: "disk full" };
 * ```
 */
export type RowWriterReply = { ok: true } | { ok: false; error: string; lumen?: string[] };

/**
 * The rows' destination (see the module doc).
 *
 * @example
 * ```ts
 * const w: RowWriter = await openRowWriter("out.h5.partial");
 * ```
 */
export interface RowWriter {
  /** Hands over row `row` (angles × cols); resolves once at most MAX_PENDING rows wait. */
  write(row: number, data: Float32Array, shape: readonly [number, number]): Promise<void>;
  /** Writes what waits, sets `attrs` on `/data`, closes the file. Later calls do nothing. */
  close(attrs?: Record<string, string>): Promise<void>;
}

/**
 * One request on an open file, as both the worker and the in-thread writer run it.
 *
 * @example
 * ```ts
 * applyRowRequest(h, { op: "row", row: 3, data, angles: 1801, cols: 2560 });
 * ```
 */
export function applyRowRequest(h: H5File, r: Exclude<RowWriterRequest, { op: "open" }>): void {
  if (r.op === "row") {
    h.writeSlice("/data", [0, r.row, 0], ndarray(r.data, [r.angles, 1, r.cols]));
    h.setAttr("/data", "rows_done", r.row + 1);
    h.flush();
  } else {
    for (const [k, v] of Object.entries(r.attrs)) h.setAttr("/data", k, v);
    h.close();
  }
}

/** The writer in this thread. */
class InlineWriter implements RowWriter {
  constructor(private h: H5File | null) {}
  write(row: number, data: Float32Array, [angles, cols]: readonly [number, number]): Promise<void> {
    if (!this.h) return Promise.reject(new Error("row writer: closed"));
    applyRowRequest(this.h, { op: "row", row, data, angles, cols });
    return Promise.resolve();
  }
  close(attrs: Record<string, string> = {}): Promise<void> {
    const h = this.h;
    this.h = null;
    if (h) applyRowRequest(h, { op: "close", attrs });
    return Promise.resolve();
  }
}

/** The writer worker's side in this thread: replies are matched to requests in order. */
class WorkerWriter implements RowWriter {
  private waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private pending: Promise<void>[] = [];
  private failed: Error | null = null;
  private closed: Promise<void> | null = null;

  constructor(private readonly w: Worker) {
    w.onmessage = (e: MessageEvent<RowWriterReply>) => {
      const p = this.waiting.shift();
      const r = e.data;
      if (r.ok) p?.resolve();
      else {
        const err = r.lumen
          ? new LumenError(r.lumen[0], r.lumen[1], r.lumen[2])
          : new Error(r.error);
        this.failed ??= err;
        p?.reject(err);
      }
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.failed ??= new Error(`row writer: ${e.message}`);
      for (const p of this.waiting.splice(0)) p.reject(this.failed);
    };
  }

  /** Posts one request; the promise settles with its reply. */
  send(r: RowWriterRequest, transfer: Transferable[] = []): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const p = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.w.postMessage(r, transfer);
    return p;
  }

  async write(row: number, data: Float32Array, [angles, cols]: readonly [number, number]) {
    if (this.closed) throw new Error("row writer: closed");
    const copy = data.slice();
    const p = this.send({ op: "row", row, data: copy, angles, cols }, [copy.buffer]);
    p.catch(() => {}); // surfaced by the await below or by a later call
    this.pending.push(p);
    while (this.pending.length > MAX_PENDING - 1) await this.pending.shift();
  }

  close(attrs: Record<string, string> = {}): Promise<void> {
    this.closed ??= (async () => {
      try {
        for (const p of this.pending.splice(0)) await p;
        await this.send({ op: "close", attrs });
      } finally {
        this.w.terminate();
      }
    })();
    return this.closed;
  }
}

/**
 * Opens the partial volume `path` (which holds `/data`) for writing rows: in a worker where one
 * starts, else in this thread (`worker: false` forces that).
 *
 * @example
 * ```ts
 * const w = await openRowWriter("out.h5.partial", { worker: false });
 * ```
 */
export async function openRowWriter(
  path: string,
  opts: { worker?: boolean } = {},
): Promise<RowWriter> {
  if (opts.worker !== false) {
    let w: Worker | null = null;
    try {
      w = new Worker(new URL("./row_writer_worker.ts", import.meta.url), { type: "module" });
      const ww = new WorkerWriter(w);
      await ww.send({ op: "open", path });
      return ww;
    } catch (e) {
      w?.terminate();
      if (e instanceof LumenError) throw e;
      // no worker here (e.g. a bundle without the worker module): write in this thread
    }
  }
  return new InlineWriter(await H5File.open(path, "a"));
}
