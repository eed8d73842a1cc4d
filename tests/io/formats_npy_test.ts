/**
 * lib/io/npy and lib/io/npz: files NumPy writes read here identically (every dtype, both byte
 * orders, C and Fortran order, header versions 1–3, stored/deflated/ZIP64 archives), files written
 * here read identically by NumPy, appendNpz keeps other entries byte for byte, and bad input gives
 * one-line errors with no partial output.
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
import { type DType, type NdArray, ndarray } from "../../lib/io/array.ts";
import {
  allocTyped,
  decodeNpy,
  encodeNpy,
  parseNpyHeader,
  readNpy,
  writeNpy,
} from "../../lib/io/npy.ts";
import {
  appendNpz,
  decodeNpz,
  listNpz,
  readNpz,
  readNpzArray,
  writeNpz,
} from "../../lib/io/npz.ts";
import { fileSource, zipEntryChunks, ZipReader } from "../../lib/io/zip.ts";

const PY = hasPython("numpy");

async function manifest(): Promise<[string, Record<string, unknown>]> {
  const dir = await pyFixture("formats_npy");
  return [dir, JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`))];
}

Deno.test({
  name: "npy: every NumPy-written file reads with identical dtype, shape and values",
  ignore: !PY,
  fn: async () => {
    const [dir, m] = await manifest();
    let n = 0;
    for (const [name, exp] of Object.entries(m)) {
      if (!name.endsWith(".npy")) continue;
      await assertArray(await readNpy(`${dir}/${name}`), exp as Expected, name);
      n++;
    }
    assert.ok(n >= 40, `only ${n} npy fixtures`);
    const h = parseNpyHeader(await Deno.readFile(`${dir}/version_3.npy`));
    assert.deepEqual(h.version, [3, 0]);
    assert.equal(parseNpyHeader(await Deno.readFile(`${dir}/f4_be_f.npy`)).fortranOrder, true);
  },
});

Deno.test({
  name: "npz: stored (ZIP64 extras), deflated and >65535-entry archives read identically",
  ignore: !PY,
  fn: async () => {
    const [dir, m] = await manifest();
    for (const name of ["stored.npz", "deflated.npz"]) {
      const arrays = await readNpz(`${dir}/${name}`);
      const exp = m[name] as Record<string, Expected>;
      assert.deepEqual([...arrays.keys()].sort(), Object.keys(exp).sort());
      for (const [k, e] of Object.entries(exp)) {
        await assertArray(arrays.get(k)!, e, `${name}:${k}`);
      }
      const list = await listNpz(`${dir}/${name}`);
      assert.equal(list.find((x) => x.name === "proj")!.dtype, "float32");
      assert.deepEqual(list.find((x) => x.name === "fort")!.shape, [3, 4]);
      assert.equal(list[0].compressed, name === "deflated.npz");
    }
    const zip = new ZipReader(fileSource(`${dir}/many.npz`), "many.npz");
    try {
      assert.equal(zip.zip64, true);
      assert.equal(zip.entries.length, 65540);
    } finally {
      zip.close();
    }
    const many = m["many.npz"] as Record<string, Expected>;
    await assertArray(await readNpzArray(`${dir}/many.npz`, "a65539"), many.a65539, "a65539");
  },
});

function sampleArrays(): Record<string, NdArray> {
  const dtypes: DType[] = [
    "bool",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float32",
    "float64",
  ];
  const out: Record<string, NdArray> = {};
  for (const dt of dtypes) {
    const shape = [2, 3, 4];
    const data = allocTyped(dt, 24);
    for (let i = 0; i < 24; i++) {
      const v = (i * 37 + 11) % 251 - (dt.startsWith("u") || dt === "bool" ? 0 : 120);
      if (data instanceof BigInt64Array) data[i] = BigInt(v) * 10n ** 15n;
      else if (data instanceof BigUint64Array) data[i] = BigInt(v) * 10n ** 16n;
      else if (dt === "bool") (data as Uint8Array)[i] = v & 1;
      else (data as Float64Array)[i] = dt.startsWith("float") ? v / 7 : v;
    }
    out[dt] = ndarray(data, shape, dt);
  }
  return out;
}

Deno.test({
  name: "npy: files written here (C and Fortran order) read identically in NumPy",
  ignore: !PY,
  fn: async () => {
    const dir = tempDir();
    try {
      const arrays = sampleArrays();
      const expected: Record<string, string> = {};
      for (const [dt, a] of Object.entries(arrays)) {
        await writeNpy(`${dir}/${dt}_c.npy`, a);
        await writeNpy(`${dir}/${dt}_f.npy`, a, { fortranOrder: true });
        expected[`${dt}_c.npy`] = expected[`${dt}_f.npy`] = await arrayHash(a);
        // and back here
        assert.equal(await arrayHash(await readNpy(`${dir}/${dt}_f.npy`)), await arrayHash(a));
      }
      const got = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["npy", dir]));
      for (const [f, h] of Object.entries(expected)) {
        const d = got[f];
        assert.equal(d.sha256, h, `${f}: values in NumPy`);
        assert.deepEqual(d.shape, [2, 3, 4], f);
        assert.equal(d.dtype, f.replace(/_[cf]\.npy$/, ""), f);
        assert.equal(d.fortran, f.endsWith("_f.npy"), f);
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "npz: written here (stored, deflated, forced ZIP64) and appended, read identically in NumPy",
  ignore: !PY,
  fn: async () => {
    const dir = tempDir();
    try {
      const arrays = sampleArrays();
      await writeNpz(`${dir}/s.npz`, arrays);
      await writeNpz(`${dir}/d.npz`, arrays, { compress: true });
      await writeNpz(`${dir}/z.npz`, arrays, { forceZip64: true, fortranOrder: true });
      const extra = ndarray(new Float32Array([1.5, -2, 3e30]), [3]);
      await appendNpz(`${dir}/d.npz`, "extra", extra);
      const got = JSON.parse(runPython("tests/fixtures/formats_describe.py", ["npz", dir]));
      for (const f of ["s.npz", "d.npz", "z.npz"]) {
        for (const [k, a] of Object.entries(arrays)) {
          assert.equal(got[f][k].sha256, await arrayHash(a), `${f}:${k}`);
          assert.equal(got[f][k].dtype, k);
        }
      }
      assert.equal(got["d.npz"].extra.sha256, await arrayHash(extra));
      assert.deepEqual(got["d.npz:methods"], [8]);
      assert.deepEqual(got["s.npz:methods"], [0]);
      // In memory, too.
      const back = decodeNpz(await Deno.readFile(`${dir}/z.npz`), "z.npz");
      assert.equal(await arrayHash(back.get("int64")!), await arrayHash(arrays.int64));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("npz: appendNpz copies every other entry's stored bytes and refuses to replace", async () => {
  const dir = tempDir();
  try {
    const p = `${dir}/a.npz`;
    const arrays = sampleArrays();
    await writeNpz(p, arrays, { compress: true });
    const rawOf = (path: string) => {
      const z = new ZipReader(fileSource(path), path);
      try {
        return new Map(z.entries.map((e) => [e.name, { crc: e.crc32, raw: z.raw(e).slice() }]));
      } finally {
        z.close();
      }
    };
    const before = rawOf(p);
    const y = ndarray(new Int16Array([1, 2, 3]), [3]);
    await appendNpz(p, "y", y);
    const after = rawOf(p);
    assert.equal(after.size, before.size + 1);
    for (const [name, v] of before) {
      assert.deepEqual(after.get(name)!.raw, v.raw, `${name} stored bytes changed`);
      assert.equal(after.get(name)!.crc, v.crc);
    }
    // Refuses an existing name; the archive is left as it was.
    const bytes = await Deno.readFile(p);
    await assertLumenError(
      () => appendNpz(p, "y", ndarray(new Int16Array([9]), [1])),
      /a\.npz: y\.npy: entry exists; pass --overwrite$/,
    );
    assert.deepEqual(await Deno.readFile(p), bytes);
    // Overwrite replaces in place, others untouched.
    const y2 = ndarray(new Int16Array([7, 8]), [2]);
    await appendNpz(p, "y", y2, { overwrite: true });
    const all = await readNpz(p);
    assert.deepEqual(Array.from(all.get("y")!.data as Int16Array), [7, 8]);
    assert.deepEqual([...all.keys()], [...Object.keys(arrays), "y"]);
    const again = rawOf(p);
    for (const [name, v] of before) assert.deepEqual(again.get(name)!.raw, v.raw);
    // No temporary files left behind.
    assert.deepEqual(listDir(dir), ["a.npz"]);
    // Appending to a missing file creates it.
    await appendNpz(`${dir}/new.npz`, "x", y);
    assert.deepEqual([...(await readNpz(`${dir}/new.npz`)).keys()], ["x"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("npy: round trip of every dtype and order, header versions", () => {
  for (const [dt, a] of Object.entries(sampleArrays())) {
    for (const fortranOrder of [false, true]) {
      for (const version of [1, 2, 3] as const) {
        const b = decodeNpy(encodeNpy(a, { fortranOrder, version }), dt);
        assert.equal(b.dtype, a.dtype);
        assert.deepEqual(b.shape, a.shape);
        assert.deepEqual(b.data, a.data, `${dt} fortran=${fortranOrder} v${version}`);
      }
    }
  }
  const bytes = encodeNpy(ndarray(new Float64Array([1, 2]), [2]));
  assert.equal(bytes.length, 128 + 16); // header padded to a multiple of 64 bytes, data follows
  assert.equal(
    new TextDecoder().decode(bytes.subarray(10, 128)),
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }".padEnd(117) + "\n",
  );
});

Deno.test("npy: wrong headers give one-line errors with the offset and field", async () => {
  const good = encodeNpy(ndarray(new Float32Array(6), [2, 3]));
  const text = new TextDecoder().decode(good.subarray(0, 128));
  const patch = (from: string, to: string) => {
    const s = text.replace(from, to.padEnd(from.length, " "));
    const b = good.slice();
    b.set(new TextEncoder().encode(s.slice(10)), 10);
    return b;
  };
  await assertLumenError(
    () => decodeNpy(new TextEncoder().encode("PK\x03\x04 hello"), "x.npy"),
    /^x\.npy: byte 0: not an NPY file/,
  );
  const v9 = good.slice();
  v9[6] = 9;
  await assertLumenError(
    () => decodeNpy(v9, "x.npy"),
    /^x\.npy: byte 6: unsupported NPY format version 9\.0$/,
  );
  await assertLumenError(
    () => decodeNpy(patch("'<f4'", "'<c8'"), "x.npy"),
    /^x\.npy: byte 20, field 'descr': dtype '<c8' is not supported$/,
  );
  await assertLumenError(
    () => decodeNpy(patch("'fortran_order': False", "'fortran_order': 7"), "x.npy"),
    /^x\.npy: byte \d+, field 'fortran_order': header dict: unexpected value$/,
  );
  await assertLumenError(
    () => decodeNpy(patch("(2, 3)", "(2, x)"), "x.npy"),
    /field 'shape': header dict: expected a non-negative integer in the shape tuple$/,
  );
  await assertLumenError(
    () => decodeNpy(patch("'shape'", "'shapf'"), "x.npy"),
    /field 'shape': header dict has no 'shape' key$/,
  );
  const long = good.slice();
  new DataView(long.buffer).setUint16(8, 60000, true);
  await assertLumenError(
    () => decodeNpy(long, "x.npy"),
    /^x\.npy: byte 8: header length 60000 runs past the end of the file \(152 bytes\)$/,
  );
  await assertLumenError(
    () => decodeNpy(good.subarray(0, 140), "x.npy"),
    /^x\.npy: byte 128: data truncated: shape \(2, 3\) of <f4 needs 24 bytes, found 12$/,
  );
  await assertLumenError(
    () => readNpy("/nonexistent/x.npy"),
    /^\/nonexistent\/x\.npy: no such file$/,
  );
});

Deno.test("npz: a file that is not a zip, or a truncated archive, is a one-line error", async () => {
  const dir = tempDir();
  try {
    const p = `${dir}/notzip.npz`;
    await Deno.writeTextFile(p, "just some text, not an archive\n".repeat(4));
    await assertLumenError(
      () => readNpz(p),
      /notzip\.npz: not a zip\/npz archive \(no end-of-central-directory record\)$/,
    );
    await assertLumenError(
      () => appendNpz(p, "x", ndarray(new Uint8Array(1), [1])),
      /not a zip\/npz archive/,
    );
    assert.deepEqual(listDir(dir), ["notzip.npz"]); // nothing written beside it
    const good = `${dir}/good.npz`;
    await writeNpz(good, sampleArrays());
    const bytes = await Deno.readFile(good);
    // Flip a data byte: CRC mismatch names the entry.
    const bad = bytes.slice();
    bad[100] ^= 0xff; // inside the first entry's data
    await assertLumenError(
      () => decodeNpz(bad, "bad.npz"),
      /^bad\.npz: entry '[a-z0-9]+\.npy': CRC-32 mismatch/,
    );
    await assertLumenError(
      () => decodeNpz(bytes.subarray(0, 1000), "cut.npz"),
      /^cut\.npz: not a zip\/npz archive/,
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("npz: a deflated entry of zeros streams in pieces near the block size, not at once", async () => {
  const dir = tempDir();
  try {
    const p = `${dir}/zeros.npz`;
    await writeNpz(p, { m: ndarray(new Uint8Array(48 << 20), [48, 1 << 20]) }, { compress: true });
    const z = new ZipReader(fileSource(p), p);
    try {
      const e = z.entries[0];
      assert.ok(e.compressedSize < 1 << 18, `compressed ${e.compressedSize}`);
      const data0 = e.size - (48 << 20); // after the NPY header
      let total = 0, most = 0, ones = 0;
      for await (const piece of zipEntryChunks(z, e, 1 << 20)) {
        for (let i = Math.max(0, data0 - total); i < piece.length; i++) ones += piece[i];
        total += piece.length;
        most = Math.max(most, piece.length);
      }
      assert.equal(total, e.size);
      assert.equal(ones, 0);
      assert.ok(most <= 1032 * 1024 + 65536, `a piece of ${most} bytes for a 1 MiB block`);
    } finally {
      z.close();
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
