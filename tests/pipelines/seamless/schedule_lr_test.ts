/**
 * The learning-rate milestones (`--lr_milestones`, `--lr_gamma`, torch's MultiStepLR on top of
 * the original's fine-tuning factor): the rate of each epoch, and the rate the trainer's Adam
 * uses and logs, also after a rebuild of the optimizer for a resumed run.
 */
import assert from "node:assert/strict";
import { initEngine } from "../../../lib/tensor/engine.ts";
import { manualInitSeed } from "../../../lib/nn/init.ts";
import { Pyramid } from "../../../lib/pipelines/seamless/pyramid.ts";
import { levelPlan, lrAt } from "../../../lib/pipelines/seamless/schedule.ts";
import { SeamlessTrainer, TRAIN_DEFAULTS } from "../../../lib/pipelines/seamless/trainer.ts";
import { synthStack } from "../../../lib/pipelines/seamless/synth.ts";

const ARGS = {
  ...TRAIN_DEFAULTS,
  size: 2,
  trunc: 0,
  fine_tuning: true,
  fall_time: 1000,
  padding: 0,
  lr: 0.01,
  lr_milestones: [1, 2],
  lr_gamma: 0.3,
};

Deno.test("seamless schedule: lr × gamma at each milestone, × the fine-tuning factor", () => {
  const rates = [0, 1, 2, 3].map((e) => lrAt(e, levelPlan(e, ARGS), ARGS));
  const expect = [0.002, 0.002 * 0.3, 0.002 * 0.09, 0.002 * 0.09];
  rates.forEach((r, i) => assert.ok(Math.abs(r - expect[i]) < 1e-12, `epoch ${i}: ${r}`));
  const plain = { ...ARGS, lr_milestones: undefined, lr_gamma: undefined };
  assert.equal(lrAt(3, levelPlan(3, plain), plain), 0.01 * 0.2);
});

Deno.test("seamless trainer: Adam steps with the milestone rate, also after prepare()", async () => {
  await initEngine({ backend: "wasm", threads: 1 });
  manualInitSeed(1);
  const net = new Pyramid({ size: 2, k: 3, trainSize: 16 });
  const s = synthStack({ depth: 3, dim: 16, seed: 2, maxShift: 1 });
  const stack = { sections: s.sections, masks: null };
  const tr = new SeamlessTrainer(net, ARGS);
  const lrs: number[] = [];
  for (let e = 0; e < 3; e++) lrs.push((await tr.step(stack, e, 0)).lr);
  assert.deepEqual(lrs.map((v) => +v.toPrecision(6)), [0.002, 0.0006, 0.00018]);
  const resumed = new SeamlessTrainer(net, ARGS);
  resumed.prepare(2, 1);
  assert.equal(+(await resumed.step(stack, 2, 1)).lr.toPrecision(6), 0.00018);
});
