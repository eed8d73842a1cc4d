/**
 * Child process of the hostile-file tests and the fuzz suite: reads one file path per line on
 * stdin, runs describe() on it, and answers one JSON line per file on stdout:
 * `{"ok":true,"ms":…,"rss":…}` or `{"error":"…","lumen":true,"ms":…,"rss":…}` (`lumen` false for
 * anything but a one-line LumenError). h5wasm is started before the first file, so a reader that
 * still needed env access once h5wasm is up shows it. Arguments: the memory budget in bytes, and
 * an HDF5 file to describe first (so the HDF5 worker is up); `{"ready":true}` then says so.
 *
 * @module
 */
import { h5wasm } from "../../lib/deps.ts";
import { setMaxMemory } from "../../lib/io/budget.ts";
import { describe } from "../../lib/io/describe/mod.ts";
import { keepHdf5Worker } from "../../lib/io/describe/hdf5.ts";
import { LumenError } from "../../lib/run/errors.ts";

if (Deno.args[0]) setMaxMemory(Number(Deno.args[0]));
await h5wasm.ready;
keepHdf5Worker(true);
if (Deno.args[1]) await describe(Deno.args[1]).catch(() => {}); // starts the HDF5 worker
const enc0 = new TextEncoder();
Deno.stdout.writeSync(enc0.encode(JSON.stringify({ ready: true }) + "\n"));
const enc = new TextEncoder();
const say = (o: unknown) => Deno.stdout.writeSync(enc.encode(JSON.stringify(o) + "\n"));
let buf = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  buf += chunk;
  let nl: number;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const path = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    const t0 = performance.now();
    try {
      const d = await describe(path);
      JSON.stringify(d);
      say({ ok: true, ms: performance.now() - t0, rss: Deno.memoryUsage().rss });
    } catch (e) {
      const lumen = e instanceof LumenError && !e.message.includes("\n");
      say({
        error: lumen ? e.message : String((e as Error)?.stack ?? e).slice(0, 2000),
        lumen,
        ms: performance.now() - t0,
        rss: Deno.memoryUsage().rss,
      });
    }
  }
}
keepHdf5Worker(false);
