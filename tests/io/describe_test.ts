/**
 * lib/io/describe: describe() against what the reference libraries report for the same files
 * (tests/fixtures/inspect_files.py for min/max, tests/fixtures/formats_describe.py for headers),
 * and the streaming readers it stands on: NPY in pieces of any size, NPZ members inflated and
 * CRC-checked as read, NIfTI checks shared with the reader.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture, runPython } from "../_helpers.ts";
import {
  type ArrayInfo,
  describe,
  detectFormat,
  formatDescription,
  MinMax,
  prettyJson,
} from "../../lib/io/describe/mod.ts";
import { describeNpyStream } from "../../lib/io/describe/npy.ts";
import { ndarray } from "../../lib/io/array.ts";
import { decodeNpy, encodeNpy, streamNpy } from "../../lib/io/npy.ts";
import { encodeNpz } from "../../lib/io/npz.ts";
import { encodeNifti } from "../../lib/io/nifti.ts";
import { gzip } from "../../lib/io/zip.ts";
import { LumenError } from "../../lib/run/errors.ts";

const havePy = hasPython("numpy", "h5py", "tifffile", "nibabel", "PIL");

/** `bytes` in pieces of `n` bytes. */
function* pieces(bytes: Uint8Array, n: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += n) yield bytes.subarray(i, i + n);
}

/** Asserts `fn` rejects with a one-line LumenError matching `re`. */
async function rejectsOneLine(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof LumenError, String(e));
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), e.message);
    return true;
  });
}

Deno.test({
  name: "describe: NPY and NPZ arrays as NumPy loads them (shape, dtype, order, min, max)",
  ignore: !havePy,
  async fn() {
    const dir = await pyFixture("inspect_files");
    const expected = JSON.parse(await Deno.readTextFile(`${dir}/expected.json`));
    const npy = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["npy", dir]));
    for (const [file, np] of Object.entries(npy) as [string, Record<string, unknown>][]) {
      const d = await describe(`${dir}/${file}`);
      const [a] = d.arrays;
      assert.equal(d.format, "npy", file);
      assert.deepEqual([a.shape, a.dtype], [np.shape, np.dtype], file);
      assert.equal(a.order, np.fortran ? "F" : "C", file);
      const e = expected[file].arrays[0];
      assert.deepEqual([a.min, a.max, a.nan], [e.min, e.max, e.nan], file);
    }
    const npz = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["npz", dir]));
    for (const file of ["stored.npz", "deflated.npz"]) {
      const d = await describe(`${dir}/${file}`);
      assert.equal(d.format, "npz");
      const byName = new Map(d.arrays.map((a) => [a.name, a]));
      assert.deepEqual([...byName.keys()].sort(), Object.keys(npz[file]).sort(), file);
      for (const [name, np] of Object.entries(npz[file]) as [string, Record<string, unknown>][]) {
        const a = byName.get(name)!;
        assert.deepEqual([a.shape, a.dtype], [np.shape, np.dtype], `${file}: ${name}`);
        assert.equal(a.compressed, (npz[`${file}:methods`] as number[]).includes(8));
        const e = expected[file].arrays.find((x: ArrayInfo) => x.name === name);
        assert.deepEqual([a.min, a.max], [e.min, e.max], `${file}: ${name}`);
      }
    }
  },
});

Deno.test({
  name: "describe: NIfTI header and affine as nibabel reads them; TIFF pages as tifffile does",
  ignore: !havePy,
  async fn() {
    const dir = await pyFixture("inspect_files");
    const nib = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["nifti", dir]));
    for (const [file, ref] of Object.entries(nib) as [string, Record<string, unknown>][]) {
      const d = await describe(`${dir}/${file}`);
      const h = d.header as Record<string, unknown>, rh = ref.header as Record<string, unknown>;
      for (const k of ["dim", "pixdim", "datatype", "bitpix", "vox_offset", "sform_code"]) {
        assert.deepEqual(h[k], rh[k], `${file}: ${k}`);
      }
      assert.deepEqual(d.affine, ref.affine, file);
      assert.equal(d.compressed, ref.gz, file);
      assert.equal(d.byteOrder, ref.endianness === "<" ? "little" : "big", file);
      assert.deepEqual(d.arrays[0].shape, (ref.data as { shape: number[] }).shape, file);
    }
    const tif = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["tiff", dir]));
    for (const [file, ref] of Object.entries(tif) as [string, Record<string, unknown>][]) {
      const d = await describe(`${dir}/${file}`);
      const pages = d.pages as { compression: string }[];
      assert.equal(pages.length, ref.pages, file);
      assert.equal(d.byteOrder, ref.byteorder === "<" ? "little" : "big", file);
      assert.equal(d.bigTiff, ref.is_bigtiff, file);
      assert.equal(pages[0].compression, ref.compression === 8 ? "deflate" : "none", file);
      assert.deepEqual(d.arrays[0].shape, ref.series_shape, file);
    }
  },
});

