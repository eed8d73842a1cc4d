// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * Flair Visibility training rate: the 2.5D U-Net (lib/pipelines/flair/model.ts, `small` preset:
 * width 16, 3 poolings) on batches of 4 slices (N, 2, 7, 256, 256), one Adam step each (forward,
 * the flair loss, backward, step), on the engine (wasm, 2 threads) against PyTorch CPU on the
 * same network (OMP_NUM_THREADS=2, bench/peers/flair_unet.py), both after one warm-up step:
 *
 * - `flair_train_step_slices_per_s`: training slices per second (higher is better).
 *
 * Args: [NAME prefix] — `FLAIR_BENCH_SLICES` sets the timed slices (default 16).
 *
 * @module
 */
import { cpus } from "node:os";
import { initEngine } from "../lib/tensor/engine.ts";
import { resetArena, tensor } from "../lib/tensor/tensor.ts";
import { Adam } from "../lib/optim/adam.ts";
import { InitRng } from "../lib/nn/init.ts";
import { FlairUNet, PRESETS } from "../lib/pipelines/flair/model.ts";
import { flairLoss } from "../lib/pipelines/flair/loss.ts";

const NAME = "flair_train_step_slices_per_s";
const prefix = Deno.args[0] ?? "";
const HERE = new URL(".", import.meta.url).pathname;
const B = 4, S = 256, SLICES = Number(Deno.env.get("FLAIR_BENCH_SLICES") ?? 16);
const { width, depth } = PRESETS.small;

/** PyTorch's rate on the same network and batch, or null with the reason on stderr. */
async function peer(): Promise<{ rate: number | null; error?: string }> {
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [`${HERE}peers/flair_unet.py`, "train", `${width}`, `${depth}`, `${B}`, `${SLICES}`],
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

/** The engine's training rate. */
async function ours(): Promise<number> {
  await initEngine({ backend: "wasm", threads: 2 });
  const net = new FlairUNet({ width, depth, rng: new InitRng(0) });
  const opt = new Adam(net.parameters(), { lr: 1e-3 });
  const x = new Float32Array(B * 2 * 7 * S * S).map((_, i) => Math.sin(i * 0.37));
  const y = new Float32Array(B * 3 * S * S).map((_, i) => (Math.sin(i * 0.11) > 0 ? 1 : 0));
  net.train();
  const step = async () => {
    opt.zeroGrad();
    const { loss } = flairLoss(net.forward(tensor(x, [B, 2, 7, S, S])), tensor(y, [B, 3, S, S]));
    loss.backward();
    opt.step();
    await loss.item();
    resetArena();
  };
  await step();
  const t0 = performance.now();
  const steps = Math.max(1, Math.floor(SLICES / B));
  for (let i = 0; i < steps; i++) await step();
  return (steps * B) / ((performance.now() - t0) / 1000);
}

if (NAME.startsWith(prefix)) {
  const p = await peer();
  const o = await ours();
  const ratio = p.rate ? o / p.rate : null;
  console.log(JSON.stringify({
    bench: NAME,
    unit: "slices/s",
    ours: o,
    peer: p.rate,
    ratio,
    cpu: cpus()[0]?.model ?? "unknown",
    preset: "small",
    batch: B,
    ...(p.error ? { peer_error: p.error } : {}),
  }));
}
Deno.exit(0);
