/**
 * Corrupt files that the Python reference readers reject and Lumen once reported as fine (found
 * by the fuzz suite's reference check, tests/io/_fuzz_reference.ts), sizes beyond 2^53 printed
 * exactly, and the reference check itself (a finding, a mismatch, a match).
 */
import assert from "node:assert/strict";
import { jpegJs } from "../../lib/deps.ts";
import { checkMemory } from "../../lib/io/budget.ts";
import { describe } from "../../lib/io/describe/mod.ts";
import { decodeJpeg } from "../../lib/io/jpeg.ts";
import { encodeNifti } from "../../lib/io/nifti.ts";
import { decodeNpy, encodeNpy } from "../../lib/io/npy.ts";
import { decodePng } from "../../lib/io/png.ts";
import { encodeNpz } from "../../lib/io/npz.ts";
import { parseYaml } from "../../lib/io/yaml.ts";
import { crc32 } from "../../lib/io/zip.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { tarHeader } from "../fixtures/hostile/make_hostile.ts";
import { referenceAvailable, referenceCheck } from "./_fuzz_reference.ts";

const dir = Deno.makeTempDirSync({ prefix: "lumen_hostile_ref_" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

function put(name: string, bytes: Uint8Array): string {
  Deno.writeFileSync(`${dir}/${name}`, bytes);
  return `${dir}/${name}`;
}

/** Asserts that `fn` ends in a one-line LumenError matching `re`. */
async function oneLine(fn: () => unknown, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof LumenError, String((e as Error)?.stack ?? e));
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), e.message);
    return;
  }
  assert.fail(`no error, expected ${re}`);
}

const enc = new TextEncoder();
const f32 = { dtype: "float32" as const, shape: [4, 4], data: new Float32Array(16).fill(1) };

Deno.test("hostile reference: YAML with a control character or a lone CR line break", async () => {
  await oneLine(
    () => parseYaml("a: 1\nb: x\0y\n", "c.yaml"),
    /^c\.yaml: line 2:5: control character U\+0000, which YAML does not allow/,
  );
  // a lone \r is a line break (as PyYAML reads it): "3" is then a key without a value
  await oneLine(() => parseYaml("a: 50\nlr: 1.0e\r3\n", "c.yaml"), /^c\.yaml: line 3:1: /);
  assert.deepEqual(parseYaml("a: 1\r\nb: é 😀\r\n", "w.yaml"), { a: 1, b: "é 😀" });
  // a ':' with no key (PyYAML refuses it); the parser made it a second entry with key ""
  await oneLine(
    () => parseYaml("epochs: 10\nlayers: [64, 128]: [1]\n", "k.yaml"),
    /^k\.yaml: line 2:18: a mapping entry without a key/,
  );
  // an application tag is read as the node it tags, without a warning on stderr
  assert.deepEqual(parseYaml("p: !pspace {a: 1}\n", "t.yaml"), { p: { a: 1 } });
});

Deno.test("hostile reference: an empty tar, and one cut inside a member's padding", async () => {
  await oneLine(() => describe(put("empty.tar", new Uint8Array(0))), /empty file \(0 bytes\)/);
  const data = enc.encode("hello\n");
  const tar = new Uint8Array(512 + 512 + 1024);
  tar.set(tarHeader("a.txt", data.length));
  tar.set(data, 512);
  assert.equal(((await describe(put("whole.tar", tar))).members as unknown[]).length, 1);
  await oneLine(
    () => describe(put("cut.tar", tar.subarray(0, 512 + 100))),
    /member 'a\.txt' \(header at byte 0\): the archive ends inside the padding after its data \(412 bytes short\)/,
  );
});

Deno.test("hostile reference: pax records as strictly as tarfile reads them", async () => {
  const pax = (records: string, padByte = 0) => {
    const body = enc.encode(records);
    const block = new Uint8Array(512).fill(padByte, body.length);
    block.set(body);
    const tar = new Uint8Array(512 * 3 + 1024);
    tar.set(tarHeader("PaxHeaders/a", body.length, 0o644, "x"));
    tar.set(block, 512);
    tar.set(tarHeader("a", 0), 1024);
    return tar;
  };
  const ok = await describe(put("pax.tar", pax("12 uid=1000\n")));
  assert.deepEqual((ok.members as { name: string }[]).map((m) => m.name), ["a"]);
  await oneLine(() => describe(put("nl.tar", pax("12 uid=10000"))), /does not end in a newline/);
  await oneLine(() => describe(put("kv.tar", pax("11 uid1000\n"))), /has no 'key=value'/);
  await oneLine(
    () => describe(put("pad.tar", pax("12 uid=1000\n", 3))),
    /byte 3 after its records, not NUL/,
  );
});

