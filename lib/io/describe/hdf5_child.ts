/**
 * The child process of {@link Hdf5Process}: the same job protocol as the HDF5 worker
 * (hdf5_worker.ts), one JSON line per message. It prints `{"ready":true}`, then for each
 * `{"path","opts"}` line on stdin `{"beat":true}` lines while it works and one `{"ok"}`,
 * `{"lumen"}` or `{"raw"}` line with the result.
 *
 * @example
 * ```sh
 * echo '{"path":"a.h5","opts":{}}' | deno run --allow-read lib/io/describe/hdf5_child.ts
 * ```
 * @module
 */
import { h5wasm } from "../../deps.ts";
import { LumenError } from "../../run/errors.ts";
import { describeHdf5Here, type Hdf5WorkerReply } from "./hdf5.ts";
import type { DescribeOptions } from "./types.ts";

const enc = new TextEncoder();
/** JSON with 64-bit integers as decimal strings (the worker's structured clone keeps bigints). */
const line = (m: Hdf5WorkerReply) =>
  enc.encode(JSON.stringify(m, (_k, v) => typeof v === "bigint" ? String(v) : v) + "\n");
const post = (m: Hdf5WorkerReply) => {
  const b = line(m);
  for (let off = 0; off < b.length;) off += Deno.stdout.writeSync(b.subarray(off));
};

await h5wasm.ready;
post({ ready: true });
let buf = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  let nl: number;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const job = JSON.parse(buf.slice(0, nl)) as { path: string; opts: DescribeOptions };
    buf = buf.slice(nl + 1);
    try {
      post({ ok: await describeHdf5Here(job.path, job.opts, () => post({ beat: true })) });
    } catch (err) {
      if (err instanceof LumenError) post({ lumen: [err.file, err.place, err.problem] });
      else post({ raw: String((err as Error)?.stack ?? err) });
    }
  }
}
