// bench-permissions: --allow-read --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * Benchmarks `conv2d_gflops_<backend>` and `matmul_gflops_<backend>`: the engine's convolution
 * and GEMM throughput against PyTorch CPU (float32, OMP_NUM_THREADS=2, bench/peers/engine_ops.py)
 * on the same shapes.
 *
 * - matmul: 1024³ (2·1024³ FLOP).
 * - conv2d: NoStripesNet's down4 layer (Conv 256→512, k4 s2 p1, 225×32 → 112×16, batch 1),
 *   the headline number; the line also carries down2 (64→128 on 900×128), up6 (ConvTranspose
 *   512→128, 112×16 → 225×32, output_padding (1, 0)) and down4 forward+backward.
 *
 * One JSON line per benchmark: {"bench", "unit": "GFLOP/s", "ours", "peer", "ratio"
 * (ours/peer, above 1 = faster than PyTorch), "threads", ...details}. Medians of REPS runs after
 * a warm-up. On wasm each line also carries "gflops" (= ours), "wasm_peak_gflops" (the relaxed-SIMD
 * multiply-add peak of the GEMM threads, lib/tensor/wasm/peak.ts, best burst before and after each
 * shape), "peak_fraction" (ours / that best burst) and "peak_fraction_median" (ours / the median
 * burst: ours is a median of runs too, which under load the best burst flatters the other way).
 *
 *   deno run <permissions above> bench/engine_ops.ts [NAME-PREFIX] [--backend wasm|webgpu]
 *
 * @module
 */
import * as T from "../lib/tensor/mod.ts";
import type { GemmPool } from "../lib/tensor/wasm/gemm_pool.ts";
import { measureWasmPeak } from "../lib/tensor/wasm/peak.ts";
import { flops, median, SPECS, timeSpec } from "./_engine_shapes.ts";

const REPS = 5;
const PY = "/usr/bin/python3";
const PEER = new URL("./peers/engine_ops.py", import.meta.url).pathname;

if (import.meta.main) {
  const args = [...Deno.args];
  const bi = args.indexOf("--backend");
  const backendName = bi >= 0 ? args.splice(bi, 2)[1] : "wasm";
  const prefix = args[0] ?? "";
  const names = [`matmul_gflops_${backendName}`, `conv2d_gflops_${backendName}`];
  if (names.some((n) => n.startsWith(prefix))) {
    const b = await T.initEngine({ backend: backendName, threads: 2 });
    const threads = (b as unknown as { threads?: number }).threads ?? null;
    const peerRun = new Deno.Command(PY, {
      args: [PEER, JSON.stringify(SPECS), String(REPS)],
      env: { OMP_NUM_THREADS: "2" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!peerRun.success) throw new Error(`${PEER}: ${new TextDecoder().decode(peerRun.stderr)}`);
    const peer = JSON.parse(new TextDecoder().decode(peerRun.stdout));
    const res: Record<string, { ours: number; peer: number }> = {};
    const pool = (b as unknown as { gemmPool?: GemmPool | null }).gemmPool ?? null;
    const peaks: number[] = [];
    const medians: number[] = [];
    const peak = () => {
      if (!pool?.peak) return;
      const r = measureWasmPeak(pool, { minMs: 150 });
      peaks.push(r.gflops);
      medians.push(r.medianGflops);
    };
    peak();
    for (const s of SPECS) {
      const ours = flops(s) / median(await timeSpec(b, s, REPS, 1)) / 1e9;
      const theirs = flops(s) / median(peer.times[s.name]) / 1e9;
      res[s.name] = { ours: +ours.toFixed(2), peer: +theirs.toFixed(2) };
      peak();
    }
    const peakGflops = peaks.length ? Math.max(...peaks) : null;
    const peakMedian = medians.length ? median(medians) : null;
    const line = (bench: string, key: string, details: Record<string, unknown>) => {
      const r = res[key];
      console.log(JSON.stringify({
        bench,
        unit: "GFLOP/s",
        ours: r.ours,
        peer: r.peer,
        ratio: +(r.ours / r.peer).toFixed(3),
        threads,
        peer_threads: peer.threads,
        gflops: r.ours,
        wasm_peak_gflops: peakGflops === null ? null : +peakGflops.toFixed(1),
        peak_fraction: peakGflops === null ? null : +(r.ours / peakGflops).toFixed(3),
        peak_median_gflops: peakMedian === null ? null : +peakMedian.toFixed(1),
        peak_fraction_median: peakMedian === null ? null : +(r.ours / peakMedian).toFixed(3),
        ...details,
      }));
    };
    if (names[0].startsWith(prefix)) line(names[0], "matmul_1024", { shape: "1024x1024x1024" });
    if (names[1].startsWith(prefix)) {
      line(names[1], "down4", {
        shape: "NSN down4: conv 256→512 k4 s2 p1, 225×32 → 112×16",
        down2: res.down2,
        up6_conv_transpose: res.up6,
        down4_fwd_bwd: res.down4_fwd_bwd,
      });
    }
  }
  Deno.exit(0);
}
