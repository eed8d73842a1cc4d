import assert from "node:assert/strict";
import { hasPython, runPython } from "../_helpers.ts";
import { SimRng } from "../../lib/data/rng.ts";
import {
  projectEllipsoids,
  randomPhantom,
  rasterize,
  sheppLogan3d,
} from "../../lib/tomo/phantom.ts";
import {
  defectMap,
  SCAN_PRESETS,
  type SimulatedScan,
  simulateScan,
  writeScanNexus,
} from "../../lib/tomo/scan_sim.ts";
import {
  addStripes,
  pairedStripes,
  PATCH_STRIPES,
  patchStripes,
} from "../../lib/pipelines/nostripesnet/stripe_sim.ts";
import { openScan } from "../../lib/io/nexus.ts";
import { fbp } from "../../lib/tomo/fbp.ts";
import { stripesDetect, stripesMerge } from "../../lib/tomo/stripes.ts";

function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) (ma += a[i], mb += b[i]);
  ma /= a.length;
  mb /= b.length;
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** NoStripesNet's normalisation of the projections: −log((p − dark)/(flat − dark)). */
function normalise(s: SimulatedScan, frames: Uint16Array = s.data): Float32Array {
  const [F, R, N] = s.shape;
  const pix = R * N;
  const flat = new Float64Array(pix), dark = new Float64Array(pix);
  let nf = 0, nd = 0;
  for (let f = 0; f < F; f++) {
    const k = s.imageKey[f];
    const acc = k === 1 ? flat : k === 2 ? dark : null;
    if (!acc) continue;
    k === 1 ? nf++ : nd++;
    for (let p = 0; p < pix; p++) acc[p] += s.data[f * pix + p];
  }
  const out = new Float32Array(s.angles.length * pix);
  let a = 0;
  for (let f = 0; f < F; f++) {
    if (s.imageKey[f] !== 0) continue;
    const src = frames === s.data ? f : a;
    for (let p = 0; p < pix; p++) {
      const d = dark[p] / nd;
      let v = (frames[src * pix + p] - d) / Math.max(flat[p] / nf - d, 1e-6);
      if (v <= 0) v = 1e-9;
      out[a * pix + p] = -Math.log(v);
    }
    a++;
  }
  return out;
}

Deno.test("SimRng: same seed same stream, ranges, moments", () => {
  const a = new SimRng(42), b = new SimRng(42), c = new SimRng(43);
  const xa = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(xa, Array.from({ length: 5 }, () => b.nextU32()));
  assert.notDeepEqual(xa, Array.from({ length: 5 }, () => c.nextU32()));
  const r = new SimRng(1);
  let s = 0, s2 = 0, lo = Infinity, hi = -Infinity;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    const k = r.int(3, 7);
    lo = Math.min(lo, k);
    hi = Math.max(hi, k);
    const z = r.normal();
    s += z;
    s2 += z * z;
  }
  assert.deepEqual([lo, hi], [3, 7]);
  assert.ok(Math.abs(s / n) < 0.03 && Math.abs(s2 / n - 1) < 0.05);
  let p = 0;
  for (let i = 0; i < 2000; i++) p += r.poisson(4);
  assert.ok(Math.abs(p / 2000 - 4) < 0.2);
  assert.throws(() => new SimRng(-1), /seed/);
});

Deno.test("phantom: exact projections reconstruct (FBP) to the rasterised phantom", () => {
  const A = 120, R = 4, N = 96;
  const angles = Array.from({ length: A }, (_, a) => (Math.PI * a) / A);
  for (const ph of [sheppLogan3d(N, R), randomPhantom(N, R, 5)]) {
    const p = projectEllipsoids(ph, angles, R, N);
    const v = 2;
    const sino = new Float32Array(A * N);
    for (let a = 0; a < A; a++) sino.set(p.subarray((a * R + v) * N, (a * R + v + 1) * N), a * N);
    const rec = fbp(sino, A, N);
    const gt = rasterize(ph, R, N, v);
    assert.ok(corr(rec, gt) > 0.93, `corr ${corr(rec, gt)}`);
  }
  // a sphere of radius 10, density 0.01: central ray = 2·10·0.01
  const sphere = [{
    center: [0, 0, 0] as [number, number, number],
    axes: [10, 10, 10] as [number, number, number],
    phi: 0,
    density: 0.01,
  }];
  const q = projectEllipsoids(sphere, [0, 1], 1, 64, 32);
  assert.ok(Math.abs(q[32] - 0.2) < 1e-6 && Math.abs(q[64 + 32] - 0.2) < 1e-6);
  assert.equal(q[0], 0);
});

