import assert from "node:assert/strict";
import { hasPython, runPython } from "../../_helpers.ts";
import "../../../lib/tensor/engine.ts";
import { tensor } from "../../../lib/tensor/tensor.ts";
import { mul, sum } from "../../../lib/tensor/ops/mod.ts";
import { manualInitSeed } from "../../../lib/nn/init.ts";
import {
  ddimStep,
  ddimTimesteps,
  epsFromX0,
  GroupNorm,
  type ImageSet,
  loadDiffusionModel,
  makeSchedule,
  qSample,
  sampleDdim,
  stepDraws,
  trainDiffusion,
  UNet,
  unetConditioning,
  type UNetConfig,
} from "../../../lib/pipelines/nsw/mod.ts";

const MICRO: UNetConfig = {
  size: 8,
  channels: [4, 8],
  resBlocks: 1,
  attnRes: [4],
  groups: 2,
  classes: 16,
};

function randn(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

Deno.test("nsw GroupNorm equals a numpy group norm", () => {
  if (!hasPython("numpy")) return;
  const x = randn(2 * 6 * 3 * 3, 5);
  const gn = new GroupNorm(3, 6);
  const got = gn.forward(tensor(x, [2, 6, 3, 3])).dataSync();
  const want = JSON.parse(runPython(
    `-c import numpy as np, json, sys; x = np.array(json.loads(sys.argv[1]), dtype=np.float64)` +
      `.reshape(2, 3, -1); m = x.mean(-1, keepdims=True); v = x.var(-1, keepdims=True); ` +
      `print(json.dumps(((x - m) / np.sqrt(v + 1e-5)).ravel().tolist()))`,
    [JSON.stringify([...x])],
  ));
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-5, `${i}: ${v} vs ${want[i]}`));
});

Deno.test("nsw U-Net: gradients equal central finite differences (micro config)", () => {
  manualInitSeed(3);
  const net = new UNet(MICRO);
  const n = 2, per = 64;
  const xd = randn(n * per, 11), r = randn(n * per, 12);
  const c = unetConditioning(MICRO, [5, 700], [3, 16]);
  const f = (xs: Float32Array) => {
    const out = net.forward(tensor(xs, [n, 1, 8, 8]), c.temb, c.y);
    return sum(mul(out, tensor(r, [n, 1, 8, 8]))).dataSync()[0];
  };
  const x = tensor(xd, [n, 1, 8, 8], { requiresGrad: true });
  const out = net.forward(x, c.temb, c.y);
  const loss = sum(mul(out, tensor(r, [n, 1, 8, 8])));
  loss.backward();
  const gx = x.grad!.dataSync();
  for (const i of [0, 17, 63, 64, 100, 127]) {
    const h = 1e-2, a = Float32Array.from(xd), b = Float32Array.from(xd);
    a[i] += h;
    b[i] -= h;
    const fd = (f(a) - f(b)) / (2 * h);
    assert.ok(Math.abs(fd - gx[i]) < 2e-2 * (1 + Math.abs(fd)), `x[${i}]: ${gx[i]} vs ${fd}`);
  }
  // a parameter of the attention block and one of the class embedding
  for (const name of ["down.1.attn.0.qkv.weight", "class_emb.weight", "conv_in.bias"]) {
    const p = net.namedParameters().find(([k]) => k === name)![1];
    const g = p.grad!.dataSync(), v = p.dataSync();
    const k = name === "class_emb.weight" ? 3 * 17 + 3 : 1;
    const h = 1e-2;
    const set = (val: number) => {
      const w = Float32Array.from(v);
      w[k] = val;
      p.backend.write(p.storage, w);
    };
    set(v[k] + h);
    const fp = f(xd);
    set(v[k] - h);
    const fm = f(xd);
    set(v[k]);
    const fd = (fp - fm) / (2 * h);
    assert.ok(Math.abs(fd - g[k]) < 2e-2 * (1 + Math.abs(fd)), `${name}[${k}]: ${g[k]} vs ${fd}`);
  }
});

function toySet(): ImageSet {
  const images: Float32Array[] = [], labels: number[] = [];
  for (let i = 0; i < 6; i++) {
    images.push(Float32Array.from({ length: 64 }, (_, k) => ((k + i) % 8 < 4 ? 0.8 : -0.8)));
    labels.push(i % 2 ? 3 : 7);
  }
  return { size: 8, images, labels, files: images.map((_, i) => `${i}.jpeg`) };
}

