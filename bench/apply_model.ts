// bench-permissions: --allow-read --allow-write=/tmp --allow-env --allow-run=deno,/usr/bin/time --allow-sys --allow-ffi=/usr/lib/x86_64-linux-gnu/libdnnl.so.2
/**
 * Benchmark the whole `apply_model` tool on a scan: `apply_model_scan_rows_per_s_<backend>`, the
 * real tool (tools/nostripesnet/apply_model.ts) in a child process, detector rows corrected per
 * second of wall time, with the child's CPU seconds (user + sys, from /usr/bin/time), the load
 * average and the CPU model beside it, and the tool's own split of its time (read + normalise,
 * network, HDF5 write + flush) from its `--verbose` line.
 *
 * Input, made once under /tmp/lumen_bench: a simulated scan of 1801 angles × ROWS rows × 2560
 * columns (i12 layout, lib/tomo/scan_sim.ts), a stripe mask with 2 of the 10 patches of every row
 * striped (20 %, an 8-column stripe over all angles), and a `tiny`-preset NoStripesNet checkpoint
 * (seed 0) for the paper's 1801 × 256 patches. Backends: wasm, and native where libdnnl loads.
 * No peer: the forward alone is compared with PyTorch in bench/native_engine.ts.
 *
 *   deno run <permissions above> bench/apply_model.ts [NAME-PREFIX]
 *
 * @module
 */
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { simulateScan, writeScanNexus } from "../lib/tomo/scan_sim.ts";
import { writeNpz } from "../lib/io/npz.ts";
import { ndarray } from "../lib/io/array.ts";
import { saveCheckpoint } from "../lib/nn/checkpoint.ts";
import { buildNoStripesNet } from "../lib/pipelines/nostripesnet/model.ts";
import { initEngine } from "../lib/tensor/engine.ts";

const ANGLES = 1801, ROWS = 8, COLS = 2560, PW = 256;
const DIR = "/tmp/lumen_bench/apply_model_v1";
const SCAN = `${DIR}/scan.nxs`, MASK = `${DIR}/masks.npz`, CKPT = `${DIR}/tiny.json`;
const TOOL = new URL("../tools/nostripesnet/apply_model.ts", import.meta.url).pathname;
const REPS = 2;
const DNNL = "/usr/lib/x86_64-linux-gnu/libdnnl.so.2";

/** Makes the scan, mask and checkpoint once. */
async function setup(): Promise<void> {
  Deno.mkdirSync(DIR, { recursive: true });
  if (!existsSync(SCAN)) {
    const sim = simulateScan({
      angles: ANGLES,
      rows: ROWS,
      cols: COLS,
      flats: 4,
      darks: 2,
      seed: 1,
      defects: false,
    });
    await writeScanNexus(`${SCAN}.part`, sim);
    Deno.renameSync(`${SCAN}.part`, SCAN);
  }
  if (!existsSync(MASK)) {
    const m = new Uint8Array(ANGLES * ROWS * COLS);
    for (let r = 0; r < ROWS; r++) {
      for (const p of [(3 * r) % 10, (3 * r + 5) % 10]) {
        for (let a = 0; a < ANGLES; a++) {
          m.fill(1, (a * ROWS + r) * COLS + p * PW + 100, (a * ROWS + r) * COLS + p * PW + 108);
        }
      }
    }
    await writeNpz(MASK, { mscan: ndarray(m, [ANGLES, ROWS, COLS]) }, {
      compress: true,
      overwrite: true,
    });
  }
  if (!existsSync(CKPT)) {
    await initEngine({ backend: "wasm", threads: 1 });
    const { gen, disc } = buildNoStripesNet({ preset: "tiny" }, 0);
    await saveCheckpoint(CKPT, {
      modules: { gen, disc },
      extra: { data: { patchSize: [ANGLES, PW], tvt: [3, 1, 1], splitSeed: 0, pairs: 0 } },
    });
  }
}

/** One run of the tool; returns wall and CPU seconds and its verbose lines. */
function runOnce(
  backend: string,
  writer: string,
  out: string,
): { wall: number; cpu: number; log: string } {
  const timeFile = `${DIR}/time_${backend}.txt`;
  const perms = ["--allow-read", `--allow-write=${DIR}`, "--allow-env", `--allow-ffi=${DNNL}`];
  const args = ["-f", "%U %S", "-o", timeFile, Deno.execPath(), "run", "--quiet", ...perms, TOOL];
  args.push(CKPT, SCAN, "-m", MASK, "--mask-name", "mscan", "-o", out, "--overwrite");
  args.push("--backend", backend, "--threads", "2", "--verbose", "--writer", writer);
  const t = performance.now();
  const r = new Deno.Command("/usr/bin/time", { args, stdout: "piped", stderr: "piped" })
    .outputSync();
  const wall = (performance.now() - t) / 1000;
  const log = new TextDecoder().decode(r.stdout);
  if (!r.success) throw new Error(`apply_model: ${new TextDecoder().decode(r.stderr)}`);
  const [u, s] = Deno.readTextFileSync(timeFile).trim().split(/\s+/).slice(-2).map(Number);
  return { wall, cpu: u + s, log };
}

/** The CPU model (node:os, which --allow-sys covers). */
function cpuModel(): string {
  return cpus()[0]?.model ?? "unknown";
}

if (import.meta.main) {
  const prefix = Deno.args[0] ?? "";
  const names = ["wasm", "native"].map((b) => [b, `apply_model_scan_rows_per_s_${b}`]);
  const todo = names.filter(([, n]) => n.startsWith(prefix) || prefix.startsWith(n));
  if (todo.length) {
    await setup();
    for (const [backend, name] of todo) {
      if (backend === "native" && !existsSync(DNNL)) {
        console.log(JSON.stringify({ bench: name, ours: null, note: `${DNNL} not found` }));
        continue;
      }
      const load0 = Deno.loadavg()[0];
      // the writer in a worker (the default) and in the main thread, alternated
      const runs: Record<string, { wall: number; cpu: number; log: string }[]> = {
        worker: [],
        main: [],
      };
      for (let i = 0; i < REPS; i++) {
        for (const w of ["worker", "main"]) runs[w].push(runOnce(backend, w, `${DIR}/out.h5`));
      }
      const best = (w: string) => runs[w].reduce((a, b) => (b.wall < a.wall ? b : a));
      const r = best("worker"), m = best("main");
      const split = (x: { log: string }) => /time: (.*)$/m.exec(x.log)?.[1] ?? null;
      console.log(JSON.stringify({
        bench: name,
        unit: "rows/s",
        ours: ROWS / r.wall,
        rows: ROWS,
        scan: [ANGLES, ROWS, COLS],
        striped_patches: 2 * ROWS,
        wall_s: r.wall,
        cpu_s: r.cpu,
        split: split(r),
        writer_main_thread: {
          rows_per_s: ROWS / m.wall,
          wall_s: m.wall,
          cpu_s: m.cpu,
          split: split(m),
        },
        walls_s: { worker: runs.worker.map((x) => x.wall), main: runs.main.map((x) => x.wall) },
        load: [load0, Deno.loadavg()[0]],
        cpu: cpuModel(),
      }));
    }
  }
}
