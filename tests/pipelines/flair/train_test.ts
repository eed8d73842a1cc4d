import assert from "node:assert/strict";
import { hasPython, pyFixture, runTool } from "../../_helpers.ts";
import { prepareDataset } from "../../../lib/pipelines/flair/prepare.ts";
import { epochBatches } from "../../../lib/pipelines/flair/train.ts";
import { augmentSample, drawAugment } from "../../../lib/pipelines/flair/augment.ts";
import { cohenKappa, rocAuc, sliceClass } from "../../../lib/pipelines/flair/metrics.ts";

const noPy = !hasPython("numpy", "scipy", "skimage", "nibabel");
const PERMS = ["--allow-read", "--allow-write=/tmp", "--allow-env=INIT_CWD"];

Deno.test("flair: epoch order, augmentation and metrics", () => {
  const b = epochBatches([1, 2, 3, 4, 5], 2, 7, 3);
  assert.deepEqual(b, epochBatches([1, 2, 3, 4, 5], 2, 7, 3));
  assert.deepEqual(b.flat().sort(), [1, 2, 3, 4, 5]);
  assert.equal(epochBatches([1, 2, 3], 4, 0, 0, 10).flat().length, 10);
  const p = drawAugment(3);
  assert.ok(Math.abs(p.contrast) <= 0.15 && Math.abs(p.brightness) <= 0.15);
  // a flip-only, z-reversal-only sample keeps every value (targets stay 0/1)
  const x = Float32Array.from({ length: 2 * 7 * 16 }, (_, i) => i), y = new Float32Array(3 * 16);
  y[5] = 1;
  augmentSample(x, y, 4, 4, 3);
  assert.ok(y.every((v) => v === 0 || v === 1));
  assert.equal(sliceClass(10, 0), 0);
  assert.equal(sliceClass(100, 10), 1);
  assert.equal(sliceClass(100, 30), 3);
  assert.equal(sliceClass(1000, 30), 2);
  assert.equal(cohenKappa([0, 1, 2, 3], [0, 1, 2, 3], 4), 1);
  assert.ok(Math.abs(cohenKappa([0, 0, 1, 1], [0, 1, 0, 1], 2)) < 1e-12);
  assert.equal(rocAuc([1, 2, 3, 4], [false, false, true, true]), 1);
  assert.equal(rocAuc([1, 1], [false, true]), 0.5);
});

Deno.test({
  name: "flair train: tiny preset trains, checkpoints on improvement, resumes exactly",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("flair/prepare");
    const tmp = await Deno.makeTempDir({ prefix: "flair_train_" });
    await prepareDataset(`${fx}/input`, `${tmp}/prep`, { kfolds: 3, valid: 0, seed: 0 });
    const args = (save: string, e: number, extra: string[] = []) => [
      "--data",
      `${tmp}/prep`,
      "--kfold",
      "1",
      "-n",
      "T",
      "-e",
      String(e),
      "--preset",
      "tiny",
      "-b",
      "4",
      "--save-dir",
      save,
      "--threads",
      "1",
      "-q",
      ...extra,
    ];
    const a = await runTool("flair/train", PERMS, args(`${tmp}/a`, 2));
    assert.equal(a.code, 0, a.stderr);
    const b1 = await runTool("flair/train", PERMS, args(`${tmp}/b`, 1));
    assert.equal(b1.code, 0, b1.stderr);
    const b2 = await runTool("flair/train", PERMS, args(`${tmp}/b`, 2, ["--resume"]));
    assert.equal(b2.code, 0, b2.stderr);
    for (const f of ["ckpt_2.safetensors", "ckpt_2.optim.safetensors"]) {
      assert.deepEqual(
        await Deno.readFile(`${tmp}/a/T-k1.run/${f}`),
        await Deno.readFile(`${tmp}/b/T-k1.run/${f}`),
        f,
      );
    }
    const best = JSON.parse(await Deno.readTextFile(`${tmp}/a/T-k1.best.json`));
    assert.equal(best.preset, "tiny");
    assert.ok(best.best.diceMean.path.endsWith("T-k1-epoch1") || best.best.diceMean.epoch === 2);
    const log = (await Deno.readTextFile(`${tmp}/b/T-k1.run/log.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l)).filter((r) => r.event === "metrics");
    assert.deepEqual(log.map((r) => r.epoch), [1, 2]);
    for (const k of ["mask", "stroke", "visible"]) assert.ok(k in log[0].metrics.dice);
    const html = await Deno.readTextFile(`${tmp}/b/T-k1.run/report.html`);
    assert.match(html, /Dice stroke/);
  },
});
