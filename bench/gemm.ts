// bench-permissions: --allow-read --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * Benchmarks `gemm_gflops_wasm_<shape>`: the multi-threaded WASM SGEMM
 * (lib/tensor/wasm/gemm_pool.ts) against PyTorch's `torch.mm` (float32 CPU,
 * OMP_NUM_THREADS=2 and 1; bench/peers/gemm.py), GFLOP/s = 2·m·n·k / time.
 *
 * Shapes: square 512, 1024, 2048, and convolution-like ones (NoStripesNet layers as im2col
 * GEMMs: m = output channels, n = output pixels, k = input channels × kernel area):
 * 512×448×4096 and 64×115200×16.
 *
 * One JSON line per shape: {"bench", "unit": "GFLOP/s", "ours" (relaxed SIMD, 2 threads — or the
 * plain kernel where relaxed SIMD is missing), "peer" (torch.mm, 2 threads), "ratio" (ours/peer),
 * "threads", "m", "n", "k", "relaxed_2t", "relaxed_1t", "plain_2t", "plain_1t", "peer_1t",
 * "ms" (ours, best), "median_ms", "reps", "loadavg" (1-minute load when it started), "gflops"
 * (ours again: effective GFLOP/s), "wasm_peak_gflops" (the relaxed-SIMD multiply-add peak of the
 * same threads, lib/tensor/wasm/peak.ts, timed in bursts interleaved with this shape's GEMM calls
 * so both see the same load), "peak_fraction" (gflops / wasm_peak_gflops), "peak_median_gflops",
 * "gflops_per_cpu" / "peak_gflops_per_cpu" / "peak_fraction_cpu" (the same per CPU-second of the
 * process × threads, summed over all timed calls and bursts: what a loaded machine's scheduler
 * does not distort)}. Each
 * number is the BEST of its timed runs (after a warm-up; at least `--reps` runs and
 * `--min-seconds` of running each): the machine is shared, so the best run is the one least
 * disturbed.
 *
 *   deno run <permissions above> bench/gemm.ts [NAME-PREFIX] [--reps N] [--min-seconds S]
 *     [--no-peer] [--threads T]
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { measureWasmPeak } from "../lib/tensor/wasm/peak.ts";
import {
  createGemmPool,
  type GemmPool,
  gemmScratchBytes,
  loadGemmKernel,
} from "../lib/tensor/wasm/gemm_pool.ts";

const PY = "/usr/bin/python3";

/** Flops of one iteration of the pool's peak loop on one thread. */
function peakFlopsPerIter(pool: GemmPool): number {
  const r = pool.peak(1);
  return r.flops / pool.threads;
}
const PEER = decodeURIComponent(new URL("./peers/gemm.py", import.meta.url).pathname);

const SHAPES: { name: string; m: number; n: number; k: number }[] = [
  { name: "512", m: 512, n: 512, k: 512 },
  { name: "1024", m: 1024, n: 1024, k: 1024 },
  { name: "2048", m: 2048, n: 2048, k: 2048 },
  { name: "conv_512x448x4096", m: 512, n: 448, k: 4096 },
  { name: "conv_64x115200x16", m: 64, n: 115200, k: 16 },
];

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    reps: { type: "string", default: "5" },
    "min-seconds": { type: "string", default: "1" },
    "no-peer": { type: "boolean", default: false },
    threads: { type: "string", default: String(Math.min(navigator.hardwareConcurrency || 2, 16)) },
  },
});
const prefix = positionals[0] ?? "";
const REPS = Number(values.reps);
const MIN_S = Number(values["min-seconds"]);
const THREADS = Number(values.threads);
const shapes = SHAPES.filter((s) => `gemm_gflops_wasm_${s.name}`.startsWith(prefix));

