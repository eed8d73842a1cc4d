/**
 * Child process of bench/generate_mask.ts: runs generate_mask on one scan and prints one JSON
 * line with the time (its peak memory is measured by the parent through getrusage), so that the
 * measurement holds nothing but the tool. Args: SCAN ARCHIVE BACKEND [MODE].
 *
 * MODE `tool` (default) runs the tool (every core, mask streamed into the archive); `inmemory`
 * runs the single-threaded path that holds the whole mask (lib/pipelines/nostripesnet/
 * mask_scan.ts `maskScan` then `appendNpz`, what the tool did before), as the reference.
 *
 * @module
 */
import { parseFlags } from "../lib/run/flags.ts";
import { generateMask, meta } from "../tools/nostripesnet/generate_mask.ts";
import { maskScan } from "../lib/pipelines/nostripesnet/mask_scan.ts";
import { openScan } from "../lib/io/nexus.ts";
import { appendNpz } from "../lib/io/npz.ts";
import { ndarray } from "../lib/io/array.ts";

const [scan, archive, backend, mode = "tool"] = Deno.args;
const t = performance.now();
let r: { seconds: number; shape: readonly number[]; ones: number };
if (mode === "inmemory") {
  const s = await openScan(scan);
  const m = await maskScan(s, {
    detect: { size: 250, radius: 3 },
    merge: {
      threshold: 0.63,
      minStripeLength: 600,
      minStripeDepth: 30,
      minStripeWidth: 22,
      sensitivityPerc: 85,
    },
    backend: "wasm",
  });
  s.close();
  await appendNpz(archive, "mscan", ndarray(m.mask, [...m.shape], "uint8"), {
    overwrite: true,
    compress: true,
  });
  r = m;
} else {
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
  r = await generateMask(f);
}
const seconds = (performance.now() - t) / 1000;
console.log(JSON.stringify({ seconds, detectSeconds: r.seconds, shape: r.shape, ones: r.ones }));
