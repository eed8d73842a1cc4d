/**
 * The WebAssembly patch path (patch_kernel.ts) gives the bytes of the TypeScript one
 * (patch_dataset.ts `patchSinogramFiles`) on sinograms with NaN, ±∞, ±0, flat and all-NaN
 * patches, real stripes in the mask, grids with offsets and widths that are not a multiple of 8,
 * and patches wide enough for several stripes; the pool gives them for 0, 1 and 3 workers.
 */
import assert from "node:assert/strict";
const assertEquals = (a: unknown, b: unknown, msg?: string) => assert.deepStrictEqual(a, b, msg);
import { patchGrid } from "../../../lib/data/patches.ts";
import { SimRng } from "../../../lib/data/rng.ts";
import { PatchKernel } from "../../../lib/pipelines/nostripesnet/patch_kernel.ts";
import { PatchPool } from "../../../lib/pipelines/nostripesnet/patch_pool.ts";
import {
  cleanPatches,
  patchSeed,
  patchSinogramFiles,
  sinogramFiles,
} from "../../../lib/pipelines/nostripesnet/patch_dataset.ts";
import { cleanPatchesOfRow } from "../../../lib/pipelines/nostripesnet/stripe_mask.ts";
import { encodeTiff } from "../../../lib/io/tiff.ts";
import { ndarray } from "../../../lib/io/array.ts";
import type { PatchWriteOptions } from "../../../lib/pipelines/nostripesnet/patch_dataset.ts";

/** The kernel's files: its images, named and encoded as generatePatchSinograms does. */
function kernelFiles(
  k: PatchKernel,
  row: number,
  sino: Float32Array,
  mask: Uint8Array | null,
  o: PatchWriteOptions,
): [string, Uint8Array][] {
  const clean = cleanPatches(o.grid, mask);
  const seeds = clean.map((_, p) => patchSeed(o.seed, o.sample, row, p));
  const names = sinogramFiles(o, row, clean);
  return k.images({ row, sino, clean, seeds }, o.grid).map((
    img,
    i,
  ) => [names[i], encodeTiff(ndarray(img, [o.grid.height, o.grid.width]))]);
}

function sinogram(angles: number, cols: number, seed: number, special: boolean): Float32Array {
  const r = new SimRng(seed);
  const s = new Float32Array(angles * cols).map(() => 0.5 + 0.3 * r.normal());
  if (special) {
    for (let k = 0; k < 40; k++) s[r.int(0, s.length - 1)] = NaN;
    s[r.int(0, s.length - 1)] = Infinity;
    s[r.int(0, s.length - 1)] = -Infinity;
    s[r.int(0, s.length - 1)] = -0;
    s[0] = 0; // the stripe column search looks at the first row
    s[1] = 0;
  }
  return s;
}

const CASES: { angles: number; cols: number; patch: [number, number]; special: boolean }[] = [
  { angles: 64, cols: 80, patch: [64, 16], special: false },
  { angles: 61, cols: 83, patch: [20, 13], special: true },
  { angles: 40, cols: 1200, patch: [40, 600], special: true }, // several stripes per patch
  { angles: 33, cols: 30, patch: [33, 30], special: true },
];

Deno.test("patch kernel: the WASM path writes the TypeScript path's bytes", async () => {
  const k = await PatchKernel.load();
  let files = 0;
  for (const [i, c] of CASES.entries()) {
    const grid = patchGrid([c.angles, c.cols], c.patch);
    const o = { dir: "x", grid, sample: 3, shift: 1, seed: 7 + i };
    for (let row = 0; row < 4; row++) {
      const sino = sinogram(c.angles, c.cols, 100 * i + row, c.special);
      if (row === 1) sino.fill(0.25); // flat: zeros
      if (row === 2 && c.special) sino.fill(NaN, 0, grid.height * c.cols); // an all-NaN band
      let mask: Uint8Array | null = null;
      if (row === 3) {
        mask = new Uint8Array(sino.length);
        mask[Math.floor(sino.length / 2)] = 1; // one patch with a real stripe
      }
      const want = patchSinogramFiles({ row, sino, mask }, o);
      const got = kernelFiles(k, row, sino, mask, o);
      assertEquals(got.map(([n]) => n), want.map(([n]) => n));
      for (let f = 0; f < want.length; f++) assertEquals(got[f][1], want[f][1], want[f][0]);
      files += want.length;
    }
  }
  assertEquals(files > 40, true);
});

Deno.test("patch pool: 0, 1 and 3 workers give the same files", async () => {
  const grid = patchGrid([61, 83], [20, 13]);
  const runs: string[][] = [];
  for (const n of [0, 1, 3]) {
    const pool = new PatchPool(n);
    try {
      const all = await Promise.all(
        [0, 1, 2, 3, 4].map((row) =>
          pool.run({
            row,
            sino: sinogram(61, 83, row, true),
            clean: [true, row !== 2, true, false, true, true, true, true, true, true, true, true],
            seeds: Array.from({ length: grid.count }, (_, p) => patchSeed(1, 0, row, p)),
          }, grid)
        ),
      );
      runs.push(
        all.flat().map((b) => `${b.length}:${b.reduce((s, v) => (s * 31 + v) >>> 0, 0)}`),
      );
    } finally {
      pool.close();
    }
  }
  assertEquals(runs[1], runs[0]);
  assertEquals(runs[2], runs[0]);
});

