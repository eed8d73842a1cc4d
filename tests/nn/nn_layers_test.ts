/**
 * PyTorch parity of lib/nn's layers and losses: outputs, input gradients, parameter gradients
 * and updated buffers (running statistics) against tests/fixtures/torch_nn_layers.py, on every
 * backend.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../_helpers.ts";
import { assertClose, fixtureTensors, get, perBackend, toTensor } from "./nn_helpers.ts";
import type { NdArray } from "../../lib/io/array.ts";
import { type Tensor, tensor } from "../../lib/tensor/tensor.ts";
import { mul, sum } from "../../lib/tensor/ops/mod.ts";
import type { Module } from "../../lib/nn/module.ts";
import * as L from "../../lib/nn/layers.ts";
import { bceWithLogits, crossEntropy, diceLoss, l1Loss, mseLoss } from "../../lib/nn/losses.ts";

interface Spec {
  name: string;
  kind: "layer" | "loss";
  train?: boolean;
  layer?: string;
  args?: unknown[];
  opts?: Record<string, unknown>;
  loss?: string;
}

// deno-lint-ignore no-explicit-any
function build(s: { layer?: string; args?: any[]; opts?: any }): Module {
  const a = s.args ?? [], o = s.opts ?? {};
  switch (s.layer) {
    case "Conv2d":
      return new L.Conv2d(a[0], a[1], a[2], o);
    case "Conv1d":
      return new L.Conv1d(a[0], a[1], a[2], o);
    case "ConvTranspose2d":
      return new L.ConvTranspose2d(a[0], a[1], a[2], o);
    case "Linear":
      return new L.Linear(a[0], a[1], o);
    case "BatchNorm2d":
      return new L.BatchNorm2d(a[0], o);
    case "BatchNorm1d":
      return new L.BatchNorm1d(a[0], o);
    case "Sequential":
      return new L.Sequential(...a.map(build));
    case "LeakyReLU":
      return new L.LeakyReLU(a[0]);
    case "ReLU":
      return new L.ReLU();
    case "Tanh":
      return new L.Tanh();
    case "Sigmoid":
      return new L.Sigmoid();
    case "Dropout":
      return new L.Dropout(a[0]);
    case "MaxPool2d":
      return new L.MaxPool2d(a[0], o);
    case "AvgPool2d":
      return new L.AvgPool2d(a[0], o);
    case "MaxPool1d":
      return new L.MaxPool1d(a[0], o);
    case "AvgPool1d":
      return new L.AvgPool1d(a[0], o);
    case "Upsample":
      return new L.Upsample(a[0]);
    case "Flatten":
      return new L.Flatten();
  }
  throw new Error(`unknown layer ${s.layer}`);
}

function sub(fx: Map<string, NdArray>, prefix: string): Map<string, NdArray> {
  const out = new Map<string, NdArray>();
  for (const [k, v] of fx) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

Deno.test("nn layers and losses match PyTorch 1.13 (outputs and gradients)", async (t) => {
  if (!hasPython("torch")) return;
  const dir = await pyFixture("torch_nn_layers");
  const fx = await fixtureTensors(`${dir}/layers.safetensors`);
  const specs: Spec[] = JSON.parse(await Deno.readTextFile(`${dir}/layers.json`));
  await perBackend(t, async () => {
    for (const s of specs) {
      const p = `${s.name}/`;
      const x = toTensor(get(fx, `${p}x`), { requiresGrad: true });
      const gy = toTensor(get(fx, `${p}gy`));
      let out: Tensor;
      let m: Module | null = null;
      if (s.kind === "layer") {
        m = build(s);
        const sd = new Map([...sub(fx, `${p}param/`), ...sub(fx, `${p}before/`)]);
        m.loadStateDict(sd);
        m.train(s.train ?? true);
        out = m.forward(x);
      } else {
        const target = get(fx, `${p}target`);
        const o = s.opts ?? {};
        const reduction = o.reduction as "mean" | "sum" | "none" | undefined;
        switch (s.loss) {
          case "l1":
            out = l1Loss(x, toTensor(target), reduction);
            break;
          case "mse":
            out = mseLoss(x, toTensor(target), reduction);
            break;
          case "bce":
            out = bceWithLogits(x, toTensor(target), {
              weight: o.weight ? toTensor(get(fx, `${p}weight`)) : undefined,
              posWeight: o.posWeight ? toTensor(get(fx, `${p}posWeight`)) : undefined,
              reduction,
            });
            break;
          case "ce": {
            const tt = target.shape.length === x.ndim
              ? toTensor(target)
              : tensor(Int32Array.from(target.data as Float32Array), target.shape, {
                dtype: "int32",
              });
            out = crossEntropy(x, tt, {
              weight: o.weight ? toTensor(get(fx, `${p}weight`)) : undefined,
              labelSmoothing: o.labelSmoothing as number | undefined,
              reduction,
            });
            break;
          }
          case "dice":
            out = diceLoss(x, toTensor(target), o as Record<string, never>);
            break;
          default:
            throw new Error(`unknown loss ${s.loss}`);
        }
      }
      const expOut = get(fx, `${p}out`);
      assert.deepEqual([...out.shape], expOut.shape, `${s.name}: output shape`);
      assertClose(await out.data(), expOut.data as Float32Array, `${s.name}: output`);
      sum(mul(out, gy)).backward();
      assert.ok(x.grad, `${s.name}: no input gradient`);
      assertClose(
        await x.grad!.data(),
        get(fx, `${p}dx`).data as Float32Array,
        `${s.name}: input gradient`,
      );
      if (m) {
        // gradients that vanish in exact arithmetic (conv bias before batch-stat BN) are
        // compared at the scale of the case's other gradients
        let scale = 0;
        for (const [n] of m.namedParameters()) {
          for (const v of get(fx, `${p}grad/${n}`).data as Float32Array) {
            scale = Math.max(scale, Math.abs(v));
          }
        }
        for (const [n, prm] of m.namedParameters()) {
          assert.ok(prm.grad, `${s.name}: no gradient for ${n}`);
          assertClose(
            await prm.grad!.data(),
            get(fx, `${p}grad/${n}`).data as Float32Array,
            `${s.name}: gradient of ${n}`,
            { scale },
          );
        }
        for (const [n, b] of m.namedBuffers()) {
          const after = fx.get(`${p}after/${n}`);
          if (after) {
            assertClose(
              await b.data(),
              after.data as Float32Array,
              `${s.name}: ${n} after the forward`,
            );
          }
        }
      }
    }
  });
});