Deno.test("scan: same seed → same bytes (arrays and NeXus file); i12 layout opens in Lumen and h5py", async () => {
  const a = simulateScan({ ...SCAN_PRESETS.tiny, seed: 9 });
  const b = simulateScan({ ...SCAN_PRESETS.tiny, seed: 9 });
  const c = simulateScan({ ...SCAN_PRESETS.tiny, seed: 10 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  const dir = await Deno.makeTempDir({ prefix: "lumen_sim_" });
  try {
    await writeScanNexus(`${dir}/a.nxs`, a, { cleanPath: `${dir}/a_clean.nxs` });
    await new Promise((r) => setTimeout(r, 1100)); // a different second on the clock
    await writeScanNexus(`${dir}/b.nxs`, b);
    assert.deepEqual(await Deno.readFile(`${dir}/a.nxs`), await Deno.readFile(`${dir}/b.nxs`));
    const [F, R, N] = a.shape;
    const scan = await openScan(`${dir}/a.nxs`);
    try {
      assert.equal(scan.layout, "i12");
      assert.equal(scan.projections.count, SCAN_PRESETS.tiny.angles);
      assert.equal(scan.flats.count, SCAN_PRESETS.tiny.flats);
      assert.equal(scan.darks.count, SCAN_PRESETS.tiny.darks);
      assert.deepEqual(Array.from(scan.angles()), Array.from(a.angles));
    } finally {
      scan.close();
    }
    if (hasPython("h5py", "numpy")) {
      const out = runPython(
        `-c import h5py, json, sys, numpy as np
f = h5py.File(sys.argv[1], "r"); d = f["/entry1/tomo_entry/data/data"]
k = f["/entry1/tomo_entry/instrument/detector/image_key"][()]
g = h5py.File(sys.argv[2], "r")["/entry1/tomo_entry/data/data"]
print(json.dumps({"shape": d.shape, "dtype": str(d.dtype), "chunks": d.chunks, "keys": [int((k == i).sum()) for i in range(3)],
  "sum": int(d[()].astype(np.int64).sum()), "rot": f["/entry1/tomo_entry/data/rotation_angle"].attrs["units"],
  "clean_diff": int((g[()][k == 0] != d[()][k == 0]).sum()), "flat_same": bool((g[()][k != 0] == d[()][k != 0]).all())}))`,
        [`${dir}/a.nxs`, `${dir}/a_clean.nxs`],
      );
      const info = JSON.parse(out);
      assert.deepEqual(info.shape, [F, R, N]);
      assert.equal(info.dtype, "uint16");
      assert.deepEqual(info.chunks, [1, R, N]);
      assert.deepEqual(info.keys, [
        SCAN_PRESETS.tiny.angles,
        SCAN_PRESETS.tiny.flats,
        SCAN_PRESETS.tiny.darks,
      ]);
      assert.equal(info.sum, a.data.reduce((s, v) => s + v, 0));
      assert.equal(info.rot, "degrees");
      assert.ok(info.clean_diff > 0 && info.flat_same);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scan: defects make stripes where they are and nowhere else; the clean scan reconstructs", () => {
  const s = simulateScan({ ...SCAN_PRESETS.test, seed: 4 });
  const [, R, N] = s.shape;
  const A = s.angles.length;
  const vol = normalise(s);
  const clean = normalise(s, s.clean);
  const truth = defectMap(s);
  let inD = 0, nIn = 0, outD = 0, nOut = 0;
  for (let i = 0; i < vol.length; i++) {
    const d = Math.abs(vol[i] - clean[i]);
    if (truth[i]) (inD += d, nIn++);
    else (outD += d, nOut++);
  }
  assert.ok(
    nIn > 0 && inD / nIn > 20 * (outD / nOut + 1e-9),
    `defect ${inD / nIn} vs elsewhere ${outD / nOut}`,
  );
  assert.equal(outD, 0); // the same noise: defect-free pixels are identical
  // a clean sinogram reconstructs to the phantom; values are attenuations (≈ 0.3–1.5 inside)
  const v = 3;
  const sino = new Float32Array(A * N);
  for (let a = 0; a < A; a++) sino.set(clean.subarray((a * R + v) * N, (a * R + v + 1) * N), a * N);
  const mx = sino.reduce((m, x) => Math.max(m, x), 0);
  assert.ok(mx > 0.3 && mx < 3, `max attenuation ${mx}`);
  const rec = fbp(sino, A, N);
  const ph = randomPhantom(N, R, new SimRng(4).fork().nextU32(), 24);
  assert.ok(corr(rec, rasterize(ph, R, N, v)) > 0.85);
});

Deno.test("scan: stripe detection (demo-scaled parameters) finds most simulated defects on the demo scan", async () => {
  const s = simulateScan({ ...SCAN_PRESETS.demo, seed: 1 });
  const [, R, N] = s.shape;
  const A = s.angles.length;
  const vol = normalise(s);
  const w = await stripesDetect(vol, [A, R, N], { size: 60, radius: 3 });
  const m = await stripesMerge(w, [A, R, N], {
    threshold: 0.63,
    minStripeLength: 120,
    minStripeDepth: 10,
    minStripeWidth: 4,
    sensitivityPerc: 85,
  });
  let found = 0;
  for (const d of s.defects) {
    let hit = 0, tot = 0;
    for (let a = d.angles[0]; a < d.angles[1]; a++) {
      for (let r = d.rows[0]; r < d.rows[1]; r++) {
        for (let u = d.cols[0]; u < d.cols[1]; u++) {
          tot++;
          let h = 0;
          for (let du = -2; du <= 2; du++) {
            if (u + du >= 0 && u + du < N && m[(a * R + r) * N + u + du]) h = 1;
          }
          hit += h;
        }
      }
    }
    if (hit / tot > 0.3) found++;
  }
  assert.ok(found >= 0.6 * s.defects.length, `found ${found} of ${s.defects.length}`);
});

Deno.test("simulated stripes: seeded, never empty, inside the sinogram, NoStripesNet's patch and paired presets", () => {
  const A = 64, N = 256;
  const clean = new Float32Array(A * N);
  for (let a = 0; a < A; a++) {
    for (let c = 0; c < N; c++) clean[a * N + c] = 1 + Math.sin(c / 9 + a / 13);
  }
  const r1 = patchStripes(clean, A, N, new SimRng(3));
  const r2 = patchStripes(clean, A, N, new SimRng(3));
  assert.deepEqual(r1.stripe, r2.stripe);
  let lo = Infinity, hi = -Infinity;
  for (const v of clean) (lo = Math.min(lo, v), hi = Math.max(hi, v));
  for (const v of r1.stripe) assert.ok(v >= lo && v <= hi);
  for (let seed = 0; seed < 300; seed++) {
    // narrow sinograms too: the original dropped stripes near the edges
    for (const n of [256, 9]) {
      const sino = clean.subarray(0, A * n).slice();
      const p = { ...PATCH_STRIPES, percentage: n === 9 ? 12 : PATCH_STRIPES.percentage };
      const r = addStripes(sino, A, n, p, new SimRng(seed));
      assert.equal(r.stripes.length, 1);
      const st = r.stripes[0];
      assert.ok(st.col - st.thickness >= 1 && st.col + st.thickness <= n - 1);
      assert.equal(r.mask.reduce((s, x) => s + x, 0), A * (2 * st.thickness + 1));
    }
    const pr = pairedStripes(clean, A, N, new SimRng(seed));
    assert.equal(pr.stripes.length, 2);
    for (const st of pr.stripes) assert.ok(st.angles[1] > st.angles[0] && st.thickness <= 2);
  }
  assert.throws(
    () => addStripes(clean, A, N, { ...PATCH_STRIPES, percentage: 0 }, new SimRng(0)),
    /percentage/,
  );
});
