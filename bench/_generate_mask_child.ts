/**
 * Child process of bench/generate_mask.ts: runs generate_mask on one scan and prints one JSON
 * line with the time (its peak memory is measured by the parent through getrusage), so that the
 * measurement holds nothing but the tool. Args: SCAN ARCHIVE BACKEND.
 *
 * @module
 */
import { parseFlags } from "../lib/run/flags.ts";
import { generateMask, meta } from "../tools/nostripesnet/generate_mask.ts";

const [scan, archive, backend] = Deno.args;
const f = parseFlags(meta, [
  "--h5",
  scan,
  "-a",
  archive,
  "--backend",
  backend,
  "--overwrite",
  "-q",
]);
const t = performance.now();
const r = await generateMask(f);
const seconds = (performance.now() - t) / 1000;
console.log(JSON.stringify({ seconds, detectSeconds: r.seconds, shape: r.shape, ones: r.ones }));
