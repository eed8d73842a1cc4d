// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=/usr/bin/python3,deno --allow-sys --allow-ffi=/usr/lib/x86_64-linux-gnu/libdnnl.so.2
/**
 * The native (oneDNN) backend against PyTorch CPU, both with OMP_NUM_THREADS=2, side by side in
 * one run:
 *
 * - `gemm_gflops_native_1024`: a 1024³ matmul on the native backend (`dnnl_sgemm` on the
 *   backend's memory), GFLOP/s, best of the timed runs; peer `torch.mm` (bench/peers/gemm.py);
 * - `unet_forward_native`, `apply_model_patches_per_s_native`, `gan_step_native`,
 *   `gan_step_peak_memory_native`: NoStripesNet's paper model on one 1801 × 256 patch, measured
 *   as bench/nostripesnet.ts does (fresh process per measurement, bench/_nsn_child.ts, best of
 *   {@link REPS} runs there, ours and PyTorch's alike; peer bench/peers/nostripesnet.py).
 *
 * Lines: {"bench", "unit", "ours", "peer", "ratio" (higher is better), "cpu", "loadavg" (when
 * the line is printed), "threads", "onednn"}; the NoStripesNet lines add "loadavg_before",
 * "rounds" (alternating peer/ours rounds, each side's best kept; `LUMEN_BENCH_ROUNDS`, default
 * 2), "ours_cpu_s"/"peer_cpu_s" (process CPU seconds of each side's best run) and "cpu_ratio"
 * (peer CPU seconds / ours: the comparison a loaded machine distorts least). Where oneDNN does
 * not load, `ours` is null with a `note`. A failed peer prints its error on stderr and marks the
 * line with `peer_error`.
 *
 *   deno run <permissions above> bench/native_engine.ts [NAME-PREFIX]
 *
 * @module
 */
import { createNativeBackend, dnnlAvailable, findDnnl } from "../lib/tensor/native/mod.ts";

const THREADS = 2;
const H = 1801, W = 256;
/**
 * Runs per process (forwards or steps; the best is kept): the first steps also allocate the
 * optimiser state and fault the step memory in, on both sides.
 */
const REPS = 3;
const PY = "/usr/bin/python3";
const HERE = decodeURIComponent(new URL(".", import.meta.url).pathname);
const prefix = Deno.args[0] ?? "";
const ENV = { OMP_NUM_THREADS: String(THREADS), MKL_NUM_THREADS: String(THREADS) };
// oneDNN's OpenMP reads this when the library loads (below, on first use)
Deno.env.set("OMP_NUM_THREADS", String(THREADS));

/** The CPU model and its widest vector ISA (/proc/cpuinfo through Python: Deno refuses it). */
function cpuModel(): string | null {
  const code = "import re; t = open('/proc/cpuinfo').read(); " +
    "m = re.search(r'^model name\\s*:\\s*(.+)$', t, re.M); " +
    "isa = 'avx512' if ' avx512f' in t else 'avx2' if ' avx2' in t else 'sse'; " +
    "print((m.group(1) if m else '?') + ' (' + isa + ')')";
  try {
    const r = new Deno.Command(PY, { args: ["-c", code], stdout: "piped", stderr: "null" })
      .outputSync();
    return r.success ? new TextDecoder().decode(r.stdout).trim() : null;
  } catch {
    return null;
  }
}

const cpu = cpuModel();
/** The 1-minute load average now (the machine may be shared). */
function load(): number | null {
  try {
    return Math.round(Deno.loadavg()[0] * 100) / 100;
  } catch {
    return null;
  }
}

function line(
  bench: string,
  unit: string,
  ours: number | null,
  peer: number | null,
  lowerIsBetter: boolean,
  extra: Record<string, unknown> = {},
): void {
  if (!bench.startsWith(prefix)) return;
  const ratio = ours !== null && peer !== null && ours > 0 && peer > 0
    ? (lowerIsBetter ? peer / ours : ours / peer)
    : null;
  const at = { cpu, loadavg: load(), threads: THREADS };
  console.log(JSON.stringify({ bench, unit, ours, peer, ratio, ...at, ...extra }));
}

/** True when one of `names` and the requested prefix overlap. */
const need = (...names: string[]) =>
  names.some((n) => n.startsWith(prefix) || prefix.startsWith(n));

/** Runs a command; its last stdout line as JSON, or throws with the end of stderr. */
async function jsonOf(cmd: string, args: string[], env: Record<string, string>) {
  const r = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (!r.success) throw new Error(`${cmd} ${args.join(" ")}: ${err.slice(-3).join(" | ")}`);
  const out = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  return { out, err };
}

const peerErrors: Record<string, string> = {};
async function peer<T>(what: string, run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (e) {
    console.error(`peer ${what} failed: ${(e as Error).message}`);
    peerErrors[what] = (e as Error).message.slice(0, 300);
    return null;
  }
}
const marks = (what: string) => (peerErrors[what] ? { peer_error: peerErrors[what] } : {});

const lib = findDnnl();
const policySet = Deno.env.get("OMP_WAIT_POLICY") !== undefined;
const ok = dnnlAvailable();
// loading oneDNN here set OMP_WAIT_POLICY for this process (library.ts); the peers must run
// with PyTorch's own default, and our child sets it again when it loads the library
if (!policySet) Deno.env.delete("OMP_WAIT_POLICY");
const note = ok ? {} : {
  note: `oneDNN not loaded (${lib ?? "libdnnl.so.2 not found"}; needs --allow-ffi=<it>)`,
};

