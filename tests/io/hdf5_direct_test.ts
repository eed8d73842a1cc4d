/**
 * lib/io/hdf5_direct.ts through H5File: on files h5py writes (tests/fixtures/hdf5_direct.py),
 * every hyperslab read with positioned reads is byte for byte what h5wasm's HDF5 reads (chunked
 * datasets of several chunk shapes with partial edge chunks and row blocks across chunks,
 * contiguous ones, unwritten chunks with a fill value or 0, a resized dataset, an external
 * link; layout version 4 indexes: fixed and extensible arrays, implicit, single chunk), and what
 * the direct path must not read (compressed, big-endian, a version 2 B-tree index, scalars) goes
 * to HDF5 with the same bytes.
 */
import assert from "node:assert/strict";
import { hasPython, pyFixture } from "../_helpers.ts";
import { H5File } from "../../lib/io/hdf5.ts";
import { H5Layout } from "../../lib/io/hdf5_layout.ts";
import type { NdArray } from "../../lib/io/array.ts";
import { SimRng } from "../../lib/data/rng.ts";

const PY = hasPython("h5py", "numpy");

function bytesOf(a: NdArray): Uint8Array {
  return new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

function sameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: bytes differ at ${i}`);
  }
}

/** Hyperslabs of a shape: the whole, single elements at the corners, row blocks, random boxes. */
function selections(shape: number[], rng: SimRng): [number, number][][] {
  const out: [number, number][][] = [shape.map((d) => [0, d])];
  out.push(shape.map((d) => [d - 1, d]), shape.map(() => [0, 1]));
  if (shape.length === 3) {
    for (const [r0, r1] of [[0, 4], [3, 7], [5, 6], [shape[1] - 3, shape[1]]]) {
      out.push([[0, shape[0]], [r0, r1], [0, shape[2]]]);
      out.push([[2, shape[0] - 1], [r0, r1], [3, shape[2] - 2]]);
    }
  }
  for (let i = 0; i < 12; i++) {
    out.push(shape.map((d) => {
      const a = Math.floor(rng.uniform() * d);
      const b = a + 1 + Math.floor(rng.uniform() * (d - a));
      return [a, b];
    }));
  }
  return out;
}

const DIRECT = [
  "frames_u16",
  "tiles_f32",
  "whole_i32",
  "big_chunk_i16",
  "grid_f64",
  "line_i8",
  "four_u64",
  "contig_u16",
  "contig_f32",
  "contig_big_u16",
  "pairs_big_u16",
  "contig_unwritten",
  "sparse_f32",
  "sparse_i16",
  "half_f16",
  "resized_u32",
  "linked",
];
/** latest.h5's layout version 4 indexes: fixed array (paged, a page never written), extensible
 * array (to a super block; unlimited last), implicit, single chunk. */
const V4 = [
  "frames_u16",
  "paged_u16",
  "paged_sparse_i32",
  "ea_rows_u16",
  "ea_cols_f32",
  "resized_u32",
  "implicit_i16",
  "whole_i32",
];
const HDF5: Record<string, RegExp> = {
  gzip_u16: /filter pipeline/,
  shuffle_f32: /filter pipeline/,
  fletcher_i32: /filter pipeline/,
  big_endian_u16: /big-endian/,
  big_endian_f64: /big-endian/,
  scalar_f64: /scalar/,
};

Deno.test({
  name:
    "hdf5_direct: positioned reads give h5wasm's bytes for every hyperslab; what they cannot read goes to HDF5",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_direct");
    const rng = new SimRng(5);
    for (const file of ["direct.h5", "latest.h5"]) {
      const ours = await H5File.open(`${dir}/${file}`);
      const ref = await H5File.open(`${dir}/${file}`, "r", { direct: false });
      try {
        for (const p of ours.list("/")) {
          if (file === "latest.h5" && p === "linked") continue;
          const route = ours.readRoute(p);
          if (p in HDF5) {
            assert.equal(route.route, "hdf5", `${file}:${p}`);
            assert.match((route as { why: string }).why, HDF5[p], `${file}:${p}`);
          } else if (p === "big_chunk_i16" && file === "latest.h5") {
            // two unlimited dimensions: a version 2 B-tree, read by HDF5
            assert.deepEqual(route, { route: "hdf5", why: "a version 2 B-tree chunk index" });
          } else assert.deepEqual(route, { route: "direct" }, `${file}:${p}`);
          assert.equal(ref.readRoute(p).route, "hdf5");
          const shape = ours.shape(p);
          const sels = shape.length ? selections(shape, rng) : [undefined];
          for (const sel of sels) {
            const what = `${file}:${p} [${sel?.map((s) => s.join(":"))}]`;
            const a = ours.read(p, sel), b = ref.read(p, sel);
            assert.deepEqual(a.shape, b.shape, what);
            assert.equal(a.dtype, b.dtype, what);
            sameBytes(bytesOf(a), bytesOf(b), what);
            if (!sel || ours.dtype(p) === "float16") continue; // float16 is not streamed
            const off = sel.map((s) => s[0]), cnt = sel.map((s) => s[1] - s[0]);
            const got = ours.withHyperslab(p, off, cnt, (bytes) => bytes.slice());
            sameBytes(got, bytesOf(b), `${what} withHyperslab`);
          }
        }
        // the provenance list is the same files either way
        assert.deepEqual(ours.filesRead(), ref.filesRead());
      } finally {
        ours.close();
        ref.close();
      }
    }
    // every direct dataset was met, and in latest.h5 each kind of version 4 index
    const f = await H5File.open(`${dir}/direct.h5`);
    assert.deepEqual(DIRECT.filter((p) => f.readRoute(p).route !== "direct"), []);
    f.close();
    const g = await H5File.open(`${dir}/latest.h5`);
    assert.deepEqual(V4.filter((p) => g.readRoute(p).route !== "direct"), []);
    g.close();
  },
});

Deno.test({
  name:
    "hdf5_direct: the chunk table lists every chunk h5py wrote (offsets, sizes, no filters) inside the file",
  ignore: !PY,
  fn: async () => {
    const dir = await pyFixture("hdf5_direct");
    const headers: Record<string, number> = JSON.parse(
      await Deno.readTextFile(`${dir}/headers.json`),
    );
    const lay = H5Layout.open(`${dir}/direct.h5`)!;
    try {
      const addrOf = (p: string) => BigInt(headers[p]);
      const table = (p: string) => {
        const t = lay.chunks(addrOf(p));
        if (typeof t === "string") throw new Error(`${p}: ${t}`);
        return t;
      };
      const t = table("tiles_f32");
      assert.deepEqual(t.chunk, [4, 5, 16]);
      assert.equal(t.elementSize, 4);
      // (23, 17, 40) in (4, 5, 16): 6 × 4 × 3 chunks, all written, each stored whole
      assert.equal(t.entries.length, 6 * 4 * 3);
      const keys = new Set(t.entries.map((e) => e.offset.join(",")));
      assert.equal(keys.size, 72);
      assert.ok(keys.has("20,15,32"));
      for (const e of t.entries) {
        assert.equal(e.size, 4 * 5 * 16 * 4);
        assert.equal(e.filterMask, 0);
        assert.ok(e.position + e.size <= lay.size);
      }
      const s = table("sparse_f32");
      assert.deepEqual(s.entries.map((e) => e.offset.join(",")).sort(), ["0,0", "10,20"]);
      assert.equal(lay.chunks(addrOf("contig_u16")), "not a chunked layout");
    } finally {
      lay.close();
    }
  },
});
