// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * SEAMLeSS alignment rate: the original's pyramid (`--size 4`, k = 7) applied to a stack of
 * 256 × 256 sections the way `seamless-align` does (lib/pipelines/seamless/align.ts: each section
 * to the previous aligned one at level 0, the chunked Pearson correlation before and after), on
 * the engine (wasm, 2 threads) against PyTorch CPU doing the same (bench/peers/seamless_align.py,
 * OMP_NUM_THREADS=2), both after one warm-up pass.
 *
 * - `seamless_align_sections_per_s`: aligned sections per second (higher is better).
 *
 * `SEAMLESS_BENCH_SECTIONS` sets the stack height (default 5).
 *
 * @module
 */
import { cpus } from "node:os";
import { initEngine } from "../lib/tensor/engine.ts";
import { manualInitSeed } from "../lib/nn/init.ts";
import { Pyramid } from "../lib/pipelines/seamless/pyramid.ts";
import { type Plane, plane } from "../lib/pipelines/seamless/masks.ts";
import { alignStack } from "../lib/pipelines/seamless/align.ts";
import { runPeer } from "./_peer.ts";

const NAME = "seamless_align_sections_per_s";
const SIZE = 4, DIM = 256, K = 7;
const N = Number(Deno.env.get("SEAMLESS_BENCH_SECTIONS") ?? 5);
const prefix = Deno.args[0] ?? "";

/** PyTorch's sections per second, or null with the reason. */
async function peer(): Promise<{ rate: number | null; error?: string }> {
  const r = await runPeer("seamless_align.py", [`${SIZE}`, `${DIM}`, `${K}`, `${N}`]);
  return "error" in r ? { rate: null, error: r.error } : { rate: r.out.sections_per_s };
}

/** The engine's sections per second. */
async function ours(): Promise<number> {
  await initEngine({ backend: "wasm", threads: 2 });
  manualInitSeed(0);
  const net = new Pyramid({ size: SIZE, k: K });
  const secs: Plane[] = Array.from({ length: N }, (_, z) => {
    const p = plane(DIM, DIM);
    for (let y = 0; y < DIM; y++) {
      for (let x = 0; x < DIM; x++) {
        p.data[y * DIM + x] = Math.sin(0.37 * (x - 0.7 * z) + 0.21 * y) * 0.3 + 0.5;
      }
    }
    return p;
  });
  await alignStack(net, secs, { chunk: 32 });
  const t0 = performance.now();
  await alignStack(net, secs, { chunk: 32 });
  return (N - 1) / ((performance.now() - t0) / 1000);
}

if (NAME.startsWith(prefix)) {
  const p = await peer();
  const o = await ours();
  console.log(JSON.stringify({
    bench: NAME,
    unit: "sections/s",
    ours: o,
    peer: p.rate,
    ratio: p.rate ? o / p.rate : null,
    cpu: cpus()[0]?.model ?? "unknown",
    size: SIZE,
    dim: DIM,
    k: K,
    threads: 2,
    ...(p.error ? { peer_error: p.error } : {}),
  }));
}
Deno.exit(0);
