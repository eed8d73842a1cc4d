import assert from "node:assert/strict";
import { hasPython, hasSharedData, runPython, runTool, SHARED_DATA } from "../../_helpers.ts";
import { SCAN_PRESETS, simulateScan, writeScanNexus } from "../../../lib/tomo/scan_sim.ts";
import { openScan } from "../../../lib/io/nexus.ts";
import { readSinograms } from "../../../lib/tomo/normalise.ts";
import { stripesDetect, stripesMerge } from "../../../lib/tomo/stripes.ts";
import { readNpz, writeNpz } from "../../../lib/io/npz.ts";
import { ndarray } from "../../../lib/io/array.ts";
import { MASK_DETECT, MASK_FLAGS, MASK_MERGE } from "./_mask_params.ts";

const PARAMS = MASK_FLAGS;

async function tmpScan(): Promise<{ dir: string; scan: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lumen_mask_" });
  const scan = `${dir}/119617.nxs`;
  await writeScanNexus(scan, simulateScan({ ...SCAN_PRESETS.test, seed: 2 }));
  return { dir, scan };
}

const perms = (dir: string) => ["--allow-read", `--allow-write=${dir}`];

Deno.test("generate_mask: the archive entry m<scan> equals the library's detect+merge on the normalised scan; other entries kept", async () => {
  const { dir, scan } = await tmpScan();
  try {
    const archive = `${dir}/stripe_masks.npz`;
    await writeNpz(archive, { other: ndarray(new Int32Array([1, 2, 3]), [3]) }, { compress: true });
    const r = await runTool("nostripesnet/generate_mask", perms(dir), [
      "--h5",
      scan,
      "-a",
      archive,
      ...PARAMS,
      "--slab-rows",
      "3",
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = await readNpz(archive);
    assert.deepEqual([...got.keys()].sort(), ["m119617", "other"]);
    assert.deepEqual(Array.from(got.get("other")!.data as Int32Array), [1, 2, 3]);
    const m = got.get("m119617")!;
    assert.equal(m.dtype, "uint8");
    // the same through the library, whole volume at once
    const s = await openScan(scan);
    const [A, R, N] = [s.projections.count, s.rows, s.cols];
    const sino = await readSinograms(s, 0, R);
    s.close();
    const vol = new Float32Array(A * R * N);
    for (let l = 0; l < R; l++) {
      for (let k = 0; k < A; k++) {
        vol.set(sino.data.subarray((l * A + k) * N, (l * A + k + 1) * N), (k * R + l) * N);
      }
    }
    const w = await stripesDetect(vol, [A, R, N], MASK_DETECT);
    const want = await stripesMerge(w, [A, R, N], MASK_MERGE);
    assert.deepEqual(m.shape, [A, R, N]);
    assert.deepEqual(m.data, want);
    const ones = want.reduce((a, b) => a + b, 0);
    assert.ok(ones > 0 && ones < want.length);
    if (hasPython("numpy")) {
      const out = runPython(
        `-c import numpy as np, sys; a = np.load(sys.argv[1]); m = a["m119617"]; print(m.dtype, m.shape, int(m.sum()), sorted(a.files))`,
        [archive],
      );
      assert.equal(out.trim(), `uint8 (${A}, ${R}, ${N}) ${ones} ['m119617', 'other']`);
    }
    // the entry exists now: refused without --overwrite, archive untouched
    const before = await Deno.readFile(archive);
    const again = await runTool("nostripesnet/generate_mask", perms(dir), [
      "--h5",
      scan,
      "-a",
      archive,
      ...PARAMS,
      "-q",
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /m119617\.npy: entry exists; pass --overwrite/);
    assert.deepEqual(await Deno.readFile(archive), before);
    const over = await runTool("nostripesnet/generate_mask", perms(dir), [
      "--h5",
      scan,
      "-a",
      archive,
      ...PARAMS,
      "--threshold",
      "0.3",
      "--overwrite",
      "-q",
    ]);
    assert.equal(over.code, 0, over.stderr);
    const after = await readNpz(archive);
    assert.deepEqual([...after.keys()].sort(), ["m119617", "other"]);
    assert.notDeepEqual(after.get("m119617")!.data, m.data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate_mask -f takes any entry name, warning that data_generator needs --mask-name", async () => {
  const { dir, scan } = await tmpScan();
  try {
    const args = ["--h5", scan, "-a", `${dir}/m.npz`, ...PARAMS, "-q", "-f", "mask119617"];
    const r = await runTool("nostripesnet/generate_mask", perms(dir), args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^generate_mask: warning: entry "mask119617" is not m119617: .* pass it --mask-name mask119617\n$/,
    );
    assert.deepEqual([...(await readNpz(`${dir}/m.npz`)).keys()], ["mask119617"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate_mask: bad input gives one clear line and touches nothing", async () => {
  const { dir, scan } = await tmpScan();
  try {
    const notNpz = `${dir}/notes.npz`;
    await Deno.writeTextFile(notNpz, "not a zip at all, but precious");
    const cases: [string[], number, RegExp][] = [
      [["-f", "m11/9617"], 2, /--file-name/],
      [["-a", notNpz], 1, /notes\.npz: not a zip\/npz archive/],
      [["--size", "250"], 2, /--size: .*angles/],
      [["--depth", "8"], 2, /--depth: .*rows/],
      [["-a", `${dir}/nope/m.npz`], 1, /does not exist/],
    ];
    for (const [extra, code, re] of cases) {
      const args = ["--h5", scan, "-a", `${dir}/m.npz`, ...PARAMS, "-q", ...extra];
      const r = await runTool("nostripesnet/generate_mask", perms(dir), args);
      assert.equal(r.code, code, `${extra}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.equal(await Deno.readTextFile(notNpz), "not a zip at all, but precious");
    assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name.startsWith("m.npz")));
    const missing = await runTool("nostripesnet/generate_mask", perms(dir), ["-a", `${dir}/m.npz`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--h5/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate_mask and data_generator run on the real DIAD scan (3001 × 22 × 26, external link, two flat/dark blocks)", async () => {
  if (!hasSharedData()) return;
  const dir = await Deno.makeTempDir({ prefix: "lumen_mask_diad_" });
  try {
    const r = await runTool(
      "nostripesnet/generate_mask",
      ["--allow-read", `--allow-write=${dir}`],
      [
        "--h5",
        `${SHARED_DATA}/tomo/k11_diad/k11-18014.nxs`,
        "-a",
        `${dir}/masks.npz`,
        "--depth",
        "10",
        "-v",
        "-q",
      ],
    );
    assert.equal(r.code, 0, r.stderr);
    const m = (await readNpz(`${dir}/masks.npz`)).get("mk11-18014")!;
    assert.deepEqual(m.shape, [3001, 22, 26]);
    assert.equal(m.dtype, "uint8");
    // data_generator on the same scan and mask: one 1801×24 patch per sinogram (centre-cropped)
    const d = await runTool(
      "nostripesnet/data_generator",
      ["--allow-read", `--allow-write=${dir}`],
      [
        "--mode",
        "patch",
        "--root",
        `${dir}/data`,
        "--hdf-root",
        `${SHARED_DATA}/tomo/k11_diad/k11-18014.nxs`,
        "--mask",
        `${dir}/masks.npz`,
        "--patch-size",
        "1801,24",
        "--quiet",
      ],
    );
    assert.equal(d.code, 0, d.stderr);
    const mk = m.data as Uint8Array;
    let real = 0;
    for (let row = 0; row < 22; row++) {
      let any = false;
      for (let a = 600; a < 2401 && !any; a++) {
        for (let c = 1; c < 25; c++) if (mk[(a * 22 + row) * 26 + c]) any = true;
      }
      if (any) real++;
    }
    const count = (p: string) =>
      [...Deno.readDirSync(`${dir}/data/0000/${p}`)].filter((e) => e.name.endsWith(".tif")).length;
    assert.equal(count("real_artifacts/stripe"), real);
    assert.equal(count("fake_artifacts/clean"), 22 - real);
    assert.equal(count("fake_artifacts/stripe"), 22 - real);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
