/**
 * tools/inspect.ts on files written by the reference libraries (h5py, tifffile, NumPy, nibabel,
 * PIL, Python's tarfile): format, and per array shape, dtype, min and max as NumPy computes them;
 * broken files give one error line and a non-zero exit.
 */
import assert from "node:assert/strict";
import { hasPython, hasSharedData, pyFixture, ROOT, runTool, SHARED_DATA } from "../_helpers.ts";
import {
  type ArrayInfo,
  detectFormat,
  forEachBlock,
  inspectFile,
  MinMax,
} from "../../tools/inspect.ts";

const PERMS = ["--allow-read"];
const havePy = hasPython("numpy", "h5py", "tifffile", "nibabel", "PIL");

interface Expected {
  format: string;
  arrays: {
    name: string;
    shape: number[];
    dtype: string;
    min: unknown;
    max: unknown;
    nan?: number;
    /** The data cannot be read here (its min/max are null). */
    error?: boolean;
  }[];
  tolerance?: number;
  members?: Record<string, unknown>[];
  rows?: number;
  columns?: Record<string, unknown>[];
  affine?: number[][];
  scaledMin?: number;
  scaledMax?: number;
}

Deno.test({
  name: "inspect: every format written by the reference libraries",
  ignore: !havePy,
  async fn() {
    const dir = await pyFixture("inspect_files");
    const expected: Record<string, Expected> = JSON.parse(
      await Deno.readTextFile(`${dir}/expected.json`),
    );
    for (const [file, exp] of Object.entries(expected)) {
      const r = await inspectFile(`${dir}/${file}`);
      assert.equal(r.format, exp.format, file);
      const got = new Map(r.arrays.map((a) => [a.name, a]));
      assert.deepEqual([...got.keys()].sort(), exp.arrays.map((a) => a.name).sort(), file);
      for (const e of exp.arrays) {
        const a = got.get(e.name) as ArrayInfo;
        const where = `${file}: ${e.name}`;
        assert.deepEqual(a.shape, e.shape, where);
        assert.equal(a.dtype, e.dtype, where);
        if (exp.tolerance) {
          assert.ok(Math.abs((a.min as number) - (e.min as number)) <= exp.tolerance, where);
          assert.ok(Math.abs((a.max as number) - (e.max as number)) <= exp.tolerance, where);
        } else {
          assert.equal(a.min, e.min, `${where} min`);
          assert.equal(a.max, e.max, `${where} max`);
        }
        assert.equal(a.nan, e.nan, `${where} nan`);
        assert.equal(typeof a.error === "string", e.error === true, `${where} error`);
      }
      if (exp.members) {
        const members = r.members as Record<string, unknown>[];
        assert.equal(members.length, exp.members.length, file);
        exp.members.forEach((m, i) => {
          for (const [k, v] of Object.entries(m)) assert.equal(members[i][k], v, `${file} ${k}`);
        });
      }
      if (exp.rows !== undefined) {
        assert.equal(r.rows, exp.rows);
        assert.deepEqual(r.columns, exp.columns);
      }
      if (exp.affine) assert.deepEqual(r.affine, exp.affine, file);
      if (exp.scaledMin !== undefined) {
        assert.equal(r.arrays[0].scaledMin, exp.scaledMin);
        assert.equal(r.arrays[0].scaledMax, exp.scaledMax);
      }
    }
  },
});

