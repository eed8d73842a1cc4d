/**
 * A whole NoStripesNet MaskedGAN training step at a small width/depth against PyTorch 1.13
 * (tests/fixtures/torch_nn_gan.py): same initial weights, same batch, same dropout masks →
 * the same D and G losses, gradients, and weights after Adam, for two consecutive steps.
 * Also: the paper-size parameter counts, and a NoStripesNet-style torch `.tar` checkpoint
 * loading into the engine's generator with the same output as PyTorch's.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { assertClose, fixtureTensors, get, perBackend, toTensor } from "../../nn/nn_helpers.ts";
import type { NdArray } from "../../../lib/io/array.ts";
import { noGrad } from "../../../lib/tensor/tensor.ts";
import { PatchUNet } from "../../../lib/pipelines/nostripesnet/patch_unet.ts";
import { PatchDiscriminator } from "../../../lib/pipelines/nostripesnet/patch_discriminator.ts";
import { MaskedGAN } from "../../../lib/pipelines/nostripesnet/gan.ts";
import type { Module } from "../../../lib/nn/module.ts";
import { BatchNorm, Conv2d, ConvTranspose2d, Sequential } from "../../../lib/nn/layers.ts";
import { loadWeights } from "../../../lib/nn/checkpoint.ts";
import {
  isTorchTensor,
  loadTorchCheckpoint,
  stateDict,
  tensorItem,
} from "../../../lib/nn/torch_checkpoint.ts";

/**
 * Names of conv biases that feed a batch norm with batch statistics. Their gradient is zero in
 * exact arithmetic (the mean subtraction cancels them) and float32 noise (~1e-9) in practice;
 * Adam's normalised update turns that noise into steps of up to ±lr with arbitrary signs
 * (PyTorch's own result changes with its thread count). They are checked to stay within
 * Adam's bound on the movement (see adamMoveBound) in both engines; every other tensor is
 * compared at 1e-4.
 */
function cancelledBiases(m: Module): Set<string> {
  const out = new Set<string>();
  for (const [name, mod] of m.namedModules()) {
    if (!(mod instanceof Sequential)) continue;
    mod.layers.forEach((l, i) => {
      const next = mod.layers[i + 1];
      if (
        (l instanceof Conv2d || l instanceof ConvTranspose2d) && l.bias && next instanceof BatchNorm
      ) {
        out.add(`${name ? name + "." : ""}${i}.bias`);
      }
    });
  }
  return out;
}

/**
 * The most Adam can move a parameter in `steps` steps whatever the gradients: per step t,
 * lr·(1−β1)/(1−β1^t)·√((1−β2^t)/(1−β2))·√(Σ_{j<t} (β1²/β2)^j) (Cauchy–Schwarz on m̂/√v̂).
 */
function adamMoveBound(lr: number, b1: number, b2: number, steps: number): number {
  let total = 0;
  for (let t = 1; t <= steps; t++) {
    let s = 0;
    for (let j = 0; j < t; j++) s += (b1 * b1 / b2) ** j;
    total += lr * (1 - b1) / (1 - b1 ** t) * Math.sqrt((1 - b2 ** t) / (1 - b2)) * Math.sqrt(s);
  }
  return total;
}

