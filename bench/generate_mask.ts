// bench-permissions: --allow-read --allow-write=/tmp --allow-run=/usr/bin/python3,deno --allow-env --allow-sys
/**
 * Benchmark `generate_mask` (NoStripesNet's default parameters: size 250, radius 3, threshold
 * 0.63, length 600, depth 30, width 22, sensitivity 85) on a 1801 × 64 × 2560 uint16 i12 scan
 * (the one bench/read_sinograms.ts uses, made once with h5py under /tmp/lumen_bench):
 *
 * - `generate_mask_voxels_per_s`: voxels / wall seconds of the whole tool (read + normalise +
 *   detect + merge + compressed npz), WASM kernels, in a child process;
 * - `generate_mask_peak_memory`: that process's peak resident memory (getrusage maxrss), bytes;
 * - `generate_mask_ts_reference_voxels_per_s`: the TypeScript reference loops (detect + merge)
 *   on a 1801 × 6 × 16 crop, for scale.
 *
 * No peer runs here: Larix/TomoPy are not installable on these machines (no PyPI); their C code
 * sorts a 501-value window per voxel (quicksort), where Lumen slides a rank window per column.
 *
 *   deno run <permissions above> bench/generate_mask.ts [NAME-PREFIX]
 *
 * @module
 */
import { existsSync } from "node:fs";
import { detectRowsRef, mergeRowsRef, thresholdRef } from "../lib/tomo/stripes_ref.ts";
import { SimRng } from "../lib/data/rng.ts";

const ANGLES = 1801, ROWS = 64, COLS = 2560;
const DIR = "/tmp/lumen_bench";
const FILE = `${DIR}/read_sinograms_v1_${ANGLES}x${ROWS}x${COLS}.nxs`;
const PEER = new URL("./peers/read_sinograms.py", import.meta.url).pathname;
const CHILD = new URL("./_generate_mask_child.ts", import.meta.url).pathname;
const prefix = Deno.args[0] ?? "";
const want = (n: string) => n.startsWith(prefix);

if (want("generate_mask_voxels_per_s") || want("generate_mask_peak_memory")) {
  Deno.mkdirSync(DIR, { recursive: true });
  if (!existsSync(FILE)) {
    console.error(`generate_mask: writing ${FILE} with h5py (once)…`);
    const r = new Deno.Command("/usr/bin/python3", {
      args: [PEER, "make", FILE + ".part", String(ANGLES), String(ROWS), String(COLS)],
    }).outputSync();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    Deno.renameSync(FILE + ".part", FILE);
  }
  const archive = `${DIR}/generate_mask_bench.npz`;
  // the child runs under python, whose getrusage(RUSAGE_CHILDREN) gives its peak resident memory
  const wrap = "import resource, subprocess, sys\n" +
    "r = subprocess.run(sys.argv[1:])\n" +
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, file=sys.stderr)\n" +
    "sys.exit(r.returncode)";
  const r = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      wrap,
      "deno",
      "run",
      "--allow-read",
      `--allow-write=${DIR}`,
      CHILD,
      FILE,
      archive,
      "wasm",
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (!r.success) throw new Error(err.join("\n"));
  const out = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").pop()!);
  out.peakBytes = Number(err.pop());
  const voxels = ANGLES * ROWS * COLS;
  const extra = {
    scan: `${ANGLES}x${ROWS}x${COLS}`,
    backend: "wasm",
    threads: 1,
    cores: navigator.hardwareConcurrency,
  };
  console.log(JSON.stringify({
    bench: "generate_mask_voxels_per_s",
    unit: "voxels/s",
    ours: voxels / out.seconds,
    seconds: out.seconds,
    detect_merge_seconds: out.detectSeconds,
    stripe_fraction: out.ones / voxels,
    ...extra,
  }));
  console.log(
    JSON.stringify({
      bench: "generate_mask_peak_memory",
      unit: "bytes",
      ours: out.peakBytes,
      ...extra,
    }),
  );
  Deno.removeSync(archive);
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
