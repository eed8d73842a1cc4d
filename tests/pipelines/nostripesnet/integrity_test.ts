/**
 * NoStripesNet's data integrity: no resume across different arguments, the mask required and
 * checked, every file behind external links hashed, named dataset paths, and interrupts at exact
 * safe points (LUMEN_PAUSE_AT) that exit promptly, leave no partial file and resume to the bytes
 * of an uninterrupted run.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  countSafePoints,
  hasPython,
  interruptAt,
  nsnDataset,
  nsnTrainArgs,
  pyFixture,
  runPython,
  runTool,
  treeHashes,
} from "../../_helpers.ts";
import { readProvenance } from "../../../lib/run/provenance.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp"];
const noPy = !hasPython("numpy", "h5py");

/** data_generator on the DIAD-layout fixture (frames behind an external link). */
function genArgs(fx: string, root: string, extra: string[] = [], patch = ["12", "20"]): string[] {
  return [
    "--mode",
    "patch",
    "--root",
    root,
    "--hdf-root",
    `${fx}/k11.nxs`,
    "--mask",
    `${fx}/masks.npz`,
    "--patch-size",
    ...patch,
    "-C",
    "2",
    "--quiet",
    ...extra,
  ];
}

const gen = (fx: string, root: string, extra: string[] = []) =>
  runTool("nostripesnet/data_generator", PERMS, genArgs(fx, root, extra));

/** Five safe points in [1, n] (a run passes n), from a fixed seed (printed, to replay a failure). */
function points(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  while (out.length < 5) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(1 + (s % n));
  }
  console.log(`interrupt points: ${out.join(", ")}`);
  return out;
}

/** No temporary or partial file anywhere under `dir`. */
function noPartial(tree: [string, string][]): void {
  const bad = tree.filter(([p]) => /\.tmp|\.partial/.test(p));
  assert.deepEqual(bad, [], "partial files left");
}

Deno.test({
  name: "data_generator: a resumed run with other --patch-size or --seed is refused, naming them",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_integrity");
    const root = await Deno.makeTempDir();
    // the last safe point: every sinogram written, the sample not yet finished
    const scratch = await Deno.makeTempDir();
    const last = await countSafePoints("nostripesnet/data_generator", PERMS, genArgs(fx, scratch));
    await Deno.remove(scratch, { recursive: true });
    const r = await interruptAt("nostripesnet/data_generator", PERMS, genArgs(fx, root), last);
    assert.ok(r.paused && r.code === 130, r.stderr);
    assert.ok(!existsSync(`${root}/0000.prov.json`));
    assert.ok(existsSync(`${root}/0000/fake_artifacts/clean/0000_shift00_0004_w03.tif`));
    const ps = await runTool(
      "nostripesnet/data_generator",
      PERMS,
      genArgs(fx, root, [], ["12,10"]),
    );
    assert.equal(ps.code, 1);
    assert.match(
      ps.stderr,
      /0000: cannot resume: --patch-size \(12,20 → 12,10\) differs from the earlier run; pass --overwrite/,
    );
    assert.equal(ps.stderr.trim().split("\n").length, 1);
    const sd = await gen(fx, root, ["--seed", "1"]);
    assert.equal(sd.code, 1);
    assert.match(sd.stderr, /--seed \(0 → 1\) differs/);
    // what a SIGKILLed run was writing is removed when the same run resumes
    const orphan = `${root}/0000/fake_artifacts/clean/.0000_shift00_0001_w00.tif.4711-k3x91.tmp`;
    await Deno.writeTextFile(orphan, "half a file");
    const same = await Deno.makeTempDir();
    assert.equal((await gen(fx, same)).code, 0);
    const resumed = await gen(fx, root);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.ok(!existsSync(orphan), "the orphan is gone");
    assert.deepEqual(await treeHashes(root), await treeHashes(same));
    await Deno.remove(same, { recursive: true });
    // --overwrite starts again with the new arguments: equal to a fresh run with them
    assert.equal((await gen(fx, root, ["--seed", "1", "--overwrite"])).code, 0);
    const fresh = await Deno.makeTempDir();
    assert.equal((await gen(fx, fresh, ["--seed", "1"])).code, 0);
    assert.deepEqual(await treeHashes(root), await treeHashes(fresh));
    for (const d of [root, fresh]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "data_generator: SIGINT at 5 safe points exits there, no partial file, rerun = same bytes",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_integrity");
    const whole = await Deno.makeTempDir();
    const n = await countSafePoints("nostripesnet/data_generator", PERMS, genArgs(fx, whole));
    const want = await treeHashes(whole);
    for (const p of points(n, 15)) {
      const root = await Deno.makeTempDir();
      const r = await interruptAt("nostripesnet/data_generator", PERMS, genArgs(fx, root), p);
      assert.ok(r.paused, `never reached safe point ${p}: ${r.stderr}`);
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /data_generator: interrupted/);
      noPartial(await treeHashes(root));
      assert.ok(!existsSync(`${root}/0000.prov.json`), "an interrupted sample is not finished");
      const again = await gen(fx, root);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(await treeHashes(root), want);
      await Deno.remove(root, { recursive: true });
    }
    await Deno.remove(whole, { recursive: true });
  },
});

