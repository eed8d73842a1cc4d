/**
 * ONNX export: the exported PatchUNet (paper size and a small preset, dynamic batch axis)
 * passes onnx.checker (Debian python3-onnx) and runs in onnxruntime-web with the engine's
 * output to 1e-4; the discriminator and a model using the other layers do too; the protobuf
 * encoder round-trips through the onnx package.
 */
import assert from "node:assert/strict";
import { hasPython, runPython } from "../_helpers.ts";
import { perBackend } from "./nn_helpers.ts";
import { noGrad, type Tensor, tensor } from "../../lib/tensor/tensor.ts";
import { InitRng, normal } from "../../lib/nn/init.ts";
import { PatchUNet } from "../../lib/pipelines/nostripesnet/patch_unet.ts";
import { PatchDiscriminator } from "../../lib/pipelines/nostripesnet/patch_discriminator.ts";
import * as L from "../../lib/nn/layers.ts";
import { Module } from "../../lib/nn/module.ts";
import { exportOnnx } from "../../lib/nn/onnx_export.ts";
import { OnnxInference } from "../../lib/nn/onnx_runtime.ts";
import type { OnnxGraph } from "../../lib/nn/onnx_export.ts";

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function checkOnnx(bytes: Uint8Array, name: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: `lumen_${name}_`, suffix: ".onnx" });
  await Deno.writeFile(path, bytes);
  const out = runPython(
    `-c import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); ` +
      `print(m.opset_import[0].version, m.ir_version, m.graph.input[0].type.tensor_type.shape.dim[0].dim_param, len(m.graph.initializer))`,
    [path],
  );
  return `${path} ${out.trim()}`;
}

async function compare(
  m: Module,
  x: Tensor,
  what: string,
  o: { provider?: "wasm" | "webgpu"; tol?: number } = {},
): Promise<number> {
  m.eval();
  const y = noGrad(() => m.forward(x));
  const engine = await y.data();
  const bytes = await exportOnnx(m, {
    inputShape: [...x.shape.slice(1)],
    outputShape: [...y.shape.slice(1)],
  });
  const info = await checkOnnx(bytes, what);
  const [, opset, ir, dim] = info.split(" ");
  assert.equal(opset, "17", `${what}: opset`);
  assert.equal(ir, "8", `${what}: IR version`);
  assert.equal(dim, "N", `${what}: dynamic batch axis`);
  const s = await OnnxInference.create(bytes, { provider: o.provider ?? "wasm", threads: 1 });
  const out = await s.run1({ dtype: "float32", shape: [...x.shape], data: await x.data() });
  await s.release();
  assert.deepEqual(out.shape, [...y.shape], `${what}: output shape`);
  const d = maxAbsDiff(out.data as Float32Array, engine);
  assert.ok(d <= (o.tol ?? 1e-4), `${what}: onnxruntime-web differs from the engine by ${d}`);
  await Deno.remove(info.split(" ")[0]);
  return d;
}

function input(shape: number[], seed: number): Tensor {
  return tensor(normal(shape, new InitRng(seed)).map(Math.tanh), shape);
}