Deno.test("hostile reference: ZIP names that differ from the local header; a central directory of the wrong size; CRC of other members", async () => {
  const npz = encodeNpz({ x: f32 });
  // the central directory's copy of the name: "x.npy" → "x.npz"
  const cen = npz.findLastIndex((_, i) =>
    npz[i] === 0x50 && npz[i + 1] === 0x4b && npz[i + 2] === 1
  );
  const renamed = npz.slice();
  renamed[cen + 46 + 4] = "z".charCodeAt(0);
  await oneLine(
    () => describe(put("renamed.npz", renamed)),
    /entry 'x\.npz' \(byte 0\): its local header names it 'x\.npy'; damaged archive\?/,
  );
  // the end record says 0 entries, yet the directory holds one
  const eocd = npz.length - 22;
  const counted = npz.slice();
  counted[eocd + 10] = 0;
  await oneLine(
    () => describe(put("counted.npz", counted)),
    /the central directory is \d+ bytes, its 0 entries take 0; damaged archive\?/,
  );
  // a stored text member whose byte was changed: its CRC-32 no longer matches
  const zip = storedZip("notes.txt", enc.encode("hello zip\n"));
  assert.equal((await describe(put("ok.zip", zip))).format, "zip");
  const bad = zip.slice();
  bad[30 + 9] ^= 1;
  await oneLine(() => describe(put("bad.zip", bad)), /entry 'notes\.txt'.*CRC-32 mismatch/);
});

/** A ZIP of one stored member. */
function storedZip(name: string, data: Uint8Array): Uint8Array {
  const n = enc.encode(name), crc = crc32(data);
  const loc = new Uint8Array(30 + n.length), cen = new Uint8Array(46 + n.length);
  const end = new Uint8Array(22);
  const l = new DataView(loc.buffer), c = new DataView(cen.buffer), e = new DataView(end.buffer);
  l.setUint32(0, 0x04034b50, true);
  l.setUint16(4, 20, true);
  l.setUint32(14, crc, true);
  l.setUint32(18, data.length, true);
  l.setUint32(22, data.length, true);
  l.setUint16(26, n.length, true);
  loc.set(n, 30);
  c.setUint32(0, 0x02014b50, true);
  c.setUint16(6, 20, true);
  c.setUint32(16, crc, true);
  c.setUint32(20, data.length, true);
  c.setUint32(24, data.length, true);
  c.setUint16(28, n.length, true);
  cen.set(n, 46);
  e.setUint32(0, 0x06054b50, true);
  e.setUint16(8, 1, true);
  e.setUint16(10, 1, true);
  e.setUint32(12, cen.length, true);
  e.setUint32(16, loc.length + data.length, true);
  const out = new Uint8Array(loc.length + data.length + cen.length + 22);
  out.set(loc);
  out.set(data, loc.length);
  out.set(cen, loc.length + data.length);
  out.set(end, loc.length + data.length + cen.length);
  return out;
}

Deno.test("hostile reference: NIfTI voxel offset inside the header; a valid slope with a NaN intercept", async () => {
  const nii = encodeNifti(f32);
  const dv = new DataView(nii.buffer);
  const at = (v: number, off: number) => {
    const b = nii.slice();
    new DataView(b.buffer).setFloat32(off, v, true);
    return b;
  };
  assert.equal(dv.getFloat32(108, true), 352);
  await oneLine(
    () => describe(put("off.nii", at(0.5, 108))),
    /vox_offset \(byte 108\): voxel offset 0\.5 is not a position after the 352-byte header/,
  );
  await oneLine(() => describe(put("nan.nii", at(NaN, 108))), /voxel offset NaN/);
  assert.deepEqual((await describe(put("zero.nii", at(0, 108)))).arrays[0].shape, [4, 4]);
  const sloped = at(2, 112);
  new DataView(sloped.buffer).setFloat32(116, NaN, true);
  await oneLine(
    () => describe(put("slope.nii", sloped)),
    /scl_inter: valid slope but invalid intercept NaN/,
  );
});

Deno.test("hostile reference: NPY headers with whitespace Python does not take as whitespace", async () => {
  const good = encodeNpy(f32);
  assert.deepEqual(decodeNpy(good, "ok.npy").shape, [4, 4]);
  for (const ch of ["\x0b", "\xa0"]) {
    const b = good.slice();
    b[b.indexOf(0x0a) - 1] = ch.charCodeAt(0); // the last padding byte before the newline
    await oneLine(() => decodeNpy(b, "ws.npy"), /^ws\.npy: byte \d+: garbage after the header/);
  }
});

