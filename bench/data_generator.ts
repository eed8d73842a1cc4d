// bench-permissions: --allow-read --allow-write=/tmp --allow-run=/usr/bin/python3,deno --allow-env --allow-sys
/**
 * Benchmark `data_generator_patches_per_s`: `data_generator --mode patch` on a 1801 × 8 × 2560
 * uint16 i12 scan (made once with h5py under /tmp/lumen_bench) whose mask is all clean, so every
 * one of its 80 patches gets simulated stripes and is written as a clean/stripe TIFF pair.
 * Patches per second, end to end (process start, read, normalise, cut, simulate, scale, write),
 * best of two, with the CPU seconds (user + sys) and the load average of each run, since wall time
 * on a shared machine is inflated by the load. `data_generator_patches_per_s_320` does the same
 * on a 1801 × 32 × 2560 scan (320 patches), where the fixed costs (start, workers, mask, record)
 * weigh less. No peer: the original needs TomoPhantom and a conda environment (peer null).
 *
 * @module
 */
import { cpus, loadavg } from "node:os";

const prefix = Deno.args[0] ?? "";
// python's getrusage(RUSAGE_CHILDREN) gives the CPU seconds of the child
const WRAP = "import resource, subprocess, sys\n" +
  "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n" +
  "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n" +
  "sys.stderr.write(r.stderr.decode())\n" +
  "print(u.ru_utime + u.ru_stime, file=sys.stderr)\n" +
  "sys.exit(r.returncode)";
for (
  const [NAME, R] of [["data_generator_patches_per_s", 8], [
    "data_generator_patches_per_s_320",
    32,
  ]] as const
) {
  if (NAME.startsWith(prefix)) await bench(NAME, R);
}

async function bench(NAME: string, R: number) {
  const dir = "/tmp/lumen_bench";
  await Deno.mkdir(dir, { recursive: true });
  const tag = R === 8 ? "dg" : `dg${R}`;
  const scan = `${dir}/${tag}_scan.nxs`, mask = `${dir}/${tag}_mask.npz`;
  try {
    await Deno.stat(mask);
  } catch {
    const py = `
import numpy as np, h5py
A, R, C = 1801, ${R}, 2560
rng = np.random.default_rng(0)
flat = np.full((10, R, C), 30000, np.uint16); dark = np.full((10, R, C), 100, np.uint16)
proj = (100 + 29000 * np.exp(-rng.random((A, R, C), dtype=np.float32))).astype(np.uint16)
with h5py.File("${scan}", "w") as f:
    f.create_dataset("/entry1/tomo_entry/data/data", data=np.concatenate([flat, dark, proj]), chunks=(1, min(R, 8), C))
    f.create_dataset("/entry1/tomo_entry/instrument/detector/image_key", data=np.array([1]*10 + [2]*10 + [0]*A, np.int32))
np.savez_compressed("${mask}", m${tag}_scan=np.zeros((A, R, C), np.uint8))
`;
    const r = await new Deno.Command("/usr/bin/python3", { args: ["-c", py] }).output();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  }
  const patches = R * 10;
  let best = Infinity, bestCpu = Infinity;
  const loads: number[] = [];
  for (let rep = 0; rep < 2; rep++) {
    const root = await Deno.makeTempDir({ dir: "/tmp" });
    const t0 = performance.now();
    loads.push(Math.round(loadavg()[0] * 100) / 100);
    const r = await new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        WRAP,
        "deno",
        "run",
        "--quiet",
        "--allow-read",
        "--allow-write=/tmp",
        new URL("../tools/nostripesnet/data_generator.ts", import.meta.url).pathname,
        "--mode",
        "patch",
        "--root",
        root,
        "--hdf-root",
        scan,
        "--mask",
        mask,
        "--quiet",
      ],
    }).output();
    const s = (performance.now() - t0) / 1000;
    await Deno.remove(root, { recursive: true });
    const err = new TextDecoder().decode(r.stderr).trim().split("\n");
    if (!r.success) throw new Error(err.join("\n"));
    best = Math.min(best, s);
    bestCpu = Math.min(bestCpu, Number(err.pop()));
  }
  console.log(
    JSON.stringify({
      bench: NAME,
      unit: "patches/s",
      ours: patches / best,
      peer: null,
      ratio: null,
      patches,
      seconds: best,
      cpu_seconds: bestCpu,
      load: loads,
      cpu: cpus()[0]?.model ?? "unknown",
    }),
  );
}
