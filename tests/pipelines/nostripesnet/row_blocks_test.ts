/** The read blocks of data_generator: bounded, chunk-aligned, covering the rows once. */
import assert from "node:assert/strict";
import { rowBlocks } from "../../../lib/pipelines/nostripesnet/row_blocks.ts";

Deno.test("rowBlocks: chunk-aligned boundaries within chunkSize and the memory bound", () => {
  assert.deepStrictEqual(
    rowBlocks([0, 20], { chunkSize: 243, chunkRows: 8, rowBytes: 1 << 20, maxBytes: 12 << 20 }),
    [[0, 8], [8, 16], [16, 20]],
  );
  assert.deepStrictEqual(rowBlocks([5, 30], { chunkSize: 16, chunkRows: 8, rowBytes: 4 }), [
    [5, 16],
    [16, 30],
  ]);
  // a chunk taller than the bounds: blocks of the bound, as for an unchunked file
  assert.deepStrictEqual(rowBlocks([0, 7], { chunkSize: 3, chunkRows: 2160, rowBytes: 4 }), [
    [0, 3],
    [3, 6],
    [6, 7],
  ]);
  for (const [r0, r1, cs, cr] of [[0, 2160, 243, 8], [17, 999, 100, 1], [3, 4, 243, 64]]) {
    const b = rowBlocks([r0, r1], { chunkSize: cs, chunkRows: cr, rowBytes: 18 << 20 });
    assert.equal(b[0][0], r0);
    assert.equal(b[b.length - 1][1], r1);
    for (let i = 0; i < b.length; i++) {
      assert.ok(b[i][1] > b[i][0] && b[i][1] - b[i][0] <= Math.max(1, Math.min(cs, 14)));
      if (i) assert.equal(b[i][0], b[i - 1][1]);
      if (i < b.length - 1 && cr <= 14) assert.equal(b[i][1] % cr, 0);
    }
  }
});
