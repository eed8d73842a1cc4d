/**
 * The pyramid takes a batch: two pairs aligned as one batch of two give each pair's field and
 * warped source as aligned alone (the trainer runs a pair and its 180° rotation that way), and
 * the weight gradients of the batch are the sums of the single ones.
 */
import assert from "node:assert/strict";
import { cat, sum, tensor } from "../../../lib/tensor/mod.ts";
import { resetArena } from "../../../lib/tensor/tensor.ts";
import { initEngine } from "../../../lib/tensor/engine.ts";
import { manualInitSeed } from "../../../lib/nn/init.ts";
import { Pyramid } from "../../../lib/pipelines/seamless/pyramid.ts";
import { synthStack } from "../../../lib/pipelines/seamless/synth.ts";

const DIM = 16;

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

Deno.test("seamless pyramid: a batch of two pairs equals the pairs one by one", async () => {
  await initEngine({ backend: "wasm", threads: 1 });
  manualInitSeed(3);
  const net = new Pyramid({ size: 2, k: 3, trainSize: DIM });
  const s = synthStack({ depth: 4, dim: DIM, seed: 5, maxShift: 2 });
  const t = (z: number) => tensor(s.sections[z].data, [1, 1, DIM, DIM]);
  const pairs = () => [cat([t(1), t(0)], 1), cat([t(3), t(2)], 1)];
  const grads = async () => {
    const out: Float32Array[] = [];
    for (const p of net.parameters()) out.push(p.grad ? await p.grad.data() : new Float32Array(0));
    for (const p of net.parameters()) p.grad = null;
    return out;
  };
  const single: { field: Float32Array; pred: Float32Array }[] = [];
  let summed: Float32Array[] | null = null;
  for (let i = 0; i < 2; i++) {
    const p = pairs()[i];
    const o = net.align(p, 0);
    sum(o.pred).backward();
    single.push({ field: await o.field.data(), pred: await o.pred.data() });
    const g = await grads();
    summed = summed ? summed.map((a, i) => a.map((v, j) => v + g[i][j])) : g;
    resetArena();
  }
  const both = net.align(cat(pairs(), 0), 0);
  assert.deepEqual(both.field.shape, [2, DIM, DIM, 2]);
  sum(both.pred).backward();
  const field = await both.field.data(), pred = await both.pred.data();
  const n = DIM * DIM;
  for (let b = 0; b < 2; b++) {
    assert.ok(maxDiff(field.subarray(b * n * 2, (b + 1) * n * 2), single[b].field) < 1e-6);
    assert.ok(maxDiff(pred.subarray(b * n, (b + 1) * n), single[b].pred) < 1e-6);
  }
  const g = await grads();
  g.forEach((a, i) => {
    const scale = Math.max(1, ...summed![i].map(Math.abs));
    assert.ok(maxDiff(a, summed![i]) < 1e-4 * scale, `gradient ${i}`);
  });
  resetArena();
});
