/**
 * The crack masks change the alignment where they should: the same cracked pair aligned by
 * minimising the original's cost (border-masked similarity + λ1·smoothness, lib penalties) over
 * a free displacement field, with the defect masks weighting it (λ2 = 0.04: the smoothness is
 * down-weighted near the crack; λ4 = 5: the similarity weighs more there) and without them.
 * Near the crack the two fields differ, and the masked one is less smooth there; far from it
 * (beyond the reach of the masks' filters and of the steps) they are bit-identical.
 */
import assert from "node:assert/strict";
import { add, mul, tensor } from "../../../lib/tensor/mod.ts";
import { resetArena } from "../../../lib/tensor/tensor.ts";
import { initEngine } from "../../../lib/tensor/engine.ts";
import { Parameter } from "../../../lib/nn/module.ts";
import { Adam } from "../../../lib/optim/adam.ts";
import { type PenaltyParams, sampleTerms } from "../../../lib/pipelines/seamless/penalties.ts";
import { identityGrid } from "../../../lib/pipelines/seamless/pyramid.ts";
import { type Plane, plane, ternaryMask } from "../../../lib/pipelines/seamless/masks.ts";
import { synthStack } from "../../../lib/pipelines/seamless/synth.ts";

const DIM = 64, CRACK_X = 14, STEPS = 12;

/** A pair of neighbouring sections; the source has a vertical crack at x = CRACK_X. */
function crackedPair(): { src: Plane; tgt: Plane; mask: Plane } {
  const s = synthStack({ depth: 2, dim: DIM, seed: 11, maxShift: 2 });
  const src = plane(DIM, DIM, s.sections[1].data), defect = plane(DIM, DIM);
  for (let y = 0; y < DIM; y++) {
    for (const x of [CRACK_X, CRACK_X + 1]) {
      src.data[y * DIM + x] = 0.97;
      defect.data[y * DIM + x] = 1;
    }
  }
  return { src, tgt: s.sections[0], mask: ternaryMask(defect, 3) };
}

/** The field (grid units, [h, w, 2]) after STEPS Adam steps on the original's cost. */
async function align(pair: ReturnType<typeof crackedPair>, masked: boolean): Promise<Float32Array> {
  const p: PenaltyParams = {
    lambda2: 0.04,
    lambda3: 0,
    lambda4: 5,
    lambda5: 0,
    mask_smooth_radius: 2,
    eps: 1e-6,
    smoothness: "jacob",
  };
  const disp = Parameter.from(new Float32Array(DIM * DIM * 2), [1, DIM, DIM, 2]);
  const opt = new Adam([disp], { lr: 0.01 });
  const I = identityGrid(DIM, DIM);
  for (let i = 0; i < STEPS; i++) {
    const src = tensor(pair.src.data, [1, 1, DIM, DIM]);
    const tgt = tensor(pair.tgt.data, [1, 1, DIM, DIM]);
    const m = masked ? pair.mask : null;
    const t = await sampleTerms(src, tgt, add(I, disp), m, null, p);
    add(t!.similarity, mul(t!.smoothness, 0.1)).backward();
    opt.step();
    disp.grad = null;
    resetArena();
  }
  return await disp.data();
}

/** Mean jacob energy of the field over the columns [x0, x1). */
function roughness(f: Float32Array, x0: number, x1: number): number {
  let e = 0, n = 0;
  for (let y = 6; y < DIM - 7; y++) {
    for (let x = x0; x < x1; x++) {
      for (let c = 0; c < 2; c++) {
        const v = f[(y * DIM + x) * 2 + c];
        e += (f[(y * DIM + x + 1) * 2 + c] - v) ** 2 + (f[((y + 1) * DIM + x) * 2 + c] - v) ** 2;
      }
      n++;
    }
  }
  return e / n;
}

Deno.test("seamless masks: λ2/λ4 change the field near a crack and nowhere else", async () => {
  await initEngine({ backend: "wasm", threads: 1 });
  const pair = crackedPair();
  const plain = await align(pair, false), masked = await align(pair, true);
  // Per column: mean |masked − plain| (grid units).
  const colDiff = Array.from({ length: DIM }, (_, x) => {
    let s = 0;
    for (let y = 0; y < DIM; y++) {
      const i = (y * DIM + x) * 2;
      s += Math.abs(masked[i] - plain[i]) + Math.abs(masked[i + 1] - plain[i + 1]);
    }
    return s / DIM;
  });
  const near = colDiff.slice(CRACK_X - 3, CRACK_X + 5).reduce((a, b) => a + b) / 8;
  assert.ok(near > 1e-4, `near the crack the masks changed the field by ${near}`);
  // Reach: the mask band (3) + smoothness-weight filters (2 + 2) + one pixel per step.
  const reach = 3 + 4 + STEPS + 2;
  for (let x = CRACK_X + 2 + reach; x < DIM; x++) {
    assert.equal(colDiff[x], 0, `column ${x} (far from the crack) changed by ${colDiff[x]}`);
  }
  // Down-weighted smoothness: the masked field is rougher at the crack than the plain one.
  const rm = roughness(masked, CRACK_X - 3, CRACK_X + 5);
  const rp = roughness(plain, CRACK_X - 3, CRACK_X + 5);
  assert.ok(rm > 1.2 * rp, `roughness at the crack ${rm} (masked) vs ${rp} (plain)`);
});
