/**
 * Long reads stop on a signal: describe() passes safe points (lib/run/interrupt.ts) while it
 * streams an NPY, NPZ member, NIfTI volume, tar.gz, HDF5 dataset or TIFF stack, so `inspect`
 * (runTool's SIGINT handler) pauses at the N-th with LUMEN_PAUSE_AT=N and exits 130 on SIGINT;
 * and a SIGINT in the middle of a long read (a 2 GiB NPY, or a file that makes HDF5 loop) ends
 * the tool within about a second (2 s allowed for a loaded machine; it took 14.7 s before).
 */
import assert from "node:assert/strict";
import { H5File } from "../../lib/io/hdf5.ts";
import { encodePng } from "../../lib/io/png.ts";
import { encodeTiff } from "../../lib/io/tiff.ts";
import { ROOT } from "../_helpers.ts";
import {
  niftiGzOfZeros,
  sparseTarGz,
  writeLoopingNexus,
  writeSparseNpy,
} from "../fixtures/hostile/make_hostile.ts";
import { encodeNpz } from "../../lib/io/npz.ts";
import { deflate } from "../../lib/io/zip.ts";

const INSPECT = `${ROOT}/tools/inspect.ts`;

function inspect(path: string, pauseAt?: number): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: ["run", "--quiet", "--allow-read", "--allow-env=LUMEN_PAUSE_AT", INSPECT, path],
    env: pauseAt ? { LUMEN_PAUSE_AT: String(pauseAt) } : {},
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Resolves with stderr so far once it contains `text` (or the stream ends). */
async function waitFor(p: Deno.ChildProcess, text: string): Promise<string> {
  let seen = "";
  const reader = p.stderr.pipeThrough(new TextDecoderStream()).getReader();
  while (!seen.includes(text)) {
    const r = await reader.read();
    if (r.done) break;
    seen += r.value;
  }
  reader.releaseLock();
  p.stderr.cancel().catch(() => {});
  return seen;
}