Deno.test("cleanPatchesOfRow = cleanPatches(maskRow) on random masks and grids with offsets", async () => {
  const { maskRow } = await import("../../../lib/pipelines/nostripesnet/stripe_mask.ts");
  const r = new SimRng(5);
  for (const [A, R, C, h, w] of [[61, 3, 83, 20, 13], [50, 2, 40, 50, 40], [33, 4, 70, 8, 9]]) {
    const data = new Uint8Array(A * R * C);
    for (let k = 0; k < 6; k++) data[r.int(0, data.length - 1)] = 1;
    const mask = { file: "m.npz", key: "m", shape: [A, R, C] as [number, number, number], data };
    const grid = patchGrid([A, C], [h, w]);
    for (let row = 0; row < R; row++) {
      assertEquals(cleanPatchesOfRow(mask, row, grid), cleanPatches(grid, maskRow(mask, row)));
    }
  }
});

Deno.test("patch kernel: raw rows (uint16, float32 with NaN) give the normalised sinogram's images; files() are their TIFFs", async () => {
  const { flatDark, TomoKernel } = await import("../../../lib/tomo/normalise.ts");
  const { tiffFrame } = await import("../../../lib/pipelines/nostripesnet/patch_dataset.ts");
  const k = await PatchKernel.load(), tomo = await TomoKernel.load();
  const r = new SimRng(11);
  // grids with and without centre-crop offsets, one patch band and several
  for (const [A, R, C, h, w] of [[61, 3, 83, 20, 13], [64, 2, 80, 64, 16], [50, 2, 45, 50, 45]]) {
    const grid = patchGrid([A, C], [h, w]);
    const fd = flatDark(
      ndarray(new Float32Array(2 * R * C).map(() => 30000 + 2000 * r.uniform()), [2, R, C]),
      ndarray(new Float32Array(R * C).map(() => 100 * r.uniform()), [1, R, C]),
    );
    for (const dtype of ["uint16", "float32"] as const) {
      const n = A * R * C;
      const vals = Array.from({ length: n }, () => Math.floor(200 + 40000 * r.uniform()));
      const typed = dtype === "uint16" ? new Uint16Array(vals) : new Float32Array(vals);
      if (dtype === "float32") { for (let q = 0; q < 9; q++) typed[r.int(0, n - 1)] = NaN; }
      const bytes = new Uint8Array(typed.buffer);
      const sinos = new Float32Array(R * A * C); // (rows, angles, cols), as readSinograms
      tomo.normalise(bytes, dtype, A, fd, sinos, 0, A);
      for (let row = 0; row < R; row++) {
        const clean = Array.from({ length: grid.count }, (_, p) => p !== 1);
        const seeds = clean.map((_, p) => patchSeed(2, 0, row, p));
        const cols = (x: Float32Array) => x.slice(row * C, (row + 1) * C);
        const raw = { bytes, dtype, rows: R, r: row, dark: cols(fd.dark), denom: cols(fd.denom) };
        const sino = sinos.subarray(row * A * C, (row + 1) * A * C);
        const want = k.images({ row, sino, clean, seeds }, grid);
        const got = k.images({ row, raw, clean, seeds }, grid);
        assertEquals(got, want, `${A}×${R}×${C} ${dtype} row ${row}`);
        const files: Uint8Array[] = [];
        k.files({ row, raw, clean, seeds }, grid, tiffFrame(grid), (_, b) => files.push(b.slice()));
        assertEquals(files, want.map((img) => encodeTiff(ndarray(img, [h, w]))));
      }
    }
  }
});

Deno.test("patch kernel: uint16 scaling = toUint16 at the range's ends, ±0, NaN, subnormal and huge spans", async () => {
  const { toUint16, nanRange } = await import("../../../lib/data/patches.ts");
  const k = await PatchKernel.load();
  const grid = patchGrid([6, 37], [6, 37]); // one real-stripe patch: scaled by its own range
  const r = new SimRng(3);
  const spans = [[0, 1], [-1e38, 3e38], [1e-40, 3e-40], [-0, 1e-3], [1000, 1000.0001], [-5, 5]];
  for (const [lo, hi] of spans) {
    const sino = new Float32Array(6 * 37).map(() => lo + (hi - lo) * r.uniform());
    sino[0] = lo, sino[1] = hi, sino[2] = NaN, sino[3] = -0, sino[4] = 0;
    sino[5] = Math.fround(lo + (hi - lo) / 3), sino[6] = Math.fround(lo + (hi - lo) * 0.999999);
    const [l, h] = nanRange([sino]);
    const [got] = k.images({ row: 0, sino, clean: [false], seeds: [0] }, grid);
    assertEquals(got, toUint16(sino, l, h), `span [${lo}, ${hi}]`);
  }
});

Deno.test("patch kernel: a clean patch whose minimum or maximum lies only under a stripe scales like the TypeScript path", async () => {
  const { addStripesInto, PATCH_STRIPES } = await import(
    "../../../lib/pipelines/nostripesnet/stripe_sim.ts"
  );
  const k = await PatchKernel.load();
  const grid = patchGrid([40, 30], [40, 30]);
  const o = { dir: "x", grid, sample: 0, shift: 0, seed: 5 };
  for (const [row, lo, hi] of [[0, -5, 5], [1, -5, 0.5], [2, 0.1, 5], [3, 0.1, 0.5]]) {
    const sino = sinogram(40, 30, 50 + row, false).map((v) => Math.min(0.5, Math.max(0.1, v)));
    // the stripe's column, from the same draws the patch gets
    const [st] = addStripesInto(
      sino.slice(),
      sino,
      1,
      40,
      30,
      PATCH_STRIPES,
      new SimRng(patchSeed(o.seed, 0, row, 0)),
      null,
    );
    sino[7 * 30 + st.col] = lo; // the only minimum, under the stripe
    sino[20 * 30 + st.col] = hi; // the only maximum
    const want = patchSinogramFiles({ row, sino, mask: null }, o);
    const got = kernelFiles(k, row, sino, null, o);
    for (let f = 0; f < want.length; f++) assertEquals(got[f][1], want[f][1], `row ${row}`);
  }
});
