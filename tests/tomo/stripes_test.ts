import assert from "node:assert/strict";
import { hasPython, hasSharedData, pyFixture } from "../_helpers.ts";
import {
  type Shape3,
  type StripesBackendName,
  stripesDetect,
  stripesKernels,
  stripesMaskScan,
  stripesMerge,
} from "../../lib/tomo/stripes.ts";
import { detectRowsRef, mergeRowsRef, thresholdRef } from "../../lib/tomo/stripes_ref.ts";
import { SimRng } from "../../lib/data/rng.ts";

/** Positions where two float arrays differ bit for bit (all NaNs count as equal). */
function diffF(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(a[i] !== a[i] && b[i] !== b[i])) d++;
  }
  return d;
}

function diffU(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

/** WebGPU is tested where an adapter exists (llvmpipe on CPU machines). */
const gpuAvailable = await (async () => {
  try {
    const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } })
      .navigator;
    return !!(nav?.gpu && (await nav.gpu.requestAdapter()));
  } catch {
    return false;
  }
})();
const BACKENDS: StripesBackendName[] = gpuAvailable ? ["ts", "wasm", "webgpu"] : ["ts", "wasm"];
if (!gpuAvailable) console.warn("skip: no WebGPU adapter, stripes tested on ts and wasm only");

/** A sample-like random volume with full/partial stripes, flat (incl. negative) plateaus. */
function randomVolume(shape: Shape3, seed: number, opts: { nan?: boolean } = {}): Float32Array {
  const [Z, Y, X] = shape;
  const r = new SimRng(seed);
  const v = new Float32Array(Z * Y * X);
  for (let n = 0; n < v.length; n++) v[n] = 0.5 + 0.2 * r.uniform();
  for (let b = 0; b < 3; b++) {
    const c = r.range(0, X), a = r.range(0.1, 0.5);
    for (let k = 0; k < Z; k++) {
      for (let j = 0; j < Y; j++) {
        for (let i = 0; i < X; i++) {
          v[(k * Y + j) * X + i] += a * Math.exp(-((i - c - 5 * Math.sin(k / 7)) ** 2) / 20);
        }
      }
    }
  }
  for (let s = 0; s < Math.max(3, X / 8); s++) {
    const c = r.int(0, Math.max(0, X - 4)), w = r.int(1, 3);
    const z0 = r.int(0, Z >> 2), z1 = r.int((3 * Z) >> 2, Z);
    const y0 = r.int(0, Y - 1), y1 = r.int(y0 + 1, Y);
    const d = r.range(-0.3, 0.3);
    for (let k = z0; k < z1; k++) {
      for (let j = y0; j < y1; j++) for (let i = c; i < c + w; i++) v[(k * Y + j) * X + i] += d;
    }
  }
  for (let p = 0; p < 2; p++) {
    const z0 = r.int(0, Z - 8),
      x0 = r.int(0, Math.max(0, X - 8)),
      val = [-0.75, 0.25, -2.5][r.int(0, 2)];
    for (let k = z0; k < z0 + 8; k++) {
      for (let j = 0; j < Y; j++) {
        for (let i = x0; i < Math.min(X, x0 + 8); i++) v[(k * Y + j) * X + i] = val;
      }
    }
  }
  if (opts.nan) { for (let q = 0; q < 5; q++) v[r.int(0, v.length - 1)] = NaN; }
  return v;
}

Deno.test("stripes: equal to an independent numpy port of the C code (TomoPy golden input, random volumes), all backends", async () => {
  if (!hasPython("numpy")) return;
  const dir = await pyFixture("tomo_stripes");
  const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
  const f32 = (n: string) => new Float32Array(Deno.readFileSync(`${dir}/${n}`).buffer);
  const cases = [...man.cases];
  if (man.golden) cases.unshift(man.golden);
  else hasSharedData();
  for (const c of cases) {
    const shape = c.shape as Shape3;
    for (const backend of BACKENDS) {
      const w = await stripesDetect(f32(c.input), shape, {
        size: c.size,
        radius: c.radius,
        backend,
      });
      assert.equal(diffF(w, f32(c.weights)), 0, `detect ${shape} ${backend}`);
      const m = await stripesMerge(f32(c.weights), shape, {
        threshold: c.threshold,
        minStripeLength: c.L,
        minStripeDepth: c.D,
        minStripeWidth: c.W,
        sensitivityPerc: c.s,
        backend,
      });
      assert.equal(diffU(m, Deno.readFileSync(`${dir}/${c.mask}`)), 0, `merge ${shape} ${backend}`);
    }
  }
  if (man.golden) {
    // the golden case is not trivial: both classes occur
    const m = Deno.readFileSync(`${dir}/${man.golden.mask}`);
    const ones = m.reduce((s, x) => s + x, 0);
    assert.ok(ones > 0 && ones < m.length);
  }
});