Deno.test("hostile interrupt: every streamed format pauses at a safe point, SIGINT exits 130", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeSparseNpy(`${dir}/a.npy`, [64, 1024, 1024]); // 512 MiB, 32 pieces
    Deno.writeFileSync(`${dir}/b.nii.gz`, niftiGzOfZeros([128, 128, 128]));
    Deno.writeFileSync(`${dir}/c.tar.gz`, sparseTarGz(64 * 2 ** 20));
    const n = 2 ** 23;
    Deno.writeFileSync(
      `${dir}/d.npz`,
      encodeNpz({ x: { dtype: "float64", shape: [n], data: new Float64Array(n) } }),
    );
    const h5 = await H5File.open(`${dir}/e.h5`, "w");
    h5.write("/x", { dtype: "float32", shape: [64, 256, 1024], data: new Float32Array(2 ** 24) });
    h5.close();
    const page = { dtype: "uint8" as const, shape: [16, 16], data: new Uint8Array(256) };
    Deno.writeFileSync(`${dir}/f.tif`, encodeTiff([page, page, page, page, page]));
    for (const f of ["a.npy", "b.nii.gz", "c.tar.gz", "d.npz", "e.h5", "f.tif"]) {
      const p = inspect(`${dir}/${f}`, 3);
      const err = await waitFor(p, "paused at safe point 3");
      assert.match(err, /lumen: paused at safe point 3/, `${f}: ${err}`);
      p.kill("SIGINT");
      const st = await p.status;
      assert.equal(st.code, 130, f);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hostile interrupt: PNG decoding passes safe points (every 256 rows)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    // 4096 rows of zeros: 16 safe points while rows are unfiltered
    const img = { dtype: "uint8" as const, shape: [4096, 512], data: new Uint8Array(2 ** 21) };
    Deno.writeFileSync(`${dir}/g.png`, encodePng(img));
    const p = inspect(`${dir}/g.png`, 5);
    const err = await waitFor(p, "paused at safe point 5");
    assert.match(err, /lumen: paused at safe point 5/, err);
    p.kill("SIGINT");
    assert.equal((await p.status).code, 130);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hostile interrupt: CSV parsing passes safe points (every 65,536 rows)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/t.csv`, "a,b\n" + "1,2\n".repeat(300_000)); // 4 safe points
    const p = inspect(`${dir}/t.csv`, 3);
    const err = await waitFor(p, "paused at safe point 3");
    assert.match(err, /lumen: paused at safe point 3/, err);
    p.kill("SIGINT");
    assert.equal((await p.status).code, 130);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hostile interrupt: SIGINT during a long read ends the tool at the safe point inside the read", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    writeSparseNpy(`${dir}/big.npy`, [256, 1024, 1024]); // 2 GiB of zeros, read for seconds
    // paused deep inside the read (its 20th piece), then signalled: no timing involved. The
    // paused safe point never returns, so exit 130 means the handler ran there, mid-read.
    const p = inspect(`${dir}/big.npy`, 20);
    await waitFor(p, "paused at safe point 20");
    p.kill("SIGINT");
    assert.equal((await p.status).code, 130);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("hostile interrupt: a file that makes HDF5 loop is stopped by its stall", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = await writeLoopingNexus(`${dir}/loop.nxs`);
    const q = inspect(path);
    const err = await waitFor(q, "\n");
    assert.equal((await q.status).code, 1);
    assert.match(err, /loop\.nxs: the HDF5 library made no progress for 5 s \(stopped\)/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** A one-page TIFF of `h`×`w` uint8 in a single strip of `strip` bytes (compression `comp`). */
function singleStripTiff(w: number, h: number, comp: number, strip: Uint8Array): Uint8Array {
  const tags: [number, number, number][] = [ // tag, type (3 SHORT, 4 LONG), value
    [256, 4, w],
    [257, 4, h],
    [258, 3, 8],
    [259, 3, comp],
    [262, 3, 1],
    [273, 4, 8 + 2 + 8 * 12 + 4], // the strip follows the IFD
    [278, 4, h],
    [279, 4, strip.length],
  ];
  const ifd = new Uint8Array(2 + tags.length * 12 + 4);
  const dv = new DataView(ifd.buffer);
  dv.setUint16(0, tags.length, true);
  tags.forEach(([tag, type, v], i) => {
    dv.setUint16(2 + i * 12, tag, true);
    dv.setUint16(4 + i * 12, type, true);
    dv.setUint32(6 + i * 12, 1, true);
    if (type === 3) dv.setUint16(10 + i * 12, v, true);
    else dv.setUint32(10 + i * 12, v, true);
  });
  const head = new Uint8Array([0x49, 0x49, 42, 0, 8, 0, 0, 0]);
  const out = new Uint8Array(head.length + ifd.length + strip.length);
  out.set(head);
  out.set(ifd, head.length);
  out.set(strip, head.length + ifd.length);
  return out;
}

Deno.test("hostile interrupt: a single huge TIFF strip stops part-way (deflate, PackBits)", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const w = 4096, h = 4096; // 16 MiB in one strip: one page, one strip, no page-level point
    Deno.writeFileSync(`${dir}/z.tif`, singleStripTiff(w, h, 8, deflate(new Uint8Array(w * h))));
    const runs = new Uint8Array((w * h / 128) * 2).map((_, i) => (i % 2 ? 0 : 0x81)); // -127: 128×0
    Deno.writeFileSync(`${dir}/p.tif`, singleStripTiff(w, h, 32773, runs));
    for (const f of ["z.tif", "p.tif"]) {
      const p = inspect(`${dir}/${f}`, 3);
      const err = await waitFor(p, "paused at safe point 3");
      assert.match(err, /lumen: paused at safe point 3/, `${f}: ${err}`);
      p.kill("SIGINT");
      assert.equal((await p.status).code, 130, f);
    }
    // the same files read whole: 4096×4096 zeros
    for (const f of ["z.tif", "p.tif"]) {
      const out = new Deno.Command("deno", {
        args: ["run", "--quiet", "--allow-read", INSPECT, `${dir}/${f}`, "--json"],
        stdout: "piped",
      }).outputSync();
      const d = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.deepEqual([d.arrays[0].shape, d.arrays[0].min, d.arrays[0].max], [[4096, 4096], 0, 0]);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
