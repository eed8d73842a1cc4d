/**
 * The WASM multiply-add ceiling, measured on the GEMM pool's own threads: every thread runs the
 * kernel module's register-only `peak` loop (wasm/gemm/gen_wat.ts: 12 independent
 * `f32x4.relaxed_madd` chains, or mul + add in the plain module) at the same time, in short
 * bursts; the best burst is the peak. Benchmarks divide their effective GFLOP/s by it, so that a
 * ratio measured on a loaded machine still says how close the kernels come to what the engine
 * and the CPU allow.
 *
 * @example
 * ```ts
 * import { wasmBackend } from "./backend.ts";
 * import type { GemmPool } from "./gemm_pool.ts";
 * const pool = wasmBackend().gemmPool as unknown as GemmPool; // after initEngine()
 * const { gflops } = measureWasmPeak(pool);
 * ```
 * @module
 */
import type { GemmPool } from "./gemm_pool.ts";

/** Options of {@link measureWasmPeak}. */
export interface PeakOptions {
  /** Wall milliseconds per burst (default 20: about one GEMM call of the benchmarks). */
  burstMs?: number;
  /** Bursts at least (default 10). */
  bursts?: number;
  /** Keep measuring until this many milliseconds have passed (default 300). */
  minMs?: number;
}

/** A peak measurement: GFLOP/s of all threads together. */
export interface PeakResult {
  /** Best burst. */
  gflops: number;
  /** Median burst (the spread under load). */
  medianGflops: number;
  /** Bursts timed. */
  bursts: number;
  /** Threads that ran at once. */
  threads: number;
  /** Relaxed-SIMD kernel (else plain SIMD128). */
  relaxed: boolean;
}

/**
 * Measures the pool's multiply-add peak: calibrates a burst to `burstMs`, then times bursts
 * (at least `bursts` of them and `minMs` in all); the best is the peak, the median shows the
 * load.
 */
export function measureWasmPeak(pool: GemmPool, opts: PeakOptions = {}): PeakResult {
  const burstMs = opts.burstMs ?? 20, minBursts = opts.bursts ?? 10, minMs = opts.minMs ?? 300;
  // warm-up: the engine compiles `peak` with its baseline compiler first, then optimises it
  let iters = 1000;
  for (let i = 0; i < 4; i++) pool.peak(iters);
  for (;;) {
    const { seconds } = pool.peak(iters);
    if (seconds * 1000 >= burstMs / 4 || iters > 1e9) {
      iters = Math.max(1, Math.round(iters * burstMs / Math.max(1e-3, seconds * 1000)));
      break;
    }
    iters *= 4;
  }
  const rates: number[] = [];
  const t0 = performance.now();
  while (rates.length < minBursts || performance.now() - t0 < minMs) {
    const { seconds, flops } = pool.peak(iters);
    rates.push(flops / seconds / 1e9);
    if (rates.length >= 1000) break;
  }
  rates.sort((a, b) => a - b);
  return {
    gflops: rates[rates.length - 1],
    medianGflops: rates[rates.length >> 1],
    bursts: rates.length,
    threads: pool.threads,
    relaxed: pool.relaxed,
  };
}
