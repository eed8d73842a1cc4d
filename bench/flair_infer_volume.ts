// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * Flair Visibility inference rate on one volume: the 2.5D U-Net (lib/pipelines/flair/model.ts,
 * `small` preset: width 16, 3 poolings) in eval mode on 16 slices (N, 2, 7, 256, 256) in batches
 * of 4, each after one warm-up batch:
 *
 * - `flair_infer_volume_slices_per_s`: the engine (wasm, 2 threads) against PyTorch CPU on the
 *   same network (OMP_NUM_THREADS=2, bench/peers/flair_unet.py);
 * - `flair_infer_volume_ort_slices_per_s`: the engine against onnxruntime-web (wasm, 2 threads)
 *   running the engine's ONNX export of the same weights (`peer` is onnxruntime-web's rate).
 *
 * Args: [NAME prefix] — `FLAIR_BENCH_SLICES` sets the volume's slices (default 16).
 *
 * @module
 */
import { cpus } from "node:os";
import { initEngine } from "../lib/tensor/engine.ts";
import { noGrad, resetArena, tensor } from "../lib/tensor/tensor.ts";
import { InitRng } from "../lib/nn/init.ts";
import { exportOnnx } from "../lib/nn/onnx_export.ts";
import { OnnxInference } from "../lib/nn/onnx_runtime.ts";
import { FlairUNet, PRESETS } from "../lib/pipelines/flair/model.ts";

const NAMES = ["flair_infer_volume_slices_per_s", "flair_infer_volume_ort_slices_per_s"];
const prefix = Deno.args[0] ?? "";
const HERE = new URL(".", import.meta.url).pathname;
const B = 4, S = 256, SLICES = Number(Deno.env.get("FLAIR_BENCH_SLICES") ?? 16);
const { width, depth } = PRESETS.small;
const batches = Math.max(1, Math.floor(SLICES / B));
const shape = [B, 2, 7, S, S];

/** PyTorch's rate on the same network and volume, or null with the reason on stderr. */
async function peer(): Promise<{ rate: number | null; error?: string }> {
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [`${HERE}peers/flair_unet.py`, "infer", `${width}`, `${depth}`, `${B}`, `${SLICES}`],
    env: { OMP_NUM_THREADS: "2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    const e = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-2).join(" | ");
    console.error(`peer failed: ${e}`);
    return { rate: null, error: e.slice(0, 300) };
  }
  const out = new TextDecoder().decode(r.stdout).trim().split("\n").pop()!;
  return { rate: JSON.parse(out).slices_per_s };
}

/** Slices per second of `run` over the volume, after one warm-up batch. */
async function rate(run: () => Promise<void>): Promise<number> {
  await run();
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) await run();
  return (batches * B) / ((performance.now() - t0) / 1000);
}

const line = (bench: string, ours: number, peer: number | null, extra = {}) =>
  console.log(JSON.stringify({
    bench,
    unit: "slices/s",
    ours,
    peer,
    ratio: peer ? ours / peer : null,
    cpu: cpus()[0]?.model ?? "unknown",
    preset: "small",
    batch: B,
    slices: batches * B,
    ...extra,
  }));

if (NAMES.some((n) => n.startsWith(prefix))) {
  const p = NAMES[0].startsWith(prefix) ? await peer() : null;
  await initEngine({ backend: "wasm", threads: 2 });
  const net = new FlairUNet({ width, depth, rng: new InitRng(0) });
  net.eval();
  const x = new Float32Array(B * 2 * 7 * S * S).map((_, i) => Math.sin(i * 0.37));
  const o = await rate(async () => {
    await noGrad(() => net.forward(tensor(x, shape))).data();
    resetArena();
  });
  if (p) line(NAMES[0], o, p.rate, p.error ? { peer_error: p.error } : {});
  if (NAMES[1].startsWith(prefix)) {
    const bytes = await exportOnnx(net, {
      inputShape: [2, 7, S, S],
      outputShape: [3, S, S],
      inputName: "modelInput",
      outputName: "modelOutput",
    });
    const s = await OnnxInference.create(bytes, { provider: "wasm", threads: 2 });
    const ort = await rate(async () => {
      await s.run({ modelInput: { dtype: "float32", shape, data: x } });
    });
    line(NAMES[1], o, ort, { peer_name: "onnxruntime-web wasm" });
  }
}
Deno.exit(0);