function sub(fx: Map<string, NdArray>, prefix: string): Map<string, NdArray> {
  const out = new Map<string, NdArray>();
  for (const [k, v] of fx) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

Deno.test("PatchUNet and PatchDiscriminator have the paper's parameter counts", () => {
  assert.equal(new PatchUNet().numParameters(), 54_413_313);
  assert.equal(new PatchDiscriminator().numParameters(), 15_353_025);
  // and PyTorch's state-dict names
  const names = new PatchUNet({ width: 4 }).namedParameters().map(([n]) => n);
  assert.deepEqual(names.slice(0, 4), [
    "down1.0.weight",
    "down1.0.bias",
    "down2.0.weight",
    "down2.0.bias",
  ]);
  assert.ok(
    names.includes("down2.1.weight") && names.includes("up8.0.bias") &&
      !names.includes("down8.1.weight"),
  );
  const dn = new PatchDiscriminator({ width: 4 }).namedParameters().map(([n]) => n);
  assert.deepEqual([dn[0], dn[2], dn.at(-1)], [
    "model.0.0.weight",
    "model.1.0.weight",
    "model.7.bias",
  ]);
  assert.deepEqual(PatchUNet.outputPaddings(1801, 256, 8).map((p) => p.join(",")), [
    "0,0",
    "0,0",
    "0,0",
    "0,0",
    "1,0",
    "0,0",
    "0,0",
    "1,0",
  ]);
});

Deno.test("a small NoStripesNet GAN training step matches PyTorch (losses, gradients, weights after Adam)", async (t) => {
  if (!hasPython("torch")) return;
  const dir = await pyFixture("torch_nn_gan");
  const fx = await fixtureTensors(`${dir}/gan.safetensors`);
  const cfg = JSON.parse(await Deno.readTextFile(`${dir}/gan.json`));
  await perBackend(t, async () => {
    const gen = new PatchUNet({ width: cfg.width, depth: cfg.genDepth });
    const disc = new PatchDiscriminator({ width: cfg.width, depth: cfg.discDepth });
    assert.equal(gen.numParameters(), cfg.genParams);
    assert.equal(disc.numParameters(), cfg.discParams);
    gen.loadStateDict(sub(fx, "init/gen."));
    disc.loadStateDict(sub(fx, "init/disc."));
    const gan = new MaskedGAN(gen, disc, { lr: cfg.lr, betas: cfg.betas, lambdaL1: cfg.lambdaL1 });
    let step = 0;
    gen.ups.forEach((up, i) => {
      for (const m of up.layers) {
        if ("maskProvider" in m) {
          (m as { maskProvider: unknown }).maskProvider = () =>
            toTensor(get(fx, `drop/s${step}/up${i + 1}`));
        }
      }
    });
    for (step = 0; step < cfg.steps; step++) {
      const batch = {
        stripe: toTensor(get(fx, "batch/stripe")),
        mask: toTensor(get(fx, "batch/mask")),
        clean: toTensor(get(fx, "batch/clean")),
      };
      const r = await gan.trainStep(batch);
      const want = cfg.losses[step];
      for (const k of Object.keys(want)) {
        assertClose([r[k as keyof typeof r]], [want[k]], `step ${step}: ${k}`);
      }
      if (step === 0) {
        for (const [pre, m] of [["gen", gen], ["disc", disc]] as const) {
          let scale = 0;
          for (const [n] of m.namedParameters()) {
            for (const v of get(fx, `grad0/${pre}.${n}`).data as Float32Array) {
              scale = Math.max(scale, Math.abs(v));
            }
          }
          for (const [n, p] of m.namedParameters()) {
            assertClose(
              await p.grad!.data(),
              get(fx, `grad0/${pre}.${n}`).data as Float32Array,
              `step 0: gradient of ${pre}.${n}`,
              { scale, rtol: 1e-3 },
            );
          }
        }
      }
      for (const [pre, m] of [["gen", gen], ["disc", disc]] as const) {
        const sd = await m.stateDict();
        const cancelled = cancelledBiases(m);
        for (const [n, a] of sd) {
          const exp = get(fx, `after${step}/${pre}.${n}`).data as Float32Array;
          if (cancelled.has(n)) {
            const init = get(fx, `init/${pre}.${n}`).data as Float32Array;
            const bound = adamMoveBound(cfg.lr, cfg.betas[0], cfg.betas[1], step + 1) * 1.001 +
              1e-7;
            (a.data as Float32Array).forEach((v, i) => {
              assert.ok(
                Math.abs(v - init[i]) <= bound && Math.abs(exp[i] - init[i]) <= bound,
                `step ${step}: ${pre}.${n}[${i}] moved more than lr per step`,
              );
            });
            continue;
          }
          assertClose(a.data as Float32Array, exp, `step ${step}: ${pre}.${n} after Adam`);
        }
        assert.ok(cancelled.size > 0 && [...cancelled].every((n) => sd.has(n)));
      }
    }
  });
});

Deno.test("a NoStripesNet-style torch .tar loads and gives PyTorch's generator output", async (t) => {
  if (!hasPython("torch")) return;
  const dir = await pyFixture("torch_nn_gan");
  const fx = await fixtureTensors(`${dir}/gan.safetensors`);
  const cfg = JSON.parse(await Deno.readTextFile(`${dir}/gan.json`));
  for (const file of ["nsn_style.tar", "nsn_style_legacy.tar"]) {
    const ck = await loadTorchCheckpoint(`${dir}/${file}`);
    const root = ck.root as Map<string, unknown>;
    assert.deepEqual([...root.keys()], [
      "epoch",
      "gen_state_dict",
      "gen_optimizer_state_dict",
      "gen_loss",
      "disc_state_dict",
      "disc_optimizer_state_dict",
      "disc_loss",
    ]);
    assert.equal(root.get("epoch"), cfg.steps);
    const gl = root.get("gen_loss");
    assert.ok(isTorchTensor(gl));
    assertClose([tensorItem(gl)], [cfg.losses.at(-1).lossG], `${file}: gen_loss`);
    const gsd = stateDict(ck, "gen_state_dict");
    assert.equal([...gsd.values()].reduce((a, v) => a + v.data.length, 0), cfg.genParams);
    const opt = root.get("gen_optimizer_state_dict") as Map<string, unknown>;
    const groups = opt.get("param_groups") as Map<string, unknown>[];
    assert.equal(groups[0].get("lr"), cfg.lr);
  }
  await perBackend(t, async () => {
    const gen = new PatchUNet({ width: cfg.width, depth: cfg.genDepth });
    await loadWeights(gen, `${dir}/nsn_style.tar`, { key: "gen_state_dict" });
    gen.eval();
    const y = noGrad(() => gen.forward(toTensor(get(fx, "ckpt_input"))));
    assertClose(
      await y.data(),
      get(fx, "ckpt_output").data as Float32Array,
      "generator output from the .tar",
    );
    // the discriminator from the same file
    const disc = new PatchDiscriminator({ width: cfg.width, depth: cfg.discDepth });
    await loadWeights(disc, `${dir}/nsn_style_legacy.tar`, { key: "disc_state_dict" });
    // and a wrong key is a clear error naming what the file holds
    await assert.rejects(
      loadWeights(gen, `${dir}/nsn_style.tar`, { key: "generator" }),
      /no such entry; the checkpoint holds: epoch, gen_state_dict/,
    );
    // a generator of another width: the error names tensors and shapes
    await assert.rejects(
      loadWeights(new PatchUNet({ width: 4, depth: cfg.genDepth }), `${dir}/nsn_style.tar`, {
        key: "gen_state_dict",
      }),
      /shape mismatch: 'down1\.0\.weight' is \[8, 1, 4, 4\] in .*nsn_style\.tar but \[4, 1, 4, 4\] in the model/,
    );
  });
});
