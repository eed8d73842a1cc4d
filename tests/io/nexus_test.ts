/**
 * lib/io/nexus.ts (openScan: i12, DIAD, NXtomo, DataExchange, user paths; lazy frames) and
 * lib/tomo/normalise.ts (readSinograms, the WASM kernel): against numpy computing the formula of
 * NoStripesNet's readers on h5py-read data, on fixtures and on the real scans of
 * ../shared/data/tomo.
 */
import assert from "node:assert/strict";
import { hasPython, hasSharedData, pyFixture, SHARED_DATA } from "../_helpers.ts";
import { openScan } from "../../lib/io/nexus.ts";
import {
  flatDark,
  normaliseFrames,
  normaliseTS,
  readSinograms,
  TomoKernel,
} from "../../lib/tomo/normalise.ts";
import { ndarray } from "../../lib/io/array.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { loadWasm } from "../../lib/wasm/load.ts";

const PY = hasPython("h5py", "numpy");

async function f32(path: string): Promise<Float32Array> {
  const b = await Deno.readFile(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** Largest |a − b| / (|b| + atol) over all elements; NaN only matches NaN. */
function maxRelErr(a: Float32Array, b: Float32Array, atol = 1e-6): number {
  assert.equal(a.length, b.length, "lengths");
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== a[i] || b[i] !== b[i]) {
      if (!(a[i] !== a[i] && b[i] !== b[i])) return Infinity;
      continue;
    }
    if (a[i] === b[i]) continue;
    const e = Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + atol);
    if (e > m) m = e;
  }
  return m;
}

/** Largest distance in float32 ulps (same-sign finite values; infinities must be equal). */
function maxUlps(a: Float32Array, b: Float32Array): number {
  const ia = new Int32Array(a.buffer, a.byteOffset, a.length);
  const ib = new Int32Array(b.buffer, b.byteOffset, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || (a[i] !== a[i] && b[i] !== b[i])) continue;
    const key = (x: number) => (x < 0 ? 0x80000000 - x : x);
    const d = Math.abs(key(ia[i]) - key(ib[i]));
    if (d > m) m = d;
  }
  return m;
}

