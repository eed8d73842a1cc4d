/**
 * The SEAMLeSS network against the original pyramid.py in PyTorch (forward and gradients on
 * the same weights, with and without the pre-encoder, at two target levels), and the sampling
 * composites it relies on (grid_sample zeros/border × align_corners, flip, bilinear upsampling
 * with align_corners = false), on every registered backend.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../../_helpers.ts";
import { withBackend } from "../../_with_backend.ts";
import * as T from "../../../lib/tensor/mod.ts";
import { flip } from "../../../lib/tensor/ops/flip.ts";
import { gridSamplePadded } from "../../../lib/tensor/ops/grid_sample_border.ts";
import { readNpz } from "../../../lib/io/npz.ts";
import type { NdArray } from "../../../lib/io/array.ts";
import { Pyramid } from "../../../lib/pipelines/seamless/pyramid.ts";

const noPy = !hasPython("numpy", "torch");
const fx = noPy ? null : await readNpz(`${await pyFixture("seamless/pyramid")}/pyramid.npz`);
const bs = await T.backends();

function get(k: string): NdArray {
  const a = fx!.get(k);
  if (!a) throw new Error(`fixture lacks ${k}`);
  return a;
}

function tt(k: string, requiresGrad = false): T.Tensor {
  const a = get(k);
  return T.tensor(a.data as Float32Array, a.shape, { requiresGrad });
}

/** max |got − want| / max(1, max |want|). */
function relErr(got: Float32Array, want: NdArray): number {
  assert.equal(got.length, want.data.length);
  let e = 0, m = 1;
  for (let i = 0; i < got.length; i++) {
    e = Math.max(e, Math.abs(got[i] - (want.data[i] as number)));
    m = Math.max(m, Math.abs(want.data[i] as number));
  }
  return e / m;
}

for (const b of bs) {
  Deno.test({
    name: `seamless pyramid: forward and gradients equal PyTorch [${b.name}]`,
    ignore: noPy,
    fn: () =>
      withBackend(b, async () => {
        for (const pe of [false, true]) {
          const net = new Pyramid({ size: 3, k: 7, trainSize: 32, pe });
          const sd = new Map<string, NdArray>();
          for (const [k, v] of fx!) if (k.startsWith("p:")) sd.set(k.slice(2), v);
          net.loadStateDict(sd);
          for (const level of [0, 1]) {
            const tag = `pe${+pe}_l${level}`;
            for (const p of net.parameters()) p.grad = null;
            const x = tt("stack", true);
            const { pred, field } = net.align(x, level);
            assert.ok(relErr(await pred.data(), get(`${tag}:pred`)) < 1e-4, `${tag} pred`);
            assert.ok(relErr(await field.data(), get(`${tag}:field`)) < 1e-4, `${tag} field`);
            const loss = T.add(
              T.sum(T.mul(pred, tt(`${tag}:gp`))),
              T.sum(T.mul(field, tt(`${tag}:gf`))),
            );
            loss.backward();
            assert.ok(relErr(await x.grad!.data(), get(`${tag}:gx`)) < 2e-4, `${tag} d/dx`);
            let checked = 0;
            for (const [n, p] of net.namedParameters()) {
              const want = fx!.get(`${tag}:g:${n}`);
              if (!want) {
                assert.ok(!p.grad || (await p.grad.data()).every((v) => v === 0), `${tag} ${n}`);
                continue;
              }
              const got = p.grad ? await p.grad.data() : new Float32Array(want.data.length);
              const e = relErr(got, want);
              assert.ok(e < 2e-4, `${tag} d/d${n}: ${e}`);
              checked++;
            }
            assert.ok(checked >= 20, `${tag}: ${checked} gradients checked`);
            T.resetArena();
          }
        }
      }),
  });

  Deno.test({
    name: `seamless ops: grid_sample zeros/border × align_corners, flip, upsample [${b.name}]`,
    ignore: noPy,
    fn: () =>
      withBackend(b, async () => {
        for (const padding of ["zeros", "border"] as const) {
          for (const ac of [true, false]) {
            const t = `gs:${padding}:${+ac}`;
            const x = tt("gs:x", true), g = tt("gs:grid", true);
            const y = gridSamplePadded(x, g, { padding, alignCorners: ac });
            assert.ok(relErr(await y.data(), get(`${t}:y`)) < 1e-5, `${t} y`);
            T.sum(T.mul(y, tt(`${t}:gy`))).backward();
            assert.ok(relErr(await x.grad!.data(), get(`${t}:gx`)) < 1e-5, `${t} gx`);
            assert.ok(relErr(await g.grad!.data(), get(`${t}:gg`)) < 1e-4, `${t} gg`);
          }
        }
        const f = tt("flip:x", true);
        const fy = flip(f, [1, 2]);
        assert.equal(relErr(await fy.data(), get("flip:y")), 0);
        T.sum(T.mul(fy, tt("flip:gy"))).backward();
        assert.equal(relErr(await f.grad!.data(), get("flip:gx")), 0);
        const u = tt("up:x", true);
        const uy = T.upsample(u, { scaleFactor: 2, mode: "bilinear", alignCorners: false });
        assert.ok(relErr(await uy.data(), get("up:y")) < 1e-5);
        T.sum(T.mul(uy, tt("up:gy"))).backward();
        assert.ok(relErr(await u.grad!.data(), get("up:gx")) < 1e-5);
        T.resetArena();
      }),
  });
}
