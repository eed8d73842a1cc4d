import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { hasPython, pyFixture, runTool } from "../../_helpers.ts";
import { readTiff } from "../../../lib/io/tiff.ts";
import { readNpy } from "../../../lib/io/npy.ts";
import { patchGrid } from "../../../lib/data/patches.ts";
import { resize2d } from "../../../lib/data/resize.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp"];
const noPy = !hasPython("numpy", "h5py");

/**
 * uint16 codes equal numpy's; the normalised input agrees with numpy's to an ulp (WASM kernel),
 * which can move a truncation by one code: allow ±1 on at most 1% of pixels.
 */
function sameCodes(got: Uint16Array, want: Uint16Array) {
  assert.equal(got.length, want.length);
  let off = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    assert.ok(d <= 1, `pixel ${i}: ${got[i]} vs numpy ${want[i]}`);
    off += d;
  }
  assert.ok(off <= got.length / 100, `${off} pixels off by one`);
}

function tree(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(`${dir}/${rel}`, { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(`${r}/`, ...tree(dir, r));
    else out.push(r);
  }
  return out.sort();
}

async function bytesOf(dir: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const f of tree(dir).filter((f) => !f.endsWith("/") && !f.endsWith(".prov.json"))) {
    const h = await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/${f}`));
    m.set(f, Array.from(new Uint8Array(h), (b) => b.toString(16).padStart(2, "0")).join(""));
  }
  return m;
}

async function gen(root: string, extra: string[] = [], fx?: string) {
  const dir = fx ?? await pyFixture("nsn_scan");
  return await runTool("nostripesnet/data_generator", PERMS, [
    "--mode",
    "patch",
    "--root",
    root,
    "--hdf-root",
    `${dir}/scan.nxs`,
    "--mask",
    `${dir}/masks.npz`,
    ...(extra.includes("--patch-size") ? [] : ["--patch-size", "20,32"]),
    "--chunk-size",
    "4",
    "--quiet",
    ...extra,
  ]);
}

Deno.test({
  name: "data_generator --mode patch: layout, names, real/fake split, exact uint16 scaling",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const root = await Deno.makeTempDir();
    const r = await gen(root, ["--seed", "3"], fx);
    assert.equal(r.code, 0, r.stderr);
    // 40×70 sinograms, 20×32 patches: 2×2 grid, centre-cropped by 3 columns
    const g = patchGrid([40, 70], [20, 32]);
    assert.deepEqual([g.count, g.offCols], [4, 3]);
    const files = tree(`${root}/0000`);
    const real = files.filter((f) => f.startsWith("real_artifacts/stripe/") && f.endsWith(".tif"));
    const fakeC = files.filter((f) => f.startsWith("fake_artifacts/clean/") && f.endsWith(".tif"));
    const fakeS = files.filter((f) => f.startsWith("fake_artifacts/stripe/") && f.endsWith(".tif"));
    assert.ok(files.includes("real_artifacts/clean/"));
    assert.equal(
      files.filter((f) => f.startsWith("real_artifacts/clean/") && f !== "real_artifacts/clean/")
        .length,
      0,
    );
    // mask: row 1 has stripes in columns 10–12 (patch column 0), row 4 in 40–41 (patch column 1)
    assert.deepEqual(real, [
      "real_artifacts/stripe/0000_shift00_0001_w00.tif",
      "real_artifacts/stripe/0000_shift00_0001_w01.tif",
      "real_artifacts/stripe/0000_shift00_0001_w02.tif",
      "real_artifacts/stripe/0000_shift00_0001_w03.tif",
      "real_artifacts/stripe/0000_shift00_0004_w01.tif",
      "real_artifacts/stripe/0000_shift00_0004_w03.tif",
    ]);
    assert.equal(fakeC.length, 6 * 4 - 6);
    assert.deepEqual(fakeC.map((f) => f.split("/").pop()), fakeS.map((f) => f.split("/").pop()));
    assert.ok(existsSync(`${root}/0000.prov.json`));
    const prov = JSON.parse(await Deno.readTextFile(`${root}/0000.prov.json`));
    assert.equal(prov.tool, "data_generator");
    assert.equal(prov.seed, 3);
    assert.equal(prov.inputs.length, 2);
    // the clean patch equals numpy's normalisation, scaled by the stripe patches' range
    const sinos = await readNpy(`${fx}/sinos.npy`);
    const sino0 = (sinos.data as Float32Array).subarray(0, 40 * 70);
    const clean = await readTiff(`${root}/0000/fake_artifacts/clean/0000_shift00_0000_w00.tif`);
    assert.equal(clean.dtype, "uint16");
    assert.deepEqual(clean.shape, [20, 32]);
    const stripes: Float32Array[] = [];
    for (let p = 0; p < 4; p++) {
      const s = await readTiff(`${root}/0000/fake_artifacts/stripe/0000_shift00_0000_w0${p}.tif`);
      stripes.push(Float32Array.from(s.data as Uint16Array));
    }
    const patch0 = new Float32Array(20 * 32);
    for (let a = 0; a < 20; a++) {
      for (let c = 0; c < 32; c++) patch0[a * 32 + c] = sino0[a * 70 + 3 + c];
    }
    // the clean patch's uint16 codes are monotone in its values and span part of [0, 65535]
    const codes = clean.data as Uint16Array;
    let ok = 0;
    for (let i = 1; i < codes.length; i++) {
      if (
        (patch0[i] > patch0[i - 1]) === (codes[i] >= codes[i - 1]) || patch0[i] === patch0[i - 1]
      ) ok++;
    }
    assert.ok(ok > 0.97 * codes.length, `monotone ${ok}/${codes.length}`);
    // row 1 has real stripes in every patch: its range is theirs, and the stored codes equal
    // (to a code) numpy's `((clip(x, lo, hi) − lo) · 65535 / (hi − lo)).astype(uint16)` exactly
    const want = await readNpy(`${fx}/row1.npy`);
    for (let p = 0; p < 4; p++) {
      const got = await readTiff(`${root}/0000/real_artifacts/stripe/0000_shift00_0001_w0${p}.tif`);
      sameCodes(
        got.data as Uint16Array,
        (want.data as Uint16Array).subarray(p * 640, (p + 1) * 640),
      );
    }
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name:
    "data_generator: same seed → same bytes; no overwrite (interrupt and resume: integrity_test.ts)",
  ignore: noPy,
  fn: async () => {
    const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
    assert.equal((await gen(a)).code, 0);
    assert.equal((await gen(b)).code, 0);
    const ha = await bytesOf(a), hb = await bytesOf(b);
    assert.deepEqual([...ha.entries()], [...hb.entries()]);
    const c = await Deno.makeTempDir();
    assert.equal((await gen(c, ["--seed", "9"])).code, 0);
    const hc = await bytesOf(c);
    assert.notDeepEqual([...ha.entries()], [...hc.entries()]);
    // a finished sample is not overwritten
    const again = await gen(a);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already holds this sample; pass --overwrite/);
    assert.equal(again.stderr.trim().split("\n").length, 1);
    // --overwrite replaces
    assert.equal((await gen(a, ["--overwrite", "--seed", "9"])).code, 0);
    assert.deepEqual([...(await bytesOf(a)).entries()], [...hc.entries()]);
    for (const d of [a, b, c]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "data_generator: 3 shards + merge equal the unsharded run byte for byte",
  ignore: noPy,
  fn: async () => {
    const whole = await Deno.makeTempDir(), sh = await Deno.makeTempDir();
    assert.equal((await gen(whole)).code, 0);
    for (const i of [0, 2]) assert.equal((await gen(sh, ["--shard", `${i}/3`])).code, 0);
    const early = await gen(sh, ["--merge", "3"]);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /shard 1\/3 is missing: nothing merged/);
    assert.ok(!existsSync(`${sh}/0000.prov.json`));
    assert.equal((await gen(sh, ["--shard", "1/3"])).code, 0);
    const bad = await gen(sh, ["--shard", "3/2"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--shard: 3\/2: shard index 3 is out of range/);
    assert.equal((await gen(sh, ["--merge", "3"])).code, 0);
    assert.ok(!existsSync(`${sh}/0000.shards`));
    assert.deepEqual([...(await bytesOf(sh)).entries()], [...(await bytesOf(whole)).entries()]);
    for (const d of [whole, sh]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "data_generator bad input: mask shape, non-npz mask, patch larger than the sinogram",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const root = await Deno.makeTempDir();
    const r1 = await gen(root, ["--mask", `${fx}/badmask.npz`, "--mask-name", "mscan"]);
    assert.equal(r1.code, 1);
    assert.match(
      r1.stderr,
      /badmask\.npz: mscan: mask shape \(40, 5, 70\) does not match the scan's \(angles, rows, columns\) = \(40, 6, 70\)/,
    );
    const r2 = await gen(root, ["--mask", `${fx}/notnpz.npz`]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /notnpz\.npz: .*not a zip\/npz archive/);
    const r3 = await gen(root, ["--patch-size", "41,32"]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /smaller than one 41×32 patch/);
    for (const r of [r1, r2, r3]) assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.ok(!existsSync(`${root}/0000.prov.json`));
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test({
  name: "resize2d equals skimage.transform.resize(anti_aliasing=True), down and up",
  ignore: !hasPython("numpy", "h5py", "skimage"),
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const img = await readNpy(`${fx}/resize_in.npy`);
    for (const [h, w] of [[20, 30], [13, 70], [80, 90], [402, 362]]) {
      const want = (await readNpy(`${fx}/resize_${h}_${w}.npy`)).data as Float32Array;
      const got = resize2d(img.data as Float32Array, [50, 70], [h, w]);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      assert.ok(worst < 1e-6, `${h}×${w}: max difference ${worst}`);
    }
  },
});

Deno.test({
  name: "data_generator --mode raw and --mode paired: layout and exact whole-sample scaling",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_scan");
    const root = await Deno.makeTempDir();
    const args = ["--hdf-root", `${fx}/scan.nxs`, "--mask", `${fx}/masks.npz`, "--quiet"];
    const r = await runTool("nostripesnet/data_generator", PERMS, [
      "--mode",
      "raw",
      "--root",
      root,
      "--size",
      "0,0",
      ...args,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const want = await readNpy(`${fx}/raw.npy`);
    for (let row = 0; row < 6; row++) {
      const got = await readTiff(`${root}/0000/shift00/0000_shift00_000${row}.tif`);
      assert.deepEqual(got.shape, [40, 70]);
      sameCodes(
        got.data as Uint16Array,
        (want.data as Uint16Array).subarray(row * 2800, (row + 1) * 2800),
      );
    }
    const p = await runTool("nostripesnet/data_generator", PERMS, [
      "--mode",
      "paired",
      "--root",
      root,
      "--sample",
      "1",
      "--size",
      "30,50",
      ...args,
    ]);
    assert.equal(p.code, 0, p.stderr);
    const files = tree(`${root}/0001`).filter((f) => f.endsWith(".tif"));
    assert.deepEqual(files.filter((f) => f.startsWith("real_artifacts")), [
      "real_artifacts/stripe/0001_shift00_0001.tif",
      "real_artifacts/stripe/0001_shift00_0004.tif",
    ]);
    assert.equal(files.filter((f) => f.startsWith("fake_artifacts/clean/")).length, 4);
    const shard = await runTool("nostripesnet/data_generator", PERMS, [
      "--mode",
      "paired",
      "--root",
      root,
      "--shard",
      "0/2",
      ...args,
    ]);
    assert.equal(shard.code, 2);
    assert.match(shard.stderr, /only --mode patch is sharded/);
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("data_generator --mode synthetic: a simulated scan's patches, all clean/stripe pairs, seeded", async () => {
  const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
  const args = ["--mode", "synthetic", "--patch-size", "128,64", "--seed", "5", "--quiet"];
  for (const root of [a, b]) {
    const r = await runTool("nostripesnet/data_generator", PERMS, [...args, "--root", root]);
    assert.equal(r.code, 0, r.stderr);
  }
  const files = tree(`${a}/0000`).filter((f) => f.endsWith(".tif"));
  assert.equal(files.filter((f) => f.startsWith("fake_artifacts/clean/")).length, 16); // 8 rows × 2
  assert.equal(files.filter((f) => f.startsWith("real_artifacts/")).length, 0);
  assert.deepEqual([...(await bytesOf(a)).entries()], [...(await bytesOf(b)).entries()]);
  const clean = await readTiff(`${a}/0000/fake_artifacts/clean/0000_shift00_0003_w01.tif`);
  const stripe = await readTiff(`${a}/0000/fake_artifacts/stripe/0000_shift00_0003_w01.tif`);
  assert.deepEqual(clean.shape, [128, 64]);
  // a full stripe: some columns differ on every angle
  const c = clean.data as Uint16Array, s = stripe.data as Uint16Array;
  let cols = 0;
  for (let x = 0; x < 64; x++) {
    let all = true;
    for (let y = 0; y < 128; y++) if (Math.abs(c[y * 64 + x] - s[y * 64 + x]) === 0) all = false;
    if (all) cols++;
  }
  assert.ok(cols >= 1 && cols <= 13, `${cols} striped columns`);
  for (const d of [a, b]) await Deno.remove(d, { recursive: true });
});
