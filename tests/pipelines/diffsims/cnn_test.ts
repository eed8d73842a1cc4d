import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { mkdirSync } from "node:fs";
import { buildCnn, cnnFeatureLength } from "../../../lib/pipelines/diffsims/cnn.ts";
import { crossEntropy } from "../../../lib/nn/losses.ts";
import { tensor } from "../../../lib/tensor/tensor.ts";
import { SimRng } from "../../../lib/data/rng.ts";
import { hasPython } from "../../_helpers.ts";
import { initEngine } from "../../../lib/tensor/engine.ts";

await initEngine({ threads: 1 });

const OUT = "tests/fixtures/out/diffsims_cnn";

Deno.test("CNN shapes follow the original's layers", () => {
  assertEquals(cnnFeatureLength(147), 14);
  const net = buildCnn(3);
  assertEquals(
    net.numParameters(),
    64 * 6 + 64 + 2 * (64 * 64 * 6 + 64) + 896 * 128 + 128 + 128 * 3 + 3,
  );
});

Deno.test({
  name: "CNN forward, loss and gradients equal the reference (torch, else numpy forward)",
  ignore: !hasPython("numpy"),
  fn: async () => {
    mkdirSync(OUT, { recursive: true });
    const n = 5, len = 147;
    const net = buildCnn(3, len, 7).eval();
    const rng = new SimRng(1);
    const x = Float32Array.from({ length: n * len }, () => rng.uniform());
    const y = [0, 2, 1, 1, 0];
    const logits = net.forward(tensor(x, [n, 1, len]));
    const loss = crossEntropy(logits, tensor(Int32Array.from(y), [n], { dtype: "int32" }));
    net.zeroGrad();
    loss.backward();
    const params: Record<string, { shape: number[]; data: number[] }> = {};
    for (const [k, p] of net.namedParameters()) {
      params[k] = { shape: [...p.shape], data: [...await p.data()] };
    }
    Deno.writeTextFileSync(`${OUT}/in.json`, JSON.stringify({ params, x: [...x], n, len, y }));
    const r = await new Deno.Command("/usr/bin/python3", {
      args: ["tests/fixtures/diffsims/cnn_ref.py", `${OUT}/in.json`, `${OUT}/out.json`],
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    const ref = JSON.parse(Deno.readTextFileSync(`${OUT}/out.json`));
    const lg = await logits.data();
    const scale = Math.max(...ref.logits.map(Math.abs));
    for (let i = 0; i < lg.length; i++) {
      assert(Math.abs(lg[i] - ref.logits[i]) <= 1e-4 * scale, `logit ${i}`);
    }
    assert(Math.abs((await loss.data())[0] - ref.loss) < 1e-5);
    if (ref.grads === null) {
      console.warn("torch absent: gradients checked against numpy finite differences");
      for (const [k, p] of net.namedParameters()) {
        const fd = ref.fd[k] as Record<string, number> | undefined;
        if (!fd) continue;
        const g = await p.grad!.data();
        for (const [i, want] of Object.entries(fd)) {
          assert(Math.abs(g[Number(i)] - want) <= 2e-3 * Math.abs(want) + 1e-5, `${k}[${i}]`);
        }
      }
      return;
    }
    for (const [k, p] of net.namedParameters()) {
      const g = await p.grad!.data(), want = ref.grads[k] as number[];
      const s = Math.max(1e-8, ...want.map(Math.abs));
      for (let i = 0; i < g.length; i++) assert(Math.abs(g[i] - want[i]) <= 1e-4 * s, `${k}[${i}]`);
    }
  },
});
