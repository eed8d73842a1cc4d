// bench-permissions: --allow-read --allow-write=/tmp --allow-run=/usr/bin/python3,deno --allow-env --allow-sys
/**
 * Benchmarks of `data_generator --mode patch` on uint16 i12 scans (made once with h5py under
 * /tmp/lumen_bench) whose mask is all clean, so every patch gets simulated stripes and is written
 * as a clean/stripe TIFF pair (1.84 MB per patch of 1801 × 256). Patches per second end to end
 * (process start, mask, read, normalise, cut, simulate, scale, write; timed around the tool's
 * process alone, without the removal of its output), best of two, with the CPU
 * seconds (user + sys) and the load average of each run, since wall time on a shared machine is
 * inflated by the load.
 *
 * - `data_generator_patches_per_s` (1801 × 8 × 2560, 80 patches) and `…_320` (1801 × 32 × 2560):
 *   output on the bench's disk folder, durable as the tool writes (each sinogram's files synced).
 * - `data_generator_disk_ceiling_patches_per_s`: the disk's sync bandwidth (256 MiB written and
 *   fdatasync'd in /tmp/lumen_bench) over the bytes of one patch: what durable writes allow on
 *   this disk, whatever the CPU; the disk lines carry it too (`disk_sync_mb_per_s`,
 *   `disk_ceiling_patches_per_s`), so that a line shows which limit binds.
 * - `data_generator_patches_per_s_1280` (1801 × 128 × 2560, 1280 patches, 2.4 GB of TIFFs), where
 *   the fixed costs (start, workers, mask, record) weigh least. `sink_cpu_seconds` is what writing
 *   the same files in the same folder costs by itself (Python, one buffer, same sizes, while the
 *   run's output is still there): on a VM whose fresh memory is faulted in from the host it can be
 *   a large part of the run. `cpu_limit_patches_per_s` = patches · cores / CPU seconds (the rate
 *   the CPU time allows on an idle machine), also without the sink's part. (A tmpfs would show the
 *   same without a disk, but Deno grants writes under /dev only with `--allow-all`, which no
 *   Lumen process is given.)
 *
 * No peer: the original needs TomoPhantom and a conda environment (peer null).
 *
 * @module
 */
import { cpus, loadavg } from "node:os";

const prefix = Deno.args[0] ?? "";
const DIR = "/tmp/lumen_bench";
// python makes the output folder, runs the child, reports its CPU seconds (getrusage of the
// children) and the bytes it wrote, optionally times a plain write of the same files, removes it
const WRAP = `import os, resource, shutil, subprocess, sys, tempfile, json, time
base, sink = sys.argv[1], sys.argv[2] == "1"
root = tempfile.mkdtemp(dir=base)
try:
    t = time.perf_counter()
    r = subprocess.run([a.replace("@ROOT@", root) for a in sys.argv[3:]], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - t
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    sys.stderr.write(r.stderr.decode())
    sizes = [os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs if f.endswith(".tif")]
    out = {"seconds": seconds, "cpu": u.ru_utime + u.ru_stime, "bytes": sum(sizes), "files": len(sizes)}
    if sink and r.returncode == 0:
        s0 = resource.getrusage(resource.RUSAGE_SELF)
        other = tempfile.mkdtemp(dir=base)
        buf = bytes(max(sizes))
        for i, n in enumerate(sizes):
            with open(os.path.join(other, str(i)), "wb") as f: f.write(memoryview(buf)[:n])
        s1 = resource.getrusage(resource.RUSAGE_SELF)
        out["sink_cpu"] = s1.ru_utime + s1.ru_stime - s0.ru_utime - s0.ru_stime
        shutil.rmtree(other)
    print(json.dumps(out), file=sys.stderr)
finally:
    shutil.rmtree(root)
sys.exit(r.returncode)`;

interface Case {
  name: string;
  rows: number;
  base: string;
}
const CASES: Case[] = [
  { name: "data_generator_patches_per_s", rows: 8, base: "/tmp" },
  { name: "data_generator_patches_per_s_320", rows: 32, base: "/tmp" },
  { name: "data_generator_patches_per_s_1280", rows: 128, base: "/tmp" },
];
const CEILING = "data_generator_disk_ceiling_patches_per_s";
// the bytes of one clean patch's two TIFFs (1801 × 256 uint16 and their headers)
const PATCH_BYTES = 1844736;
const wanted = CASES.filter((c) => c.name.startsWith(prefix));
const disk = wanted.some((c) => c.base === "/tmp") || CEILING.startsWith(prefix)
  ? await syncBandwidth()
  : null;
for (const c of wanted) await bench(c, disk);
if (disk !== null && CEILING.startsWith(prefix)) {
  console.log(JSON.stringify({
    bench: CEILING,
    unit: "patches/s",
    ours: (disk * 1e6) / PATCH_BYTES,
    peer: null,
    ratio: null,
    disk_sync_mb_per_s: disk,
    bytes_per_patch: PATCH_BYTES,
    disk: DIR,
  }));
}

