import assert from "node:assert/strict";
import { hasPython, runPython } from "../../_helpers.ts";
import {
  buildStacks,
  formatCoords,
  parseCoords,
  readVolume,
  sampleCoords,
} from "../../../lib/pipelines/seamless/mod.ts";
import { readNpy } from "../../../lib/io/npy.ts";

const noPy = !hasPython("numpy", "torch", "h5py");
const OUT = "tests/fixtures/out/seamless";

Deno.test({
  name: "seamless gen_stack: mip pooling equals torch avg_pool2d (npy and h5 input)",
  ignore: noPy,
  async fn() {
    runPython("tests/fixtures/seamless/gen_stack.py");
    const coords = parseCoords(await Deno.readTextFile(`${OUT}/coords.txt`));
    const want = await readNpy(`${OUT}/stacks.npy`);
    for (const src of [`${OUT}/vol.npy`, `${OUT}/vol.h5:/volume`]) {
      const v = await readVolume(src);
      const got = buildStacks(v, coords, 4, 8, 2);
      assert.deepEqual(got.shape, want.shape);
      let err = 0;
      for (let i = 0; i < got.data.length; i++) {
        err = Math.max(err, Math.abs(got.data[i] - (want.data[i] as number)));
      }
      assert.ok(err < 1e-4, `${src}: max error ${err}`);
    }
  },
});

Deno.test("seamless gen_stack: seeded coords stay in range and replay through coords.txt", () => {
  const o = { height: 5, dim: 16, mip: 1, zMin: 1, zMax: 30, seed: 7 };
  const a = sampleCoords(50, [40, 64, 80], o);
  assert.deepEqual(a, sampleCoords(50, [40, 64, 80], o));
  assert.notDeepEqual(a, sampleCoords(50, [40, 64, 80], { ...o, seed: 8 }));
  for (const c of a) {
    assert.ok(c.z >= 1 && c.z < 25 && c.y >= 0 && c.y <= 32 && c.x >= 0 && c.x <= 48);
  }
  assert.deepEqual(parseCoords(formatCoords(a)), a);
  assert.throws(() => parseCoords("1 2\n"), /expected/);
  assert.throws(() => sampleCoords(1, [5, 64, 64], o), /does not fit the z range/);
});

Deno.test({
  name: "seamless gen_stack tool: writes main + coords, replays --coords, refuses to overwrite",
  ignore: noPy,
  async fn() {
    runPython("tests/fixtures/seamless/gen_stack.py");
    const { main } = await import("../../../tools/seamless/gen_stack.ts");
    const dir = await Deno.makeTempDir();
    const base = ["--source", `${OUT}/vol.h5:/volume`, "--stack-height", "4", "--dim", "8"];
    await main([...base, "--count", "3", "--mip", "2", "--z-train", "1,12", "--out-dir", dir, "t"]);
    const coords = await Deno.readTextFile(`${dir}/t_train_mip2coords.txt`);
    assert.equal(parseCoords(coords).length, 3);
    await assert.rejects(
      () =>
        main([...base, "--count", "3", "--mip", "2", "--z-train", "1,12", "--out-dir", dir, "t"]),
      /exists/,
    );
    await main([
      ...base,
      "--count",
      "3",
      "--mip",
      "2",
      "--coords",
      `${OUT}/coords.txt`,
      "--test",
      "--out-dir",
      dir,
      "t",
    ]);
    const py = runPython(
      `-c import h5py,numpy as n;a=h5py.File('${dir}/t_test_mip2.h5')['main'][()];` +
        `b=n.load('${OUT}/stacks.npy');print(a.shape, float(abs(a-b).max())<1e-4)`,
    );
    assert.match(py, /\(3, 4, 8, 8\) True/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("seamless gen_stack tool: a volume smaller than dim at that mip, a stack height above the z range: one line each", async () => {
  const { encodeNpy } = await import("../../../lib/io/npy.ts");
  const { runTool } = await import("../../_helpers.ts");
  const dir = await Deno.makeTempDir();
  const vol = `${dir}/vol.npy`;
  const data = Float32Array.from({ length: 20 * 32 * 32 }, (_, i) => (i % 97) / 97);
  await Deno.writeFile(vol, encodeNpy({ data, shape: [20, 32, 32], dtype: "float32" }));
  const run = (extra: string[]) =>
    runTool("seamless/gen_stack", ["--allow-read", `--allow-write=${dir}`], [
      "--source",
      vol,
      "--count",
      "2",
      "--z-train",
      "1,20",
      "--out-dir",
      dir,
      ...extra,
      "bad",
    ]);
  const wide = await run(["--dim", "32", "--mip", "1", "--stack-height", "4"]);
  assert.equal(wide.code, 2, wide.stderr);
  assert.equal(wide.stderr.trim().split("\n").length, 1, wide.stderr);
  assert.match(
    wide.stderr,
    /--dim.*dim 32 at mip 1 needs 64×64 px, the volume's sections are 32×32/,
  );
  const tall = await run(["--dim", "16", "--mip", "1", "--stack-height", "25"]);
  assert.equal(tall.code, 2, tall.stderr);
  assert.equal(tall.stderr.trim().split("\n").length, 1, tall.stderr);
  assert.match(tall.stderr, /--stack-height.*stack height 25 does not fit the z range \[1, 20\)/);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["vol.npy"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name:
    "seamless gen_stack: the issue's small-volume command lines, verbatim (ranges, --coords replay)",
  ignore: !hasPython("numpy", "tifffile", "h5py"),
  async fn() {
    const { runTool } = await import("../../_helpers.ts");
    const dir = await Deno.makeTempDir();
    try {
      runPython(
        `-c import numpy as np, tifffile; r = np.random.default_rng(0); ` +
          `tifffile.imwrite('${dir}/stack.tif', r.integers(0, 255, (48, 256, 256), dtype=np.uint8))`,
      );
      const perms = ["--allow-env=INIT_CWD", "--allow-read", "--allow-write=."];
      // as `deno task` run in that folder: INIT_CWD names it
      const line = (s: string) =>
        runTool("seamless/gen_stack", perms, s.split(" "), { cwd: dir, env: { INIT_CWD: dir } });
      const a = await line(
        "--count 8 --source stack.tif --stack-height 6 --dim 128 --mip 1 " +
          "--train-range 1,30 --test-range 30,48 small",
      );
      assert.equal(a.code, 0, a.stderr);
      const b = await line("--coords small_train_mip1coords.txt --source stack.tif small_again");
      assert.equal(b.code, 0, b.stderr);
      const py = runPython(
        `-c import h5py, numpy as n; f = lambda s: h5py.File('${dir}/' + s)['main'][()]; ` +
          `a = f('small_train_mip1.h5'); b = f('small_again_train_mip1.h5'); ` +
          `z = n.loadtxt('${dir}/small_train_mip1coords.txt')[:, 0]; ` +
          `print(a.shape, a.dtype, (a == b).all(), bool(((z >= 1) & (z + 6 <= 30)).all()))`,
      );
      assert.match(py, /\(8, 6, 128, 128\) float32 True True/);
      assert.equal(
        await Deno.readTextFile(`${dir}/small_again_train_mip1coords.txt`),
        await Deno.readTextFile(`${dir}/small_train_mip1coords.txt`),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