Deno.test("nsw DDPM training: resume equals a straight run; EMA saved; seeded DDIM", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    const data = toySet();
    const common = {
      data,
      cfg: MICRO,
      steps: 4,
      batch: 3,
      checkpointEvery: 2,
      seed: 5,
      prompt: "p",
    };
    const a = await trainDiffusion({ ...common, out: `${tmp}/a` });
    // a second run stopped after 2 steps, then resumed from its checkpoint
    await trainDiffusion({ ...common, steps: 2, out: `${tmp}/b` });
    const b = await trainDiffusion({
      ...common,
      out: `${tmp}/b`,
      resume: `${tmp}/b/checkpoints/ckpt_1`,
    });
    assert.equal(b.steps, 4);
    const wa = new Map(a.ema.namedParameters()), wb = new Map(b.ema.namedParameters());
    for (const [k, p] of wa) assert.deepEqual(p.dataSync(), wb.get(k)!.dataSync(), k);
    for (const [k, p] of a.model.namedParameters()) {
      assert.deepEqual(p.dataSync(), new Map(b.model.namedParameters()).get(k)!.dataSync(), k);
    }
    const loaded = await loadDiffusionModel(`${tmp}/a`);
    assert.deepEqual(loaded.meta.phases, [3, 7]);
    const s1 = await sampleDdim(loaded.net, loaded.meta, [3, 7], { steps: 3, seed: 1 });
    const s2 = await sampleDdim(loaded.net, loaded.meta, [3, 7], { steps: 3, seed: 1 });
    const s3 = await sampleDdim(loaded.net, loaded.meta, [3, 7], { steps: 3, seed: 2 });
    assert.deepEqual(s1, s2);
    assert.notDeepEqual(s1, s3);
    assert.ok(s1.every((s) => s.every((v) => Math.abs(v) <= 1 + 1e-6)));
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("nsw DDIM: the sampling loop uses the training timesteps; x₀ → ε → DDIM is exact", () => {
  // training draws t in 0…T−1 (both ends reached); sampling visits multiples of ⌊T/steps⌋ down
  // to 0, embeds the same integer t and reads ᾱ at the same index
  const seen = new Set<number>();
  for (let k = 0; k < 200; k++) for (const t of stepDraws(4, 4, 10, 1, 0, k).t) seen.add(t);
  assert.deepEqual([...seen].sort((a, b) => a - b), [...Array(10).keys()]);
  assert.deepEqual(ddimTimesteps(1000, 10), [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  const s = makeSchedule("linear", 1000);
  const x0 = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i) * 0.9);
  const eps = Float32Array.from({ length: 32 }, (_, i) => Math.cos(3 * i));
  for (const [t, tPrev] of [[900, 800], [100, 0], [0, -1]]) {
    const xt = qSample(s, x0, eps, [t], 32);
    const pred = Float32Array.from(x0);
    epsFromX0(s, xt, pred, t);
    pred.forEach((v, i) => assert.ok(Math.abs(v - eps[i]) < 2e-3, `t ${t}: ${v} vs ${eps[i]}`));
    const prev = ddimStep(s, xt, pred, t, tPrev);
    const ap = tPrev >= 0 ? s.alphasCumprod[tPrev] : 1;
    prev.forEach((v, i) => {
      const want = Math.sqrt(ap) * x0[i] + Math.sqrt(1 - ap) * eps[i];
      assert.ok(Math.abs(v - want) < 2e-3, `t ${t}→${tPrev}: ${v} vs ${want}`);
    });
  }
});

Deno.test("nsw DDPM: x₀-prediction overfits one image, and DDIM samples reproduce it", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    // a dark disk on a light background, 16 px (the micro preset)
    const img = Float32Array.from({ length: 256 }, (_, k) => {
      const x = (k % 16) - 7.5, y = Math.floor(k / 16) - 5.5;
      return Math.hypot(x, y) < 5 ? -0.6 : 0.4;
    });
    const data: ImageSet = { size: 16, images: [img], labels: [5], files: ["0.jpeg"] };
    const r = await trainDiffusion({
      data,
      preset: "micro",
      prediction: "x0",
      steps: 120,
      batch: 4,
      lr: 2e-3,
      out: `${tmp}/m`,
    });
    assert.equal(r.meta.prediction, "x0");
    const loaded = await loadDiffusionModel(`${tmp}/m`);
    assert.equal(loaded.meta.prediction, "x0");
    const samples = await sampleDdim(loaded.net, loaded.meta, [5, 5, 5], { steps: 10, seed: 4 });
    for (const smp of samples) {
      const rmse = Math.sqrt(smp.reduce((a, v, i) => a + (v - img[i]) ** 2, 0) / 256);
      assert.ok(rmse < 0.1, `rmse ${rmse} (the image's own deviation is 0.46)`);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