Deno.test({
  name: "data_generator: the mask is required, checked for its dtype, and read by name",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_integrity");
    const root = await Deno.makeTempDir();
    const args = genArgs(fx, root).filter((a, i, all) => a !== "--mask" && all[i - 1] !== "--mask");
    const none = await runTool("nostripesnet/data_generator", PERMS, args);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /--mask: A mask should be given: --mode patch needs the stripe-mask/);
    const w = await gen(fx, root, ["--mask-name", "mk11_weights"]);
    assert.equal(w.code, 1);
    assert.match(
      w.stderr,
      /masks\.npz: mk11_weights: is float32, not a stripe mask \(uint8 or bool\); it holds the detection weights/,
    );
    for (const r of [none, w]) assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(`${root}/0000`));
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "data_generator: provenance hashes the files behind external links",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_integrity");
    const root = await Deno.makeTempDir();
    assert.equal((await gen(fx, root)).code, 0);
    const prov = await readProvenance(`${root}/0000`);
    const paths = prov.inputs.map((i) => i.path);
    assert.deepEqual(paths, [`${fx}/k11.nxs`, `${fx}/k11/k11-imaging.h5`, `${fx}/masks.npz`]);
    // changing a frame inside the linked file changes the recorded hash
    const copy = await Deno.makeTempDir();
    await Deno.mkdir(`${copy}/k11`);
    for (const f of ["k11.nxs", "k11/k11-imaging.h5", "masks.npz"]) {
      await Deno.copyFile(`${fx}/${f}`, `${copy}/${f}`);
    }
    const bytes = await Deno.readFile(`${copy}/k11/k11-imaging.h5`);
    bytes[bytes.length - 100] ^= 0xff; // inside the last frame's chunk
    await Deno.writeFile(`${copy}/k11/k11-imaging.h5`, bytes);
    const root2 = await Deno.makeTempDir();
    assert.equal((await gen(copy, root2)).code, 0);
    const prov2 = await readProvenance(`${root2}/0000`);
    assert.equal(prov2.inputs[0].sha256, prov.inputs[0].sha256, "the linking file is the same");
    assert.notEqual(prov2.inputs[1].sha256, prov.inputs[1].sha256, "the linked data changed");
    for (const d of [root, root2, copy]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "data_generator: --data-path/--image-key-path read a file in no known layout",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_integrity");
    const root = await Deno.makeTempDir();
    const base = ["--mode", "patch", "--root", root, "--hdf-root", `${fx}/custom.h5`];
    const rest = ["--mask", `${fx}/masks.npz`, "--patch-size", "12,20", "--quiet"];
    const lost = await runTool("nostripesnet/data_generator", PERMS, [...base, ...rest]);
    assert.equal(lost.code, 1);
    assert.match(lost.stderr, /no known tomography layout .*--data-path/);
    const ok = await runTool("nostripesnet/data_generator", PERMS, [
      ...base,
      "--data-path",
      "/my/frames",
      "--image-key-path",
      "/my/keys",
      "--angles-path",
      "/my/theta",
      ...rest,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    // the same frames as the DIAD file: the same patches
    const diad = await Deno.makeTempDir();
    assert.equal((await gen(fx, diad, ["--mask-name", "mcustom"])).code, 0);
    assert.deepEqual(await treeHashes(root), await treeHashes(diad));
    for (const d of [root, diad]) await Deno.remove(d, { recursive: true });
  },
});

