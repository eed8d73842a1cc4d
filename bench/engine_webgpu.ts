// bench-permissions: --allow-read --allow-env --allow-run=/usr/bin/python3 --allow-sys
/**
 * `conv2d_gflops_webgpu` and `matmul_gflops_webgpu`: the WGSL kernels' throughput against
 * PyTorch CPU (float32, OMP_NUM_THREADS=2, bench/peers/engine_ops.py), on the shapes of
 * bench/engine_ops.ts (which measures the wasm backend):
 *
 * - matmul: 1024³;
 * - conv2d: NoStripesNet's down4 layer (conv 256→512, k4 s2 p1, 225×32 → 112×16), the headline;
 *   the line also carries down2 (64→128 on 900×128), up6 (conv_transpose 512→128, 112×16 →
 *   225×32, output_padding (1, 0)) and down4 forward+backward.
 *
 * On a software fallback adapter (Mesa llvmpipe, ~1 GFLOP/s on the CPU threads) every shape is
 * run once after a warm-up at a small size that compiles the same pipelines (pipelines are
 * cached by op and shape class, not by size); on a GPU, the median of 5 after a full warm-up.
 * Lines carry the adapter, whether it is a fallback, and the repetitions. Where there is no
 * WebGPU adapter at all, the lines say so with `ours: null`.
 *
 *   deno run <permissions above> bench/engine_webgpu.ts [NAME-PREFIX]
 *
 * @module
 */
import * as T from "../lib/tensor/mod.ts";
import type { Backend } from "../lib/tensor/mod.ts";
import type { WebGpuBackend } from "../lib/tensor/webgpu/backend.ts";
import { flops, median, type Spec, SPECS, timeSpec } from "./_engine_shapes.ts";

const PY = "/usr/bin/python3";
const PEER = new URL("./peers/engine_ops.py", import.meta.url).pathname;
const PEER_REPS = 5;

/** A small version of a spec: the same pipelines, a fraction of the work. */
function small(s: Spec): Spec {
  if (s.kind === "matmul") return { ...s, m: 70, n: 70, k: 70 };
  return { ...s, cin: Math.min(s.cin!, 8), cout: Math.min(s.cout!, 8), h: 20, w: 12 };
}

if (import.meta.main) {
  const prefix = Deno.args[0] ?? "";
  const names = ["matmul_gflops_webgpu", "conv2d_gflops_webgpu"];
  if (names.some((n) => n.startsWith(prefix))) {
    const peerRun = new Deno.Command(PY, {
      args: [PEER, JSON.stringify(SPECS), String(PEER_REPS)],
      env: { OMP_NUM_THREADS: "2" },
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!peerRun.success) throw new Error(`${PEER}: ${new TextDecoder().decode(peerRun.stderr)}`);
    const peer = JSON.parse(new TextDecoder().decode(peerRun.stdout));
    const peerGf = (s: Spec) => +(flops(s) / median(peer.times[s.name]) / 1e9).toFixed(2);

    let b: Backend | null = null;
    let why = "";
    try {
      b = await T.getBackend("webgpu");
      if (!b) why = "no WebGPU adapter here";
    } catch (e) {
      why = (e as Error).message;
    }
    const gpu = b as WebGpuBackend | null;
    const fallback = gpu?.isFallbackAdapter ?? null;
    const res: Record<string, { ours: number | null; peer: number }> = {};
    let reps = 0;
    for (const s of SPECS) {
      let ours: number | null = null;
      if (b) {
        if (fallback) {
          await timeSpec(b, small(s), 1); // compiles the pipelines
          reps = 1;
        } else {
          await timeSpec(b, s, 1);
          reps = 5;
        }
        ours = +(flops(s) / median(await timeSpec(b, s, reps)) / 1e9).toFixed(3);
      }
      res[s.name] = { ours, peer: peerGf(s) };
    }
    const line = (bench: string, key: string, details: Record<string, unknown>) => {
      const r = res[key];
      console.log(JSON.stringify({
        bench,
        unit: "GFLOP/s",
        ours: r.ours,
        peer: r.peer,
        ratio: r.ours === null ? null : +(r.ours / r.peer).toFixed(4),
        adapter: gpu?.description ?? null,
        fallback_adapter: fallback,
        reps,
        peer_threads: peer.threads,
        ...(b ? {} : { skipped: why }),
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
