/**
 * The SEAMLeSS penalties against the original's loss.py / masks.py / run_sample / run_pair in
 * PyTorch (tests/fixtures/seamless/penalties.py): each smoothness penalty alone, the masked
 * similarity and smoothness of a pair with ternary crack masks (weights and gradient to the
 * field), and the consensus penalty, on every registered backend.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { withBackend } from "../../_with_backend.ts";
import * as T from "../../../lib/tensor/mod.ts";
import { readNpz } from "../../../lib/io/npz.ts";
import type { NdArray } from "../../../lib/io/array.ts";
import {
  consensus,
  sampleTerms,
  SMOOTHNESS_TYPES,
  smoothnessField,
  smoothnessType,
} from "../../../lib/pipelines/seamless/penalties.ts";
import { plane } from "../../../lib/pipelines/seamless/masks.ts";

const noPy = !hasPython("numpy", "torch");
const fx = noPy ? null : await readNpz(`${await pyFixture("seamless/penalties")}/penalties.npz`);
const bs = await T.backends();

function get(k: string): NdArray {
  const a = fx!.get(k);
  if (!a) throw new Error(`fixture lacks ${k}`);
  return a;
}
const tt = (k: string, requiresGrad = false) =>
  T.tensor(get(k).data as Float32Array, get(k).shape, { requiresGrad });

function relErr(got: ArrayLike<number>, want: NdArray): number {
  assert.equal(got.length, want.data.length);
  let e = 0, m = 1e-12;
  for (let i = 0; i < got.length; i++) {
    e = Math.max(e, Math.abs(got[i] - (want.data[i] as number)));
    m = Math.max(m, Math.abs(want.data[i] as number));
  }
  return e / m;
}

Deno.test("seamless penalties: an unknown smoothness penalty is one line", () => {
  assert.throws(() => smoothnessType("rig9"), /unknown penalty rig9/);
});

for (const b of bs) {
  for (const t of SMOOTHNESS_TYPES) {
    Deno.test({
      name: `seamless penalties: ${t} equals loss.py (forward, gradient) [${b.name}]`,
      ignore: noPy,
      fn: () =>
        withBackend(b, async () => {
          const r = tt(`${t}:r`, true);
          const y = smoothnessField(r, t);
          assert.ok(relErr(await y.data(), get(`${t}:ry`)) < 1e-5);
          T.sum(T.mul(y, tt(`${t}:rgy`))).backward();
          assert.ok(relErr(await r.grad!.data(), get(`${t}:rg`)) < 1e-5);
        }),
    });

    Deno.test({
      name: `seamless penalties: masked similarity + ${t} smoothness equal run_sample [${b.name}]`,
      ignore: noPy,
      fn: () =>
        withBackend(b, async () => {
          const field = tt("field", true);
          const mask = (k: string) => plane(32, 32, get(k).data as Float32Array);
          const terms = await sampleTerms(
            tt("src"),
            tt("tgt"),
            field,
            mask("smask"),
            mask("tmask"),
            {
              lambda2: 0.3,
              lambda3: 0.01,
              lambda4: 10,
              lambda5: 0,
              mask_smooth_radius: 3,
              eps: 1e-6,
              smoothness: t,
            },
          );
          assert.ok(terms);
          assert.ok(relErr(terms.border.data, get(`${t}:border`)) === 0, "border mask");
          assert.ok(
            relErr(terms.similarityWeights.data, get(`${t}:simw`)) === 0,
            "similarity weights",
          );
          assert.ok(
            relErr(terms.smoothnessWeights.data, get(`${t}:smw`)) < 1e-5,
            "smoothness weights",
          );
          assert.ok(relErr([await terms.similarity.item()], get(`${t}:sim`)) < 1e-5, "similarity");
          assert.ok(
            relErr([await terms.smoothness.item()], get(`${t}:smooth`)) < 1e-4,
            "smoothness",
          );
          T.add(terms.similarity, T.mul(terms.smoothness, 0.7)).backward();
          const e = relErr(await field.grad!.data(), get(`${t}:gfield`));
          assert.ok(e < 1e-4, `d/dfield ${e}`);
        }),
    });
  }

  Deno.test({
    name: `seamless penalties: consensus equals run_pair (forward, gradients) [${b.name}]`,
    ignore: noPy,
    fn: () =>
      withBackend(b, async () => {
        const rf = tt("c:rf", true), rb = tt("c:rb", true);
        const c = consensus(rf, tt("c:pf"), tt("c:tf"), rb, tt("c:pb"), tt("c:tb"));
        assert.ok(relErr([await c.item()], get("c:y")) < 1e-6);
        c.backward();
        assert.ok(relErr(await rf.grad!.data(), get("c:grf")) < 1e-6);
        assert.ok(relErr(await rb.grad!.data(), get("c:grb")) < 1e-6);
      }),
  });
}