Deno.test("hostile reference: JPEG tables and frames that libjpeg refuses", async () => {
  const rgba = new Uint8Array(16 * 8 * 4).map((_, i) => (i * 29) & 255);
  const jpg = new Uint8Array(jpegJs.encode({ data: rgba, width: 16, height: 8 }, 85).data);
  assert.deepEqual(decodeJpeg(jpg, "ok.jpg").shape, [8, 16, 3]);
  const seg = (m: number) => {
    for (let p = 2; p < jpg.length;) {
      if (jpg[p + 1] === m) return p;
      p += 2 + ((jpg[p + 2] << 8) | jpg[p + 3]);
    }
    throw new Error("no segment");
  };
  const dht = seg(0xc4), sof = seg(0xc0);
  const sym = jpg.slice();
  sym[dht + 4 + 17] = 200; // the first DC table's first symbol: DC symbols are 0..15
  await oneLine(
    () => decodeJpeg(sym, "s.jpg"),
    /^s\.jpg: byte \d+ \(DHT\): bogus DC Huffman table \(symbol 200 > 15\)$/,
  );
  const counts = jpg.slice();
  counts[dht + 5] = 3; // three codes of length 1: more than 1 bit holds
  await oneLine(() => decodeJpeg(counts, "c.jpg"), /\(DHT\): bogus Huffman table/);
  const prec = jpg.slice();
  prec[sof + 4] = 12;
  await oneLine(() => decodeJpeg(prec, "p.jpg"), /\(SOF\): 12-bit samples \(8-bit JPEG only\)$/);
});

Deno.test("hostile reference: CSV rows of other widths than the header are counted", async () => {
  const d = await describe(put("r.csv", enc.encode("a,b,c\n1,2,3\n4,5\n6,7,8,9\n")));
  assert.deepEqual(d.ragged, { rows: 2, widths: [2, 3, 4] });
  assert.equal((await describe(put("ok.csv", enc.encode("a,b\n1,2\n")))).ragged, undefined);
});

Deno.test("sizes beyond 2^53 print exactly", async () => {
  // NPY: 3 × 3002399751580331 bytes = 9007199254740993 (as a float: …992)
  const hdr = "{'descr': '|u1', 'fortran_order': False, 'shape': (3002399751580331, 3), }";
  const text = hdr.padEnd(117, " ") + "\n";
  const npy = new Uint8Array(10 + text.length);
  npy.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(npy.buffer).setUint16(8, text.length, true);
  npy.set(enc.encode(text), 10);
  const p = put("big.npy", npy);
  await oneLine(() => describe(p), /needs 9007199254740993 bytes, found 0$/);
  // PNG: an IHDR of (2^31 - 1)² RGBA at 16 bits; the decoded image and its rows, exactly
  const w = 2 ** 31 - 1;
  const ihdr = new Uint8Array(8 + 25 + 12);
  ihdr.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const pd = new DataView(ihdr.buffer);
  pd.setUint32(8, 13);
  ihdr.set(enc.encode("IHDR"), 12);
  pd.setUint32(16, w);
  pd.setUint32(20, w);
  ihdr.set([16, 6, 0, 0, 0], 24);
  pd.setUint32(29, crc32(ihdr.subarray(12, 29)));
  ihdr.set([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82], 33);
  const cost = BigInt(w) * (2n * BigInt(w) * 8n + 1n);
  await oneLine(() => decodePng(ihdr, "big.png"), new RegExp(`would take ${cost} bytes`));
  const big = "{'descr': '|u1', 'fortran_order': False, 'shape': (9007199254740993,), }";
  const t2 = big.padEnd(117, " ") + "\n";
  const b2 = npy.slice(0, 10 + t2.length);
  b2.set(enc.encode(t2), 10);
  await oneLine(() => decodeNpy(b2, "d.npy"), /shape dimension 9007199254740993 is beyond 2\^53/);
  // tar: a GNU base-256 size of 2^60 + 3
  const h = tarHeader("huge.bin", 0);
  h.fill(0, 124, 136);
  h[124] = 0x80;
  const v = (1n << 60n) + 3n;
  for (let i = 0; i < 8; i++) h[135 - i] = Number((v >> BigInt(8 * i)) & 0xffn);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(enc.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  const tar = new Uint8Array(512 + 1024);
  tar.set(h);
  await oneLine(() => describe(put("huge.tar", tar)), /bad size 1152921504606846979 /);
  // the budget check, given the exact size
  await oneLine(
    () => checkMemory("x", "header", "shape", 2n ** 64n + 1n, 1024),
    /would take 18446744073709551617 bytes/,
  );
});

Deno.test({
  name: "fuzz reference: a corrupt file called fine is a finding; differing shapes a mismatch",
  ignore: !(await referenceAvailable()),
  fn: async () => {
    const good = put("g.npy", encodeNpy(f32));
    const cut = put("t.npy", encodeNpy(f32).subarray(0, 100));
    const fine = (shape: number[]) => ({
      format: "npy",
      arrays: [[good.replace(/^.*\//, ""), shape, "float32"]],
      damaged: [],
    });
    const v = await referenceCheck([
      { path: good, summary: fine([4, 4]) },
      { path: good, summary: fine([4, 5]) },
      { path: cut, summary: fine([4, 4]) },
      { path: cut, summary: { ...fine([4, 4]), damaged: ["data: truncated"] } },
    ]);
    assert.deepEqual(v.map((x) => x.verdict), ["match", "mismatch", "finding", "agree-damaged"]);
  },
});
