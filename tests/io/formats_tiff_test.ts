/**
 * lib/io/tiff: files tifffile and PIL/libtiff write (every dtype, strips and tiles, stacks,
 * ImageJ, BigTIFF, big-endian, RGB, deflate/LZW/PackBits, predictors) read here identically;
 * files written here read identically in tifffile (values, dtype, shape) and PIL; corrupt files
 * give one-line errors.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture, runPython } from "../_helpers.ts";
import {
  arrayHash,
  assertArray,
  assertLumenError,
  type Expected,
  listDir,
  tempDir,
} from "./formats_helpers.ts";
import { type DType, type NdArray } from "../../lib/io/array.ts";
import { allocTyped } from "../../lib/io/npy.ts";
import {
  decodeTiff,
  decodeTiffPages,
  encodeTiff,
  parseTiff,
  readTiff,
  readTiffPages,
  writeTiff,
} from "../../lib/io/tiff.ts";

const PY = hasPython("numpy", "tifffile", "PIL");

function sample(dtype: DType, shape: number[]): NdArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = allocTyped(dtype, n) as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) {
    const v = (i * 7919 + 13) % 65521;
    if (dtype.endsWith("64") && !dtype.startsWith("float")) d[i] = BigInt(v) * 1000003n;
    else if (dtype.startsWith("float")) d[i] = (v - 30000) / 7.25;
    else d[i] = v; // wraps for narrow types
  }
  return { dtype, shape, data: d as unknown as NdArray["data"] };
}

Deno.test({
  name: "tiff: files written by tifffile and PIL/libtiff read identically",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("formats_tiff");
    const m: Record<string, Expected> = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    for (const [name, exp] of Object.entries(m)) {
      await assertArray(await readTiff(`${dir}/${name}`), exp, name);
    }
    assert.ok(Object.keys(m).length >= 35);
    const { info, pages } = await readTiffPages(`${dir}/stack_bigtiff.tif`);
    assert.equal(info.bigTiff, true);
    assert.equal(pages.length, 5);
    assert.equal(
      parseTiff(await Deno.readFile(`${dir}/stack_be_float32.tif`)).info.littleEndian,
      false,
    );
    const tiled = parseTiff(await Deno.readFile(`${dir}/tiled_float32.tif`)).info.pages[0];
    assert.deepEqual(tiled.tile, [16, 32]);
  },
});

const DTYPES: DType[] = [
  "uint8",
  "uint16",
  "float32",
  "int16",
  "int32",
  "uint32",
  "float64",
  "int8",
];

Deno.test({
  name: "tiff: files written here open in tifffile and PIL with the same values, dtype, shape",
  ignore: !PY,
  fn: async () => {
    const dir = tempDir();
    try {
      const expected: Record<string, { hash: string; shape: number[]; dtype: DType }> = {};
      const put = async (name: string, a: NdArray, opts = {}) => {
        await writeTiff(`${dir}/${name}`, a, opts);
        expected[name] = { hash: await arrayHash(a), shape: a.shape, dtype: a.dtype };
      };
      for (const dt of DTYPES) {
        await put(`single_${dt}.tif`, sample(dt, [31, 45]));
        await put(`stack_${dt}.tif`, sample(dt, [4, 31, 45]));
        await put(`deflate_${dt}.tif`, sample(dt, [3, 300, 257]), { compression: "deflate" });
      }
      for (const dt of ["uint8", "uint16", "float32"] as DType[]) {
        await put(`imagej_${dt}.tif`, sample(dt, [5, 20, 25]), { imagej: true });
      }
      await put("bigtiff.tif", sample("uint16", [2, 10, 12]), { bigTiff: true });
      await put("one_page_3d.tif", sample("float32", [1, 10, 12]));
      const got = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["tiff", dir]));
      for (const [name, e] of Object.entries(expected)) {
        const g = got[name];
        assert.ok(g, `${name} not read by tifffile`);
        assert.equal(g.dtype, e.dtype, `${name}: tifffile dtype`);
        assert.deepEqual(g.shape, e.shape, `${name}: tifffile shape`);
        assert.equal(g.sha256, e.hash, `${name}: tifffile values`);
        assert.equal(g.byteorder, "<", name);
        assert.equal(g.photometric, 1, name);
        assert.equal(
          g.sampleformat,
          e.dtype.startsWith("float") ? 3 : e.dtype.startsWith("int") ? 2 : 1,
        );
        assert.equal(g.compression, name.startsWith("deflate") ? 8 : 1, name);
        assert.equal(g.pages, e.shape.length === 2 ? 1 : e.shape[0], name);
        if (name.startsWith("imagej")) {
          assert.equal(g.is_imagej, true, name);
          assert.equal(g.imagej.images, 5);
        } else assert.equal(g.is_shaped, true, name);
        if (["uint8", "uint16", "float32"].includes(e.dtype)) {
          // PIL (libtiff for deflate) reads every page with the same values.
          assert.equal(g.pil?.sha256, e.hash, `${name}: PIL values (${g.pil_error ?? g.pil_mode})`);
          assert.equal(g.pil_mode, { uint8: "L", uint16: "I;16", float32: "F" }[e.dtype as string]);
        }
      }
      assert.equal(got["bigtiff.tif"].is_bigtiff, true);
      // Files written here also read back here.
      for (const [name, e] of Object.entries(expected)) {
        const a = await readTiff(`${dir}/${name}`);
        assert.equal(await arrayHash(a), e.hash, name);
        assert.deepEqual(a.shape, e.shape, name);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("tiff: in-memory round trips: dtypes, pages, deflate, BigTIFF, ragged page lists", async () => {
  for (const dt of [...DTYPES, "int64", "uint64"] as DType[]) {
    for (const opts of [{}, { compression: "deflate" as const }, { bigTiff: true }]) {
      const a = sample(dt, [3, 17, 23]);
      const b = decodeTiff(encodeTiff(a, opts), "mem.tif");
      assert.equal(b.dtype, dt);
      assert.deepEqual(b.shape, a.shape);
      assert.equal(await arrayHash(b), await arrayHash(a), `${dt} ${JSON.stringify(opts)}`);
    }
  }
  const pages = [sample("uint16", [5, 7]), sample("float32", [9, 4])];
  const back = decodeTiffPages(encodeTiff(pages), "ragged.tif");
  assert.deepEqual(back.map((p) => [p.dtype, p.shape]), [["uint16", [5, 7]], ["float32", [9, 4]]]);
  assert.equal(await arrayHash(back[1]), await arrayHash(pages[1]));
  // ImageJ files whose images outnumber their IFDs (ImageJ's >4 GiB layout): contiguous data.
  const ij = encodeTiff(sample("float32", [4, 6, 5]), { imagej: true });
  const dv = new DataView(ij.buffer);
  const n0 = dv.getUint16(8, true);
  dv.setUint32(8 + 2 + n0 * 12, 0, true); // cut the IFD chain after page 0
  assert.equal(parseTiff(ij).pageCount, 1);
  const ijBack = decodeTiff(ij, "ij.tif");
  assert.deepEqual(ijBack.shape, [4, 6, 5]);
  assert.equal(await arrayHash(ijBack), await arrayHash(sample("float32", [4, 6, 5])));
  // Pages that differ from page 0 are not part of the first series (as in tifffile).
  const mixed = decodeTiff(
    encodeTiff([sample("uint8", [3, 3]), sample("uint16", [2, 2])], { description: "" }),
  );
  assert.deepEqual([mixed.dtype, mixed.shape], ["uint8", [3, 3]]);
  // A 4-D array keeps its shape through the tifffile JSON description.
  const four = sample("uint8", [2, 3, 4, 5]);
  assert.deepEqual(decodeTiff(encodeTiff(four)).shape, [2, 3, 4, 5]);
});

Deno.test("tiff: writeTiff is atomic and refuses to overwrite", async () => {
  const dir = tempDir();
  try {
    const p = `${dir}/a.tif`;
    await writeTiff(p, sample("uint8", [4, 4]));
    const before = await Deno.readFile(p);
    await assertLumenError(
      () => writeTiff(p, sample("uint8", [8, 8])),
      /a\.tif: exists; pass --overwrite$/,
    );
    assert.deepEqual(await Deno.readFile(p), before);
    await writeTiff(p, sample("uint8", [8, 8]), { overwrite: true });
    assert.deepEqual((await readTiff(p)).shape, [8, 8]);
    assert.deepEqual(listDir(dir), ["a.tif"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("tiff: corrupt files give one-line errors naming the place", async () => {
  const good = encodeTiff(sample("uint16", [2, 30, 40]));
  const dv = new DataView(good.buffer);
  await assertLumenError(
    () => decodeTiff(new TextEncoder().encode("GIF89a not a tiff"), "x.tif"),
    /^x\.tif: byte 0: not a TIFF file \(byte order mark is not II or MM\)$/,
  );
  await assertLumenError(
    () => decodeTiff(good.subarray(0, 5), "x.tif"),
    /^x\.tif: byte 0: not a TIFF file \(5 bytes\)$/,
  );
  const v = good.slice();
  new DataView(v.buffer).setUint16(2, 41, true);
  await assertLumenError(
    () => decodeTiff(v, "x.tif"),
    /^x\.tif: byte 2: not a TIFF file \(version 41, expected 42\)$/,
  );
  // First IFD offset past the end.
  const far = good.slice();
  new DataView(far.buffer).setUint32(4, 10_000_000, true);
  await assertLumenError(
    () => decodeTiff(far, "x.tif"),
    /^x\.tif: header \(byte 4\): IFD offset 10000000 is past the end of the file \(\d+ bytes\)$/,
  );
  // Truncated: the pixel data of page 1 is cut off.
  const cut = good.subarray(0, good.length - 2500);
  await assertLumenError(
    () => decodeTiff(cut, "cut.tif"),
    /^cut\.tif: (IFD 0 at byte 8|header \(byte 4\)|page \d strip 0): /,
  );
  const cutData = encodeTiff(sample("uint16", [30, 40])).subarray(0, 1000);
  await assertLumenError(
    () => decodeTiff(cutData, "cut.tif"),
    /^cut\.tif: page 0 strip 0: offset \d+ \+ 2400 bytes runs past the end of the file \(1000 bytes\)$/,
  );
  // IFD chain that loops: point page 0's next-IFD field at itself.
  const loop = good.slice();
  const n = dv.getUint16(8, true);
  const nextField = 8 + 2 + n * 12;
  const ifd1 = dv.getUint32(nextField, true);
  const n1 = dv.getUint16(ifd1, true);
  new DataView(loop.buffer).setUint32(ifd1 + 2 + n1 * 12, 8, true);
  await assertLumenError(
    () => decodeTiff(loop, "loop.tif"),
    /^loop\.tif: IFD 2 at byte 8: IFD chain loops back on itself$/,
  );
  // Corrupt deflate data.
  const z = encodeTiff(sample("float32", [30, 40]), { compression: "deflate" });
  const zinfo = parseTiff(z).info.pages[0];
  assert.equal(zinfo.compression, 8);
  const bad = z.slice();
  // The first strip starts at the data offset (16-byte aligned after IFD 0): wreck its zlib header.
  const stripOff = findStripOffset(z);
  bad[stripOff] = 0x00;
  bad[stripOff + 1] = 0x00;
  await assertLumenError(
    () => decodeTiff(bad, "z.tif"),
    /^z\.tif: page 0 strip 0: invalid deflate data \(.+\)$/,
  );
  // Missing required tag, unsupported compression.
  const noWidth = good.slice();
  patchTag(noWidth, 256, 999); // renumber ImageWidth to an unknown tag
  await assertLumenError(
    () => decodeTiff(noWidth, "w.tif"),
    /^w\.tif: page 0: required tag 256 is missing$/,
  );
  const jpeg = good.slice();
  patchValue(jpeg, 259, 7);
  await assertLumenError(
    () => decodeTiff(jpeg, "j.tif"),
    /^j\.tif: page 0: compression 7 is not supported \(none, LZW, deflate, PackBits\)$/,
  );
  await assertLumenError(() => readTiff("/nonexistent.tif"), /^\/nonexistent\.tif: no such file$/);
});

/** Offset of page 0's first strip (tag 273) in a little-endian classic TIFF. */
function findStripOffset(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset);
  const ifd = dv.getUint32(4, true);
  const n = dv.getUint16(ifd, true);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (dv.getUint16(e, true) === 273) {
      const count = dv.getUint32(e + 4, true);
      return count === 1
        ? dv.getUint32(e + 8, true)
        : dv.getUint32(dv.getUint32(e + 8, true), true);
    }
  }
  throw new Error("no tag 273");
}

function patchTag(b: Uint8Array, tag: number, newTag: number) {
  const dv = new DataView(b.buffer, b.byteOffset);
  const ifd = dv.getUint32(4, true);
  const n = dv.getUint16(ifd, true);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (dv.getUint16(e, true) === tag) dv.setUint16(e, newTag, true);
  }
}

function patchValue(b: Uint8Array, tag: number, value: number) {
  const dv = new DataView(b.buffer, b.byteOffset);
  const ifd = dv.getUint32(4, true);
  const n = dv.getUint16(ifd, true);
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (dv.getUint16(e, true) === tag) dv.setUint16(e + 8, value, true);
  }
}
