import assert from "node:assert/strict";
import "../../../lib/tensor/engine.ts";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { readSafetensors } from "../../../lib/nn/safetensors.ts";
import type { NdArray } from "../../../lib/io/array.ts";
import { tensor } from "../../../lib/tensor/tensor.ts";
import { flairLoss, FlairUNet } from "../../../lib/pipelines/flair/mod.ts";

const noTorch = !hasPython("torch");
if (noTorch) console.log("flair model: python3 with torch missing; skipped");

function maxRel(a: Float32Array, b: ArrayLike<number>): number {
  let m = 0, s = 0;
  for (let i = 0; i < a.length; i++) s = Math.max(s, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m / (s || 1);
}

Deno.test("flair: FlairUNet presets and state-dict names", () => {
  const tiny = new FlairUNet({ preset: "tiny" });
  const names = tiny.namedParameters().map(([n]) => n);
  assert.deepEqual(names.slice(0, 3), ["down0.0.weight", "down0.1.weight", "down0.1.bias"]);
  assert.ok(names.includes("up2.weight") && names.includes("dec1.3.weight"));
  assert.equal(names.at(-1), "head.bias");
  assert.ok(new FlairUNet({ preset: "paper" }).numParameters() > 7e6);
});

Deno.test({
  name: "flair: FlairUNet forward, loss and gradients equal PyTorch's (small preset)",
  ignore: noTorch,
  fn: async () => {
    const dir = await pyFixture("flair/torch_unet");
    const fx = (await readSafetensors(`${dir}/unet.safetensors`)).tensors;
    const cfg = JSON.parse(await Deno.readTextFile(`${dir}/unet.json`));
    const get = (k: string) => fx.get(k)! as NdArray<Float32Array>;
    const net = new FlairUNet({ preset: "small" });
    net.loadStateDict(fx, { prefix: "init/", source: "unet.safetensors" });
    const xa = get("x");
    const x = tensor(xa.data, xa.shape, { requiresGrad: true });
    const t = get("target");
    const logits = net.forward(x);
    const { loss, parts } = flairLoss(logits, tensor(t.data, t.shape));
    assert.ok(maxRel(await logits.data(), get("logits").data) < 1e-4, "logits");
    assert.ok(Math.abs((await loss.item()) - cfg.loss) < 1e-4 * cfg.loss, "loss");
    const p = [await parts.mask.item(), await parts.stroke.item(), await parts.visible.item()];
    p.forEach((v, i) => assert.ok(Math.abs(v - cfg.parts[i]) < 1e-5, `part ${i}`));
    loss.backward();
    assert.ok(maxRel(await x.grad!.data(), get("grad_x").data) < 1e-3, "grad x");
    for (const [name, prm] of net.namedParameters()) {
      const r = maxRel(await prm.grad!.data(), get(`grad/${name}`).data);
      assert.ok(r < 1e-3, `grad ${name}: ${r}`);
    }
    net.eval();
    const ev = net.forward(x.detach());
    assert.ok(maxRel(await ev.data(), get("eval/logits").data) < 1e-4, "eval logits");
  },
});
