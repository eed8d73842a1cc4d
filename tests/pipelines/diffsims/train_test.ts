import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";
import { main as simulate } from "../../../tools/diffsims/simulate.ts";
import { train } from "../../../tools/diffsims/train.ts";
import { parseFlags } from "../../../lib/run/flags.ts";
import { meta as trainMeta } from "../../../tools/diffsims/train.ts";
import { loadCnn, precisionRecall } from "../../../lib/pipelines/diffsims/train_cnn.ts";
import { predictProba } from "../../../lib/pipelines/diffsims/cnn.ts";
import { readLog } from "../../../lib/run/log.ts";
import { hasPython } from "../../_helpers.ts";
import { OnnxInference } from "../../../lib/nn/onnx_runtime.ts";
import { tensor } from "../../../lib/tensor/tensor.ts";

const DIR = "/tmp/lumen_diffsims_train";

Deno.test("precision and recall from a confusion matrix", () => {
  const r = precisionRecall([[3, 1], [0, 2]]);
  assertEquals(r.precision, [1, 2 / 3]);
  assertEquals(r.recall, [0.75, 1]);
});

Deno.test("diffsims-train: model folder, cnn_id, resume, ONNX equals the engine", async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  for (const [k, v] of Object.entries(DEMO_CIFS)) writeFileSync(`${DIR}/${k}.cif`, v);
  writeFileSync(
    `${DIR}/space.yaml`,
    "sim_params:\n  random_seed: 4\n  structure_parameters:\n    phase_files_location_from_root: '.'\n" +
      "    phase_files: ['pb.cif', 'pbi2.cif']\n  orientations_parameters:\n    n_points: 40\n",
  );
  await simulate(["--config", `${DIR}/space.yaml`, "--out", `${DIR}/sims`, "--quiet"]);
  const args = ["--sim", `${DIR}/sims`, "--epochs", "1", "--out", `${DIR}/models`, "--quiet"];
  const r = await train(parseFlags(trainMeta, args));
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/.test(r.cnnId), r.cnnId);
  for (const f of ["model.json", "model.onnx", "report.html", "train.log.jsonl", "ckpt_1.json"]) {
    assert(existsSync(`${r.dir}/${f}`), f);
  }
  const info = JSON.parse(Deno.readTextFileSync(`${r.dir}/model.json`));
  assertEquals(info.phases, ["pb", "pbi2"]);
  assertEquals(info.sim_ids.length, 1);
  assert(info.sim_ids[0].startsWith("sim-"));
  assertEquals(info.confusion.flat().reduce((a: number, b: number) => a + b, 0), 20);
  // resume: a second epoch continues the same run
  const r2 = await train(
    parseFlags(trainMeta, [...args.slice(0, 2), "--epochs", "2", "--resume", r.dir, "--quiet"]),
  );
  assertEquals(r2.cnnId, r.cnnId);
  const log = await readLog(`${r.dir}/train.log.jsonl`);
  assert(log.some((l) => l.event === "resume"));
  assert(existsSync(`${r.dir}/ckpt_2.json`));
  // reload
  const { net } = await loadCnn(r.dir);
  const x = new Float32Array(3 * 147).map((_, i) => (i % 147) / 147);
  const p = predictProba(net, x, 3);
  assert(Math.abs(p[0] + p[1] - 1) < 1e-5);
  if (hasPython("onnx", "onnxruntime", "numpy")) {
    Deno.writeTextFileSync(`${DIR}/x.json`, JSON.stringify([...x]));
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import onnx,onnxruntime as ort,numpy as np,json,sys\n" +
        "m=onnx.load(sys.argv[1]); onnx.checker.check_model(m)\n" +
        "x=np.array(json.load(open(sys.argv[2])),np.float32).reshape(3,1,147)\n" +
        "s=ort.InferenceSession(sys.argv[1]); print(json.dumps(s.run(None,{s.get_inputs()[0].name:x})[0].ravel().tolist()))",
        `${r.dir}/model.onnx`,
        `${DIR}/x.json`,
      ],
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    const logits = JSON.parse(new TextDecoder().decode(out.stdout)) as number[];
    for (let i = 0; i < 3; i++) {
      const e0 = Math.exp(logits[2 * i]), e1 = Math.exp(logits[2 * i + 1]);
      assert(Math.abs(p[2 * i] - e0 / (e0 + e1)) < 1e-4);
    }
  } else console.warn("skip: onnx.checker (python3 onnx/onnxruntime absent)");
  // onnxruntime-web on the exported graph equals the engine's logits
  const s = await OnnxInference.create(`${r.dir}/model.onnx`, { threads: 1 });
  const o = await s.run1({ dtype: "float32", shape: [3, 1, 147], data: x });
  await s.release();
  const want = net.eval().forward(tensor(x, [3, 1, 147])).dataSync();
  for (let i = 0; i < want.length; i++) {
    assert(Math.abs((o.data as Float32Array)[i] - want[i]) < 1e-4, `onnx logit ${i}`);
  }
});
