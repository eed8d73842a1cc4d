/**
 * lib/io/hdf5.ts against h5py: fixtures h5py writes are read here identically (values, dtype,
 * shape, chunks, compression, attributes, links); files written here are read by h5py
 * identically; bad input gives one-line LumenErrors naming the file.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { hasPython, hasSharedData, pyFixture, ROOT, runPython, SHARED_DATA } from "../_helpers.ts";
import { type AttrValue, H5File, type H5LinkInfo } from "../../lib/io/hdf5.ts";
import { type DType, type NdArray, ndarray } from "../../lib/io/array.ts";
import { LumenError } from "../../lib/run/errors.ts";

const PY = hasPython("h5py", "numpy");

// deno-lint-ignore no-explicit-any
type Json = any;

function b64bytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesOf(a: NdArray): Uint8Array {
  return new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string) {
  assert.equal(actual.length, expected.length, `${what}: byte length`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: bytes differ at ${i}`);
  }
}

/** Compares an attribute read here with hdf5_dump.py's description of it. */
function assertAttr(v: AttrValue | undefined, exp: Json, what: string) {
  if ("str" in exp) return assert.equal(v, exp.str, what);
  if ("strs" in exp) return assert.deepEqual(v, exp.strs, what);
  if (exp.dtype === "bool" && exp.shape.length === 0) {
    return assert.equal(v, b64bytes(exp.b64)[0] === 1, what);
  }
  if (exp.shape.length === 0) {
    assert.ok(typeof v === "number" || typeof v === "bigint", `${what}: scalar`);
    const buf = new ArrayBuffer(8);
    const dv = new DataView(buf);
    const raw = b64bytes(exp.b64);
    raw.forEach((b, i) => dv.setUint8(i, b));
    const dt: string = exp.dtype;
    const expected = dt === "float64"
      ? dv.getFloat64(0, true)
      : dt === "float32"
      ? dv.getFloat32(0, true)
      : dt === "int64"
      ? Number(dv.getBigInt64(0, true))
      : dt === "uint64"
      ? Number(dv.getBigUint64(0, true))
      : dt === "int32"
      ? dv.getInt32(0, true)
      : dt === "uint32"
      ? dv.getUint32(0, true)
      : dt === "int16"
      ? dv.getInt16(0, true)
      : dt === "uint16"
      ? dv.getUint16(0, true)
      : dt === "int8"
      ? dv.getInt8(0)
      : dv.getUint8(0);
    return assert.equal(Number(v), expected, what);
  }
  const a = v as NdArray;
  assert.ok(a && "shape" in a, `${what}: array`);
  assert.deepEqual(a.shape, exp.shape, `${what}: shape`);
  assert.equal(a.dtype, exp.dtype, `${what}: dtype`);
  assertBytes(bytesOf(a), b64bytes(exp.b64), what);
}

/** h5py's description of the fixture types.h5 (hdf5_dump.py), once per test run. */
let typesJson: Promise<Json> | null = null;
function described(dir: string): Promise<Json> {
  typesJson ??= Promise.resolve(
    JSON.parse(runPython("tests/fixtures/hdf5_dump.py", [`${dir}/types.h5`])),
  );
  return typesJson;
}

