import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { readNpy } from "../../../lib/io/npy.ts";
import {
  binaryDilation,
  brainMask,
  fillHoles,
  kfoldSplit,
  labelComponents,
  largestComponent,
  medianFilter3,
  otsuThreshold,
  padCropCentre,
  zscoreInMask,
} from "../../../lib/pipelines/flair/mod.ts";

const noPy = !hasPython("numpy", "scipy", "skimage");
if (noPy) console.log("flair morphology: python3 with numpy/scipy/skimage missing; skipped");

Deno.test({
  name: "flair: Otsu, largest component, dilation, hole filling equal skimage/scipy",
  ignore: noPy,
  fn: async () => {
    const dir = await pyFixture("flair/morphology");
    const vol = await readNpy(`${dir}/vol.npy`);
    const shape = vol.shape;
    const [tStr, nStr] = (await Deno.readTextFile(`${dir}/meta.txt`)).trim().split(" ");
    const t = otsuThreshold(vol.data as Float64Array);
    assert.ok(Math.abs(t - Number(tStr)) < 1e-9, `otsu ${t} vs ${tStr}`);
    const m = Uint8Array.from(vol.data as Float64Array, (v) => (v > t ? 1 : 0));
    assert.deepEqual(m, (await readNpy(`${dir}/mask.npy`)).data);
    assert.equal(labelComponents(m, shape).count, Number(nStr));
    const lc = largestComponent(m, shape);
    assert.deepEqual(lc, (await readNpy(`${dir}/largest.npy`)).data);
    const dil = binaryDilation(lc, shape);
    assert.deepEqual(dil, (await readNpy(`${dir}/dilated.npy`)).data);
    const med = medianFilter3(vol.data as Float64Array, shape);
    assert.deepEqual(med, (await readNpy(`${dir}/median.npy`)).data);
    const bm = brainMask(vol.data as Float64Array, vol.data as Float64Array, shape);
    assert.ok(bm.reduce((a, b) => a + b, 0) > 0);
    assert.deepEqual(fillHoles(dil, shape), (await readNpy(`${dir}/filled.npy`)).data);
  },
});

Deno.test("flair: k-fold split is seeded, disjoint and complete", () => {
  const pts = Array.from({ length: 23 }, (_, i) => `P${i}`);
  const a = kfoldSplit(pts, 10, 0.2, 0);
  assert.deepEqual(a, kfoldSplit(pts, 10, 0.2, 0));
  assert.notDeepEqual(a, kfoldSplit(pts, 10, 0.2, 1));
  assert.equal(new Set(a.map((x) => x.patient)).size, 23);
  const sizes = Array.from({ length: 10 }, (_, f) => a.filter((x) => x.fold === f).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
  assert.throws(() => kfoldSplit(pts.slice(0, 3), 10, 0.2, 0), /larger than the number/);
});

Deno.test("flair: centre pad/crop and z-score in mask", () => {
  const src = Float32Array.from({ length: 12 }, (_, i) => i); // 3×4
  const p = padCropCentre(src, 3, 4, 5, 2, -1); // pad rows 1 top 1 bottom, crop cols 1..2
  assert.deepEqual(Array.from(p), [-1, -1, 1, 2, 5, 6, 9, 10, -1, -1]);
  const z = zscoreInMask([1, 3, 9, 1000], [1, 1, 0, 0], 10);
  assert.deepEqual(Array.from(z), [-1, 1, 0, 0]);
  const big = zscoreInMask([...new Array(200).fill(0), 1000], new Array(201).fill(1));
  assert.equal(big[200], 10);
});