Deno.test({
  name: "inspect: the HDF5 tree shows chunks, filters, links and attributes",
  ignore: !havePy,
  async fn() {
    const dir = await pyFixture("inspect_files");
    const r = await inspectFile(`${dir}/tree.h5`);
    const tree = new Map((r.tree as Record<string, unknown>[]).map((n) => [n.path, n]));
    assert.deepEqual(r.attrs, { title: "inspect fixture" });
    const big = tree.get("/entry/big")!;
    assert.deepEqual(big.chunks, [1, 300, 400]);
    assert.deepEqual(big.filters, ["gzip(1)"]);
    assert.deepEqual(big.attrs, { units: "counts" });
    assert.deepEqual((tree.get("/entry/shuffled")!.filters as string[]).length, 2);
    assert.equal(tree.get("/entry")!.kind, "group");
    assert.deepEqual(tree.get("/entry")!.attrs, { NX_class: "NXentry" });
    assert.deepEqual(tree.get("/entry/alias"), {
      path: "/entry/alias",
      kind: "softlink",
      target: "/entry/with_nan",
      resolvesTo: "dataset",
    });
    assert.equal(tree.get("/entry/dangling")!.broken, true);
    assert.equal(tree.get("/entry/frames")!.kind, "externallink");
    assert.equal(tree.get("/entry/frames")!.targetFile, "ext.h5");
    assert.equal(tree.get("/entry/name")!.value, "hello");
    assert.equal(tree.get("/entry/scalar")!.value, 3.25);
  },
});