/** train on the nsn_scan fixture's patches: tiny preset, 3 steps and 1 validation batch an epoch. */
const trainArgs = (root: string, dir: string) =>
  nsnTrainArgs(root, dir, ["--epochs", "2", "--save-every", "1"]);

Deno.test({
  name:
    "train: SIGINT at 5 safe points exits there, no partial file, rerun = same checkpoint bytes",
  ignore: noPy,
  fn: async () => {
    const { root } = await nsnDataset();
    const whole = await Deno.makeTempDir();
    const n = await countSafePoints("nostripesnet/train", PERMS, trainArgs(root, whole));
    const want = (await treeHashes(whole)).filter(([p]) => /safetensors$/.test(p));
    for (const p of points(n, 16)) {
      const dir = await Deno.makeTempDir();
      const r = await interruptAt("nostripesnet/train", PERMS, trainArgs(root, dir), p);
      assert.ok(r.paused, `never reached safe point ${p}: ${r.stderr}`);
      assert.equal(r.code, 130, r.stderr);
      noPartial(await treeHashes(dir));
      assert.ok(!existsSync(`${dir}/t_2.json`));
      const again = await runTool("nostripesnet/train", PERMS, trainArgs(root, dir));
      assert.equal(again.code, 0, again.stderr);
      const got = (await treeHashes(dir)).filter(([p]) => /safetensors$/.test(p));
      assert.deepEqual(got, want);
      await Deno.remove(dir, { recursive: true });
    }
    for (const d of [root, whole]) await Deno.remove(d, { recursive: true });
  },
});

/** apply_model with the original's positional MODEL H5 and -m/-o. */
function applyArgs(fx: string, ckpt: string, out: string): string[] {
  return [
    ckpt,
    `${fx}/scan.nxs`,
    "-m",
    `${fx}/masks.npz`,
    "-o",
    out,
    "-C",
    "2",
    "--threads",
    "1",
    "--quiet",
  ];
}

/** A tiny model trained for one epoch on the nsn_scan fixture. */
async function tinyModel(): Promise<{ fx: string; ckpt: string; dirs: string[] }> {
  const { fx, root } = await nsnDataset();
  const runs = await Deno.makeTempDir();
  const args = trainArgs(root, runs).map((a) => a === "2" ? "1" : a);
  const r = await runTool("nostripesnet/train", PERMS, args);
  assert.equal(r.code, 0, r.stderr);
  return { fx, ckpt: `${runs}/t_1.json`, dirs: [root, runs] };
}