Deno.test("describe: NPY streamed in pieces of any size gives the whole array's statistics", async () => {
  const data = new Float64Array(1000).map((_, i) => Math.sin(i) * 100);
  data[500] = NaN;
  const bytes = encodeNpy(ndarray(data, [10, 100]), { fortranOrder: true });
  const whole = new MinMax();
  whole.add(decodeNpy(bytes).data);
  for (const n of [1, 7, 8, 64, 4096, bytes.length]) {
    const a = await describeNpyStream(pieces(bytes, n), "a.npy", "a", {});
    assert.deepEqual({ min: a.min, max: a.max, nan: a.nan }, whole.result(), `pieces of ${n}`);
    assert.deepEqual([a.shape, a.order, a.descr], [[10, 100], "F", "<f8"]);
  }
  let seen = 0;
  const h = await streamNpy(pieces(bytes, 13), "a.npy", (b) => seen += b.length);
  assert.equal(seen, 8000);
  assert.equal(h.dataOffset + seen, bytes.length);
  // a short stream is the reader's one-line error, as decodeNpy gives it
  const cut = bytes.subarray(0, bytes.length - 3);
  const want = (() => {
    try {
      decodeNpy(cut, "a.npy");
    } catch (e) {
      return (e as Error).message;
    }
  })();
  await rejectsOneLine(() => streamNpy(pieces(cut, 100), "a.npy"), /data truncated/);
  await assert.rejects(() => streamNpy(pieces(cut, 100), "a.npy"), { message: want });
  await rejectsOneLine(() => streamNpy([new Uint8Array(5000)], "z.npy"), /not an NPY file/);
});

Deno.test("describe: NPZ members are CRC-checked and held to the directory's size", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const x = ndarray(new Int32Array([5, -3, 9, 1]), [2, 2]);
    for (const compress of [false, true]) {
      const good = encodeNpz({ x }, { compress });
      await Deno.writeFile(`${dir}/a.npz`, good);
      const d = await describe(`${dir}/a.npz`);
      assert.deepEqual([d.arrays[0].min, d.arrays[0].max, d.arrays[0].compressed], [
        -3,
        9,
        compress,
      ]);
      // the CRC-32 field of the central directory entry: a member read is now checked
      const bad = good.slice();
      const cd = bad.length - 22 - 46 - "x.npy".length;
      bad[cd + 16] ^= 0xff;
      await Deno.writeFile(`${dir}/bad.npz`, bad);
      await rejectsOneLine(() => describe(`${dir}/bad.npz`), /x\.npy'?: CRC-32 mismatch/);
      // a directory that understates the size: refused, not trusted
      const short = good.slice();
      new DataView(short.buffer).setUint32(cd + 24, 40, true);
      await Deno.writeFile(`${dir}/short.npz`, short);
      await rejectsOneLine(() => describe(`${dir}/short.npz`), /directory says/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("describe: a .nii.gz whose header is wrong is the reader's error, not 'gzip'", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const vol = ndarray(new Int16Array([1, -4, 7, 2, 0, 3]), [1, 2, 3]);
    const nii = encodeNifti(vol);
    await Deno.writeFile(`${dir}/v.nii.gz`, gzip(nii));
    const d = await describe(`${dir}/v.nii.gz`);
    assert.deepEqual([d.format, d.compressed, d.arrays[0].min, d.arrays[0].max], [
      "nifti",
      true,
      -4,
      7,
    ]);
    const bad = nii.slice();
    bad.fill(0, 0, 4); // sizeof_hdr 0
    await Deno.writeFile(`${dir}/bad.nii.gz`, gzip(bad));
    assert.equal(await detectFormat(`${dir}/bad.nii.gz`), "nifti");
    await rejectsOneLine(() => describe(`${dir}/bad.nii.gz`), /sizeof_hdr.*expected 348/);
    const ni1 = nii.slice();
    ni1.set([0x6e, 0x69, 0x31, 0], 344); // "ni1": a header/image pair
    await Deno.writeFile(`${dir}/pair.nii`, ni1);
    await rejectsOneLine(() => describe(`${dir}/pair.nii`), /\.hdr\/\.img.*not supported/);
    await Deno.writeFile(`${dir}/cut.nii`, nii.subarray(0, nii.length - 2));
    await rejectsOneLine(() => describe(`${dir}/cut.nii`), /data truncated/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("describe: formatDescription prints text, or the JSON document of the description", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.npy`;
    await Deno.writeFile(path, encodeNpy(ndarray(new Float32Array([0, 1.5, -2]), [3])));
    const d = await describe(path);
    assert.equal(
      formatDescription(d),
      `${path}: npy, 140 B\n  a.npy  float32 (3)  min -2 max 1.5  order C  descr <f4\n`,
    );
    const js = formatDescription(d, { json: true });
    assert.equal(js, prettyJson(d) + "\n");
    assert.deepEqual(JSON.parse(js), JSON.parse(JSON.stringify(d)));
    assert.deepEqual((await describe(path, { stats: false })).arrays[0].min, null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