Deno.test({
  name: "nexus: i12 layout (soft-linked data, image key, angles), lazy windows, sinograms = numpy",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_fixtures");
    const exp = JSON.parse(await Deno.readTextFile(`${dir}/expected.json`)).i12;
    const scan = await openScan(`${dir}/i12.nxs`);
    try {
      assert.equal(scan.layout, "i12");
      assert.equal(scan.nFrames, exp.frames);
      assert.equal(scan.projections.count, exp.projections);
      assert.equal(scan.flats.count, exp.flats);
      assert.equal(scan.darks.count, exp.darks);
      assert.equal(scan.dtype, "uint16");
      assert.deepEqual([scan.rows, scan.cols], [6, 20]);
      assert.deepEqual([...scan.imageKeys()!], exp.keys);
      assert.deepEqual([...scan.angles()], exp.angles);
      assert.equal(scan.paths.imageKey, "/entry1/tomo_entry/instrument/detector/image_key");
      // a window of projections 5..9, rows 2..4, columns 3..11, as stored
      const w = scan.projections.read({ angles: [5, 9], rows: [2, 4], cols: [3, 11] });
      assert.deepEqual(w.shape, [4, 2, 8]);
      const wb = await Deno.readFile(`${dir}/i12_window.u16`);
      assert.deepEqual(w.data, new Uint16Array(wb.buffer, wb.byteOffset, wb.length / 2));
      // flats span two runs (before and after the projections)
      assert.deepEqual(scan.flats.runs(), [[3, 4, 0], [37, 2, 4]]);
      assert.deepEqual(scan.flats.read({ rows: [0, 1] }).shape, [6, 1, 20]);

      const want = await f32(`${dir}/i12_sino.f32`);
      const got = await readSinograms(scan, 1, 5);
      assert.deepEqual(got.shape, exp.shape);
      assert.ok(maxRelErr(got.data, want) < 1e-5, `vs numpy: ${maxRelErr(got.data, want)}`);
      const ts = await readSinograms(scan, 1, 5, { kernel: "ts" });
      assert.ok(maxUlps(got.data, ts.data) <= 1, `wasm vs ts: ${maxUlps(got.data, ts.data)} ulps`);
      assert.ok(maxRelErr(ts.data, want) < 1e-5);
      // into a caller's buffer (reused across row chunks)
      const buf = new Float32Array(got.data.length).fill(7);
      const into = await readSinograms(scan, 1, 5, { out: buf });
      assert.equal(into.data, buf);
      assert.deepEqual(buf, got.data);
      await assert.rejects(() => readSinograms(scan, 1, 4, { out: buf }), /out holds/);
      // blocks of one frame give the same bytes as one block
      const small = await readSinograms(scan, 1, 5, { blockBytes: 1 });
      assert.deepEqual(small.data, got.data);
      // an angle range is the matching slice of the full result
      const part = await readSinograms(scan, 1, 5, { angles: [10, 25] });
      assert.deepEqual(part.shape, [4, 15, 20]);
      for (let r = 0; r < 4; r++) {
        assert.deepEqual(
          part.data.subarray(r * 15 * 20, (r + 1) * 15 * 20),
          got.data.subarray((r * 30 + 10) * 20, (r * 30 + 25) * 20),
        );
      }
      for (const [a, b] of [[0, 0], [-1, 2], [3, 7], [1.5, 2]]) {
        await assert.rejects(
          () => readSinograms(scan, a, b),
          (e) => e instanceof LumenError && /i12\.nxs: .*rows .* out of range 0–6/.test(e.message),
        );
      }
      await assert.rejects(() => readSinograms(scan, 0, 1, { angles: [0, 31] }), /angles/);
      assert.throws(() => scan.projections.read({ rows: [0, 7] }), /rows \[0, 7\) out of range/);
    } finally {
      scan.close();
    }
  },
});

Deno.test({
  name: "nexus: DataExchange with NaNs, user-named paths (radians), flats from a second file",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_fixtures");
    const exp = JSON.parse(await Deno.readTextFile(`${dir}/expected.json`));

    const dx = await openScan(`${dir}/dx.h5`);
    assert.equal(dx.layout, "dataexchange");
    assert.equal(dx.imageKeys(), null);
    assert.deepEqual([dx.projections.count, dx.flats.count, dx.darks.count], [12, 4, 2]);
    assert.equal(dx.flats.path, "/exchange/data_white");
    assert.deepEqual([...dx.angles()], exp.dx.angles);
    const s = await readSinograms(dx, 0, 3);
    assert.ok(maxRelErr(s.data, await f32(`${dir}/dx_sino.f32`)) < 1e-5);
    dx.close();

    const c = await openScan(`${dir}/custom.h5`, {
      paths: { data: "/scan/frames", imageKey: "/meta/keys", angles: "/meta/angle" },
    });
    assert.equal(c.layout, "custom");
    assert.equal(c.dtype, "float64");
    assert.deepEqual([c.projections.count, c.flats.count, c.darks.count], [16, 3, 1]);
    const deg = c.angles();
    exp.custom.angles_deg.forEach((v: number, i: number) => assert.ok(Math.abs(deg[i] - v) < 1e-9));
    const cs = await readSinograms(c, 0, 4);
    assert.ok(maxRelErr(cs.data, await f32(`${dir}/custom_sino.f32`)) < 1e-5);
    c.close();

    const split = await openScan(`${dir}/projs_only.nxs`, { flatsFile: `${dir}/flats.nxs` });
    assert.deepEqual([split.projections.count, split.flats.count, split.darks.count], [30, 6, 3]);
    assert.equal(split.flats.file.path, `${dir}/flats.nxs`);
    const ss = await readSinograms(split, 1, 5);
    assert.ok(maxRelErr(ss.data, await f32(`${dir}/i12_sino.f32`)) < 1e-5);
    split.close();

    // without flats anywhere: a clear error
    const nof = await openScan(`${dir}/projs_only.nxs`);
    await assert.rejects(() => readSinograms(nof, 0, 1), /no flat fields/);
    nof.close();
  },
});

