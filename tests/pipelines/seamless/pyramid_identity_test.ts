/**
 * A pyramid whose field nets output zero: with the original's field upsampling
 * (nn.Upsample(bilinear), align_corners = false) the field is not the identity but a stretch
 * (about a pixel at the edges of 32 px after two upsamplings), with `upsampleAlignCorners` it is
 * the identity exactly.
 */
import assert from "node:assert/strict";
import { cat, mul, noGrad, tensor } from "../../../lib/tensor/mod.ts";
import { contiguousView } from "../../../lib/tensor/ops/util.ts";
import { initEngine } from "../../../lib/tensor/engine.ts";
import { manualInitSeed } from "../../../lib/nn/init.ts";
import { identityGrid, Pyramid } from "../../../lib/pipelines/seamless/pyramid.ts";

const DIM = 32;

async function zeroFieldDeviation(upsampleAlignCorners: boolean): Promise<number> {
  manualInitSeed(4);
  const net = new Pyramid({ size: 3, k: 3, trainSize: DIM, upsampleAlignCorners });
  for (const m of net.mlist.items) {
    const last = m.convs[m.convs.length - 1];
    for (const p of [last.weight, last.bias!]) {
      const z = noGrad(() => mul(p.detach(), 0));
      const v = contiguousView([p.size]);
      p.backend.copy(z.storage, v, p.storage, v, [p.size], false);
    }
  }
  const img = Float32Array.from({ length: DIM * DIM }, (_, i) => 0.5 + 0.3 * Math.sin(i * 0.37));
  const x = tensor(img, [1, 1, DIM, DIM]);
  const field = await noGrad(() => net.fieldAt(cat([x, x], 1), 0).field).data();
  const id = await identityGrid(DIM, DIM).data();
  let worst = 0;
  for (let i = 0; i < id.length; i++) worst = Math.max(worst, Math.abs(field[i] - id[i]));
  return worst * (DIM - 1) / 2; // pixels
}

Deno.test("seamless pyramid: a zero residual is the identity only with align-corners upsampling", async () => {
  await initEngine({ backend: "wasm", threads: 1 });
  const original = await zeroFieldDeviation(false);
  const kept = await zeroFieldDeviation(true);
  assert.ok(original > 0.5, `original upsampling moves the edges by ${original} px`);
  assert.ok(kept < 1e-4, `align-corners upsampling moves them by ${kept} px`);
});
