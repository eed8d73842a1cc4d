// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3,deno --allow-sys
/**
 * NoStripesNet's paper model (PatchUNet 54.4 M + PatchDiscriminator 15.4 M parameters) on one
 * 1801 × 256 patch, against PyTorch CPU (OMP_NUM_THREADS=2, bench/peers/nostripesnet.py), each
 * measurement in a fresh process, the best of {@link REPS} runs there, ours and PyTorch's alike
 * (the first steps also allocate the optimiser state and the step memory, faulting its pages in;
 * the later ones are what every step of a training run costs):
 *
 * - `unet_forward_<backend>`: generator forward, seconds;
 * - `gan_step_<backend>`: one full GAN training step (G forward, D update, G update), batch 1;
 *   both lines carry "gflops" (effective: the convolutions' flops over the seconds), and on wasm
 *   "wasm_peak_gflops" (the relaxed-SIMD multiply-add peak of the same threads, measured in the
 *   same process) and "peak_fraction";
 * - `gan_step_peak_memory_<backend>`: that process's peak resident memory, bytes;
 * - `apply_model_patches_per_s_<backend>`: inference rate of the paper model (one generator
 *   forward per stripe patch, as apply_model runs it), patches per second; the peer is PyTorch's.
 *
 * The webgpu lines run only on a non-fallback adapter (llvmpipe's ~1 GFLOP/s would take many
 * minutes per step); elsewhere they print `ours: null` with the reason.
 *
 * @module
 */
const H = 1801, W = 256;
/** Runs per process (forwards or steps); the best is reported. */
const REPS = 3;
const prefix = Deno.args[0] ?? "";
const HERE = new URL(".", import.meta.url).pathname;

function line(
  bench: string,
  unit: string,
  ours: number | null,
  peer: number | null,
  lowerIsBetter: boolean,
  extra: Record<string, unknown> = {},
) {
  if (!bench.startsWith(prefix)) return;
  const ratio = ours !== null && peer !== null && ours > 0 && peer > 0
    ? (lowerIsBetter ? peer / ours : ours / peer)
    : null;
  console.log(JSON.stringify({ bench, unit, ours, peer, ratio, ...extra }));
}

