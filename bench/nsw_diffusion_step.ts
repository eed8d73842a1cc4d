// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * NSW DDPM training step: the class-conditional U-Net (lib/pipelines/nsw/unet.ts, `tiny` preset,
 * 32 px) on a batch of 8 images, one ε-prediction step each (q_sample, forward, MSE, backward,
 * Adam), on the engine (wasm, 2 threads) against PyTorch CPU on its twin
 * (tests/fixtures/nsw/unet_torch.py via bench/peers/nsw_unet.py, OMP_NUM_THREADS=2), both after
 * one warm-up step:
 *
 * - `nsw_diffusion_step`: the best step in seconds (lower is better; medians are given too).
 *
 * Args: [NAME prefix] — `NSW_BENCH_REPEATS` sets the timed steps (default 8).
 *
 * @module
 */
import { cpus } from "node:os";
import { initEngine } from "../lib/tensor/engine.ts";
import { resetArena, tensor } from "../lib/tensor/tensor.ts";
import { Adam } from "../lib/optim/adam.ts";
import { mseLoss } from "../lib/nn/losses.ts";
import { manualInitSeed } from "../lib/nn/init.ts";
import { PRESETS, UNet, unetConditioning } from "../lib/pipelines/nsw/unet.ts";
import { makeSchedule, qSample } from "../lib/pipelines/nsw/diffusion_schedule.ts";
import { stepDraws } from "../lib/pipelines/nsw/diffusion_data.ts";
import { runPeer } from "./_peer.ts";

const NAME = "nsw_diffusion_step";
const prefix = Deno.args[0] ?? "";
const B = 8, REPEATS = Number(Deno.env.get("NSW_BENCH_REPEATS") ?? 8);
const cfg = PRESETS.tiny;

/** PyTorch's best and median step, or the reason it failed. */
async function peer(): Promise<{ best: number; median: number } | { error: string }> {
  const r = await runPeer("nsw_unet.py", [
    "step",
    `${cfg.size}`,
    cfg.channels.join(","),
    cfg.attnRes.join(",") || "-",
    `${B}`,
    `${REPEATS}`,
  ]);
  return "error" in r ? r : { best: r.out.best, median: r.out.median };
}

/** The engine's step times (sorted). */
async function ours(): Promise<number[]> {
  await initEngine({ backend: "wasm", threads: 2 });
  manualInitSeed(0);
  const net = new UNet(cfg);
  const opt = new Adam(net.parameters(), { lr: 2e-4 });
  const sched = makeSchedule("linear", 1000);
  const per = cfg.size * cfg.size;
  const x0 = Float32Array.from({ length: B * per }, (_, i) => Math.sin(i * 0.37));
  const y = Array.from({ length: B }, (_, i) => i % cfg.classes);
  const step = async (k: number) => {
    const d = stepDraws(B, B, 1000, per, 0, k);
    const c = unetConditioning(cfg, d.t, y);
    net.zeroGrad();
    const out = net.forward(
      tensor(qSample(sched, x0, d.noise, d.t, per), [B, 1, cfg.size, cfg.size]),
      c.temb,
      c.y,
    );
    const loss = mseLoss(out, tensor(d.noise, [B, 1, cfg.size, cfg.size]));
    loss.backward();
    opt.step();
    await loss.item();
    resetArena();
  };
  await step(0);
  const times: number[] = [];
  for (let k = 1; k <= REPEATS; k++) {
    const t0 = performance.now();
    await step(k);
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b);
}

if (NAME.startsWith(prefix)) {
  const p = await peer();
  const o = await ours();
  const pb = "best" in p ? p.best : null;
  console.log(JSON.stringify({
    bench: NAME,
    unit: "s",
    ours: o[0],
    peer: pb,
    ratio: pb ? pb / o[0] : null,
    cpu: cpus()[0]?.model ?? "unknown",
    preset: "tiny",
    batch: B,
    threads: 2,
    ours_median: o[o.length >> 1],
    peer_median: "median" in p ? p.median : null,
    ...("error" in p ? { peer_error: p.error } : {}),
  }));
}
Deno.exit(0);