Deno.test({
  name: "apply_model: --out by extension (.npz, .npy, .tif open in numpy/tifffile); others refused",
  ignore: noPy || !hasPython("tifffile"),
  fn: async () => {
    const { fx, ckpt, dirs } = await tinyModel();
    const dir = await Deno.makeTempDir();
    for (const ext of ["h5", "npz", "npy", "tif"]) {
      const r = await runTool(
        "nostripesnet/apply_model",
        PERMS,
        applyArgs(fx, ckpt, `${dir}/c.${ext}`),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!existsSync(`${dir}/c.${ext}.partial`));
    }
    const same = runPython(
      `-c import sys, h5py, numpy as np, tifffile
d = sys.argv[1]
h = h5py.File(d + "/c.h5")["data"][()]
z = np.load(d + "/c.npz")["data"]
y = np.load(d + "/c.npy")
t = tifffile.imread(d + "/c.tif")
print(h.shape, h.dtype, np.array_equal(h, z), np.array_equal(h, y), np.array_equal(h, t))`,
      [dir],
    );
    assert.equal(same.trim(), "(40, 6, 70) float32 True True True");
    const bad = await runTool(
      "nostripesnet/apply_model",
      PERMS,
      applyArgs(fx, ckpt, `${dir}/c.zarr`),
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /--out: cannot tell the output format from "\.zarr"; use \.h5, \.hdf5/,
    );
    for (const d of [...dirs, dir]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "apply_model: SIGINT at 5 safe points exits there, rerun = the bytes of a straight run",
  ignore: noPy,
  fn: async () => {
    const { fx, ckpt, dirs } = await tinyModel();
    const dir = await Deno.makeTempDir();
    const n = await countSafePoints(
      "nostripesnet/apply_model",
      PERMS,
      applyArgs(fx, ckpt, `${dir}/w.npy`),
    );
    const want = await Deno.readFile(`${dir}/w.npy`);
    for (const [k, p] of points(n, 17).entries()) {
      const out = `${dir}/i${k}.npy`;
      const r = await interruptAt("nostripesnet/apply_model", PERMS, applyArgs(fx, ckpt, out), p);
      assert.ok(r.paused, `never reached safe point ${p}: ${r.stderr}`);
      assert.equal(r.code, 130, r.stderr);
      assert.ok(!existsSync(out), "no output under the final name");
      const again = await runTool("nostripesnet/apply_model", PERMS, applyArgs(fx, ckpt, out));
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(await Deno.readFile(out), want);
      assert.ok(!existsSync(`${out}.partial`));
    }
    // a partial of other arguments is not continued
    const out = `${dir}/x.npy`;
    const r = await interruptAt("nostripesnet/apply_model", PERMS, applyArgs(fx, ckpt, out), n);
    assert.ok(r.paused);
    const other = await runTool("nostripesnet/apply_model", PERMS, [
      ...applyArgs(fx, ckpt, out),
      "--patch-size",
      "40",
      "35",
    ]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /x\.npy: cannot resume: --patch-size \(unset → 40,35\) differs/);
    for (const d of [...dirs, dir]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "the original's other modes and models are one-line refusals; a root that is a file too",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_integrity");
    const dir = await Deno.makeTempDir();
    for (
      const [mode, re] of [
        ["simple", /--mode: simple is not made by Lumen: --mode synthetic simulates a scan/],
        ["complex", /--mode: complex is not made by Lumen: --mode synthetic/],
        ["dynamic", /--mode: dynamic is not made by Lumen: dynamic scans are not cut into frames/],
      ] as const
    ) {
      const r = await runTool("nostripesnet/data_generator", PERMS, ["-m", mode, "-r", dir]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    }
    const shifts = await gen(fx, `${dir}/d`, ["-s", "2"]);
    assert.equal(shifts.code, 2);
    assert.match(shifts.stderr, /--shifts: 2: one scan is read per run; run once per shifted scan/);
    const m = await runTool("nostripesnet/train", PERMS, ["-m", "base", "-r", dir, "-d", dir]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /--model: base: Lumen trains the patch model/);
    await Deno.writeTextFile(`${dir}/afile`, "x");
    const f = await gen(fx, `${dir}/afile`);
    assert.equal(f.code, 1);
    assert.match(f.stderr, /afile: the dataset root is not a folder/);
    // --flats: the flats file is hashed with the scan
    const raw = await pyFixture("nsn_cli");
    const withFlats = await runTool("nostripesnet/data_generator", PERMS, [
      ...["-m", "patch", "-r", `${dir}/f`, "--hdf-file", `${raw}/scripts/raw/119617.nxs`],
      ...[
        "--flats",
        `${raw}/scripts/raw/flats.nxs`,
        "--mask",
        `${raw}/scripts/raw/stripe_masks.npz`,
      ],
      ...["--patch-size", "640", "40", "-q"],
    ]);
    assert.equal(withFlats.code, 0, withFlats.stderr);
    const prov = await readProvenance(`${dir}/f/0000`);
    assert.deepEqual(prov.inputs.map((i) => i.path.replace(`${raw}/scripts/raw/`, "")), [
      "119617.nxs",
      "flats.nxs",
      "stripe_masks.npz",
    ]);
    await Deno.remove(dir, { recursive: true });
  },
});
