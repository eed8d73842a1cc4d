import assert from "node:assert/strict";
import "../../../lib/tensor/engine.ts";
import { hasPython, pyFixture, runPython, runTool } from "../../_helpers.ts";
import {
  dice,
  ensemble,
  groundTruth,
  loadPatient,
  nativeMaps,
  postprocess,
  prepareDataset,
  PreparedDataset,
  SLICE,
  volumesOf,
} from "../../../lib/pipelines/flair/mod.ts";

const noPy = !hasPython("numpy", "scipy", "skimage", "nibabel", "onnx");
const PERMS = ["--allow-read", "--allow-write=/tmp", "--allow-env=INIT_CWD"];

Deno.test({
  name: "flair infer: perfect 256×256 logits come back on the native grid with the true mL",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("flair/prepare");
    const tmp = await Deno.makeTempDir({ prefix: "flair_infer_" });
    await prepareDataset(`${fx}/input`, `${tmp}/prep`, { kfolds: 3, valid: 0, seed: 0 });
    const ds = PreparedDataset.open(`${tmp}/prep`);
    const A = SLICE * SLICE;
    for (const g of ds.patients) {
      // logits ±10 from the prepared targets: a model that is right on the model's grid
      const logits = new Float32Array(g.slices * 3 * A);
      for (let z = 0; z < g.slices; z++) {
        const t = ds.target(g.first + z);
        for (let i = 0; i < 3 * A; i++) logits[z * 3 * A + i] = t[i] > 0.5 ? 10 : -10;
      }
      const p = await loadPatient(g.dir);
      const seg = postprocess(
        nativeMaps(logits, g.slices, p.shape[0], p.shape[1], g.scaling),
        p.shape,
      );
      const gt = groundTruth(p), v = volumesOf(seg, p.voxelMl), w = volumesOf(gt, p.voxelMl);
      const ds_ = dice(seg.stroke, gt.stroke), dv = dice(seg.visible, gt.visible);
      assert.ok(ds_ > 0.95 && dv > 0.93, `${g.name}: Dice stroke ${ds_}, visible ${dv}`);
      assert.ok(Math.abs(v.visibleMl / w.visibleMl - 1) < 0.05, `${g.name}: ${v.visibleMl} mL`);
      assert.ok(Math.abs(v.strokeMl / w.strokeMl - 1) < 0.05, `${g.name}: ${v.strokeMl} mL`);
      // three identical models: the ensemble is that model, the mean visible volume too
      const e = ensemble([seg, seg, seg]);
      assert.deepEqual(e.seg.stroke, seg.stroke);
      assert.equal(e.visibleVoxMean, v.visibleVox);
      assert.ok(e.visibleVotes.every((x, i) => x === (seg.visible[i] ? 3 : 0)));
    }
    ds.close();
  },
});

Deno.test({
  name: "flair infer: heatmap and predictions on the input grid (128×96, 256×256, 320×320)",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("flair/prepare");
    const tmp = await Deno.makeTempDir({ prefix: "flair_infer_tool_" });
    await prepareDataset(`${fx}/input`, `${tmp}/prep`, { kfolds: 3, valid: 0, seed: 0 });
    // fold models: the export test's way (tiny, untrained) is enough for geometry
    const { saveCheckpoint } = await import("../../../lib/nn/checkpoint.ts");
    const { FlairUNet } = await import("../../../lib/pipelines/flair/model.ts");
    const { InitRng } = await import("../../../lib/nn/init.ts");
    await Deno.mkdir(`${tmp}/sm`);
    for (let k = 0; k < 3; k++) {
      const net = new FlairUNet({ preset: "tiny", rng: new InitRng(k) });
      await saveCheckpoint(`${tmp}/sm/T-k${k}-epoch1`, { modules: { net } });
      const best = { visDice: { value: 0, epoch: 1, path: `T-k${k}-epoch1` } };
      await Deno.writeTextFile(`${tmp}/sm/T-k${k}.best.json`, JSON.stringify({ best }));
    }
    const ex = await runTool("flair/export", PERMS, [
      "--data",
      `${tmp}/prep`,
      "-n",
      "T",
      "--models",
      `${tmp}/sm`,
      "--out",
      `${tmp}/onnx`,
      "--no-verify",
      "-q",
    ]);
    assert.equal(ex.code, 0, ex.stderr);
    const oof = await runTool("flair/infer", PERMS, [
      "--data",
      `${tmp}/prep`,
      "--models",
      `${tmp}/onnx`,
      "--out",
      `${tmp}/res`,
      "-q",
    ]);
    assert.equal(oof.code, 0, oof.stderr);
    const csv = (await Deno.readTextFile(`${tmp}/res/test_inference.csv`)).trim().split("\n");
    assert.equal(csv.length, 4);
    assert.match(csv[0], /^patient,fold,mask_vox,mask_ml,stroke_vox,stroke_ml,visible_vox/);
    const one = await runTool("flair/infer", PERMS, [
      "--patient",
      `${fx}/input/P3`,
      "--models",
      `${tmp}/onnx`,
      "--out",
      `${tmp}/new`,
      "-q",
    ]);
    assert.equal(one.code, 0, one.stderr);
    const check = `
import sys, json, numpy as np, nibabel as nib
out = {}
for p, f in [(a.split("=")[0], a.split("=")[1]) for a in sys.argv[1:]]:
    ref, img = nib.load(p), nib.load(f)
    out[f] = [list(img.shape) == list(ref.shape) + [3], bool(np.allclose(img.affine, ref.affine, atol=1e-5)),
              img.header.get_xyzt_units() == ref.header.get_xyzt_units(), str(img.get_data_dtype())]
print(json.dumps(out))
`;
    const pairs = ["P1", "P2", "P3"].flatMap((p) =>
      ["heatmap", "predictions"].map((n) =>
        `${fx}/input/${p}/b0.nii.gz=${tmp}/res/${p}/${n}.nii.gz`
      )
    );
    pairs.push(`${fx}/input/P3/b0.nii.gz=${tmp}/new/heatmap.nii.gz`);
    const r = JSON.parse(runPython(`-c ${check}`, pairs));
    for (const [f, v] of Object.entries(r)) assert.deepEqual(v, [true, true, true, "uint8"], f);
    const png = await Deno.readFile(`${tmp}/new/key_slices.png`);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
    assert.match(await Deno.readTextFile(`${tmp}/new/results.csv`), /^patient,models,mask_ml/);
  },
});