Deno.test({
  name: "hdf5: h5py fixtures read identically (values, dtypes, chunks, filters, attrs)",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_fixtures");
    const exp = await described(dir);
    const f = await H5File.open(`${dir}/types.h5`);
    try {
      let n = 0;
      for (const [path, d] of Object.entries<Json>(exp.datasets)) {
        const info = f.dataset(path);
        assert.deepEqual(info.shape, d.shape, `${path}: shape`);
        assert.deepEqual(info.chunks, d.chunks, `${path}: chunks`);
        assert.deepEqual(info.maxshape, d.maxshape, `${path}: maxshape`);
        assert.equal(info.compression, d.compression, `${path}: compression`);
        if (d.compression === "gzip") assert.equal(info.compressionLevel, d.compression_opts);
        assert.equal(info.filters.some((x) => x.id === 2), d.shuffle, `${path}: shuffle`);
        assert.equal(info.filters.some((x) => x.id === 3), d.fletcher32, `${path}: fletcher32`);
        for (const [k, a] of Object.entries<Json>(d.attrs)) {
          assertAttr(info.attrs[k], a, `${path}@${k}`);
        }
        assert.deepEqual(Object.keys(info.attrs).sort(), Object.keys(d.attrs).sort());
        if (d.compression === "lzf") {
          // a filter h5wasm lacks (h5wasm-plugins has it): described, and a clear read error
          assert.deepEqual(info.filters.map((x) => x.id), [32000]);
          assert.throws(
            () => f.read(path),
            (e) =>
              e instanceof LumenError && e.message.includes(path) && /lzf/.test(e.message) &&
              /h5wasm-plugins/.test(e.message),
          );
        } else if (d.dtype === "string") {
          const v = f.readValue(path);
          if ("str" in d.value) assert.equal(v, d.value.str, path);
          else assert.deepEqual(v, d.value.strs, path);
          assert.equal(info.dtype, "string");
        } else if (d.dtype === "float16") {
          assert.equal(info.dtype, "float16");
          const a = f.read(path);
          assert.equal(a.dtype, "float32");
          assertBytes(bytesOf(a), b64bytes(d.value.b64_f32), path);
        } else {
          assert.equal(info.dtype, d.dtype, `${path}: dtype`);
          const a = f.read(path);
          assert.equal(a.dtype, d.dtype, `${path}: read dtype`);
          assert.deepEqual(a.shape, d.shape, `${path}: read shape`);
          assertBytes(bytesOf(a), b64bytes(d.value.b64), path);
        }
        n++;
      }
      assert.ok(n >= 20, `${n} datasets compared`);
      for (const [path, g] of Object.entries<Json>(exp.groups)) {
        const attrs = f.attrs(path);
        for (const [k, a] of Object.entries<Json>(g.attrs)) assertAttr(attrs[k], a, `${path}@${k}`);
      }
      // scalars read as shape [] arrays, and as plain values
      assert.deepEqual(f.read("/scalar_f64").shape, []);
      assert.equal(f.readValue("/scalar_f64"), 3.25);
      assert.equal(f.readValue("/scalar_i64"), -7);
      assert.equal(f.attr("/", "bool_attr"), true);
      assert.equal(f.attr("/", "absent"), undefined);
    } finally {
      f.close();
    }
  },
});

Deno.test({
  name: "hdf5: walk lists groups, datasets, soft and external links (relative to the file)",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_fixtures");
    const exp = await described(dir);
    const f = await H5File.open(`${dir}/types.h5`);
    try {
      const nodes = f.walk();
      const byPath = new Map(nodes.map((n) => [n.path, n]));
      for (const p of Object.keys(exp.datasets)) assert.equal(byPath.get(p)?.kind, "dataset", p);
      for (const p of Object.keys(exp.groups)) {
        if (p !== "/") assert.equal(byPath.get(p)?.kind, "group", p);
      }
      for (const [p, l] of Object.entries<Json>(exp.links)) {
        const n = byPath.get(p) as H5LinkInfo;
        assert.equal(n.kind, l.kind === "soft" ? "softlink" : "externallink", p);
        assert.equal(n.target, l.target, p);
        if (l.kind === "external") assert.equal(n.targetFile, l.file);
      }
      const soft = byPath.get("/links/soft") as H5LinkInfo;
      assert.equal(soft.resolved?.kind, "dataset");
      assert.equal((byPath.get("/links/broken") as H5LinkInfo).resolved, null);
      assert.equal((byPath.get("/links/ext_missing") as H5LinkInfo).resolved, null);
      const ext = byPath.get("/links/ext") as H5LinkInfo;
      assert.equal(ext.resolvedFile, `${dir}/sub/ext_target.h5`);
      assert.equal(ext.resolved?.kind, "dataset");
      // an external link to a group is walked into
      assert.equal(byPath.get("/links/extgroup/values")?.kind, "dataset");
      // reads go through both kinds of link
      const v = f.read("/links/ext");
      assert.deepEqual(v.shape, [6, 5]);
      assert.equal(v.dtype, "int16");
      assert.deepEqual([...v.data.slice(0, 3)], [-7, -6, -5]);
      assert.deepEqual(f.read("/links/extgroup/values", [2]).data, v.data.slice(10, 15));
      assert.equal(f.attrs("/links/ext").units, "mm");
      assert.deepEqual(f.read("/links/soft").data, f.read("/floats/f32").data);
      assert.deepEqual(f.read("/links/soft_rel_group/c/d/deep").data, Uint8Array.of(0, 1, 2, 3, 4));
      assert.equal(f.dataset("/links/ext").file, `${dir}/sub/ext_target.h5`);
      assert.deepEqual(
        f.list("/links").sort(),
        Object.keys(exp.links).map((p) => p.slice(7)).sort(),
      );
      assert.throws(() => f.read("/links/ext_missing/values"), /absent\.h5.*does not exist/);
    } finally {
      f.close();
    }
  },
});

