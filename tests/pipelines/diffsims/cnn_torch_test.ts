/**
 * diffsims XL's 1D CNN against PyTorch 1.13 with torch's own layers
 * (tests/fixtures/diffsims/cnn_torch.py): the same torch-initialised weights and batch are
 * loaded into the engine's net; logits (≤ 1e-4 of their largest magnitude), loss, every
 * parameter gradient (≤ 1e-3 of that tensor's largest magnitude) and the logits after one Adam
 * step equal torch's float64 results. Skips where /usr/bin/python3 lacks torch.
 */
import { ok as assert } from "node:assert";
import { buildCnn } from "../../../lib/pipelines/diffsims/cnn.ts";
import { crossEntropy } from "../../../lib/nn/losses.ts";
import { Adam } from "../../../lib/optim/adam.ts";
import { noGrad, tensor } from "../../../lib/tensor/tensor.ts";
import { readNpz } from "../../../lib/io/npz.ts";
import type { NdArray } from "../../../lib/io/array.ts";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { initEngine } from "../../../lib/tensor/engine.ts";

await initEngine({ threads: 1 });

/** Largest |a − b| over the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 1e-30;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

Deno.test({
  name: "CNN forward, loss, every gradient and one Adam step equal PyTorch's layers",
  ignore: !hasPython("numpy", "torch"),
  fn: async () => {
    const dir = await pyFixture("diffsims/cnn_torch");
    const npz = await readNpz(`${dir}/cnn_torch.npz`);
    const get = (k: string): NdArray => {
      const a = npz.get(k);
      assert(a, `cnn_torch.npz lacks ${k}`);
      return a;
    };
    const num = (k: string): Float64Array => Float64Array.from(get(k).data as ArrayLike<number>);
    const net = buildCnn(3, 147, 1);
    const sd = new Map<string, NdArray>();
    for (const [k, v] of npz) if (k.startsWith("w/")) sd.set(k.slice(2), v);
    net.loadStateDict(sd, { source: "cnn_torch.npz" });
    net.eval();
    const x = get("x"), y = get("y");
    const n = x.shape[0];
    const xt = tensor(Float32Array.from(x.data as Float32Array), [n, 1, 147]);
    const yt = tensor(Int32Array.from(y.data as Int32Array), [n], { dtype: "int32" });
    const logits = net.forward(xt);
    const loss = crossEntropy(logits, yt);
    net.zeroGrad();
    loss.backward();
    const e = relErr(await logits.data(), num("logits"));
    assert(e <= 1e-4, `logits: relative error ${e}`);
    const want = num("loss")[0];
    const el = Math.abs((await loss.data())[0] - want) / Math.abs(want);
    assert(el <= 1e-4, `loss: relative error ${el}`);
    const errs: string[] = [];
    let worst = 0;
    for (const [k, p] of net.namedParameters()) {
      const eg = relErr(await p.grad!.data(), num(`g/${k}`));
      worst = Math.max(worst, eg);
      if (eg > 1e-3) errs.push(`${k}: ${eg}`);
    }
    assert(errs.length === 0, `gradients off: ${errs.join(", ")}`);
    assert(net.namedParameters().length === 10);
    const opt = new Adam(net.parameters(), { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8 });
    opt.step();
    const after = noGrad(() => net.forward(xt).dataSync());
    const ea = relErr(after, num("adam_logits"));
    assert(ea <= 1e-3, `logits after one Adam step: relative error ${ea}`);
    console.log(
      `cnn vs torch: logits ${e.toExponential(2)}, loss ${el.toExponential(2)}, ` +
        `worst gradient ${worst.toExponential(2)}, after Adam ${ea.toExponential(2)}`,
    );
  },
});
