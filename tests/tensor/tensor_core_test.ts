/**
 * The tensor core: autograd tape, no_grad, arena/persistent memory, seeded RNG (Philox4x32-10
 * known answers, same seed → same bytes, state restore), dropout, optimiser kernels against
 * PyTorch, conv tiling, and the errors for bad input. Runs on every registered backend.
 */
import assert from "node:assert";
import * as T from "../../lib/tensor/mod.ts";
import { type Backend, backends, type Tensor } from "../../lib/tensor/mod.ts";
import { WasmBackend } from "../../lib/tensor/wasm/backend.ts";
import { hasPython, pyFixture } from "../_helpers.ts";
import { arr, compare, type Fixtures, loadFixtures, testBackends } from "./tensor_parity.ts";

const bs = await testBackends();

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6): void {
  assert.strictEqual(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
  }
}

/** Reference Philox4x32-10 in JS (Salmon et al. 2011). */
function philox(ctr: number[], key: number[]): number[] {
  let c = ctr.map((v) => v >>> 0);
  let k = key.map((v) => v >>> 0);
  const mulhilo = (a: number, b: number): [number, number] => {
    const p = BigInt(a) * BigInt(b);
    return [Number(p >> 32n) >>> 0, Number(p & 0xffffffffn) >>> 0];
  };
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulhilo(0xD2511F53, c[0]);
    const [hi1, lo1] = mulhilo(0xCD9E8D57, c[2]);
    c = [(hi1 ^ c[1] ^ k[0]) >>> 0, lo1, (hi0 ^ c[3] ^ k[1]) >>> 0, lo0];
    if (r < 9) k = [(k[0] + 0x9E3779B9) >>> 0, (k[1] + 0xBB67AE85) >>> 0];
  }
  return c;
}

Deno.test("philox4x32-10 reference: Random123 known answers", () => {
  const hex = (v: number[]) => v.map((x) => x.toString(16).padStart(8, "0")).join(" ");
  assert.strictEqual(hex(philox([0, 0, 0, 0], [0, 0])), "6627e8d5 e169c58d bc57ac4c 9b00dbd8");
  assert.strictEqual(
    hex(philox([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])),
    "408f276d 41c83b0e a20bc7c6 6d5451fd",
  );
  assert.strictEqual(
    hex(philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])),
    "d16cfe09 94fdcceb 5001e420 24126ea1",
  );
});

