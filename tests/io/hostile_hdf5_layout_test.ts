/**
 * HDF5 damage that h5wasm's HDF5 reads past without a word, found in the bytes by
 * lib/io/hdf5_layout.ts (the fuzz suite's 10,000-file run found each kind: h5py refused the
 * file, Lumen reported it as fine): an attribute message it cannot decode (h5wasm left the
 * attribute out), a continuation block that runs past the end of the file (h5wasm cut it at the
 * end), a group B-tree node with a sibling or key out of bounds, a local heap free block past
 * its data, a chunk index node whose sibling is no such node; and dataspace dimensions beyond 2^53, which h5wasm rounds, read exactly.
 */
import assert from "node:assert/strict";
import { describe, formatDescription } from "../../lib/io/describe/mod.ts";
import { H5File } from "../../lib/io/hdf5.ts";
import { attributeProblem, H5Layout } from "../../lib/io/hdf5_layout.ts";
import { LumenError } from "../../lib/run/errors.ts";

const dir = Deno.makeTempDirSync({ prefix: "lumen_h5_layout_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
const PY = "/usr/bin/python3";
const hasH5py = (() => {
  try {
    return new Deno.Command(PY, { args: ["-c", "import h5py"], stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

/** Asserts that describing `path` ends in one LumenError line matching `re`. */
async function refused(path: string, re: RegExp): Promise<void> {
  try {
    await describe(path);
  } catch (e) {
    assert.ok(e instanceof LumenError, String((e as Error)?.stack ?? e));
    assert.ok(!e.message.includes("\n"), e.message);
    assert.match(e.message, re);
    return;
  }
  assert.fail(`${path} was described, expected ${re}`);
}

/** The root object header's address (superblock v0/1: symbol table entry; v2/3: its field). */
function rootAddress(b: Uint8Array): bigint {
  return new DataView(b.buffer).getBigUint64(b[8] >= 2 ? 36 : 64, true);
}

/** Writes `b` with `edit` applied under a new name. */
function mutated(b: Uint8Array, name: string, edit: (o: Uint8Array, dv: DataView) => void): string {
  const o = b.slice();
  edit(o, new DataView(o.buffer));
  Deno.writeFileSync(`${dir}/${name}`, o);
  return `${dir}/${name}`;
}

Deno.test("hdf5 layout: version 2 object headers (Lumen's writer) are read", async () => {
  const path = `${dir}/a.h5`;
  const f = await H5File.open(path, "w");
  f.setAttr("/", "title", "hello");
  f.write("/g/x", { dtype: "float32", shape: [4], data: new Float32Array(4) }, {
    attrs: { units: "mm" },
  });
  f.close();
  const b = Deno.readFileSync(path);
  const lay = H5Layout.open(path)!;
  const msgs = lay.messages(rootAddress(b));
  const check = lay.check(rootAddress(b));
  lay.close();
  // OHDR with a continuation into an OCHK block: group info, attribute info, one attribute,
  // link info, a link
  assert.deepEqual(msgs.map((m) => m.type).filter((t) => t), [16, 10, 21, 12, 2, 6]);
  assert.deepEqual(check, { problem: null, attributes: 1, dense: false });
  const attr = msgs.find((m) => m.type === 12)!;
  assert.equal(attributeProblem(attr.body, { lengths: 8 }), null);
  const d = await describe(path) as unknown as { attrs: unknown; tree: { attrs?: unknown }[] };
  assert.deepEqual(d.attrs, { title: "hello" });
  assert.deepEqual(d.tree[1].attrs, { units: "mm" });
  // a damaged version 2 header fails HDF5's own checksum: one line too
  await refused(
    mutated(b, "v2.h5", (o) => (o[attr.at] = 0)),
    /v2\.h5: \/: cannot list group: incorrect metadata checksum/,
  );
});

Deno.test({
  name: "hdf5 layout: damaged attribute messages, continuation blocks, B-tree nodes; exact dims",
  ignore: !hasH5py,
  fn: async () => {
    const path = `${dir}/old.h5`;
    const big = `${dir}/big.h5`;
    const py = `
import h5py, numpy as np
with h5py.File(${JSON.stringify(path)}, "w") as f:
    f.attrs["title"] = "old style"
    f.create_group("entry").attrs["NX_class"] = "NXentry"
    f["entry/data"] = np.arange(6, dtype="int32")
    c = f.create_dataset("entry/chunked", data=np.arange(100, dtype="int16"), chunks=(10,))
    print(h5py.h5o.get_info(c.id).addr)
with h5py.File(${JSON.stringify(big)}, "w") as f:
    f.create_dataset("x", shape=(2**53 + 1, 3), dtype="u1", chunks=(1, 3), maxshape=(None, 3))
`;
    const r = new Deno.Command(PY, { args: ["-c", py], stderr: "piped" }).outputSync();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    const chunked = BigInt(new TextDecoder().decode(r.stdout).trim());
    const b = Deno.readFileSync(path);
    assert.equal(b[8], 0, "h5py's default: superblock version 0, version 1 object headers");
    const lay = H5Layout.open(path)!;
    const msgs = lay.messages(rootAddress(b));
    const layout = lay.messages(chunked).find((m) => m.type === 8)!; // version 3, chunked
    lay.close();
    assert.deepEqual([layout.body[0], layout.body[1]], [3, 2]);
    const chunkTree = Number(new DataView(layout.body.buffer, layout.body.byteOffset + 3, 8)
      .getBigUint64(0, true));
    // the root's header: a continuation block holding the symbol table and the attribute
    assert.deepEqual(msgs.map((m) => m.type), [16, 17, 12]);
    const [cont, sym, attr] = msgs;
    const sv = new DataView(sym.body.buffer, sym.body.byteOffset);
    const tree = Number(sv.getBigUint64(0, true)), heap = Number(sv.getBigUint64(8, true));
    assert.equal((await describe(path)).arrays.length, 2);
    const hv = new DataView(b.buffer, heap);
    const heapData = Number(hv.getBigUint64(24, true)), free = Number(hv.getBigUint64(16, true));
    // attribute message v1: version, reserved, name/datatype/dataspace sizes, then each field
    // padded to 8 bytes: name "title\0" at +8, the datatype (variable-length string) at +16,
    // its base type at +24, the dataspace at +16 + 24
    const a = attr.at, dt = a + 16;
    assert.equal(b[a], 1);
    const cases: [string, (o: Uint8Array, dv: DataView) => void, RegExp][] = [
      ["ver.h5", (o) => (o[a] = 0), /attribute message version 0 \(1 to 3\)/],
      ["name.h5", (o) => (o[a + 8 + 2] = 0), /name stored as 6 bytes, its NUL is at 2/],
      ["dtver.h5", (o) => (o[dt] = 0), /datatype version 0 \(class 0\)/],
      [
        "base.h5",
        (_o, dv) => dv.setUint32(dt + 12, 0x7fff0001, true),
        /base type of a variable-length type: integer type of 2147418113 bytes/,
      ],
      [
        "dtsize.h5",
        (_o, dv) => dv.setUint32(dt + 4, 0x7fffffff, true),
        /data of 1 elements × 2147483647 bytes exceeds the 16 bytes the message holds/,
      ],
      ["dsver.h5", (o) => (o[a + 16 + 24] = 0xff), /dataspace version 255 \(1 or 2\)/],
      [
        "fields.h5",
        (_o, dv) => dv.setUint16(a + 4, 0x100, true),
        /fields of 6\+256\+8 bytes run past the 64-byte message/,
      ],
      [
        "cont.h5",
        // h5wasm's 32-bit size_t keeps the low 32 bits of the length, which are intact
        (_o, dv) =>
          dv.setBigUint64(cont.at + 8, (1n << 36n) + dv.getBigUint64(cont.at + 8, true), true),
        /continuation block at address \d+ \(68719476832 bytes\) runs past the end of the file/,
      ],
      [
        "sib.h5",
        (o) => (o[tree + 8 + 8 + 6] = 0x7f),
        /group B-tree node at \d+: right sibling address \d+ is past the end of the file/,
      ],
      [
        "key.h5",
        (o) => (o[tree + 24 + 4] = 0x80),
        /group B-tree node at \d+: key 0 is name offset 549755813888, beyond the \d+-byte name heap/,
      ],
      [
        "freesize.h5",
        (o) => (o[heapData + free + 8 + 4] = 0xff), // the free block's size, high bytes
        /local heap at \d+: free block at offset \d+ of \d+ bytes runs past its \d+ bytes/,
      ],
    ];
    for (const [name, edit, re] of cases) {
      await refused(
        mutated(b, name, edit),
        new RegExp(
          `${
            name.replace(".", "\\.")
          }: /: damaged object header: .*${re.source}.*; corrupt file\\?$`,
        ),
      );
    }
    // a chunk index node whose sibling is address 0 (the superblock), in the dataset's header
    await refused(
      mutated(b, "chunksib.h5", (_o, v) => v.setBigUint64(chunkTree + 8, 0n, true)),
      /chunksib\.h5: \/entry\/chunked: damaged object header: chunk B-tree node at \d+: left sibling address 0 is not a chunk B-tree node; corrupt file\?$/,
    );
    // a heap free list out of bounds: h5wasm's HDF5 refuses it itself
    await refused(
      mutated(b, "free.h5", (_o, v) => v.setBigUint64(heap + 16, 1n << 20n, true)),
      /free\.h5: \/: cannot list group: bad heap free list/,
    );
    // dimensions beyond 2^53: h5wasm gives 9007199254740992, the dataspace message ...993
    const d = await describe(big);
    assert.deepEqual(d.arrays[0].exactShape, ["9007199254740993", "3"]);
    assert.match(formatDescription(d), /x {2}uint8 \(9007199254740993, 3\)/);
    assert.match(formatDescription(d, { json: true }), /"9007199254740993"/);
  },
});