Deno.test({
  name: "hdf5: external links resolve relative to the linking file, not the working directory",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_fixtures");
    const cwd = await Deno.makeTempDir({ prefix: "lumen_h5cwd_" });
    try {
      // a decoy with the same relative name in the working directory
      const decoy = `${cwd}/sub/ext_target.h5`;
      Deno.mkdirSync(dirname(decoy), { recursive: true });
      runPython(
        `-c import h5py,numpy,sys; f=h5py.File(sys.argv[1],'w'); f['data/values']=numpy.full((2,2),99,'i2'); f.close()`,
        [decoy],
      );
      const code = `import { H5File } from "${ROOT}/lib/io/hdf5.ts";
        const f = await H5File.open(Deno.args[0]);
        console.log(JSON.stringify(f.shape("/links/ext")));`;
      for (const arg of [`${dir}/types.h5`]) {
        const r = await new Deno.Command("deno", {
          args: ["eval", "--quiet", "--config", `${ROOT}/deno.json`, code, arg],
          cwd,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(r.stderr);
        assert.ok(r.success, err);
        assert.equal(new TextDecoder().decode(r.stdout).trim(), "[6,5]");
      }
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
});

Deno.test({
  name: "hdf5: hyperslabs read only the selection (ranges, steps, indices, negatives)",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_fixtures");
    const f = await H5File.open(`${dir}/types.h5`);
    try {
      for (const p of ["/chunked/gzip_u16", "/chunked/gzip"]) {
        const all = f.read(p);
        const B = all.shape[1];
        const at = (i: number, j: number, k = 0) => all.data[(i * B + j) * (all.shape[2] ?? 1) + k];
        const sel = all.shape.length === 3
          ? f.read(p, [[3, 11, 2], -1, [4, 9]])
          : f.read(p, [[3, 11, 2], [-5, 40]]);
        if (all.shape.length === 3) {
          assert.deepEqual(sel.shape, [4, 5]);
          for (let i = 0; i < 4; i++) {
            for (let k = 0; k < 5; k++) {
              assert.equal(sel.data[i * 5 + k], at(3 + 2 * i, B - 1, 4 + k));
            }
          }
        } else {
          assert.deepEqual(sel.shape, [4, 5]);
          for (let i = 0; i < 4; i++) {
            for (let j = 0; j < 5; j++) assert.equal(sel.data[i * 5 + j], at(3 + 2 * i, 35 + j));
          }
        }
      }
      const one = f.read("/ints/int16", [1, 2]);
      assert.deepEqual(one.shape, []);
      assert.equal(one.data[0], f.read("/ints/int16").data[6]);
      assert.throws(
        () => f.read("/ints/int16", [[0, 9]]),
        (e) =>
          e instanceof LumenError && /out of range for axis 0 of shape \[3,4\]/.test(e.message),
      );
      assert.throws(() => f.read("/ints/int16", [0, 0, 0]), /3 axes/);
      const seen: number[] = [];
      f.withHyperslab("/chunked/gzip_u16", [2, 0, 0], [3, 1, 16], (b, dt, size) => {
        assert.equal(dt, "uint16");
        assert.equal(size, 2);
        seen.push(...new Uint16Array(b.slice().buffer));
      });
      const ref = f.read("/chunked/gzip_u16", [[2, 5], [0, 1], null]);
      assert.deepEqual(seen, [...ref.data]);
    } finally {
      f.close();
    }
  },
});

const WRITE_DTYPES: DType[] = [
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

function sample(dt: DType, n: number): NdArray {
  const C = {
    int8: Int8Array,
    uint8: Uint8Array,
    int16: Int16Array,
    uint16: Uint16Array,
    int32: Int32Array,
    uint32: Uint32Array,
    float32: Float32Array,
    float64: Float64Array,
  } as Record<string, { from(x: number[]): NdArray["data"] }>;
  if (dt === "int64") {
    return ndarray(BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 1e12) - 7n), [n]);
  }
  if (dt === "uint64") {
    return ndarray(BigUint64Array.from({ length: n }, (_, i) => 2n ** 63n + BigInt(i)), [n]);
  }
  const vals = Array.from({ length: n }, (_, i) => (i * 37) % 251 - (dt.startsWith("u") ? 0 : 120));
  if (dt.startsWith("float")) vals[1] = NaN, vals[2] = -Infinity, vals[3] = 1.5e-7;
  return ndarray(C[dt].from(vals), [n]);
}

Deno.test({
  name:
    "hdf5: files written here read identically in h5py (values, dtype, chunks, gzip, attrs, links)",
  ignore: !PY,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lumen_h5w_" });
    try {
      const path = `${dir}/out.h5`;
      const f = await H5File.open(path, "w");
      const written = new Map<
        string,
        { arr: NdArray; chunks: number[] | null; level: number | null }
      >();
      for (const dt of WRITE_DTYPES) {
        const a = sample(dt, 60);
        const arr = ndarray(a.data, [3, 4, 5], a.dtype);
        f.write(`/entry/plain/${dt}`, arr);
        written.set(`/entry/plain/${dt}`, { arr, chunks: null, level: null });
        f.write(`/entry/gz/${dt}`, arr, { chunks: [1, 4, 5], compression: 6 });
        written.set(`/entry/gz/${dt}`, { arr, chunks: [1, 4, 5], level: 6 });
      }
      const big = ndarray(Float32Array.from({ length: 40 * 30 }, (_, i) => Math.sin(i)), [40, 30]);
      f.write("/entry/auto/gz", big, { compression: "gzip", attrs: { units: "a.u." } });
      f.write("/scalar", ndarray(Float64Array.of(2.75), []));
      f.createGroup("/g1/g2/g3");
      f.setAttr("/g1/g2", "NX_class", "NXdata");
      f.setAttr("/g1/g2", "count", 3);
      f.setAttr("/g1/g2", "ratio", 0.125);
      f.setAttr("/g1/g2", "flag", true);
      f.setAttr("/g1/g2", "names", ["a", "bb", "γ"]);
      f.setAttr("/g1/g2", "ints", [1, 2, 3]);
      f.setAttr("/g1/g2", "floats", [0.5, 1.5]);
      f.setAttr("/g1/g2", "f32", Float32Array.of(1.25, -2));
      f.setAttr("/g1/g2", "mat", ndarray(Int16Array.of(1, 2, 3, 4, 5, 6), [2, 3]));
      f.setAttr("/g1/g2", "big", 2n ** 60n);
      f.setAttr("/g1/g2", "count", 4); // replaces
      f.setAttr("/", "title", "written by lumen");
      f.softLink("/links/to_gz", "/entry/gz/float32");
      f.externalLink("/links/ext", "other.h5", "/x");
      // streaming: create, then fill slice by slice
      f.createDataset("/entry/stream", [6, 3, 4], "uint16", { chunks: [1, 3, 4], compression: 2 });
      for (let i = 0; i < 6; i++) {
        f.writeSlice(
          "/entry/stream",
          [i, 0, 0],
          ndarray(Uint16Array.from({ length: 12 }, (_, k) => i * 100 + k), [1, 3, 4]),
        );
      }
      f.close();
      const o = await H5File.open(`${dir}/other.h5`, "w");
      o.write("/x", ndarray(Int32Array.of(5, 6, 7), [3]));
      o.close();

      const got: Json = JSON.parse(runPython("tests/fixtures/hdf5_dump.py", [path]));
      for (const [p, w] of written) {
        const d = got.datasets[p];
        assert.ok(d, `${p} missing in h5py`);
        assert.equal(d.dtype, w.arr.dtype, `${p} dtype`);
        assert.deepEqual(d.shape, w.arr.shape, `${p} shape`);
        assert.deepEqual(d.maxshape, w.arr.shape, `${p} maxshape`);
        assert.deepEqual(d.chunks, w.chunks, `${p} chunks`);
        assert.equal(d.compression, w.level === null ? null : "gzip", `${p} compression`);
        if (w.level !== null) assert.equal(d.compression_opts, w.level);
        assertBytes(b64bytes(d.value.b64), bytesOf(w.arr), p);
      }
      const auto = got.datasets["/entry/auto/gz"];
      assert.equal(auto.compression, "gzip");
      assert.equal(auto.compression_opts, 4);
      assert.ok(auto.chunks && auto.chunks.length === 2, "auto chunks");
      assert.deepEqual(auto.attrs.units, { str: "a.u." });
      assertBytes(b64bytes(auto.value.b64), bytesOf(big), "auto");
      assert.deepEqual(got.datasets["/scalar"].shape, []);
      const g = got.groups["/g1/g2"].attrs;
      assert.deepEqual(g.NX_class, { str: "NXdata" });
      assert.equal(g.count.dtype, "int64");
      assert.equal(new DataView(b64bytes(g.count.b64).buffer).getBigInt64(0, true), 4n);
      assert.equal(g.ratio.dtype, "float64");
      assert.equal(new DataView(b64bytes(g.ratio.b64).buffer).getFloat64(0, true), 0.125);
      assert.equal(g.flag.dtype, "uint8");
      assert.deepEqual(g.names.strs, ["a", "bb", "γ"]);
      assert.equal(g.ints.dtype, "int64");
      assert.deepEqual(g.ints.shape, [3]);
      assert.equal(g.floats.dtype, "float64");
      assert.equal(g.f32.dtype, "float32");
      assert.deepEqual(g.mat.shape, [2, 3]);
      assert.equal(g.mat.dtype, "int16");
      assert.equal(new DataView(b64bytes(g.big.b64).buffer).getBigInt64(0, true), 2n ** 60n);
      assert.ok(got.groups["/g1/g2/g3"], "nested group");
      assert.deepEqual(got.groups["/"].attrs.title, { str: "written by lumen" });
      assert.deepEqual(got.links["/links/to_gz"], { kind: "soft", target: "/entry/gz/float32" });
      assert.deepEqual(got.links["/links/ext"], {
        kind: "external",
        file: "other.h5",
        target: "/x",
      });
      const st = got.datasets["/entry/stream"];
      assert.deepEqual(st.shape, [6, 3, 4]);
      assert.deepEqual(st.maxshape, [6, 3, 4]);
      assert.deepEqual(st.chunks, [1, 3, 4]);
      const sv = new Uint16Array(b64bytes(st.value.b64).buffer);
      assert.equal(sv[5 * 12 + 7], 507);
      assert.equal(sv[12], 100);

      // and read back here, through the links
      const r = await H5File.open(path);
      assert.deepEqual([...r.read("/links/ext").data], [5, 6, 7]);
      assert.deepEqual(r.read("/links/to_gz").data, written.get("/entry/gz/float32")!.arr.data);
      assert.equal(r.attr("/g1/g2", "count"), 4);
      assert.equal(r.attr("/g1/g2", "big"), 2n ** 60n);
      assert.throws(() => r.write("/x", big), /read-only/);
      r.close();

      // appending mode keeps what is there
      const a = await H5File.open(path, "a");
      a.write("/entry/added", ndarray(Uint8Array.of(1, 2), [2]));
      assert.throws(
        () => a.write("/entry/added", ndarray(Uint8Array.of(1), [1])),
        /already exists/,
      );
      assert.throws(
        () => a.write("/entry/plain/int8/x", ndarray(Uint8Array.of(1), [1])),
        /not a group/,
      );
      assert.throws(
        () => a.write("/bad", ndarray(Uint8Array.of(1), [1]), { chunks: [1, 2] }),
        /chunks/,
      );
      assert.throws(() => a.write("/bad", ndarray(Uint8Array.of(1), [1], "bool")), /uint8/);
      a.close();
      const again: Json = JSON.parse(runPython("tests/fixtures/hdf5_dump.py", [path]));
      assert.ok(again.datasets["/entry/added"]);
      assert.ok(again.datasets["/entry/plain/int8"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The LumenError that `fn` throws (or rejects with), checked to be one line. */
async function lumenErr(fn: () => unknown): Promise<LumenError> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof LumenError, `expected a LumenError, got ${e}`);
    assert.ok(!e.message.includes("\n"), "one line");
    return e;
  }
  throw new Error("no error");
}

Deno.test({
  name: "hdf5: bad input: truncated, non-HDF5, missing file, missing path lists what exists",
  ignore: !PY,
  fn: async () => {
    const fx = await pyFixture("hdf5_fixtures");
    const dir = await Deno.makeTempDir({ prefix: "lumen_h5bad_" });
    try {
      const srcs = [`${fx}/types.h5`];
      if (SHARED_DATA) srcs.push(`${SHARED_DATA}/tomo/tooth.h5`);
      for (const src of srcs) {
        const bytes = await Deno.readFile(src);
        const cut = `${dir}/truncated.h5`;
        await Deno.writeFile(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
        const e = await lumenErr(() => H5File.open(cut));
        assert.equal(e.file, cut);
        assert.match(e.message, /truncated HDF5 file: it has \d+ bytes, its superblock says \d+/);
      }
      const txt = `${dir}/notes.h5`;
      await Deno.writeTextFile(txt, "this is not HDF5 at all\n".repeat(100));
      assert.match((await lumenErr(() => H5File.open(txt))).message, /notes\.h5: not an HDF5 file/);
      await Deno.writeFile(`${dir}/empty.h5`, new Uint8Array(0));
      assert.match(
        (await lumenErr(() => H5File.open(`${dir}/empty.h5`))).message,
        /not an HDF5 file/,
      );
      assert.match(
        (await lumenErr(() => H5File.open(`${dir}/absent.h5`))).message,
        /absent\.h5: no such file/,
      );
      assert.match((await lumenErr(() => H5File.open(dir))).message, /not a regular file/);

      const f = await H5File.open(`${fx}/types.h5`);
      try {
        const e1 = await lumenErr(() => f.read("/chunked/gzp"));
        assert.match(
          e1.message,
          /types\.h5: \/chunked\/gzp: no such dataset; paths under \/chunked: /,
        );
        for (const p of ["/chunked/gzip", "/chunked/gzip_u16", "/chunked/shuffle"]) {
          assert.ok(e1.message.includes(p), `${p} listed`);
        }
        const e2 = await lumenErr(() => f.read("/nothing/here/at/all"));
        assert.match(e2.message, /paths in the file: .*\/floats\/f32/);
        await lumenErr(() => f.read("/chunked")).then((e) => assert.match(e.message, /is a group/));
        await lumenErr(() => f.read("/strings/vlen")).then((e) =>
          assert.match(e.message, /not numeric/)
        );
      } finally {
        f.close();
      }
      if (hasSharedData()) {
        const t = await H5File.open(`${SHARED_DATA}/tomo/tooth.h5`);
        const e = await lumenErr(() => t.read("/exchange/dta"));
        for (
          const p of [
            "/exchange/data",
            "/exchange/data_white",
            "/exchange/data_dark",
            "/exchange/theta",
          ]
        ) {
          assert.ok(e.message.includes(p), `${p} listed`);
        }
        t.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
