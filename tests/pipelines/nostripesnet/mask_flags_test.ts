/**
 * The streamed patch flags (mask_flags.ts) = the clean patches of the loaded mask
 * (stripe_mask.ts `loadStripeMask` + `cleanPatchesOfRow`), deflated and stored archives, values
 * other than 0/1, ones in the margins the grid leaves out; and the same refusals.
 */
import assert from "node:assert/strict";
import { ndarray } from "../../../lib/io/array.ts";
import { writeNpz } from "../../../lib/io/npz.ts";
import { patchGrid } from "../../../lib/data/patches.ts";
import { SimRng } from "../../../lib/data/rng.ts";
import { loadPatchFlags, patchFlagsClean } from "../../../lib/pipelines/nostripesnet/mask_flags.ts";
import {
  cleanPatchesOfRow,
  loadStripeMask,
} from "../../../lib/pipelines/nostripesnet/stripe_mask.ts";

Deno.test("loadPatchFlags = cleanPatchesOfRow(loadStripeMask) on random masks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen_flags_" });
  try {
    const r = new SimRng(3);
    const cases: [number, number, number, number, number, boolean, number, number][] = [
      [61, 3, 83, 20, 13, true, 1, 12],
      [50, 2, 40, 50, 40, false, 1, 2],
      [33, 4, 70, 8, 9, true, 255, 12],
      [1801, 2, 300, 1801, 64, true, 1, 3],
      [40, 3, 90, 10, 20, true, 1, 3000], // dense: most patches have stripes
    ];
    let clean = 0, dirty = 0;
    for (const [k, [A, R, C, h, w, compress, one, ones]] of cases.entries()) {
      const data = new Uint8Array(A * R * C);
      for (let i = 0; i < ones; i++) data[r.int(0, data.length - 1)] = one;
      data[data.length - 1] = one; // in the margin of most grids
      const file = `${dir}/m${k}.npz`;
      await writeNpz(file, { mscan: ndarray(data, [A, R, C], "uint8") }, { compress });
      const grid = patchGrid([A, C], [h, w]);
      const mask = await loadStripeMask(file, { key: "mscan", shape: [A, R, C] });
      const flags = await loadPatchFlags(file, { key: "mscan", shape: [A, R, C], grid });
      for (let row = 0; row < R; row++) {
        const want = cleanPatchesOfRow(mask, row, grid);
        assert.deepStrictEqual(patchFlagsClean(flags, row), want);
        for (const c of want) c ? clean++ : dirty++;
      }
    }
    assert.ok(clean > 20 && dirty > 20, `${clean} clean, ${dirty} with stripes`);
    const grid = patchGrid([61, 83], [20, 13]);
    await assert.rejects(
      loadPatchFlags(`${dir}/m0.npz`, { key: "mscan", shape: [61, 4, 83], grid }),
      /mask shape \(61, 3, 83\) does not match the scan's \(angles, rows, columns\) = \(61, 4, 83\)/,
    );
    await writeNpz(`${dir}/f.npz`, { w: ndarray(new Float32Array(8), [2, 2, 2], "float32") });
    await assert.rejects(
      loadPatchFlags(`${dir}/f.npz`, { key: "w", grid }),
      /is float32, not a stripe mask/,
    );
    await assert.rejects(
      loadPatchFlags(`${dir}/m0.npz`, { key: "nope", grid }),
      /no such array \(the archive holds: mscan\)/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
