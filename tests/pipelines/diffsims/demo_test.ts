import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { runDemo } from "../../../tools/diffsims/_demo.ts";
import { main as predict } from "../../../tools/diffsims/predict.ts";
import { main as evaluate } from "../../../tools/diffsims/evaluate.ts";
import { readNpzStrings } from "../../../lib/pipelines/diffsims/npz_text.ts";
import { readNpzArray, writeNpz } from "../../../lib/io/npz.ts";
import { ndarray } from "../../../lib/io/array.ts";
import { hasPython } from "../../_helpers.ts";

const OUT = "/tmp/lumen_diffsims_demo";

Deno.test("demo end to end: ≥95 % held-out accuracy, ≥90 % of the map recovered; bad input", async () => {
  rmSync(OUT, { recursive: true, force: true });
  const r = await runDemo(OUT, { quiet: true, seed: 0, threads: 2 });
  assert(existsSync(r.index));
  const acc = Number(/accuracy ([\d.]+) %/.exec(r.summary.join("\n"))![1]);
  const rec = Number(/recovered on ([\d.]+) %/.exec(r.summary.join("\n"))![1]);
  assert(acc >= 95, r.summary.join("\n"));
  assert(rec >= 90, r.summary.join("\n"));
  const pred = `${OUT}/experimental/demo_map_probability_pred.npz`;
  assertEquals((await readNpzArray(pred, "pred")).shape, [12, 18, 3]);
  assertEquals(readNpzStrings(pred, "phases"), ["pb", "cspbbr3", "pbi2"]);
  assert(/^[0-9a-f-]{36}$/.test(readNpzStrings(pred, "cnn_id")[0]));
  const ev = JSON.parse(Deno.readTextFileSync(`${OUT}/experimental/demo_map_evaluation.json`));
  assertEquals(ev.phases.length, 3);
  assert(ev.mean_error > 0 && ev.mean_error < 0.05, String(ev.mean_error));
  assert(Deno.readTextFileSync(`${OUT}/experimental/demo_map_evaluation.csv`).includes(",mean,"));
  if (hasPython("numpy")) {
    const o = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import numpy as np,sys; z=np.load(sys.argv[1]); print(z['pred'].shape, list(z['phases']), str(z['cnn_id'][0])[:8])",
        pred,
      ],
    }).output();
    const s = new TextDecoder().decode(o.stdout);
    assert(
      s.includes("(12, 18, 3)") && s.includes("'cspbbr3'"),
      s + new TextDecoder().decode(o.stderr),
    );
  }
  // bad input: an experimental npz of the wrong shape
  const model = `${OUT}/cnn_models/${[...Deno.readDirSync(`${OUT}/cnn_models`)][0].name}`;
  await writeNpz(`${OUT}/bad.npz`, {
    x: ndarray(new Float64Array(100), [100]),
    y: ndarray(new Float32Array(2 * 2 * 100), [2, 2, 100]),
  }, { overwrite: true });
  await rejects(
    predict(["--model", model, `${OUT}/bad.npz`, "--quiet"]),
    /bad.npz: x: shape \(100\), expected \(147,\)/,
  );
  // a prediction whose phases are not in the CIF folder
  rmSync(`${OUT}/cifs2`, { recursive: true, force: true });
  Deno.mkdirSync(`${OUT}/cifs2`);
  copyFileSync(`${OUT}/models/crystal_phases/pb.cif`, `${OUT}/cifs2/pb.cif`);
  await rejects(
    evaluate(["--pred", pred, "--exp-dir", `${OUT}/experimental`, "--cif-dir", `${OUT}/cifs2`]),
    /phase 'cspbbr3' has no .*cspbbr3.cif in --cif-dir/,
  );
});
