// bench-permissions: --allow-read --allow-write=/tmp --allow-run=/usr/bin/python3,deno --allow-env --allow-sys
/**
 * Benchmark `data_generator_patches_per_s`: `data_generator --mode patch` on a 1801 × 8 × 2560
 * uint16 i12 scan (made once with h5py under /tmp/lumen_bench) whose mask is all clean, so every
 * one of its 80 patches gets simulated stripes and is written as a clean/stripe TIFF pair.
 * Patches per second, end to end (read, normalise, cut, simulate, scale, write). No peer: the
 * original needs TomoPhantom and a conda environment (peer null).
 *
 * @module
 */
const prefix = Deno.args[0] ?? "";
const NAME = "data_generator_patches_per_s";
if (NAME.startsWith(prefix)) {
  const dir = "/tmp/lumen_bench";
  await Deno.mkdir(dir, { recursive: true });
  const scan = `${dir}/dg_scan.nxs`, mask = `${dir}/dg_mask.npz`;
  try {
    await Deno.stat(mask);
  } catch {
    const py = `
import numpy as np, h5py
A, R, C = 1801, 8, 2560
rng = np.random.default_rng(0)
flat = np.full((10, R, C), 30000, np.uint16); dark = np.full((10, R, C), 100, np.uint16)
proj = (100 + 29000 * np.exp(-rng.random((A, R, C), dtype=np.float32))).astype(np.uint16)
with h5py.File("${scan}", "w") as f:
    f.create_dataset("/entry1/tomo_entry/data/data", data=np.concatenate([flat, dark, proj]), chunks=(1, R, C))
    f.create_dataset("/entry1/tomo_entry/instrument/detector/image_key", data=np.array([1]*10 + [2]*10 + [0]*A, np.int32))
np.savez_compressed("${mask}", mdg_scan=np.zeros((A, R, C), np.uint8))
`;
    const r = await new Deno.Command("/usr/bin/python3", { args: ["-c", py] }).output();
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
  }
  let best = Infinity;
  for (let rep = 0; rep < 2; rep++) {
    const root = await Deno.makeTempDir({ dir: "/tmp" });
    const t0 = performance.now();
    const r = await new Deno.Command("deno", {
      args: [
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
    if (!r.success) throw new Error(new TextDecoder().decode(r.stderr));
    best = Math.min(best, s);
  }
  console.log(
    JSON.stringify({ bench: NAME, unit: "patches/s", ours: 80 / best, peer: null, ratio: null }),
  );
}
