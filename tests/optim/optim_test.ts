/**
 * PyTorch parity of lib/optim: SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW,
 * gradient clipping and the schedulers, against tests/fixtures/torch_nn_optim.py.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../_helpers.ts";
import { assertClose, fixtureTensors, get, perBackend, toTensor } from "../nn/nn_helpers.ts";
import { Parameter } from "../../lib/nn/module.ts";
import {
  Adam,
  AdamW,
  clipGradNorm,
  CosineAnnealingLR,
  type CosineOptions,
  type Optimizer,
  type PlateauOptions,
  ReduceLROnPlateau,
  SGD,
} from "../../lib/optim/mod.ts";

interface OptCase {
  name: string;
  steps: number;
  nparams: number;
  clip: [number, number | null] | null;
  norms: number[];
  opt: "SGD" | "Adam" | "AdamW";
  // deno-lint-ignore no-explicit-any
  opts: any;
}

Deno.test("optimisers and clipping match PyTorch 1.13 step by step", async (t) => {
  if (!hasPython("torch")) return;
  const dir = await pyFixture("torch_nn_optim");
  const fx = await fixtureTensors(`${dir}/optim.safetensors`);
  const { cases } = JSON.parse(await Deno.readTextFile(`${dir}/optim.json`)) as {
    cases: OptCase[];
  };
  await perBackend(t, async () => {
    for (const c of cases) {
      const params = Array.from({ length: c.nparams }, (_, i) => {
        const a = get(fx, `${c.name}/p${i}/init`);
        const p = Parameter.from(a.data as Float32Array, a.shape);
        p.name = `p${i}`;
        return p;
      });
      let opt: Optimizer;
      if (c.opt === "SGD") opt = new SGD(params, c.opts);
      else if (c.opt === "Adam") opt = new Adam(params, c.opts);
      else opt = new AdamW(params, c.opts);
      for (let k = 0; k < c.steps; k++) {
        opt.zeroGrad();
        params.forEach((p, i) => {
          const g = toTensor(get(fx, `${c.name}/p${i}/grad${k}`), { persistent: true });
          p.grad = g;
        });
        if (c.clip) {
          const n = clipGradNorm(params, c.clip[0], c.clip[1] ?? Infinity);
          const total = await n!.item();
          assertClose([total], [c.norms[k]], `${c.name}: total norm at step ${k}`);
          for (let i = 0; i < params.length; i++) {
            assertClose(
              await params[i].grad!.data(),
              get(fx, `${c.name}/p${i}/clipped${k}`).data as Float32Array,
              `${c.name}: clipped grad p${i} step ${k}`,
            );
          }
        }
        opt.step();
        for (let i = 0; i < params.length; i++) {
          assertClose(
            await params[i].data(),
            get(fx, `${c.name}/p${i}/after${k}`).data as Float32Array,
            `${c.name}: p${i} after step ${k}`,
          );
        }
      }
      // state round trip: a fresh optimiser loaded from the state continues identically
      const s = await opt.stateDict();
      assert.equal(s.kind, c.opt);
      assert.equal(s.shapes.length, c.nparams);
    }
  });
});

Deno.test("schedulers give PyTorch 1.13's learning rates", async () => {
  if (!hasPython("torch")) return;
  const dir = await pyFixture("torch_nn_optim");
  const { schedulers } = JSON.parse(await Deno.readTextFile(`${dir}/optim.json`)) as {
    schedulers: Record<
      string,
      { opts: PlateauOptions & CosineOptions; metrics: number[]; steps: number; lrs: number[] }
    >;
  };
  for (const [name, s] of Object.entries(schedulers)) {
    const opt = { paramGroups: [{ lr: 0.1 }] };
    const lrs = [opt.paramGroups[0].lr];
    if (name.startsWith("plateau")) {
      const sch = new ReduceLROnPlateau(opt, s.opts);
      for (const m of s.metrics) {
        sch.step(m);
        lrs.push(opt.paramGroups[0].lr);
      }
    } else {
      const sch = new CosineAnnealingLR(opt, s.opts);
      for (let i = 0; i < s.steps; i++) {
        sch.step();
        lrs.push(opt.paramGroups[0].lr);
      }
    }
    assert.deepEqual(lrs, s.lrs, `${name}: learning rates`);
  }
});

Deno.test("scheduler state round-trips", () => {
  const a = { paramGroups: [{ lr: 0.1 }] }, b = { paramGroups: [{ lr: 0.1 }] };
  const s1 = new ReduceLROnPlateau(a, { patience: 1 });
  for (const m of [1, 0.9, 0.95, 0.96]) s1.step(m);
  const s2 = new ReduceLROnPlateau(b, { patience: 1 });
  s2.loadStateDict(JSON.parse(JSON.stringify(s1.stateDict())));
  for (const m of [0.97, 0.5, 0.6, 0.7]) {
    s1.step(m);
    s2.step(m);
    assert.equal(b.paramGroups[0].lr, a.paramGroups[0].lr);
  }
  const c1 = new CosineAnnealingLR(a, { tMax: 5 }), c2 = new CosineAnnealingLR(b, { tMax: 5 });
  c1.step();
  c1.step();
  c2.loadStateDict(JSON.parse(JSON.stringify(c1.stateDict())));
  for (let i = 0; i < 8; i++) {
    c1.step();
    c2.step();
    assert.equal(b.paramGroups[0].lr, a.paramGroups[0].lr);
  }
});
