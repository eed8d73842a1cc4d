// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * NSW DDIM sampling: 16 samples of the class-conditional U-Net (lib/pipelines/nsw/unet.ts,
 * `tiny` preset, 32 px) with 10 deterministic DDIM steps (`sampleDdim`: forward passes in eval
 * mode without the tape, and the DDIM update), on the engine (wasm, 2 threads) against PyTorch CPU
 * on its twin (bench/peers/nsw_unet.py, OMP_NUM_THREADS=2, the same update in torch), both after
 * one warm-up run:
 *
 * - `nsw_sample`: samples per second of the best run (higher is better; medians are given too).
 *
 * Args: [NAME prefix] — `NSW_BENCH_REPEATS` sets the timed runs (default 3).
 *
 * @module
 */
import { cpus } from "node:os";
import { initEngine } from "../lib/tensor/engine.ts";
import { manualInitSeed } from "../lib/nn/init.ts";
import { PRESETS, UNet } from "../lib/pipelines/nsw/unet.ts";
import { sampleDdim } from "../lib/pipelines/nsw/diffusion_model.ts";
import { runPeer } from "./_peer.ts";

const NAME = "nsw_sample";
const prefix = Deno.args[0] ?? "";
const N = 16, DDIM = 10, REPEATS = Number(Deno.env.get("NSW_BENCH_REPEATS") ?? 3);
const cfg = PRESETS.tiny;

/** PyTorch's best and median run, or the reason it failed. */
async function peer(): Promise<{ best: number; median: number } | { error: string }> {
  const r = await runPeer("nsw_unet.py", [
    "sample",
    `${cfg.size}`,
    cfg.channels.join(","),
    cfg.attnRes.join(",") || "-",
    `${N}`,
    `${REPEATS}`,
    `${DDIM}`,
  ]);
  return "error" in r ? r : { best: r.out.best, median: r.out.median };
}

/** The engine's run times in seconds (sorted). */
async function ours(): Promise<number[]> {
  await initEngine({ backend: "wasm", threads: 2 });
  manualInitSeed(0);
  const net = new UNet(cfg);
  const meta = { cfg, schedule: "linear" as const, T: 1000 };
  const labels = Array.from({ length: N }, (_, i) => i % cfg.classes);
  await sampleDdim(net, meta, labels, { steps: DDIM, seed: 0, chunk: N });
  const times: number[] = [];
  for (let r = 1; r <= REPEATS; r++) {
    const t0 = performance.now();
    await sampleDdim(net, meta, labels, { steps: DDIM, seed: r, chunk: N });
    times.push((performance.now() - t0) / 1000);
  }
  return times.sort((a, b) => a - b);
}

if (NAME.startsWith(prefix)) {
  const p = await peer();
  const o = await ours();
  const rate = (s: number) => N / s;
  const pb = "best" in p ? rate(p.best) : null;
  console.log(JSON.stringify({
    bench: NAME,
    unit: "samples/s",
    ours: rate(o[0]),
    peer: pb,
    ratio: pb ? rate(o[0]) / pb : null,
    cpu: cpus()[0]?.model ?? "unknown",
    preset: "tiny",
    samples: N,
    ddim_steps: DDIM,
    threads: 2,
    ours_median: rate(o[o.length >> 1]),
    peer_median: "median" in p ? rate(p.median) : null,
    ...("error" in p ? { peer_error: p.error } : {}),
  }));
}
Deno.exit(0);