Deno.test({
  name: "inspect --json prints one JSON document; text mode names the arrays",
  ignore: !havePy,
  async fn() {
    const dir = await pyFixture("inspect_files");
    for (const file of ["tree.h5", "stack.tif", "deflated.npz", "seg.nii.gz", "bundle.tar.gz"]) {
      const js = await runTool("inspect", PERMS, [`${dir}/${file}`, "--json"]);
      assert.equal(js.code, 0, js.stderr);
      assert.equal(js.stderr, "");
      const doc = JSON.parse(js.stdout);
      assert.deepEqual(doc, JSON.parse(JSON.stringify(await inspectFile(`${dir}/${file}`))));
      const text = await runTool("inspect", PERMS, [`${dir}/${file}`]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^${dir}/${file}: ${doc.format}, `));
      for (const a of doc.arrays) {
        assert.ok(text.stdout.includes(`${a.dtype} (${a.shape.join(", ")})`), `${file}: ${a.name}`);
      }
    }
    const nostats = await runTool("inspect", PERMS, [`${dir}/tree.h5`, "--json", "--no-stats"]);
    assert.equal(JSON.parse(nostats.stdout).arrays[0].min, null);
  },
});

Deno.test({
  name: "inspect: broken files give one error line naming the file, exit 1",
  ignore: !havePy,
  async fn() {
    const dir = await pyFixture("inspect_files");
    const why: Record<string, RegExp> = {
      "broken.json": /line 1:9/,
      "corrupt.tif": /IFD offset|past the end/,
      "empty.bin": /unknown format .*empty/,
      "header.npy": /byte \d+/,
      "invalid.nii.gz": /gzip/,
      "not_hdf5.h5": /not an HDF5 file/,
      "random.bin": /unknown format \(first bytes: 07 01 c8/,
      "sizeof_hdr.nii": /sizeof_hdr.*348/,
      "truncated.h5": /./,
      "truncated.npy": /truncated/,
      "truncated.npz": /not a zip/,
      "truncated.tar.gz": /gzip|truncated|end/,
    };
    const files = [...Deno.readDirSync(`${dir}/bad`)].map((e) => e.name).sort();
    assert.deepEqual(files, Object.keys(why).sort());
    for (const name of files) {
      const path = `${dir}/bad/${name}`;
      const r = await runTool("inspect", PERMS, [path]);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, "", name);
      const lines = r.stderr.split("\n");
      assert.equal(lines.length, 2, `${name}: ${r.stderr}`);
      assert.equal(lines[1], "");
      assert.ok(lines[0].startsWith(`inspect: error: ${path}: `), lines[0]);
      assert.match(lines[0], why[name], name);
    }
    const missing = await runTool("inspect", PERMS, [`${dir}/nope.h5`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `inspect: error: ${dir}/nope.h5: no such file\n`);
    const noArg = await runTool("inspect", PERMS, []);
    assert.equal(noArg.code, 2);
    assert.equal(noArg.stderr, "inspect: error: FILE: missing argument; see --help\n");
  },
});

Deno.test({
  name: "inspect: the real scans of ../shared/data",
  ignore: !hasSharedData(),
  async fn() {
    const tooth = await inspectFile(`${SHARED_DATA}/tomo/tooth.h5`);
    const data = tooth.arrays.find((a) => a.name === "/exchange/data")!;
    assert.deepEqual(data.shape, [181, 2, 640]);
    assert.equal(data.dtype, "float32");
    assert.equal(typeof data.min, "number");
    // DIAD: the projections sit behind an external link
    const diad = await inspectFile(`${SHARED_DATA}/tomo/k11_diad/k11-18014.nxs`);
    const frames = diad.arrays.find((a) => a.name === "/entry/imaging/data")!;
    assert.deepEqual(frames.shape, [3201, 22, 26]);
    assert.equal(frames.dtype, "uint16");
    const key = diad.arrays.find((a) => a.name === "/entry/instrument/imaging/image_key")!;
    assert.deepEqual([key.min, key.max], [0, 2]);
    assert.equal(await detectFormat(`${SHARED_DATA}/tomo/sino_stripes_crop3D.npy`), "npy");
  },
});

Deno.test("inspect: blocks cover every element once, whole chunks where they fit", () => {
  for (
    const [shape, chunks, limit] of [
      [[10, 7, 3], [4, 7, 3], 50],
      [[5, 1000], null, 64],
      [[3, 4, 5], [1, 4, 5], 1000],
      [[], null, 10],
      [[0, 4], null, 10],
      [[2, 3, 400], [1, 3, 100], 100],
    ] as [number[], number[] | null, number][]
  ) {
    const seen = new Uint8Array(Math.max(1, shape.reduce((a, b) => a * b, 1)));
    forEachBlock(shape, chunks, limit, (off, cnt) => {
      const n = cnt.reduce((a, b) => a * b, 1);
      assert.ok(n <= Math.max(limit, shape[shape.length - 1] ?? 1), `${shape}: block ${cnt}`);
      // mark the elements
      const idx = (i: number[]) => i.reduce((a, v, k) => a * shape[k] + v, 0);
      const walk = (k: number, at: number[]) => {
        if (k === shape.length) return void seen[shape.length ? idx(at) : 0]++;
        for (let i = off[k]; i < off[k] + cnt[k]; i++) walk(k + 1, [...at, i]);
      };
      walk(0, []);
      if (chunks && cnt[0] >= chunks[0] && off[0] + cnt[0] < shape[0]) {
        assert.equal(cnt[0] % chunks[0], 0, `${shape}: ${cnt} not whole chunks`);
      }
    });
    if (shape.reduce((a, b) => a * b, 1) > 0) assert.ok(seen.every((v) => v === 1), `${shape}`);
  }
});

Deno.test("inspect: MinMax ignores NaN, handles 64-bit integers and empty input", () => {
  const m = new MinMax();
  m.add(new Float32Array([NaN, NaN]));
  assert.deepEqual(m.result(), { min: null, max: null, nan: 2 });
  m.add(new Float32Array([3, NaN, -Infinity]));
  assert.deepEqual(m.result(), { min: "-Infinity", max: 3, nan: 3 });
  const b = new MinMax();
  b.add(new BigInt64Array([5n, -(2n ** 62n)]));
  b.add(new BigInt64Array([7n]));
  assert.deepEqual(b.result(), { min: (-(2n ** 62n)).toString(), max: 7 });
  const e = new MinMax();
  e.add(new Uint8Array(0));
  assert.deepEqual(e.result(), { min: null, max: null });
});

Deno.test("inspect --help names its permissions", async () => {
  const r = await runTool("inspect", [], ["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Permissions: --allow-read\n/);
  assert.ok(ROOT);
});