Deno.test({
  name: "nexus: unknown layouts and wrong paths name the file and list what exists",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_fixtures");
    const err = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        assert.ok(e instanceof LumenError, String(e));
        return e.message;
      }
      throw new Error("no error");
    };
    const m1 = await err(openScan(`${dir}/plain.h5`));
    assert.match(
      m1,
      /plain\.h5: no known tomography layout.*3-D datasets here: \/stack\/volume \[2,3,4\]/,
    );
    const m2 = await err(openScan(`${dir}/plain.h5`, { paths: { data: "/stack/volum" } }));
    assert.match(
      m2,
      /plain\.h5: \/stack\/volum: no such dataset; paths under \/stack: \/stack\/other, \/stack\/volume/,
    );
    const m3 = await err(openScan(`${dir}/plain.h5`, { paths: { data: "/stack/other" } }));
    assert.match(m3, /\/stack\/other: has shape \[5\], expected \(frames, rows, cols\)/);
    const m4 = await err(
      openScan(`${dir}/i12.nxs`, { paths: { angles: "/entry1/tomo_entry/data/angle" } }),
    );
    assert.match(m4, /no such dataset; paths under \/entry1\/tomo_entry\/data: .*rotation_angle/);
    const m5 = await err(openScan(`${dir}/i12.nxs`, { flatsFile: `${dir}/plain.h5` }));
    assert.match(m5, /plain\.h5: no known tomography layout/);
  },
});

Deno.test("normalise: WASM kernel = plain TS loop (u16, f32, f64; NaN, inf, ≤0, tails)", async () => {
  const k = await TomoKernel.load();
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (const cols of [1, 3, 4, 7, 8, 15, 16, 17, 33, 100]) {
    const rows = 3, n = 5;
    const flats = ndarray(Float32Array.from({ length: 2 * rows * cols }, () => 900 + 200 * rnd()), [
      2,
      rows,
      cols,
    ]);
    const darks = ndarray(Float32Array.from({ length: rows * cols }, () => 50 * rnd()), [
      1,
      rows,
      cols,
    ]);
    flats.data[0] = darks.data[0]; // flat − dark ≈ 0 → 1e-6 floor
    flats.data[rows * cols] = darks.data[0];
    const fd = flatDark(flats, darks);
    const u16 = ndarray(
      Uint16Array.from({ length: n * rows * cols }, () => Math.floor(1200 * rnd())),
      [n, rows, cols],
    );
    const f = Float32Array.from({ length: n * rows * cols }, () => 1100 * rnd() - 50);
    f[0] = NaN, f[f.length - 1] = Infinity, f[Math.floor(f.length / 2)] = -Infinity;
    if (f.length > 3) f[2] = 0;
    const f32a = ndarray(f, [n, rows, cols]);
    const f64a = ndarray(Float64Array.from(f), [n, rows, cols]);
    for (const raw of [u16, f32a, f64a]) {
      const ref = normaliseTS(raw, fd);
      const out = new Float32Array(ref.length);
      const bytes = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
      k.normalise(bytes, raw.dtype, n, fd, out, 0, n);
      assert.ok(maxUlps(out, ref) <= 1, `${raw.dtype} cols ${cols}: ${maxUlps(out, ref)} ulps`);
      const viaApi = await normaliseFrames(raw, flats, darks);
      assert.deepEqual(viaApi.shape, [rows, n, cols]);
      assert.deepEqual(viaApi.data, out);
    }
  }
  // −log over a sweep of float32 values (1e-9 … 1e6), against Math.log rounded to float32
  const xs = new Float32Array(200001);
  for (let i = 0; i < xs.length; i++) {
    xs[i] = Math.fround(1e-9 * Math.pow(1e15, i / (xs.length - 1)));
  }
  xs[0] = 0,
    xs[1] = -3,
    xs[2] = Infinity,
    xs[3] = NaN,
    xs[4] = 1,
    xs[5] = Math.fround(1 + 2 ** -23);
  const y = xs.slice();
  k.negLog(y);
  const ref = Float32Array.from(
    xs,
    (x) => (x !== x ? NaN : -Math.log(x <= 0 ? Math.fround(1e-9) : x)),
  );
  assert.ok(maxUlps(y, ref) <= 1, `neg_log: ${maxUlps(y, ref)} ulps`);
  assert.equal(y[2], -Infinity);
  assert.ok(Number.isNaN(y[3]));
  assert.ok(y[4] === 0, "−log(1) = 0");
});