for (const b of bs) {
  const opts = { backend: b };
  const t = (d: number[] | Float32Array, s: number[], rg = false) =>
    T.tensor(d, s, { backend: b, requiresGrad: rg });

  Deno.test(`[${b.name}] uniform fill equals the Philox reference bit for bit`, async () => {
    const rng = new T.Rng(123456789012);
    rng.counter = 5;
    const u = await T.rand([10], rng, opts).data();
    const [k0, k1] = [123456789012 % 2 ** 32, Math.floor(123456789012 / 2 ** 32)];
    const want: number[] = [];
    for (let blk = 5; want.length < 10; blk++) {
      for (const r of philox([blk, 0, 0, 0], [k0, k1])) want.push((r >>> 8) / 16777216);
    }
    assert.deepStrictEqual(Array.from(u), want.slice(0, 10));
    assert.strictEqual(rng.counter, 5 + 3);
  });

  Deno.test(`[${b.name}] same seed → same bytes; state save/restore; normal moments`, async () => {
    const r1 = new T.Rng(7), r2 = new T.Rng(7);
    const a = await T.randn([1001], r1, opts).data();
    const c = await T.randn([1001], r2, opts).data();
    assert.deepStrictEqual(a, c);
    const s = r1.state();
    const x1 = await T.rand([33], r1, opts).data();
    r1.setState(s);
    const x2 = await T.rand([33], r1, opts).data();
    assert.deepStrictEqual(x1, x2);
    const big = await T.randn([200000], new T.Rng(3), { ...opts, mean: 2, std: 0.5 }).data();
    let m = 0, v = 0;
    for (const z of big) m += z;
    m /= big.length;
    for (const z of big) v += (z - m) ** 2;
    v /= big.length;
    assert(Math.abs(m - 2) < 0.01, `mean ${m}`);
    assert(Math.abs(Math.sqrt(v) - 0.5) < 0.01, `std ${Math.sqrt(v)}`);
    b.resetArena();
  });

  Deno.test(`[${b.name}] dropout: keep rate, scale, gradient = mask, eval identity`, async () => {
    const x = T.ones([20000], { ...opts, requiresGrad: true });
    const y = T.dropout(x, 0.3, true, new T.Rng(11));
    const yd = await y.data();
    let kept = 0;
    for (const v of yd) {
      if (v !== 0) {
        kept++;
        assert.strictEqual(v, Math.fround(1 / Math.fround(0.7)));
      }
    }
    assert(Math.abs(kept / yd.length - 0.7) < 0.015, `kept ${kept / yd.length}`);
    T.sum(y).backward();
    assert.deepStrictEqual(await x.grad!.data(), yd);
    const again = await T.dropout(x, 0.3, true, new T.Rng(11)).data();
    assert.deepStrictEqual(again, yd);
    assert.strictEqual(T.dropout(x, 0.3, false), x);
    b.resetArena();
  });

  Deno.test(`[${b.name}] autograd: reuse, accumulation, noGrad, detach`, async () => {
    const x = t([1, -2, 3], [3], true);
    const y = T.sum(T.add(T.mul(x, x), x)); // Σ x² + x → 2x + 1
    y.backward();
    close(await x.grad!.data(), [3, -3, 7]);
    T.sum(T.mul(x, 2)).backward(); // accumulates
    close(await x.grad!.data(), [5, -1, 9]);
    const z = T.noGrad(() => T.mul(x, x));
    assert.strictEqual(z.requiresGrad, false);
    const d = x.detach();
    assert.strictEqual(d.requiresGrad, false);
    assert.throws(() => T.mul(x, x).backward(), /one-element/);
    b.resetArena();
  });

  Deno.test(`[${b.name}] arena: step tensors freed by resetArena, persistent ones kept`, async () => {
    const p = T.tensor([1, 2], [2], { backend: b, persistent: true, requiresGrad: true });
    const s = t([3, 4], [2]);
    T.sum(T.mul(p, s)).backward();
    b.resetArena();
    const st = b.memoryStats();
    assert.strictEqual(st.stepBytes, 0);
    assert(st.persistentBytes >= 16);
    assert.throws(() => T.add(s, s), /freed/);
    close(await p.data(), [1, 2]);
    close(await p.grad!.data(), [3, 4]); // parameter gradients are persistent
    p.grad!.dispose();
    p.dispose();
  });

  Deno.test(`[${b.name}] bad input: clear errors naming shapes`, () => {
    assert.throws(
      () => T.add(t([1, 2, 3, 4, 5, 6], [2, 3]), t([1, 2, 3, 4], [4])),
      /\[2, 3\] and \[4\] do not broadcast/,
    );
    assert.throws(
      () => T.matmul(t([1, 2, 3, 4, 5, 6], [2, 3]), t([1, 2, 3, 4], [2, 2])),
      /inner sizes differ: \[2, 3\] @ \[2, 2\]/,
    );
    const x = T.zeros([1, 3, 5, 5], opts), w = T.zeros([4, 2, 3, 3], opts);
    assert.throws(() => T.conv2d(x, w), /3 channels, weight \[4, 2, 3, 3\] expects 2/);
    assert.throws(() => T.reshape(x, [7, -1]), /cannot reshape \[1, 3, 5, 5\] to \[7, -1\]/);
    assert.throws(
      () => T.cat([T.zeros([2, 3], opts), T.zeros([3, 3], opts)], 1),
      /\[2, 3\] and \[3, 3\] along axis 1/,
    );
    assert.throws(() => T.tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
    const i = T.tensor(new Int32Array([1, 2]), [2], { backend: b });
    assert.throws(() => T.exp(i), /expects float32, got int32/);
    b.resetArena();
  });

  Deno.test(`[${b.name}] argmax, variance, split, clone`, async () => {
    const x = t([1, 5, 2, 7, 0, 3], [2, 3]);
    assert.deepStrictEqual(Array.from(await T.argmax(x, 1).dataInt()), [1, 0]);
    close(await T.variance(x, 1).data(), [13 / 3, 37 / 3]);
    const [a, c] = T.split(x, 1, 0);
    close(await c.data(), [7, 0, 3]);
    close(await T.clone(a).data(), [1, 5, 2]);
    b.resetArena();
  });
}

// The wasm convolution is tiled over output pixels: any tile size gives the same bytes.
Deno.test("[wasm] conv tiling: tiny tiles give the same bytes as whole images", async () => {
  const b = (await backends()).find((x) => x.name === "wasm") as WasmBackend;
  const rng = new T.Rng(5);
  const o = { backend: b as Backend };
  const x = T.randn([2, 5, 13, 11], rng, { ...o, requiresGrad: true });
  const w = T.randn([7, 5, 4, 4], rng, { ...o, requiresGrad: true });
  const run = async () => {
    x.grad = null;
    w.grad = null;
    const y = T.convTranspose2d(T.conv2d(x, w, null, { stride: 2, padding: 1 }), w, null, {
      stride: 2,
      padding: 1,
      outputPadding: [1, 1],
    });
    T.sum(T.mul(y, y)).backward();
    return [await y.data(), await x.grad!.data(), await w.grad!.data()];
  };
  const saved = b.convScratchBytes;
  const whole = await run();
  b.convScratchBytes = 256; // tiles of a few pixels
  try {
    const tiled = await run();
    for (let i = 0; i < 3; i++) close(tiled[i], whole[i], 1e-5);
  } finally {
    b.convScratchBytes = saved;
    b.resetArena();
  }
});

// Optimiser kernels against torch.optim (3 steps each).
const fx: Fixtures | null = hasPython("torch", "numpy")
  ? await loadFixtures(await pyFixture("torch_ops"))
  : null;
interface OptimCase {
  kind: "adam" | "adamw" | "sgd";
  // deno-lint-ignore no-explicit-any
  cfg: Record<string, any>;
  p0: Parameters<typeof arr>[1];
  grads: Parameters<typeof arr>[1][];
  params: Parameters<typeof arr>[1][];
}
if (fx) {
  const json = JSON.parse(await Deno.readTextFile(`${await pyFixture("torch_ops")}/cases.json`));
  for (const b of bs) {
    (json.optim as OptimCase[]).forEach((c, ci) => {
      Deno.test(`[${b.name}] optimiser ${c.kind} #${ci} matches torch.optim over 3 steps`, async () => {
        const o = { backend: b, persistent: true };
        const p = T.tensor(arr(fx, c.p0).slice(), c.p0.shape, o);
        const m = T.zeros(c.p0.shape, o), v = T.zeros(c.p0.shape, o);
        const errs: string[] = [];
        for (let s = 0; s < 3; s++) {
          const g = T.tensor(arr(fx, c.grads[s]).slice(), c.p0.shape, { backend: b });
          if (c.kind === "sgd") {
            T.sgdStep(p, g, c.cfg.momentum ? m : null, {
              lr: c.cfg.lr,
              momentum: c.cfg.momentum,
              dampening: c.cfg.dampening,
              weightDecay: c.cfg.weight_decay,
              nesterov: c.cfg.nesterov,
              first: s === 0,
            });
          } else {
            T.adamStep(p, g, m, v, {
              lr: c.cfg.lr,
              beta1: c.cfg.betas[0],
              beta2: c.cfg.betas[1],
              eps: c.cfg.eps,
              weightDecay: c.cfg.weight_decay,
              decoupled: c.kind === "adamw",
              step: s + 1,
            });
          }
          const e = compare(`step ${s + 1}`, await p.data(), arr(fx, c.params[s]), 1e-6);
          if (e) errs.push(e);
        }
        for (const x of [p, m, v] as Tensor[]) x.dispose();
        b.resetArena();
        assert(errs.length === 0, errs.join("; "));
      });
    });
  }
}
