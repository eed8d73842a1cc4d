/**
 * apply_model's batching and row writing: the generator's batch norm uses batch statistics in
 * eval mode (NoStripesNet's track_running_stats=False), so a patch's inpainting depends on the
 * other patches of its batch and apply_model forwards a row's patches together, as the
 * original's `DataLoader(batch_size=10)` does; the rows are written by a worker or in this
 * thread to the same file bytes.
 */
import assert from "node:assert/strict";
import "../../../lib/tensor/engine.ts";
import { type Backend, getBackend, setDefaultBackend } from "../../../lib/tensor/backend.ts";
import {
  buildNoStripesNet,
  inpaintBatch,
  inpaintSinogram,
} from "../../../lib/pipelines/nostripesnet/model.ts";
import { extractPatch, patchGrid } from "../../../lib/data/patches.ts";
import { H5File } from "../../../lib/io/hdf5.ts";
import { openRowWriter } from "../../../lib/pipelines/nostripesnet/row_writer.ts";

const H = 16, W = 16;

/** Deterministic values in [−1, 1]. */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** A 0/1 mask with a 3-column stripe at `c0`, or none. */
function stripe(c0: number | null): Float32Array {
  const m = new Float32Array(H * W);
  if (c0 !== null) { for (let a = 0; a < H; a++) m.fill(1, a * W + c0, a * W + c0 + 3); }
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array, where?: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (!where || where[i]) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** wasm, and native where its library loads (it needs --allow-ffi). */
async function backends(): Promise<Backend[]> {
  const out: Backend[] = [];
  for (const n of ["wasm", "native"]) {
    const b = await getBackend(n).catch(() => null);
    if (b) out.push(b);
    else console.warn(`skip backend ${n}: not available here`);
  }
  return out;
}

Deno.test("inpaintBatch: a patch's output depends on its batch (batch-statistics batch norm)", async (t) => {
  for (const b of await backends()) {
    await t.step(b.name, async () => {
      setDefaultBackend(b);
      const { gen } = buildNoStripesNet({ preset: "tiny" }, 0);
      const xs = [0, 1, 2, 3].map((i) => values(H * W, 11 + i));
      const ms = [stripe(4), stripe(null), stripe(9), stripe(null)];
      const all = await inpaintBatch(gen, xs, ms, [H, W]);
      const again = await inpaintBatch(gen, xs, ms, [H, W]);
      assert.deepEqual(again, all, "the same batch gives the same bytes");
      // the striped patches alone: other batch statistics, other outputs in the stripes
      const alone = await inpaintBatch(gen, [xs[0], xs[2]], [ms[0], ms[2]], [H, W]);
      assert.ok(maxDiff(alone[0], all[0], ms[0]) > 1e-3, "without the clean patches it changes");
      assert.ok(maxDiff(alone[1], all[2], ms[2]) > 1e-3);
      // outside the stripes every patch is its input, exactly
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < H * W; k++) if (!ms[i][k]) assert.equal(all[i][k], xs[i][k]);
      }
      // the same patches in another order: the same statistics, equal to float tolerance
      const perm = await inpaintBatch(gen, [xs[2], xs[1], xs[0], xs[3]], [
        ms[2],
        ms[1],
        ms[0],
        ms[3],
      ], [H, W]);
      assert.ok(maxDiff(perm[2], all[0]) < 1e-5 && maxDiff(perm[0], all[2]) < 1e-5);
      b.resetArena();
    });
  }
});

Deno.test("inpaintSinogram: the row's patches go through in one batch; only striped ones change", async () => {
  const b = await getBackend("wasm");
  assert.ok(b, "the wasm backend starts");
  setDefaultBackend(b);
  const { gen } = buildNoStripesNet({ preset: "tiny" }, 0);
  const cols = 4 * W;
  const sino = values(H * cols, 5).map((v) => 3 + v); // values in [2, 4]
  const mask = new Uint8Array(H * cols);
  for (let a = 0; a < H; a++) mask.fill(1, a * cols + 20, a * cols + 23); // in patch 1
  const grid = patchGrid([H, cols], [H, W]);
  const scale = { lo: 2, hi: 4 };
  const xs = [0, 1, 2, 3].map((p) => extractPatch(sino, grid, p).map((v) => ((v - 2) / 2) * 2 - 1));
  const ms = [0, 1, 2, 3].map((p) => Float32Array.from(extractPatch(mask, grid, p)));
  const ys = await inpaintBatch(gen, xs, ms, [H, W]);
  const got = sino.slice();
  assert.equal(await inpaintSinogram(gen, got, mask, grid, { scale }), 1);
  for (let p = 0; p < 4; p++) {
    const out = extractPatch(got, grid, p), inp = extractPatch(sino, grid, p);
    for (let k = 0; k < H * W; k++) {
      const want = ms[p][k] ? ((ys[p][k] + 1) / 2) * 2 + 2 : inp[k];
      assert.ok(Math.abs(out[k] - want) <= 1e-6, `patch ${p} pixel ${k}: ${out[k]} vs ${want}`);
    }
  }
  b.resetArena();
});

/** A partial volume like applyToScan's: /data (angles, rows, cols) in gzip row chunks. */
async function partial(path: string, shape: [number, number, number]): Promise<void> {
  const h = await H5File.open(path, "w");
  h.createDataset("/data", shape, "float32", {
    chunks: [shape[0], 1, shape[2]],
    compression: 4,
    attrs: { method: "model", uuid: "u", rows_done: 0, args: "{}" },
  });
  h.close();
}

Deno.test("openRowWriter: a worker and this thread write the same bytes, rows_done after each", async () => {
  const dir = await Deno.makeTempDir();
  const shape: [number, number, number] = [7, 3, 11];
  const rows = [0, 1, 2].map((r) => values(7 * 11, 100 + r));
  const files: Uint8Array[] = [];
  for (const worker of [true, false]) {
    const path = `${dir}/${worker ? "w" : "m"}.h5`;
    await partial(path, shape);
    const w = await openRowWriter(path, { worker });
    for (const [r, data] of rows.entries()) await w.write(r, data, [7, 11]);
    await w.close({ provenance: "p" });
    await w.close(); // a second close does nothing
    const h = await H5File.open(path, "r");
    assert.equal(Number(h.attr("/data", "rows_done")), 3);
    assert.equal(h.attr("/data", "provenance"), "p");
    const d = h.read("/data").data as Float32Array;
    h.close();
    for (let a = 0; a < 7; a++) {
      for (let r = 0; r < 3; r++) {
        assert.deepEqual(
          d.subarray((a * 3 + r) * 11, (a * 3 + r + 1) * 11),
          rows[r].subarray(a * 11, (a + 1) * 11),
        );
      }
    }
    files.push(await Deno.readFile(path));
  }
  assert.deepEqual(files[0], files[1]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("openRowWriter: a file that cannot be opened is an error, not a silent fallback", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(() => openRowWriter(`${dir}/missing.h5`));
  await Deno.remove(dir, { recursive: true });
});