Deno.test("stripes: kernels equal the reference loop on random volumes (NaN, negative plateaus, edge sizes)", async () => {
  const cases: { shape: Shape3; size: number; radius: number; nan?: boolean; merge: number[] }[] = [
    { shape: [64, 9, 37], size: 6, radius: 3, merge: [0.6, 12, 4, 3, 85] },
    { shape: [50, 5, 23], size: 25, radius: 2, nan: true, merge: [0.63, 30, 2, 5, 85] },
    { shape: [24, 2, 4], size: 3, radius: 1, merge: [0.5, 5, 1, 2, 100] },
    { shape: [40, 6, 19], size: 4, radius: 0, merge: [-0.5, 7, 0, 6, 50] },
    { shape: [90, 12, 41], size: 20, radius: 5, merge: [0.55, 40, 9, 8, 70] },
  ];
  for (const [n, c] of cases.entries()) {
    const [Z, Y, X] = c.shape;
    const vol = randomVolume(c.shape, 100 + n, { nan: c.nan });
    const wRef = detectRowsRef(vol, Z, Y, X, 0, Y, 0, Y, c.size, c.radius);
    const [thr, L, D, W, s] = c.merge;
    const mRef = mergeRowsRef(thresholdRef(wRef, thr), Z, Y, X, 0, Y, 0, Y, L, D, W, s);
    const ones = mRef.reduce((a, b) => a + b, 0);
    assert.ok(ones > 0 && ones < mRef.length, `case ${n}: non-trivial mask (${ones})`);
    for (const backend of BACKENDS.filter((b) => b !== "ts")) {
      const w = await stripesDetect(vol, c.shape, { size: c.size, radius: c.radius, backend });
      assert.equal(diffF(w, wRef), 0, `detect case ${n} ${backend}`);
      const m = await stripesMerge(wRef, c.shape, {
        threshold: thr,
        minStripeLength: L,
        minStripeDepth: D,
        minStripeWidth: W,
        sensitivityPerc: s,
        backend,
      });
      assert.equal(diffU(m, mRef), 0, `merge case ${n} ${backend} (${ones} ones)`);
    }
  }
});

Deno.test("stripes: slabs with halos give the whole-volume bits (detect, merge, streamed scan)", async () => {
  const shape: Shape3 = [60, 17, 29];
  const [Z, Y, X] = shape;
  const vol = randomVolume(shape, 7);
  const det = { size: 8, radius: 3 };
  const mer = {
    threshold: 0.6,
    minStripeLength: 16,
    minStripeDepth: 6,
    minStripeWidth: 4,
    sensitivityPerc: 85,
  };
  for (const backend of BACKENDS) {
    const wWhole = await stripesDetect(vol, shape, { ...det, backend, slabRows: Y });
    const mWhole = await stripesMerge(wWhole, shape, { ...mer, backend, slabRows: Y });
    const ones = mWhole.reduce((a, b) => a + b, 0);
    assert.ok(ones > 0 && ones < mWhole.length, `non-trivial mask (${ones})`);
    for (const slabRows of [1, 2, 5, 16]) {
      const w = await stripesDetect(vol, shape, { ...det, backend, slabRows });
      assert.equal(diffF(w, wWhole), 0, `detect slab ${slabRows} ${backend}`);
      const m = await stripesMerge(wWhole, shape, { ...mer, backend, slabRows });
      assert.equal(diffU(m, mWhole), 0, `merge slab ${slabRows} ${backend}`);
      // streamed: the reader is asked only for row ranges, the writer gets rows in order
      const got = new Uint8Array(vol.length);
      let next = 0, maxRows = 0, rowsRead = 0, readNext = 0;
      const rowOrder = slabRows % 2 ? "volume" : "sinogram";
      await stripesMaskScan(
        shape,
        (a, b) => {
          maxRows = Math.max(maxRows, b - a);
          assert.equal(a, readNext); // rows are read in order, each once
          readNext = b;
          rowsRead += b - a;
          const out = new Float32Array(Z * (b - a) * X);
          for (let k = 0; k < Z; k++) {
            for (let y = a; y < b; y++) {
              const src = vol.subarray((k * Y + y) * X, (k * Y + y + 1) * X);
              out.set(
                src,
                rowOrder === "volume" ? (k * (b - a) + y - a) * X : ((y - a) * Z + k) * X,
              );
            }
          }
          return out;
        },
        (a, b, blk) => {
          assert.equal(a, next);
          next = b;
          for (let k = 0; k < Z; k++) {
            got.set(blk.subarray(k * (b - a) * X, (k + 1) * (b - a) * X), (k * Y + a) * X);
          }
        },
        { detect: det, merge: mer, backend, slabRows, rowOrder },
      );
      assert.equal(next, Y);
      assert.ok(maxRows <= slabRows + det.radius + Math.max(slabRows, det.radius));
      assert.equal(rowsRead, Y);
      assert.equal(diffU(got, mWhole), 0, `scan slab ${slabRows} ${backend}`);
    }
  }
});

Deno.test("stripes: parameters the C code would read out of bounds with are refused, naming the parameter", async () => {
  const v = new Float32Array(20 * 3 * 30);
  await assert.rejects(stripesDetect(v, [20, 3, 30], { size: 11 }), /stripesDetect: size: /);
  await assert.rejects(stripesDetect(v, [20, 3, 30], { size: 0 }), /size/);
  await assert.rejects(stripesDetect(v, [20, 3, 30], { size: 5, radius: 2 }), /radius: .*rows/);
  await assert.rejects(stripesDetect(v, [20, 3, 30, 1] as unknown as Shape3), /shape/);
  await assert.rejects(stripesDetect(v, [20, 3, 31]), /values/);
  const m = { minStripeLength: 10, minStripeDepth: 0, minStripeWidth: 5, sensitivityPerc: 85 };
  await assert.rejects(
    stripesMerge(v, [20, 3, 30], { ...m, minStripeWidth: 6 }),
    /minStripeWidth: .*4·width/,
  );
  await assert.rejects(
    stripesMerge(v, [20, 3, 30], { ...m, minStripeWidth: 2, minStripeLength: 20 }),
    /minStripeLength/,
  );
  await assert.rejects(
    stripesMerge(v, [20, 3, 30], { ...m, minStripeWidth: 2, minStripeDepth: 3 }),
    /minStripeDepth/,
  );
  await assert.rejects(
    stripesMerge(v, [20, 3, 30], { ...m, minStripeWidth: 2, sensitivityPerc: 0 }),
    /sensitivityPerc/,
  );
  await assert.rejects(stripesKernels("cuda" as StripesBackendName), /unknown/);
});