async function python(code: string, args: string[] = []): Promise<string> {
  const r = await new Deno.Command("/usr/bin/python3", { args: ["-c", code, ...args] }).output();
  if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  return new TextDecoder().decode(r.stdout);
}

/** The scan and mask of `rows` detector rows, made once. */
async function scanOf(rows: number): Promise<[string, string]> {
  const tag = rows === 8 ? "dg" : `dg${rows}`;
  const scan = `${DIR}/${tag}_scan.nxs`, mask = `${DIR}/${tag}_mask.npz`;
  try {
    await Deno.stat(mask);
    return [scan, mask];
  } catch { /* made below */ }
  await Deno.mkdir(DIR, { recursive: true });
  // written in slabs of angles, so that making the large scan stays near 1 GB of memory
  await python(`
import numpy as np, h5py
A, R, C = 1801, ${rows}, 2560
rng = np.random.default_rng(0)
with h5py.File("${scan}", "w") as f:
    d = f.create_dataset("/entry1/tomo_entry/data/data", (A + 20, R, C), np.uint16, chunks=(1, min(R, 8), C))
    d[:10] = 30000; d[10:20] = 100
    for a in range(0, A, 128):
        n = min(128, A - a)
        d[20 + a:20 + a + n] = (100 + 29000 * np.exp(-rng.random((n, R, C), dtype=np.float32))).astype(np.uint16)
    f.create_dataset("/entry1/tomo_entry/instrument/detector/image_key", data=np.array([1]*10 + [2]*10 + [0]*A, np.int32))
np.savez_compressed("${mask}", m${tag}_scan=np.zeros((A, R, C), np.uint8))
`);
  return [scan, mask];
}

/** Runs one case (best of two), with the disk's sync bandwidth (MB/s) beside a disk case. */
async function bench(c: Case, disk: number | null): Promise<void> {
  const [scan, mask] = await scanOf(c.rows);
  const patches = c.rows * 10, sinkToo = c.rows === 128;
  let best = Infinity, bestCpu = Infinity, sink = Infinity, bytes = 0;
  const loads: number[] = [];
  for (let rep = 0; rep < 2; rep++) {
    loads.push(Math.round(loadavg()[0] * 100) / 100);
    const r = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        WRAP,
        c.base,
        sinkToo ? "1" : "0",
        "deno",
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write=/tmp",
        new URL("../tools/nostripesnet/data_generator.ts", import.meta.url).pathname,
        ...["--mode", "patch", "--root", "@ROOT@", "--hdf-root", scan, "--mask", mask, "--quiet"],
      ],
    }).output();
    const err = new TextDecoder().decode(r.stderr).trim().split("\n");
    const info = JSON.parse(err.pop() ?? "{}");
    if (!r.success) throw new Error(err.join("\n"));
    best = Math.min(best, info.seconds); // the tool's run alone (not the sink, not the clean-up)
    bestCpu = Math.min(bestCpu, info.cpu);
    sink = Math.min(sink, info.sink_cpu ?? Infinity);
    bytes = info.bytes;
  }
  const cores = navigator.hardwareConcurrency;
  const line: Record<string, unknown> = {
    bench: c.name,
    unit: "patches/s",
    ours: patches / best,
    peer: null,
    ratio: null,
    patches,
    seconds: best,
    cpu_seconds: bestCpu,
    cpu_ms_per_patch: (1000 * bestCpu) / patches,
    cpu_limit_patches_per_s: (patches * cores) / bestCpu,
    bytes_per_patch: bytes / patches,
  };
  if (disk !== null) {
    line.disk_sync_mb_per_s = disk;
    line.disk_ceiling_patches_per_s = (disk * 1e6 * patches) / bytes;
  }
  if (sinkToo) {
    line.sink_cpu_seconds = sink;
    line.cpu_limit_patches_per_s_without_sink = (patches * cores) / (bestCpu - sink);
  }
  console.log(JSON.stringify({ ...line, load: loads, cores, cpu: cpus()[0]?.model ?? "unknown" }));
}

/** MB/s of 256 MiB written and fdatasync'd in the bench folder (the disk's durable bandwidth). */
async function syncBandwidth(): Promise<number> {
  await Deno.mkdir(DIR, { recursive: true });
  return Number(
    await python(
      `import os, time
p = "${DIR}/sync_probe.bin"; b = bytes(1 << 20)
t = time.perf_counter()
with open(p, "wb") as f:
    for _ in range(256): f.write(b)
    f.flush(); os.fdatasync(f.fileno())
print(256 * (1 << 20) / (time.perf_counter() - t) / 1e6)
os.remove(p)`,
    ),
  );
}
