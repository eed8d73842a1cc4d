import assert from "node:assert/strict";
import { stripesDetect, stripesMerge } from "../../lib/tomo/stripes.ts";
import { stripesMaskPlanes } from "../../lib/tomo/stripes_planes.ts";
import { SimRng } from "../../lib/data/rng.ts";

type Case = [number, number, number, { size: number; radius: number }, Record<string, number>];

/** A volume with noise, stripes, plateaus and special values. */
function volume(Z: number, Y: number, X: number, seed: number): Float32Array {
  const r = new SimRng(seed);
  const v = new Float32Array(Z * Y * X).map(() => 1 + 0.05 * r.normal());
  for (let k = 0; k < Z; k++) {
    for (let j = 0; j < Y; j++) {
      const row = (k * Y + j) * X;
      v[row + 7] += 0.3;
      v[row + 8] += 0.3;
      v[row + (X >> 1)] *= 0.5;
      if (k > Z / 3 && k < Z / 2) v[row + X - 5] = 2; // a plateau: zero gradients
    }
  }
  for (let i = 0; i < 40; i++) v[Math.floor(r.uniform() * v.length)] = 0;
  v[5] = NaN;
  v[X * 3 + 2] = -0;
  v[X * Y * 4 + 9] = Infinity;
  v[X * Y * 7 + 11] = -1;
  return v;
}

Deno.test("stripes_planes: the fused plane kernels give stripesDetect + stripesMerge's bits (row shares, slabs, NaN, ±0, plateaus)", async () => {
  const cases: Case[] = [
    [100, 3, 30, { size: 10, radius: 1 }, {
      threshold: 0.6,
      minStripeLength: 10,
      minStripeDepth: 0,
      minStripeWidth: 5,
      sensitivityPerc: 85,
    }],
    [120, 13, 47, { size: 30, radius: 3 }, {
      threshold: 0.8,
      minStripeLength: 40,
      minStripeDepth: 4,
      minStripeWidth: 3,
      sensitivityPerc: 85,
    }],
    [90, 17, 64, { size: 20, radius: 2 }, {
      threshold: 0.7,
      minStripeLength: 30,
      minStripeDepth: 6,
      minStripeWidth: 4,
      sensitivityPerc: 50,
    }],
    // wider than one column tile of the kernel (256), with a partial last tile
    [60, 7, 601, { size: 12, radius: 3 }, {
      threshold: 0.7,
      minStripeLength: 20,
      minStripeDepth: 2,
      minStripeWidth: 3,
      sensitivityPerc: 85,
    }],
    [64, 9, 21, { size: 32, radius: 0 }, {
      threshold: 0.9,
      minStripeLength: 8,
      minStripeDepth: 3,
      minStripeWidth: 2,
      sensitivityPerc: 100,
    }],
  ];
  let nontrivial = 0;
  for (const [Z, Y, X, det, mer] of cases) {
    const vol = volume(Z, Y, X, Z + Y);
    const want = await stripesMerge(await stripesDetect(vol, [Z, Y, X], det), [Z, Y, X], mer);
    const half = Math.floor(Y / 2);
    for (
      const [rows, slab] of [[[0, Y], 4], [[0, half], 1], [[half, Y], 3], [[1, Y - 1], 2]] as const
    ) {
      const got = new Uint8Array(Z * Y * X).fill(7);
      let next = rows[0];
      await stripesMaskPlanes([Z, Y, X], (r0, r1, dst) => {
        for (let l = r0; l < r1; l++) {
          for (let k = 0; k < Z; k++) {
            dst.set(vol.subarray((k * Y + l) * X, (k * Y + l + 1) * X), ((l - r0) * Z + k) * X);
          }
        }
      }, (y0, y1, m) => {
        assert.equal(y0, next, "slabs in row order");
        next = y1;
        for (let l = y0; l < y1; l++) {
          for (let k = 0; k < Z; k++) {
            const src = m.subarray(((l - y0) * Z + k) * X, ((l - y0) * Z + k + 1) * X);
            got.set(src, (k * Y + l) * X);
          }
        }
      }, { detect: det, merge: mer, slabRows: slab, rows: [rows[0], rows[1]] });
      assert.equal(next, rows[1]);
      let ones = 0;
      for (let k = 0; k < Z; k++) {
        for (let l = rows[0]; l < rows[1]; l++) {
          for (let i = 0; i < X; i++) {
            const n = (k * Y + l) * X + i;
            assert.equal(got[n], want[n], `[${Z},${Y},${X}] rows ${rows} at (${k},${l},${i})`);
            ones += want[n];
          }
        }
      }
      if (ones > 0 && ones < Z * (rows[1] - rows[0]) * X) nontrivial++;
    }
  }
  assert.ok(nontrivial >= 6, `only ${nontrivial} cases with a mixed mask`);
});

Deno.test("stripes_planes: bad row ranges and slabs are refused", async () => {
  const shape = [64, 4, 16] as const;
  const opts = {
    detect: { size: 10, radius: 1 },
    merge: { minStripeLength: 10, minStripeDepth: 0 },
  };
  const noop = () => {};
  await assert.rejects(stripesMaskPlanes(shape, noop, noop, { ...opts, rows: [2, 2] }), /rows/);
  await assert.rejects(stripesMaskPlanes(shape, noop, noop, { ...opts, rows: [0, 5] }), /rows/);
  await assert.rejects(stripesMaskPlanes(shape, noop, noop, { ...opts, slabRows: 0 }), /slabRows/);
});
