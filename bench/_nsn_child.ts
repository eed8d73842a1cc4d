/**
 * Child process of bench/nostripesnet.ts: one measurement of NoStripesNet's paper model on the
 * engine, in a fresh process so that its peak memory (VmHWM) is the measurement's own.
 * Args: forward|step BACKEND H W REPEATS. Prints {"seconds" (best run), "backend", "flops" (of
 * one run: 2 × the multiply-adds of every convolution, transposed convolution and matmul it
 * issued), "cpu_seconds" (process CPU of the best run), and on wasm "wasm_peak_gflops" (best
 * relaxed-SIMD multiply-add burst of the GEMM threads, lib/tensor/wasm/peak.ts, measured before
 * and after every run), "wasm_peak_median_gflops", "wasm_peak_relaxed", "threads",
 * "peak_gflops_per_cpu" (that loop's flops per CPU-second of the process)}.
 *
 * @module
 */
import process from "node:process";
import { initEngine } from "../lib/tensor/engine.ts";
import type { Backend, Conv2dParams, MatmulParams } from "../lib/tensor/backend.ts";
import { noGrad, resetArena, tensor } from "../lib/tensor/tensor.ts";
import { buildNoStripesNet } from "../lib/pipelines/nostripesnet/model.ts";
import { MaskedGAN } from "../lib/pipelines/nostripesnet/gan.ts";
import type { GemmPool } from "../lib/tensor/wasm/gemm_pool.ts";
import { measureWasmPeak } from "../lib/tensor/wasm/peak.ts";

const [what, backendName, hs, ws, rs] = Deno.args;
const H = Number(hs), W = Number(ws), reps = Number(rs ?? 2);
const backend = await initEngine({ backend: backendName });

/** Counts the flops of the GEMM-shaped ops the backend is asked for (whatever it runs them as). */
function countFlops(b: Backend): { flops: number } {
  const c = { flops: 0 };
  const conv = (p: Conv2dParams) =>
    2 * p.n * p.cOut * p.oh * p.ow * (p.cIn / p.groups) * p.kh * p.kw;
  const bb = b as unknown as Record<string, (...a: unknown[]) => unknown>;
  const wrap = (name: string, fl: (a: unknown[]) => number) => {
    const f = bb[name];
    bb[name] = function (this: unknown, ...a: unknown[]) {
      c.flops += fl(a);
      return f.apply(this, a);
    };
  };
  wrap("conv2d", (a) => conv(a[4] as Conv2dParams));
  wrap("conv2dBackwardData", (a) => conv(a[3] as Conv2dParams));
  wrap("conv2dBackwardWeight", (a) => conv(a[4] as Conv2dParams));
  wrap("matmul", (a) => {
    const p = a[3] as MatmulParams;
    return 2 * p.batch * p.m * p.n * p.k;
  });
  return c;
}
const counter = countFlops(backend);
const pool = backend.name === "wasm"
  ? (backend as unknown as { gemmPool: GemmPool | null }).gemmPool
  : null;
const peaks: { gflops: number; median: number; perCpu: number }[] = [];
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
function peak(): void {
  if (!pool?.peak) return;
  const r = measureWasmPeak(pool, { minMs: 200, bursts: 8 });
  // the same loop per CPU-second of the process (what the scheduler of a loaded machine gave)
  const c0 = cpuUs();
  let fl = 0;
  for (let i = 0; i < 8; i++) fl += pool.peak(200_000).flops;
  peaks.push({ gflops: r.gflops, median: r.medianGflops, perCpu: fl / (cpuUs() - c0) / 1e3 });
}

const { gen, disc } = buildNoStripesNet({ preset: "paper" }, 0);
const x = new Float32Array(H * W).map((_, i) => Math.tanh(Math.sin(i * 0.37)));
const m = new Float32Array(H * W);
for (let a = 0; a < H; a++) for (let c = 100; c < 106; c++) m[a * W + c] = 1;
let best = Infinity, bestCpu = 0, flops = 0;
const gan = what === "forward" ? null : new MaskedGAN(gen, disc);
peak();
for (let r = 0; r < reps; r++) {
  counter.flops = 0;
  const c0 = cpuUs();
  const t0 = performance.now();
  if (!gan) {
    gen.train();
    await noGrad(async () => {
      const y = gen.forward(tensor(x, [1, 1, H, W]));
      await y.data();
      resetArena(y.backend);
    });
  } else {
    await gan.trainStep({
      stripe: tensor(x, [1, 1, H, W]),
      mask: tensor(m, [1, 1, H, W]),
      clean: tensor(x, [1, 1, H, W]),
    });
  }
  const dt = (performance.now() - t0) / 1000;
  if (dt < best) {
    best = dt;
    bestCpu = (cpuUs() - c0) / 1e6;
  }
  flops = counter.flops;
  peak();
}
const out: Record<string, unknown> = {
  seconds: best,
  backend: backend.name,
  flops,
  cpu_seconds: bestCpu,
};
if (peaks.length) {
  out.wasm_peak_gflops = Math.max(...peaks.map((p) => p.gflops));
  out.wasm_peak_median_gflops = peaks.map((p) => p.median).sort((a, b) => a - b)[peaks.length >> 1];
  out.wasm_peak_relaxed = pool!.relaxed;
  out.peak_gflops_per_cpu = Math.max(...peaks.map((p) => p.perCpu));
  out.threads = pool!.threads;
}
console.log(JSON.stringify(out));
Deno.exit(0);
