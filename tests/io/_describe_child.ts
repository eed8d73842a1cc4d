/**
 * Child process of the hostile-file tests and the fuzz suite: reads one file path per line on
 * stdin, runs describe() on it, and answers one JSON line per file on stdout:
 * `{"ok":true,"ms":…,"rss":…,"summary":…}` or `{"error":"…","lumen":true,"ms":…,"rss":…}` (`lumen`
 * false for anything but a one-line LumenError); `summary` is what the fuzz suite compares with
 * the Python reference readers (tests/io/_fuzz_reference.ts). A `.cif` file goes through the
 * diffsims CIF parser (parse and expansion to the full cell) instead of describe(). h5wasm is started before the first file, so a reader that
 * still needed env access once h5wasm is up shows it. Arguments: the memory budget in bytes, and
 * an HDF5 file to describe first (so the HDF5 worker is up); `{"ready":true}` then says so.
 *
 * @module
 */
import { h5wasm } from "../../lib/deps.ts";
import { setMaxMemory } from "../../lib/io/budget.ts";
import { describe, type Description } from "../../lib/io/describe/mod.ts";
import { cifSummary } from "./_cif_summary.ts";
import { keepHdf5Worker } from "../../lib/io/describe/hdf5.ts";
import { LumenError } from "../../lib/run/errors.ts";

if (Deno.args[0]) setMaxMemory(Number(Deno.args[0]));
await h5wasm.ready;
keepHdf5Worker(true);
if (Deno.args[1]) await describe(Deno.args[1]).catch(() => {}); // starts the HDF5 worker
const enc0 = new TextEncoder();
Deno.stdout.writeSync(enc0.encode(JSON.stringify({ ready: true }) + "\n"));
/** The parts of a description the reference comparison needs (shapes, dtypes, counts). */
function summary(d: Description): Record<string, unknown> {
  const s: Record<string, unknown> = {
    format: d.format,
    arrays: d.arrays.map((a) => [a.name, a.shape, a.dtype]),
    damaged: d.arrays.filter((a) => a.error).map((a) => `${a.name}: ${a.error}`),
  };
  const x = d as unknown as Record<string, unknown>;
  if (Array.isArray(x.pages)) {
    s.pages = (x.pages as { shape: number[]; dtype: string }[]).map((p) => [p.shape, p.dtype]);
  }
  if (Array.isArray(x.members)) {
    s.members = (x.members as { name: string; size: number }[]).map((m) => [m.name, m.size]);
  }
  for (const k of ["rows", "header", "records", "content", "ragged"]) if (k in x) s[k] = x[k];
  if (Array.isArray(x.columns)) s.columns = x.columns.length;
  return s;
}

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
      let s: Record<string, unknown>;
      if (path.endsWith(".cif")) s = cifSummary(await Deno.readFile(path), path);
      else {
        const d = await describe(path);
        JSON.stringify(d);
        s = summary(d);
      }
      say({ ok: true, ms: performance.now() - t0, rss: Deno.memoryUsage().rss, summary: s });
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