async function child(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", env }).output();
  const out = new TextDecoder().decode(r.stdout).trim().split("\n").pop() ?? "";
  if (!r.success) {
    const err = new TextDecoder().decode(r.stderr).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${cmd} ${args.join(" ")}: ${err}`);
  }
  return JSON.parse(out) as { seconds: number; peak_rss_bytes: number };
}

/** Python's getrusage(RUSAGE_CHILDREN) gives the peak resident memory of the child it runs. */
const PEAK = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); " +
  "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, file=sys.stderr); " +
  "sys.exit(r.returncode)";

async function ours(what: string, backend: string) {
  const r = await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      PEAK,
      Deno.execPath(),
      "run",
      "--quiet",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      `${HERE}_nsn_child.ts`,
      what,
      backend,
      `${H}`,
      `${W}`,
      `${REPS}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (!r.success) throw new Error(`${what} on ${backend}: ${err.slice(-3).join(" | ")}`);
  const out = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  return { seconds: out.seconds as number, peak_rss_bytes: Number(err.pop()), rate: rateOf(out) };
}

/**
 * What a child's run says about speed: "gflops" (effective: the convolutions' and matmuls' flops
 * over the best run's seconds), and on wasm "wasm_peak_gflops" (the relaxed-SIMD multiply-add
 * peak of the same threads in the same process, bench/_nsn_child.ts) and "peak_fraction".
 */
function rateOf(out: Record<string, number>): Record<string, unknown> {
  const gflops = out.flops ? out.flops / out.seconds / 1e9 : null;
  const r: Record<string, unknown> = {
    gflops: gflops === null ? null : Math.round(gflops * 10) / 10,
    gflop: out.flops ? Math.round(out.flops / 1e8) / 10 : null,
    cpu_seconds: out.cpu_seconds ?? null,
  };
  if (out.wasm_peak_gflops) {
    r.wasm_peak_gflops = Math.round(out.wasm_peak_gflops * 10) / 10;
    r.wasm_peak_median_gflops = Math.round(out.wasm_peak_median_gflops * 10) / 10;
    r.peak_fraction = gflops === null
      ? null
      : Math.round((gflops / out.wasm_peak_gflops) * 1000) / 1000;
    r.threads = out.threads;
    if (out.peak_gflops_per_cpu && out.cpu_seconds) {
      // the same ratio per CPU-second: what a loaded machine's scheduler does not distort
      const perCpu = out.flops / out.cpu_seconds / 1e9;
      r.gflops_per_cpu = Math.round(perCpu * 10) / 10;
      r.peak_gflops_per_cpu = Math.round(out.peak_gflops_per_cpu * 10) / 10;
      r.peak_fraction_cpu = Math.round((perCpu / out.peak_gflops_per_cpu) * 1000) / 1000;
    }
  }
  return r;
}

const peerErrors: Record<string, string> = {};
const peer = (what: string) =>
  child("/usr/bin/python3", [`${HERE}peers/nostripesnet.py`, what, `${H}`, `${W}`, `${REPS}`], {
    OMP_NUM_THREADS: "2",
  })
    .catch((e: Error) => {
      // a failed peer is not silently null: say why on stderr and mark the lines
      console.error(`peer ${what} failed: ${e.message}`);
      peerErrors[what] = e.message.slice(0, 300);
      return null;
    });

async function webgpuUsable(): Promise<string | null> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return "no navigator.gpu";
  const a = await gpu.requestAdapter();
  if (!a) return "no WebGPU adapter";
  // deno-lint-ignore no-explicit-any
  if ((a as any).info?.isFallbackAdapter ?? (a as any).isFallbackAdapter) {
    return "fallback adapter (llvmpipe on the CPU): skipped, minutes per step";
  }
  return null;
}

/** True when one of `names` (full names or name prefixes) and the requested prefix overlap. */
const need = (...names: string[]) =>
  names.some((n) => n.startsWith(prefix) || prefix.startsWith(n));
const skipGpu = need("unet_forward_webgpu", "gan_step_webgpu", "apply_model_patches_per_s_webgpu")
  ? await webgpuUsable()
  : null;
const pf = need("unet_forward_", "apply_model_patches_per_s_") ? await peer("forward") : null;
const ps = need("gan_step_") ? await peer("step") : null;
for (const backend of ["wasm", "webgpu"]) {
  const fwd = [`unet_forward_${backend}`, `apply_model_patches_per_s_${backend}`];
  const step = [`gan_step_${backend}`, `gan_step_peak_memory_${backend}`];
  if (backend === "webgpu" && skipGpu) {
    for (const b of [...fwd, ...step]) {
      const unit = b.includes("memory") ? "bytes" : b.includes("per_s") ? "patches/s" : "s";
      line(b, unit, null, null, true, { note: skipGpu });
    }
    continue;
  }
  if (need(...fwd)) {
    const f = await ours("forward", backend);
    const x = peerErrors.forward ? { peer_error: peerErrors.forward } : {};
    line(fwd[0], "s", f.seconds, pf?.seconds ?? null, true, { ...f.rate, ...x });
    line(fwd[1], "patches/s", 1 / f.seconds, pf ? 1 / pf.seconds : null, false, x);
  }
  if (need(...step)) {
    const s = await ours("step", backend);
    const x = peerErrors.step ? { peer_error: peerErrors.step } : {};
    line(step[0], "s", s.seconds, ps?.seconds ?? null, true, { ...s.rate, ...x });
    line(step[1], "bytes", s.peak_rss_bytes, ps?.peak_rss_bytes ?? null, true, x);
  }
}
