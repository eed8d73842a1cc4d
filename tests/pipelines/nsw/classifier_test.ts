import assert from "node:assert/strict";
import "../../../lib/tensor/engine.ts";
import {
  classificationMetrics,
  classWeights,
  fid,
  loadClassifier,
  makeImageFolder,
  PHASES,
  predictAll,
  readImageFolder,
  trainClassifier,
  writeEmbryoTree,
} from "../../../lib/pipelines/nsw/mod.ts";

Deno.test("nsw classifier: class weights N/n_c", () => {
  assert.deepEqual([...classWeights([0, 0, 1, 3], 4)], [2, 4, 0, 4]);
});

Deno.test("nsw classifier: learns the synthetic phases; features of every image", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    const t = await writeEmbryoTree(`${tmp}/ex`, {
      videos: 6,
      size: 32,
      seed: 4,
      planes: ["F+00"],
      framesPerPhase: [2, 3],
    });
    const f = await makeImageFolder({
      dataset: `${tmp}/ex`,
      videos: t.videos.map((v) => v.name),
      phases: ["t2", "t4", "t8", "tB"],
      parent: tmp,
      name: "if",
      shuffle: true,
      seed: 0,
    });
    const data = await readImageFolder(f.folder, 32);
    const r = await trainClassifier({
      data,
      epochs: 30,
      batch: 8,
      lr: 3e-3,
      seed: 0,
      out: `${tmp}/cls`,
    });
    const model = await loadClassifier(`${tmp}/cls`);
    const a = await predictAll(model, data.images, 50);
    const b = await predictAll(model, data.images, 7);
    assert.equal(a.features.length, data.images.length * a.dims);
    a.features.forEach((v, i) => assert.ok(Math.abs(v - b.features[i]) < 1e-4));
    const m = classificationMetrics(data.labels, a.probs, 16);
    assert.ok(m.accuracy >= 0.75, `train accuracy ${m.accuracy} (chance 0.25), loss ${r.lastLoss}`);
    assert.equal(m.support[PHASES.indexOf("t2")], 6);
    // FID on the classifier's features: all images count; fewer than the dimension are refused
    const feats = { rows: data.images.length, cols: a.dims, data: a.features };
    assert.throws(() => fid(feats, feats), /FID needs at least 64 images/);
    // a rank-deficient covariance (22 images, 64 features): near 0, not exactly
    const same = fid(feats, feats, { minCount: 2 }).fid;
    assert.ok(Math.abs(same) < 1e-2, `${same}`);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
