/**
 * Worker of {@link openRowWriter} (row_writer.ts): owns apply_model's partial volume and runs
 * the requests in order: `open` (the file, mode "a"), `row` (write, `rows_done`, flush),
 * `close` (attributes, close). One reply per request: `{ ok: true }`, or `{ ok: false, error,
 * lumen? }` (a LumenError's file, place and problem).
 *
 * @example
 * ```ts
 * const w = new Worker(new URL("./row_writer_worker.ts", import.meta.url), { type: "module" });
 * w.postMessage({ op: "open", path: "clean.h5.partial" });
 * ```
 * @module
 */
import { H5File } from "../../io/hdf5.ts";
import { LumenError } from "../../run/errors.ts";
import { applyRowRequest, type RowWriterReply, type RowWriterRequest } from "./row_writer.ts";

// deno-lint-ignore no-explicit-any
const self_ = globalThis as any;
if (typeof self_.WorkerGlobalScope !== "undefined" && self_ instanceof self_.WorkerGlobalScope) {
  let h: H5File | null = null;
  let chain: Promise<void> = Promise.resolve();
  const reply = (r: RowWriterReply) => self_.postMessage(r);
  self_.onmessage = (e: MessageEvent<RowWriterRequest>) => {
    const r = e.data;
    chain = chain.then(async () => {
      try {
        if (r.op === "open") h = await H5File.open(r.path, "a");
        else if (!h) throw new Error("row writer: no file open");
        else {
          applyRowRequest(h, r);
          if (r.op === "close") h = null;
        }
        reply({ ok: true });
      } catch (err) {
        const lumen = err instanceof LumenError ? [err.file, err.place, err.problem] : undefined;
        reply({ ok: false, error: String((err as Error)?.message ?? err), lumen });
      }
    });
  };
}
