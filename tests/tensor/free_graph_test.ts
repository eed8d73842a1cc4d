/**
 * `backward(…, { freeGraph })`: the graph's intermediate tensors are freed on the way, the
 * gradients stay the same bytes as a plain backward, the root, leaves and `keep` survive, views
 * sharing a storage with a tensor still to be visited are not freed early, and the step memory
 * after it is what the kept tensors take. Runs on every registered backend.
 */
import assert from "node:assert";
import * as T from "../../lib/tensor/mod.ts";
import type { Backend, Tensor } from "../../lib/tensor/mod.ts";
import { testBackends } from "./tensor_parity.ts";

const bs = await testBackends();

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  return new Float32Array(n).map((_, i) => Math.sin(i * 0.731 + seed * 1.37) * 0.9);
}

/**
 * A small network: conv → batch norm + LeakyReLU → a reshape view → tanh → a second branch
 * reusing the first activation (two consumers) → cat → a reduction, and a part of the loss kept.
 */
function graph(b: Backend, params: Tensor[]) {
  const [w1, g1, b1, w2] = params;
  const x = T.tensor(values(2 * 3 * 9 * 8, 1), [2, 3, 9, 8], { backend: b });
  const c1 = T.conv2d(x, w1, null, { stride: 2, padding: 1 });
  const a1 = T.batchNorm(c1, { weight: g1, bias: b1, activation: "leakyRelu", slope: 0.2 });
  const v = T.reshape(a1, [2, 4, a1.size / 8]); // a view sharing a1's storage
  const t = T.tanh(v);
  const c2 = T.conv2d(a1, w2, null, { padding: 1 });
  const both = T.cat([T.reshape(t, a1.shape), c2], 1);
  const part = T.mean(T.mul(both, both));
  const loss = T.add(part, T.sum(T.relu(c2)));
  return { loss, part, a1, c1, t };
}

function params(b: Backend): Tensor[] {
  const p = (n: number[], seed: number) =>
    T.tensor(values(n.reduce((a, c) => a * c, 1), seed), n, {
      backend: b,
      requiresGrad: true,
      persistent: true,
    });
  return [p([4, 3, 3, 3], 2), p([4], 3), p([4], 4), p([2, 4, 3, 3], 5)];
}

for (const b of bs) {
  Deno.test(`[${b.name}] freeGraph: the same gradients, bit for bit, as a plain backward`, async () => {
    const ps = params(b);
    const grads = async (free: boolean) => {
      for (const p of ps) p.grad = null;
      const { loss, part } = graph(b, ps);
      loss.backward(undefined, free ? { freeGraph: true, keep: [part] } : {});
      const out = [];
      for (const p of ps) out.push(await p.grad!.data());
      out.push(await loss.data(), await part.data());
      b.resetArena();
      return out;
    };
    const plain = await grads(false), freed = await grads(true);
    assert.strictEqual(freed.length, plain.length);
    for (let i = 0; i < plain.length; i++) {
      assert.deepStrictEqual(freed[i], plain[i], `output ${i}`);
    }
    for (const p of ps) p.dispose();
  });

  Deno.test(`[${b.name}] freeGraph: intermediates freed, root/leaves/keep survive`, async () => {
    const ps = params(b);
    const { loss, part, a1, c1, t } = graph(b, ps);
    const before = b.memoryStats().stepBytes;
    loss.backward(undefined, { freeGraph: true, keep: [t] });
    // the activations are gone: using them throws
    for (const gone of [a1, c1, part]) await assert.rejects(() => gone.data());
    // the root, the kept tensor and the parameters' gradients are readable
    assert.strictEqual((await loss.data()).length, 1);
    assert.strictEqual((await t.data()).length, t.size);
    for (const p of ps) assert(p.grad && (await p.grad.data()).every(Number.isFinite));
    const after = b.memoryStats().stepBytes;
    assert(after < before, `step bytes ${after} < ${before}`);
    b.resetArena();
    for (const p of ps) p.dispose();
  });
}
