// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * SEAMLeSS training step: the original's pyramid (`--size 4`, k = 7, TRAIN_SIZE 1280) on one
 * pair of 256 × 256 sections with all levels fine-tuned, the way train.py trains a pair: a pass
 * and a pass rotated by 180°, each (similarity + λ1·smoothness)/2 backward (border-masked MSE,
 * jacob smoothness under the smoothness weights, no defect masks), then one Adam step. The engine
 * (wasm, 2 threads, lib/pipelines/seamless/trainer.ts) against PyTorch CPU on the same network
 * (bench/peers/seamless_train_step.py over the fixture's twin of pyramid.py, OMP_NUM_THREADS=2),
 * both after one warm-up step.
 *
 * - `seamless_train_step_s`: seconds per pair step (best of the timed steps; lower is better).
 *
 * `SEAMLESS_BENCH_STEPS` sets the timed steps (default 2).
 *
 * @module
 */
import { cpus } from "node:os";
import { initEngine } from "../lib/tensor/engine.ts";
import { manualInitSeed } from "../lib/nn/init.ts";
import { Pyramid } from "../lib/pipelines/seamless/pyramid.ts";
import { plane } from "../lib/pipelines/seamless/masks.ts";
import { SeamlessTrainer, TRAIN_DEFAULTS } from "../lib/pipelines/seamless/trainer.ts";
import { runPeer } from "./_peer.ts";

const NAME = "seamless_train_step_s";
const SIZE = 4, DIM = 256, K = 7;
const STEPS = Number(Deno.env.get("SEAMLESS_BENCH_STEPS") ?? 2);
const prefix = Deno.args[0] ?? "";

/** PyTorch's seconds per step, or null with the reason. */
async function peer(): Promise<{ s: number | null; error?: string }> {
  const r = await runPeer("seamless_train_step.py", [`${SIZE}`, `${DIM}`, `${K}`, `${STEPS}`]);
  return "error" in r ? { s: null, error: r.error } : { s: 1 / r.out.steps_per_s };
}

/** The engine's best seconds per step. */
async function ours(): Promise<number> {
  await initEngine({ backend: "wasm", threads: 2 });
  manualInitSeed(0);
  const net = new Pyramid({ size: SIZE, k: K });
  const args = { ...TRAIN_DEFAULTS, size: SIZE, trunc: 0, fine_tuning: true, padding: 0 };
  const tr = new SeamlessTrainer(net, args);
  const img = (dx: number) => {
    const p = plane(DIM, DIM);
    for (let y = 0; y < DIM; y++) {
      for (let x = 0; x < DIM; x++) {
        p.data[y * DIM + x] = Math.sin(0.37 * (x - dx) + 0.21 * y) * 0.3 + 0.5;
      }
    }
    return p;
  };
  // Sections 1 and 2 make the one pair train.py trains (section 0 is only a neighbour).
  const stack = { sections: [img(3), img(1.5), img(0)], masks: null };
  await tr.step(stack, 0, 0);
  let best = Infinity;
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    await tr.step(stack, 0, i + 1);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return best;
}

if (NAME.startsWith(prefix)) {
  const p = await peer();
  const o = await ours();
  console.log(JSON.stringify({
    bench: NAME,
    unit: "s",
    ours: o,
    peer: p.s,
    ratio: p.s ? p.s / o : null,
    cpu: cpus()[0]?.model ?? "unknown",
    size: SIZE,
    dim: DIM,
    k: K,
    threads: 2,
    ...(p.error ? { peer_error: p.error } : {}),
  }));
}
Deno.exit(0);
