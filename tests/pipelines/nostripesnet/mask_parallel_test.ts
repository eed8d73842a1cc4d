import assert from "node:assert/strict";
import { SCAN_PRESETS, simulateScan, writeScanNexus } from "../../../lib/tomo/scan_sim.ts";
import { openScan } from "../../../lib/io/nexus.ts";
import { appendNpz, writeNpz } from "../../../lib/io/npz.ts";
import { ndarray } from "../../../lib/io/array.ts";
import { maskScan, maskScanToEntry } from "../../../lib/pipelines/nostripesnet/mask_scan.ts";
import { MASK_DETECT, MASK_MERGE } from "./_mask_params.ts";

const detect = MASK_DETECT, merge = MASK_MERGE;

Deno.test("mask_parallel: the streamed, multi-worker archive is byte for byte appendNpz of the in-memory mask (new, appended, replaced), no spill file left", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen_maskpar_" });
  try {
    const path = `${dir}/119617.nxs`;
    await writeScanNexus(path, simulateScan({ ...SCAN_PRESETS.test, seed: 2 }));
    const scan = await openScan(path);
    const ref = await maskScan(scan, { detect, merge, backend: "wasm" });
    assert.ok(ref.ones > 0 && ref.ones < ref.mask.length);
    const arr = ndarray(ref.mask, [...ref.shape], "uint8");
    for (const [name, before] of [["new", false], ["appended", true]] as const) {
      const a = `${dir}/${name}_a.npz`, b = `${dir}/${name}_b.npz`;
      if (before) {
        for (const f of [a, b]) {
          await writeNpz(f, { other: ndarray(new Int32Array([1, 2, 3]), [3]) }, { compress: true });
        }
      }
      await appendNpz(a, "m119617", arr, { compress: true });
      for (const [slabRows, workers] of [[1, 3], [3, 2]]) {
        const o = { detect, merge, slabRows, workers };
        const r = await maskScanToEntry(scan, {}, o, b, "m119617", true);
        assert.equal(r.ones, ref.ones);
        assert.deepEqual(
          await Deno.readFile(b),
          await Deno.readFile(a),
          `${name}, slab ${slabRows}, ${workers} workers`,
        );
      }
      // replacing an existing entry keeps its place
      await appendNpz(a, "m119617", arr, { compress: true, overwrite: true });
      await maskScanToEntry(scan, {}, { detect, merge }, b, "m119617", true);
      assert.deepEqual(await Deno.readFile(b), await Deno.readFile(a));
      await assert.rejects(
        maskScanToEntry(scan, {}, { detect, merge }, b, "m119617", false),
        /entry exists; pass --overwrite/,
      );
    }
    scan.close();
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.startsWith("."));
    assert.deepEqual(left, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
