import assert from "node:assert/strict";
import "../../../lib/tensor/engine.ts";
import { hasPython, pyFixture, runPython, runTool } from "../../_helpers.ts";
import { saveCheckpoint } from "../../../lib/nn/checkpoint.ts";
import { InitRng, normal } from "../../../lib/nn/init.ts";
import {
  FlairUNet,
  loadFlairNet,
  onnxParity,
  prepareDataset,
} from "../../../lib/pipelines/flair/mod.ts";

const noPy = !hasPython("numpy", "scipy", "skimage", "nibabel", "onnx");
const PERMS = ["--allow-read", "--allow-write=/tmp", "--allow-env=INIT_CWD"];

/** Fold checkpoints as training writes them, with non-trivial batch-norm statistics. */
async function fakeRun(dir: string, folds: number): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let k = 0; k < folds; k++) {
    const net = new FlairUNet({ preset: "tiny", rng: new InitRng(k + 1) });
    const sd = await net.stateDict();
    const r = new InitRng(100 + k);
    for (const [n, a] of sd) {
      const d = a.data as Float32Array;
      if (n.endsWith("running_var")) d.set(normal(a.shape, r, 1, 0.1).map(Math.abs));
      if (n.endsWith("running_mean")) d.set(normal(a.shape, r, 0, 0.1));
    }
    net.loadStateDict(sd);
    await saveCheckpoint(`${dir}/T-k${k}-epoch3`, { modules: { net }, epoch: 3 });
    const best = { visDice: { value: 0.5, epoch: 3, path: `${dir}/T-k${k}-epoch3` } };
    await Deno.writeTextFile(`${dir}/T-k${k}.best.json`, JSON.stringify({ best }));
  }
}

Deno.test({
  name: "flair export: one ONNX per fold, onnx.checker clean, ORT = engine to 1e-4",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("flair/prepare");
    const tmp = await Deno.makeTempDir({ prefix: "flair_export_" });
    await prepareDataset(`${fx}/input`, `${tmp}/prep`, { kfolds: 3, valid: 0, seed: 0 });
    await fakeRun(`${tmp}/sm`, 3);
    const r = await runTool("flair/export", PERMS, [
      "--data",
      `${tmp}/prep`,
      "-n",
      "T",
      "--models",
      `${tmp}/sm`,
      "--out",
      `${tmp}/onnx`,
      "--threads",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split("\n").length, 3);
    for (let k = 1; k <= 3; k++) {
      const info = runPython(
        "-c import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); " +
          "i=m.graph.input[0]; o=m.graph.output[0]; " +
          "print(i.name, o.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim], " +
          "[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim])",
        [`${tmp}/onnx/model${k}.onnx`],
      ).trim();
      assert.equal(
        info,
        "modelInput modelOutput ['N', 2, 7, 256, 256] ['N', 3, 256, 256]",
        `model${k}`,
      );
    }
    // dynamic batch: three random stacks at once
    const net = await loadFlairNet(`${tmp}/sm/T-k1-epoch3`);
    const x = normal([3, 2, 7, 256, 256], new InitRng(9));
    const d = await onnxParity(`${tmp}/onnx/model2.onnx`, net, x, 3);
    assert.ok(d <= 1e-4, `ORT − engine ${d}`);
    // a fold that was not trained: one line naming the file
    await Deno.remove(`${tmp}/sm/T-k2.best.json`);
    const bad = await runTool("flair/export", PERMS, [
      "--data",
      `${tmp}/prep`,
      "-n",
      "T",
      "--models",
      `${tmp}/sm`,
      "--out",
      `${tmp}/onnx2`,
      "--no-verify",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /T-k2\.best\.json: missing: fold 2 of run T was not trained/);
  },
});
