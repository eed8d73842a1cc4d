/**
 * The training loop: a small NoStripesNet GAN trained for 2 epochs straight, and resumed from
 * a mid-epoch checkpoint of that run into fresh objects, ends with identical weight and
 * optimiser bytes; the log, validation and scheduler hooks run.
 */
import assert from "node:assert/strict";
import { assertBytesEqual, perBackend } from "./nn_helpers.ts";
import { tensor } from "../../lib/tensor/tensor.ts";
import { Rng } from "../../lib/tensor/ops/random.ts";
import { InitRng, normal } from "../../lib/nn/init.ts";
import { PatchUNet } from "../../lib/pipelines/nostripesnet/patch_unet.ts";
import { PatchDiscriminator } from "../../lib/pipelines/nostripesnet/patch_discriminator.ts";
import { MaskedGAN, median } from "../../lib/pipelines/nostripesnet/gan.ts";
import { trainLoop } from "../../lib/nn/trainer.ts";

function batch(epoch: number, i: number) {
  const n = 2, h = 37, w = 24;
  const r = new InitRng(1000 * epoch + i);
  const clean = normal([n, 1, h, w], r).map((v) => Math.tanh(v));
  const stripe = clean.slice(), mask = new Float32Array(clean.length);
  for (let b = 0; b < n; b++) {
    const c = 2 + ((epoch * 5 + i * 3 + b) % (w - 4));
    for (let y = 0; y < h; y++) {
      const k = (b * h + y) * w + c;
      stripe[k] = Math.max(-1, stripe[k] - 0.4);
      mask[k] = 1;
    }
  }
  const s = [n, 1, h, w];
  return { stripe: tensor(stripe, s), mask: tensor(mask, s), clean: tensor(clean, s) };
}

function setup(seed: number) {
  const rng = new InitRng(seed);
  const dropoutRng = new Rng(seed + 1);
  const gen = new PatchUNet({ width: 4, depth: 3, rng, dropoutRng });
  const disc = new PatchDiscriminator({ width: 4, depth: 2, rng });
  const gan = new MaskedGAN(gen, disc);
  return { gen, disc, gan, dropoutRng };
}

Deno.test("trainLoop: resuming from a mid-epoch checkpoint gives the straight run's bytes", async (t) => {
  await perBackend(t, async () => {
    const dir = await Deno.makeTempDir({ prefix: "lumen_train_" });
    const run = async (s: ReturnType<typeof setup>, sub: string, resume?: string) => {
      const log: Record<string, unknown>[] = [];
      const r = await trainLoop({
        epochs: 2,
        batches: function* (e) {
          for (let i = 0; i < 3; i++) yield batch(e, i);
        },
        step: (b) => s.gan.trainStep(b),
        validation: function* (e) {
          yield batch(100 + e, 0);
        },
        validate: (b) => s.gan.validate(b),
        endEpoch: (_e, _tr, val) => s.gan.endEpoch(median(val.lossG), median(val.lossD)),
        checkpoint: {
          dir: `${dir}/${sub}`,
          every: 1,
          everySteps: 2,
          parts: () => ({
            modules: { gen: s.gen, disc: s.disc },
            optimizers: { gen: s.gan.optG, disc: s.gan.optD },
            schedulers: { gen: s.gan.schedG, disc: s.gan.schedD },
            rngs: { dropout: s.dropoutRng },
          }),
        },
        resume,
        log: (x) => log.push(x),
      });
      return { r, log };
    };
    const a = setup(5);
    const ra = await run(a, "a");
    assert.equal(ra.r.steps, 6);
    assert.ok(ra.r.checkpoints.includes(`${dir}/a/ckpt_1_b1`), ra.r.checkpoints.join(" "));
    assert.equal(ra.log.filter((x) => x.event === "epoch").length, 2);
    assert.ok(typeof ra.log.find((x) => x.event === "epoch")!.val_lossG === "number");
    const c = setup(77);
    const rc = await run(c, "c", `${dir}/a/ckpt_1_b1`);
    assert.equal(rc.r.steps, 6);
    assert.equal(rc.log.filter((x) => x.event === "step").length, 2);
    for (const [x, y, what] of [[a.gen, c.gen, "gen"], [a.disc, c.disc, "disc"]] as const) {
      const sx = await x.stateDict(), sy = await y.stateDict();
      for (const [k, v] of sx) {
        assertBytesEqual(v.data as Float32Array, sy.get(k)!.data as Float32Array, `${what}.${k}`);
      }
    }
    const ox = await a.gan.optG.stateDict(), oy = await c.gan.optG.stateDict();
    for (const [k, v] of ox.tensors) {
      assertBytesEqual(
        v.data as Float32Array,
        oy.tensors.get(k)!.data as Float32Array,
        `optG ${k}`,
      );
    }
    assert.deepEqual(c.gan.schedG.stateDict(), a.gan.schedG.stateDict());
    await Deno.remove(dir, { recursive: true });
  });
});
