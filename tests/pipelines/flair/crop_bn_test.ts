import assert from "node:assert/strict";
import "../../../lib/tensor/engine.ts";
import { cropSample } from "../../../lib/pipelines/flair/crop.ts";
import { reestimateBatchNorm } from "../../../lib/pipelines/flair/bn_stats.ts";
import { BatchNorm2d } from "../../../lib/nn/layers.ts";
import { tensor } from "../../../lib/tensor/tensor.ts";

Deno.test("flair crop: window inside the slice, centred on the mask or the stroke", () => {
  const h = 16, w = 12, A = h * w;
  const x = Float32Array.from({ length: 14 * A }, (_, i) => i);
  const y = new Float32Array(3 * A);
  // mask: one voxel at (2, 3); stroke: one voxel at (13, 10)
  y[2 * w + 3] = 1;
  y[A + 13 * w + 10] = 1;
  const a = cropSample(x, y, h, w, 6, 5, 0);
  assert.deepEqual([a.top, a.left], [0, 0]); // (2, 3) − 3, clamped at 0
  assert.equal(a.x.length, 14 * 36);
  assert.equal(a.y[2 * 6 + 3], 1);
  for (let p = 0; p < 14; p++) {
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        assert.equal(a.x[(p * 6 + i) * 6 + j], p * A + (a.top + i) * w + a.left + j);
      }
    }
  }
  const b = cropSample(x, y, h, w, 6, 5, 1);
  assert.deepEqual([b.top, b.left], [10, 6]); // (13, 10) − 3, clamped to the far edges
  assert.equal(b.y[36 + 3 * 6 + 4], 1);
  assert.deepEqual(cropSample(x, y, h, w, 6, 9, 1), cropSample(x, y, h, w, 6, 9, 1));
  assert.throws(() => cropSample(x, y, h, w, 13, 0), /larger/);
});

Deno.test("flair batch-norm re-estimation: the plain mean of the batches' statistics", async () => {
  const bn = new BatchNorm2d(2);
  const batches = [0, 1, 2].map((k) =>
    Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => Math.sin(i * 1.3 + k) * (k + 1) + k)
  );
  // the running averages after a few ordinary training steps are not what comes out
  bn.train();
  for (const b of batches) bn.forward(tensor(b, [2, 2, 3, 1]));
  const before = bn.numBatchesTracked;
  const n = await reestimateBatchNorm(bn, batches.map((b) => () => tensor(b, [2, 2, 3, 1])));
  assert.equal(n, 1);
  assert.equal(bn.training, false);
  assert.equal(bn.momentum, 0.1);
  assert.equal(bn.numBatchesTracked, before);
  const mean = [0, 0], vr = [0, 0];
  for (const b of batches) {
    for (let c = 0; c < 2; c++) {
      const v: number[] = [];
      for (let s = 0; s < 2; s++) for (let q = 0; q < 3; q++) v.push(b[(s * 2 + c) * 3 + q]);
      const m = v.reduce((p, t) => p + t, 0) / v.length;
      mean[c] += m / 3;
      vr[c] += v.reduce((p, t) => p + (t - m) ** 2, 0) / (v.length - 1) / 3;
    }
  }
  const rm = await bn.runningMean!.data(), rv = await bn.runningVar!.data();
  for (let c = 0; c < 2; c++) {
    assert.ok(Math.abs(rm[c] - mean[c]) < 1e-5, `mean ${rm[c]} vs ${mean[c]}`);
    assert.ok(Math.abs(rv[c] - vr[c]) < 1e-5, `var ${rv[c]} vs ${vr[c]}`);
  }
});