Deno.test("wasm: tomo.wasm loads through a file: URL and exports the kernels", async () => {
  const url = new URL("../../wasm/tomo.wasm", import.meta.url);
  assert.equal(url.protocol, "file:");
  const inst = await loadWasm(url);
  for (const name of ["memory", "norm_u16", "norm_f32", "neg_log_f32", "__heap_base"]) {
    assert.ok(name in inst.exports, name);
  }
  const mod = await WebAssembly.compile(await Deno.readFile(url));
  const feats = WebAssembly.Module.customSections(mod, "target_features");
  assert.ok(new TextDecoder().decode(feats[0]).includes("simd128"), "built with simd128");
});

Deno.test({
  name: "nexus: real DIAD scan (external link) and TomoPy tooth (DataExchange) = h5py + numpy",
  ignore: !PY || !hasSharedData(),
  fn: async () => {
    const dir = await pyFixture("hdf5_real");
    const real = JSON.parse(await Deno.readTextFile(`${dir}/real.json`));

    const diad = await openScan(`${SHARED_DATA}/tomo/k11_diad/k11-18014.nxs`);
    try {
      const e = real.diad;
      assert.equal(diad.layout, "diad");
      assert.deepEqual([diad.nFrames, diad.rows, diad.cols], e.shape);
      assert.deepEqual([diad.projections.count, diad.flats.count, diad.darks.count], [
        3001,
        100,
        100,
      ]);
      assert.deepEqual([e.projections, e.flats, e.darks], [3001, 100, 100]);
      assert.ok(
        diad.projections.file.dataset(diad.paths.data).file.endsWith("k11-18014-imaging.h5"),
      );
      assert.deepEqual(diad.file.dataset(diad.paths.data).chunks, e.chunks);
      const ang = diad.angles();
      assert.equal(ang.length, e.angles_len);
      assert.equal(ang[0], e.angles_first);
      assert.equal(ang[ang.length - 1], e.angles_last);
      assert.ok(Math.abs(ang.reduce((s, v) => s + v, 0) - e.angles_sum) < 1e-6);
      assert.ok(ang[0] > 89.9 && ang[ang.length - 1] < 270.1);
      const fr = diad.projections.read({ angles: [2900, 2901], rows: [5, 6] });
      assert.deepEqual([...fr.data], e.frame_3000_row_5);
      const s = await readSinograms(diad, 0, diad.rows);
      assert.deepEqual(s.shape, e.sino_shape);
      const err = maxRelErr(s.data, await f32(`${dir}/diad_sino.f32`));
      assert.ok(err < 1e-5, `DIAD vs numpy: ${err}`);
    } finally {
      diad.close();
    }

    const tooth = await openScan(`${SHARED_DATA}/tomo/tooth.h5`);
    try {
      const e = real.tooth;
      assert.equal(tooth.layout, "dataexchange");
      assert.deepEqual([tooth.nFrames, tooth.rows, tooth.cols], e.shape);
      assert.deepEqual([tooth.flats.count, tooth.darks.count], [e.flats, e.darks]);
      assert.deepEqual([...tooth.angles()], e.angles);
      const s = await readSinograms(tooth, 0, 2);
      assert.deepEqual(s.shape, e.sino_shape);
      const err = maxRelErr(s.data, await f32(`${dir}/tooth_sino.f32`));
      assert.ok(err < 1e-5, `tooth vs numpy: ${err}`);
    } finally {
      tooth.close();
    }
  },
});