function peer(threads: number): Map<string, number> {
  const out = new Map<string, number>();
  if (values["no-peer"] || shapes.length === 0) return out;
  try {
    const r = new Deno.Command(PY, {
      args: [
        PEER,
        ...shapes.map((s) => `${s.m},${s.n},${s.k}`),
        "--reps",
        String(REPS),
        "--min-seconds",
        String(MIN_S),
      ],
      env: { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    for (const line of new TextDecoder().decode(r.stdout).trim().split("\n")) {
      const j = JSON.parse(line);
      out.set(`${j.m},${j.n},${j.k}`, j.gflops);
    }
  } catch (e) {
    console.error(`peer (torch.mm, ${threads} threads) unavailable: ${(e as Error).message}`);
  }
  return out;
}

interface Timing {
  gflops: number;
  bestMs: number;
  medianMs: number;
  reps: number;
  /** Best and median peak burst interleaved with the calls (when asked for). */
  peak?: { gflops: number; medianGflops: number };
  /** Flops per CPU-second of the process × threads, of the calls and of the peak bursts. */
  cpu?: { gemm: number; peak: number };
}

/**
 * Best and median time of sgemm on one shape (operands random, C overwritten: beta = 0); with
 * `peakIters`, each call is followed by a peak burst of the pool's threads of about its length.
 */
function time(
  pool: GemmPool,
  memory: WebAssembly.Memory,
  base: number,
  m: number,
  n: number,
  k: number,
  peakItersPerMs = 0,
): Timing {
  const a = base, b = a + m * k * 4, c = b + k * n * 4;
  const end = c + m * n * 4;
  if (end > memory.buffer.byteLength) {
    memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  }
  const f = new Float32Array(memory.buffer);
  let s = 12345;
  for (let i = a / 4; i < c / 4; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    f[i] = s / 2 ** 32 - 0.5;
  }
  pool.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
  const times: number[] = [];
  const peaks: number[] = [];
  const cpu = { gemmFlops: 0, gemmUs: 0, peakFlops: 0, peakUs: 0 };
  const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const t0 = performance.now();
  while (times.length < REPS || performance.now() - t0 < MIN_S * 1000) {
    const c0 = cpuUs();
    const t = performance.now();
    pool.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
    const dt = performance.now() - t;
    const c1 = cpuUs();
    times.push(dt);
    cpu.gemmFlops += 2 * m * n * k;
    cpu.gemmUs += c1 - c0;
    if (peakItersPerMs > 0) {
      const r = pool.peak(Math.max(1000, Math.round(Math.min(dt, 200) * peakItersPerMs)));
      peaks.push(r.flops / r.seconds / 1e9);
      cpu.peakFlops += r.flops;
      cpu.peakUs += cpuUs() - c1;
    }
    if (times.length >= 1000) break;
  }
  times.sort((x, y) => x - y);
  peaks.sort((x, y) => y - x);
  const best = times[0];
  return {
    gflops: (2 * m * n * k) / best / 1e6,
    bestMs: best,
    medianMs: times[times.length >> 1],
    reps: times.length,
    peak: peaks.length ? { gflops: peaks[0], medianGflops: peaks[peaks.length >> 1] } : undefined,
    cpu: peaks.length
      ? {
        gemm: (cpu.gemmFlops / cpu.gemmUs / 1e3) * pool.threads,
        peak: (cpu.peakFlops / cpu.peakUs / 1e3) * pool.threads,
      }
      : undefined,
  };
}

/** The 1-minute load average when the benchmark started (other work on the machine). */
const LOAD = (() => {
  try {
    return Math.round(Deno.loadavg()[0] * 100) / 100;
  } catch {
    return null;
  }
})();

if (shapes.length > 0) {
  const relaxedOk = (await loadGemmKernel(true)).relaxed;
  const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared: true });
  const scratch = gemmScratchBytes(THREADS);
  const base = Math.ceil(scratch / 65536) * 65536;
  const configs: { key: string; relaxed: boolean; threads: number }[] = [
    { key: "relaxed_2t", relaxed: true, threads: THREADS },
    { key: "relaxed_1t", relaxed: true, threads: 1 },
    { key: "plain_2t", relaxed: false, threads: THREADS },
    { key: "plain_1t", relaxed: false, threads: 1 },
  ].filter((c) => relaxedOk || !c.relaxed);
  const results = new Map<string, Map<string, Timing>>();
  for (const cfg of configs) {
    const pool = await createGemmPool(memory, {
      threads: cfg.threads,
      scratchPtr: 0,
      scratchBytes: scratch,
      relaxed: cfg.relaxed,
    });
    try {
      // the yardstick: the relaxed kernel's multiply-add peak on these threads (iterations per ms)
      const ref = cfg.key === (relaxedOk ? "relaxed_2t" : "plain_2t");
      const pk = ref ? measureWasmPeak(pool, { minMs: 100 }) : null;
      const perMs = pk ? (pk.gflops * 1e6) / (pool.threads * peakFlopsPerIter(pool)) : 0;
      for (const s of shapes) {
        const r = results.get(s.name) ?? new Map<string, Timing>();
        r.set(cfg.key, time(pool, memory, base, s.m, s.n, s.k, perMs));
        results.set(s.name, r);
      }
    } finally {
      pool.close();
    }
  }
  const peer2 = peer(2);
  const peer1 = peer(1);
  const round = (x: number | undefined) => (x === undefined ? null : Math.round(x * 10) / 10);
  for (const s of shapes) {
    const r = results.get(s.name)!;
    const ours = r.get(relaxedOk ? "relaxed_2t" : "plain_2t")!;
    const p = peer2.get(`${s.m},${s.n},${s.k}`);
    console.log(JSON.stringify({
      bench: `gemm_gflops_wasm_${s.name}`,
      unit: "GFLOP/s",
      ours: round(ours.gflops),
      peer: round(p),
      ratio: p ? Math.round((ours.gflops / p) * 100) / 100 : null,
      threads: THREADS,
      m: s.m,
      n: s.n,
      k: s.k,
      relaxed_2t: round(r.get("relaxed_2t")?.gflops),
      relaxed_1t: round(r.get("relaxed_1t")?.gflops),
      plain_2t: round(r.get("plain_2t")?.gflops),
      plain_1t: round(r.get("plain_1t")?.gflops),
      peer_1t: round(peer1.get(`${s.m},${s.n},${s.k}`)),
      gflops: round(ours.gflops),
      wasm_peak_gflops: round(ours.peak?.gflops),
      peak_fraction: ours.peak ? Math.round((ours.gflops / ours.peak.gflops) * 1000) / 1000 : null,
      peak_median_gflops: round(ours.peak?.medianGflops),
      peak_relaxed: relaxedOk,
      gflops_per_cpu: round(ours.cpu?.gemm),
      peak_gflops_per_cpu: round(ours.cpu?.peak),
      peak_fraction_cpu: ours.cpu
        ? Math.round((ours.cpu.gemm / ours.cpu.peak) * 1000) / 1000
        : null,
      ms: Math.round(ours.bestMs * 100) / 100,
      median_ms: Math.round(ours.medianMs * 100) / 100,
      reps: ours.reps,
      loadavg: LOAD,
    }));
  }
}