Deno.test("ONNX: small PatchUNet, dynamic batch, discriminator and other layers match the engine", async (t) => {
  if (!hasPython("onnx")) return;
  await perBackend(t, async () => {
    const g = new PatchUNet({ width: 8, depth: 5, rng: new InitRng(3) });
    await compare(g, input([1, 1, 45, 32], 1), "unet_small_b1");
    await compare(g, input([3, 1, 45, 32], 2), "unet_small_b3");
    const d = new PatchDiscriminator({ width: 8, depth: 3, rng: new InitRng(4) });
    await compare(d, input([2, 2, 45, 32], 5), "disc_small");
    const bn = new L.BatchNorm2d(4);
    bn.loadStateDict(
      new Map([
        ["weight", { dtype: "float32", shape: [4], data: new Float32Array([1, 0.5, 2, 1.5]) }],
        ["bias", { dtype: "float32", shape: [4], data: new Float32Array([0, 0.1, -0.2, 0.3]) }],
        ["running_mean", {
          dtype: "float32",
          shape: [4],
          data: new Float32Array([0.1, -0.3, 0.2, 0]),
        }],
        ["running_var", { dtype: "float32", shape: [4], data: new Float32Array([1, 2, 0.5, 1.5]) }],
      ]),
    );
    const misc = new L.Sequential(
      new L.Conv2d(2, 4, 3, { padding: 1 }),
      bn,
      new L.ReLU(),
      new L.MaxPool2d(2),
      new L.Upsample({ scaleFactor: 2, mode: "bilinear" }),
      new L.AvgPool2d(3, { stride: 2, padding: 1 }),
      new L.Upsample({ size: [9, 11], mode: "nearest" }),
      new L.Sigmoid(),
      new L.Flatten(),
      new L.Linear(4 * 9 * 11, 5),
      new L.Tanh(),
      new L.Dropout(0.5),
      new L.LeakyReLU(0.1),
    );
    await compare(misc, input([2, 2, 16, 12], 6), "misc_layers");
    class Net1d extends Module {
      c = this.child("c", new L.Conv1d(3, 4, 5, { stride: 2, padding: 2 }));
      bn = this.child("bn", new L.BatchNorm1d(4, { trackRunningStats: false }));
      pool = this.child("pool", new L.MaxPool1d(2));
      forward(x: Tensor) {
        return this.pool.forward(this.bn.forward(this.c.forward(x)));
      }
      override toOnnx(g: OnnxGraph, xs: string[], p: string) {
        return this.pool.toOnnx(
          g,
          this.bn.toOnnx(g, this.c.toOnnx(g, xs, `${p}c.`), `${p}bn.`),
          `${p}pool.`,
        );
      }
    }
    await compare(new Net1d(), input([2, 3, 20], 7), "conv1d_bn1d");
    // exportOnnx finds the output shape itself when not told
    const bytes = await exportOnnx(d, { inputShape: [2, 45, 32] });
    assert.match(await checkOnnx(bytes, "disc_shape"), / 17 8 N /);
    // onnxruntime-web's webgpu execution provider (llvmpipe on machines without a GPU)
    if ((navigator as { gpu?: unknown }).gpu) {
      // (a tiny U-Net: each new shader costs seconds to compile on llvmpipe)
      const tiny = new PatchUNet({ width: 2, depth: 2, rng: new InitRng(9) });
      await compare(tiny, input([2, 1, 12, 8], 8), "unet_tiny_webgpu_ep", { provider: "webgpu" });
    } else console.warn("skip: no WebGPU adapter for onnxruntime-web's webgpu provider");
  });
});

Deno.test("ONNX: the paper-size PatchUNet (54,413,313 parameters) passes onnx.checker and matches the engine on 1801×256", async (t) => {
  if (!hasPython("onnx")) return;
  await perBackend(t, async (b) => {
    if (b.name !== "wasm") return; // one full-size forward per run is enough (llvmpipe is slow)
    const g = new PatchUNet({ rng: new InitRng(11) });
    assert.equal(g.numParameters(), 54_413_313);
    const d = await compare(g, input([1, 1, 1801, 256], 12), "unet_paper", { provider: "wasm" });
    console.log(`paper PatchUNet: onnxruntime-web vs engine max |diff| ${d.toExponential(2)}`);
  });
});

Deno.test("ONNX: onnxruntime-web leaves the web Worker in place (the engine's thread pools use it)", async () => {
  const web = globalThis.Worker;
  const m = new L.Conv2d(1, 2, 3, { padding: 1, rng: new InitRng(3) });
  const bytes = await exportOnnx(m, { inputShape: [1, 8, 8], outputShape: [2, 8, 8] });
  const s = await OnnxInference.create(bytes, { threads: 1 });
  await s.run1({ dtype: "float32", shape: [1, 1, 8, 8], data: new Float32Array(64) });
  await s.release();
  assert.equal(globalThis.Worker, web);
  // a module worker still starts and has its global scope
  const w = new Worker(
    URL.createObjectURL(
      new Blob(["self.postMessage(typeof self);"], { type: "application/javascript" }),
    ),
    { type: "module" },
  );
  const got = await new Promise((r) => (w.onmessage = (e) => r(e.data)));
  w.terminate();
  assert.equal(got, "object");
});
