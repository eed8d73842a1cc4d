// bench-permissions: --allow-read --allow-write=/tmp --allow-run=/usr/bin/python3,deno --allow-env --allow-sys
/**
 * Benchmark `generate_mask` (NoStripesNet's default parameters: size 250, radius 3, threshold
 * 0.63, length 600, depth 30, width 22, sensitivity 85) on a 1801 × ROWS × 2560 uint16 i12 scan
 * (ROWS = `LUMEN_BENCH_MASK_ROWS`, default 256: the acceptance scan, 2.4 GB; made once with h5py
 * under /tmp/lumen_bench, the generator bench/read_sinograms.ts uses):
 *
 * - `generate_mask_voxels_per_s`: voxels / wall seconds of the whole tool (read + normalise +
 *   detect + merge + compressed npz; every core), in a child process; with its CPU seconds
 *   (user + sys) and the load average at the start, since wall time on a shared machine is
 *   inflated by the load, and the bytes the process read (`rchar_bytes`; `read_amplification`
 *   is that over the scan file's size);
 * - `generate_mask_peak_memory`: that process's peak resident memory (getrusage maxrss), bytes;
 * - `generate_mask_single_thread_voxels_per_s`: the same scan through the earlier path (one
 *   thread, the whole mask held in memory, then `appendNpz`) in the same run, as the reference:
 *   `ratio` is ours / it (> 1: ours faster), with its CPU seconds and peak memory;
 * - `generate_mask_ts_reference_voxels_per_s`: the TypeScript reference loops (detect + merge)
 *   on a 1801 × 6 × 16 crop, for scale.
 *
 * No Python peer: Larix/TomoPy are not installable on these machines (no PyPI).
 *
 *   deno run <permissions above> bench/generate_mask.ts [NAME-PREFIX]
 *
 * @module
 */
import { existsSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { detectRowsRef, mergeRowsRef, thresholdRef } from "../lib/tomo/stripes_ref.ts";
import { SimRng } from "../lib/data/rng.ts";

const ANGLES = 1801, COLS = 2560;
const ROWS = Number(Deno.env.get("LUMEN_BENCH_MASK_ROWS") ?? 256);
const DIR = "/tmp/lumen_bench";
const FILE = `${DIR}/read_sinograms_v1_${ANGLES}x${ROWS}x${COLS}.nxs`;
const PEER = new URL("./peers/read_sinograms.py", import.meta.url).pathname;
const CHILD = new URL("./_generate_mask_child.ts", import.meta.url).pathname;
const prefix = Deno.args[0] ?? "";
const want = (n: string) => n.startsWith(prefix);
const CPU = cpus()[0]?.model ?? "unknown";
const load = () => Math.round(loadavg()[0] * 100) / 100;

/** Runs the child in MODE; its time, CPU seconds and peak memory. */
function runChild(mode: string) {
  const archive = `${DIR}/generate_mask_bench_${mode}.npz`;
  // the child runs under python, whose getrusage(RUSAGE_CHILDREN) gives its peak memory and CPU,
  // and which reads the child's /proc/PID/io (bytes read, every thread) once it has exited and
  // before it is reaped (Deno lets a process read its own /proc entry only with --allow-all)
  const wrap = "import os, resource, subprocess, sys\n" +
    "p = subprocess.Popen(sys.argv[1:])\n" +
    "rchar = -1\n" +
    "try:\n" +
    "    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)\n" +
    "    rchar = int(open(f'/proc/{p.pid}/io').read().split()[1])\n" +
    "except (OSError, AttributeError, ValueError, IndexError):\n" +
    "    pass\n" +
    "rc = p.wait()\n" +
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n" +
    "print(u.ru_utime + u.ru_stime, u.ru_maxrss * 1024, rchar, file=sys.stderr)\n" +
    "sys.exit(rc)";
  const load0 = load();
  const r = new Deno.Command("/usr/bin/python3", {
    args: ["-c", wrap, "deno", "run", "--allow-read", `--allow-write=${DIR}`, CHILD, FILE, archive]
      .concat(["wasm", mode]),
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (!r.success) throw new Error(err.join("\n"));
  const out = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  const [cpu, peak, rchar] = err.pop()!.split(" ").map(Number);
  for (const f of [...Deno.readDirSync(DIR)]) {
    if (f.name.startsWith(`generate_mask_bench_${mode}.npz`)) Deno.removeSync(`${DIR}/${f.name}`);
  }
  return { ...out, cpu, peak, rchar: rchar >= 0 ? rchar : null, load0, load1: load() };
}

const OURS = ["generate_mask_voxels_per_s", "generate_mask_peak_memory"];
const REF = "generate_mask_single_thread_voxels_per_s";
if (OURS.some(want) || want(REF)) {
  Deno.mkdirSync(DIR, { recursive: true });
  if (!existsSync(FILE)) {
    console.error(`generate_mask: writing ${FILE} with h5py (once)…`);
    const r = new Deno.Command("/usr/bin/python3", {
      args: [PEER, "make", FILE + ".part", String(ANGLES), String(ROWS), String(COLS)],
    }).outputSync();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    Deno.renameSync(FILE + ".part", FILE);
  }
  const voxels = ANGLES * ROWS * COLS;
  const extra = {
    scan: `${ANGLES}x${ROWS}x${COLS}`,
    backend: "wasm",
    cores: navigator.hardwareConcurrency,
    cpu: CPU,
  };
  const ours = OURS.some(want) ? runChild("tool") : null;
  const ref = want(REF) ? runChild("inmemory") : null;
  if (ours) {
    const o = ours;
    console.log(JSON.stringify({
      bench: "generate_mask_voxels_per_s",
      unit: "voxels/s",
      ours: voxels / o.seconds,
      peer: ref ? voxels / ref.seconds : null,
      ratio: ref ? ref.seconds / o.seconds : null,
      seconds: o.seconds,
      detect_merge_seconds: o.detectSeconds,
      cpu_seconds: o.cpu,
      voxels_per_cpu_s: voxels / o.cpu,
      load: [o.load0, o.load1],
      stripe_fraction: o.ones / voxels,
      rchar_bytes: o.rchar,
      read_amplification: o.rchar ? o.rchar / Deno.statSync(FILE).size : null,
      threads: navigator.hardwareConcurrency,
      ...extra,
    }));
    console.log(JSON.stringify({
      bench: "generate_mask_peak_memory",
      unit: "bytes",
      ours: o.peak,
      peer: ref ? ref.peak : null,
      ratio: ref ? ref.peak / o.peak : null,
      ...extra,
    }));
  }
  if (ref) {
    console.log(JSON.stringify({
      bench: REF,
      unit: "voxels/s",
      ours: voxels / ref.seconds,
      seconds: ref.seconds,
      cpu_seconds: ref.cpu,
      voxels_per_cpu_s: voxels / ref.cpu,
      peak_memory: ref.peak,
      load: [ref.load0, ref.load1],
      threads: 1,
      ...extra,
    }));
  }
}

if (want("generate_mask_ts_reference_voxels_per_s")) {
  const [Z, Y, X] = [ANGLES, 6, 16];
  const r = new SimRng(1);
  const v = new Float32Array(Z * Y * X).map(() => 1 + 0.05 * r.normal());
  const t = performance.now();
  const w = detectRowsRef(v, Z, Y, X, 0, Y, 0, Y, 250, 3);
  mergeRowsRef(thresholdRef(w, 0.63), Z, Y, X, 0, Y, 0, Y, 600, 5, 5, 85);
  const s = (performance.now() - t) / 1000;
  console.log(JSON.stringify({
    bench: "generate_mask_ts_reference_voxels_per_s",
    unit: "voxels/s",
    ours: (Z * Y * X) / s,
    seconds: s,
    scan: `${Z}x${Y}x${X}`,
  }));
}
