import assert from "node:assert/strict";
import "../../../lib/tensor/engine.ts";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { readSafetensors } from "../../../lib/nn/safetensors.ts";
import { tensor } from "../../../lib/tensor/tensor.ts";
import { mul, sum } from "../../../lib/tensor/ops/mod.ts";
import { PRESETS, timestepEmbedding, UNet } from "../../../lib/pipelines/nsw/mod.ts";

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / Math.max(scale, 1e-12);
}

Deno.test("nsw U-Net (tiny): forward and gradients equal PyTorch's", async () => {
  if (!hasPython("torch", "numpy")) return;
  const dir = await pyFixture("nsw/unet_torch");
  const ts = (await readSafetensors(`${dir}/unet_tiny.safetensors`)).tensors;
  const get = (k: string) => {
    const a = ts.get(k);
    if (!a) throw new Error(`fixture lacks ${k}`);
    return a.data as Float32Array;
  };
  const net = new UNet(PRESETS.tiny);
  for (const [name, p] of net.namedParameters()) p.backend.write(p.storage, get(name));
  const t = [...get("io.t")];
  assert.ok(maxRel(timestepEmbedding(t, 16), get("io.temb")) < 1e-6);
  const x = tensor(get("io.x"), [3, 1, 32, 32], { requiresGrad: true });
  const out = net.forward(x, tensor(get("io.temb"), [3, 16]), tensor(get("io.y"), [3, 17]));
  assert.ok(maxRel(out.dataSync(), get("io.out")) < 1e-4, "output");
  sum(mul(out, tensor(get("io.r"), [3, 1, 32, 32]))).backward();
  assert.ok(maxRel(x.grad!.dataSync(), get("io.grad_x")) < 1e-3, "input gradient");
  for (const [name, p] of net.namedParameters()) {
    const e = maxRel(p.grad!.dataSync(), get(`grad.${name}`));
    assert.ok(e < 1e-3, `gradient of ${name}: ${e}`);
  }
});