// ---------------------------------------------------------------- GEMM 1024³

if (need("gemm_gflops_native_1024")) {
  const N = 1024;
  let ours: number | null = null, version: string | null = null;
  if (ok) {
    const be = createNativeBackend();
    version = be.version;
    const a = be.alloc(N * N, "float32", "step"), b = be.alloc(N * N, "float32", "step");
    const c = be.alloc(N * N, "float32", "step");
    be.fill(a, 0.5);
    be.fill(b, 0.25);
    const p = {
      batch: 1,
      m: N,
      n: N,
      k: N,
      transA: false,
      transB: false,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      alpha: 1,
      beta: 0,
    };
    be.matmul(a, b, c, p);
    let best = Infinity, runs = 0;
    const t0 = performance.now();
    while (runs < 5 || performance.now() - t0 < 1000) {
      const t = performance.now();
      be.matmul(a, b, c, p);
      best = Math.min(best, performance.now() - t);
      runs++;
    }
    ours = (2 * N ** 3) / best / 1e6;
    be.resetArena();
  }
  const pg = await peer(
    "gemm",
    () =>
      jsonOf(
        PY,
        [`${HERE}peers/gemm.py`, `${N},${N},${N}`, "--reps", "5", "--min-seconds", "1"],
        ENV,
      )
        .then((r) => r.out.gflops as number),
  );
  line("gemm_gflops_native_1024", "GFLOP/s", ours, pg, false, {
    onednn: version,
    ...note,
    ...marks("gemm"),
  });
}

// ---------------------------------------------------------------- NoStripesNet

/** Python's getrusage(RUSAGE_CHILDREN) gives the peak resident memory of the child it runs. */
const PEAK = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); " +
  "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, file=sys.stderr); " +
  "sys.exit(r.returncode)";

async function ours(what: string): Promise<Side> {
  const { out, err } = await jsonOf(PY, [
    "-c",
    PEAK,
    Deno.execPath(),
    "run",
    "--quiet",
    "--allow-read",
    "--allow-env",
    "--allow-sys",
    `--allow-ffi=${lib}`,
    `${HERE}_nsn_child.ts`,
    what,
    "native",
    `${H}`,
    `${W}`,
    `${REPS}`,
  ], ENV);
  if (out.backend !== "native") throw new Error(`child ran on ${out.backend}`);
  return { seconds: out.seconds, cpu: out.cpu_seconds, peak: Number(err.pop()) };
}

/** One side's best run: wall seconds, its process CPU seconds, the process's peak RSS. */
interface Side {
  seconds: number;
  cpu: number;
  peak: number;
}

const nsnPeer = (what: string) =>
  peer(
    what,
    () =>
      jsonOf(PY, [`${HERE}peers/nostripesnet.py`, what, `${H}`, `${W}`, `${REPS}`], ENV).then((
        r,
      ) => ({
        seconds: r.out.seconds as number,
        cpu: r.out.cpu_seconds as number,
        peak: r.out.peak_rss_bytes as number,
      })),
  );

/** Rounds of (peer, ours) measurements; the order alternates and each side keeps its best. */
const ROUNDS = Math.max(1, Number(Deno.env.get("LUMEN_BENCH_ROUNDS") ?? 2));

/**
 * Measures `what` on both sides in {@link ROUNDS} alternating rounds (a shared machine's load
 * moves between runs; alternating and keeping each side's best keeps one side from getting all
 * the quiet moments). Returns each side's best run (fastest wall time; smallest peak) and the
 * load average before and after.
 */
async function sideBySide(what: string) {
  const before = load();
  let p: Side | null = null, o: Side | null = null;
  const best = (a: Side | null, b: Side | null): Side | null =>
    !a ? b : !b ? a : {
      ...(b.seconds < a.seconds ? b : a),
      peak: Math.min(a.peak, b.peak),
    };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? ["peer", "ours"] : ["ours", "peer"];
    for (const side of order) {
      if (side === "peer") p = best(p, await nsnPeer(what));
      else if (ok) o = best(o, await ours(what));
    }
  }
  const extra = {
    ...note,
    ...marks(what),
    rounds: ROUNDS,
    loadavg_before: before,
    ours_cpu_s: o?.cpu ?? null,
    peer_cpu_s: p?.cpu ?? null,
  };
  return { o, p, extra };
}

/** The ratio of CPU seconds (higher is better for ours), where both are known. */
const cpuRatio = (o: Side | null, p: Side | null) =>
  o && p && o.cpu > 0 && p.cpu > 0 ? { cpu_ratio: p.cpu / o.cpu } : {};

const fwd = ["unet_forward_native", "apply_model_patches_per_s_native"];
if (need(...fwd)) {
  const { o, p, extra } = await sideBySide("forward");
  const x = { ...extra, ...cpuRatio(o, p) };
  line(fwd[0], "s", o?.seconds ?? null, p?.seconds ?? null, true, x);
  line(fwd[1], "patches/s", o ? 1 / o.seconds : null, p ? 1 / p.seconds : null, false, x);
}
const step = ["gan_step_native", "gan_step_peak_memory_native"];
if (need(...step)) {
  const { o, p, extra } = await sideBySide("step");
  line(step[0], "s", o?.seconds ?? null, p?.seconds ?? null, true, {
    ...extra,
    ...cpuRatio(o, p),
  });
  line(step[1], "bytes", o?.peak ?? null, p?.peak ?? null, true, extra);
}
Deno.exit(0);