Deno.test("flair train on crops with batch-norm re-estimation: 2 epochs = 1 + resume", async () => {
  const { writeSyntheticPatient } = await import("../../../lib/pipelines/flair/synth.ts");
  const { prepareDataset } = await import("../../../lib/pipelines/flair/prepare.ts");
  const { trainFold } = await import("../../../lib/pipelines/flair/train.ts");
  const { initEngine, closeEngine } = await import("../../../lib/tensor/engine.ts");
  const tmp = await Deno.makeTempDir({ prefix: "flair_crop_" });
  for (let i = 0; i < 3; i++) {
    await writeSyntheticPatient(`${tmp}/in/P${i}`, { shape: [96, 80, 4], seed: i + 1 });
  }
  await prepareDataset(`${tmp}/in`, `${tmp}/prep`, { kfolds: 3, valid: 0, seed: 0 });
  await initEngine({ backend: "wasm", threads: 1 });
  try {
    const o = (saveDir: string, epochs: number, resume = false) => ({
      data: `${tmp}/prep`,
      kfold: 0,
      name: "C",
      saveDir,
      preset: "tiny" as const,
      epochs,
      epochSlices: 4,
      batchSize: 2,
      crop: 32,
      strokeBias: 0.5,
      bnBatches: 1,
      validMax: 2,
      resume,
    });
    const a = await trainFold(o(`${tmp}/a`, 2));
    assert.equal(a.history.length, 2);
    assert.ok(a.history.every((h) => Number.isFinite(h.val_loss)));
    await trainFold(o(`${tmp}/b`, 1));
    await trainFold(o(`${tmp}/b`, 2, true));
    for (const f of ["ckpt_2.safetensors", "ckpt_2.optim.safetensors"]) {
      assert.deepEqual(
        await Deno.readFile(`${tmp}/a/C-k0.run/${f}`),
        await Deno.readFile(`${tmp}/b/C-k0.run/${f}`),
        f,
      );
    }
  } finally {
    closeEngine();
  }
});

Deno.test("flair batch-norm statistics on training-like crops: same weights, own statistics, seeded", async () => {
  const { writeSyntheticPatient } = await import("../../../lib/pipelines/flair/synth.ts");
  const { prepareDataset } = await import("../../../lib/pipelines/flair/prepare.ts");
  const { trainFold } = await import("../../../lib/pipelines/flair/train.ts");
  const { readSafetensors } = await import("../../../lib/nn/safetensors.ts");
  const { initEngine, closeEngine } = await import("../../../lib/tensor/engine.ts");
  const tmp = await Deno.makeTempDir({ prefix: "flair_bn_on_" });
  for (let i = 0; i < 3; i++) {
    await writeSyntheticPatient(`${tmp}/in/P${i}`, { shape: [96, 80, 4], seed: i + 1 });
  }
  await prepareDataset(`${tmp}/in`, `${tmp}/prep`, { kfolds: 3, valid: 0, seed: 0 });
  await initEngine({ backend: "wasm", threads: 1 });
  try {
    const run = async (dir: string, bnOn: "slices" | "crops") => {
      await trainFold({
        data: `${tmp}/prep`,
        kfold: 0,
        name: "C",
        saveDir: `${tmp}/${dir}`,
        preset: "tiny",
        epochs: 1,
        epochSlices: 4,
        batchSize: 2,
        crop: 32,
        strokeBias: 0.5,
        bnBatches: 2,
        bnOn,
        validMax: 2,
      });
      const base = `${tmp}/${dir}/C-k0.run/ckpt_1`;
      const extra = JSON.parse(await Deno.readTextFile(`${base}.json`)).extra;
      return { st: (await readSafetensors(`${base}.safetensors`)).tensors, extra };
    };
    const s = await run("s", "slices"), c = await run("c", "crops"), c2 = await run("c2", "crops");
    assert.equal(s.extra.bnOn, "slices");
    assert.equal(c.extra.bnOn, "crops");
    let stats = 0, differ = 0;
    for (const [name, t] of s.st) {
      const u = c.st.get(name)!;
      assert.deepEqual(c2.st.get(name)!.data, u.data, `${name}: seeded`);
      if (/running_(mean|var)$/.test(name)) {
        stats++;
        if (t.data.some((v, i) => v !== u.data[i])) differ++;
      } else if (!/num_batches_tracked$/.test(name)) {
        assert.deepEqual(u.data, t.data, `${name}: training is the same`);
      }
    }
    assert.ok(stats > 0 && differ === stats, `${differ} of ${stats} statistics differ`);
  } finally {
    closeEngine();
  }
});
