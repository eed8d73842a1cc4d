/**
 * Hostile sizes: JPEG, NPY, NPZ and NIfTI files whose headers declare more than the memory
 * budget are refused with one line naming the file, the declared size and the budget, before
 * anything of that size is allocated; decompression bombs stop at the size they declare.
 * Reproducers: tests/fixtures/hostile/make_hostile.ts.
 */
import assert from "node:assert/strict";
import { decodeJpeg } from "../../lib/io/jpeg.ts";
import { decodeNpy, readNpy } from "../../lib/io/npy.ts";
import { decodeNpz, readNpz } from "../../lib/io/npz.ts";
import { decodeNifti } from "../../lib/io/nifti.ts";
import { maxMemory, parseMemorySize, setMaxMemory } from "../../lib/io/budget.ts";
import { describe } from "../../lib/io/describe/mod.ts";
import { LumenError } from "../../lib/run/errors.ts";
import {
  hugeJpeg,
  niftiGzOfZeros,
  npyOf,
  npzBomb,
  npzOfZeros,
  writeSparseNpy,
} from "../fixtures/hostile/make_hostile.ts";

const MiB = 2 ** 20;

/** Asserts one LumenError line naming `file`, the declared size and the `limit`. */
function refused(e: unknown, file: RegExp, limit: number): true {
  assert.ok(e instanceof LumenError, String(e));
  assert.match(e.message, file);
  assert.match(e.message, new RegExp(`would take \\d+ bytes .*over the ${limit}-byte limit`));
  assert.ok(!e.message.includes("\n"));
  return true;
}

Deno.test("budget: sizes parse as --max-memory takes them", () => {
  assert.equal(parseMemorySize("2G"), 2 ** 31);
  assert.equal(parseMemorySize("512M"), 512 * MiB);
  assert.equal(parseMemorySize("1.5GiB"), 1.5 * 2 ** 30);
  assert.equal(parseMemorySize("500MB"), 5e8);
  assert.equal(parseMemorySize("4096"), 4096);
  assert.throws(() => parseMemorySize("lots"), /--max-memory: 'lots' is not a memory size/);
  assert.equal(maxMemory(), 2 ** 31);
});

Deno.test("budget: a 1 kB JPEG declaring 8000x8000 is refused before decoding", () => {
  const jpg = hugeJpeg(8000, 8000);
  assert.ok(jpg.length < 2000);
  assert.throws(
    () => decodeJpeg(jpg, "huge.jpg", { maxMemory: 64 * MiB }),
    (e) => refused(e, /^huge\.jpg: frame header: 8000×8000×3 image/, 64 * MiB),
  );
});

Deno.test("budget: NPY data over the budget is refused, truncation still named first", async () => {
  const small = npyOf([1024, 1024], 8 * 1024 * 1024); // 8 MiB of data
  assert.throws(
    () => decodeNpy(small, "a.npy", { maxMemory: 4 * MiB }),
    (e) => refused(e, /^a\.npy: header: shape \(1024, 1024\) of <f8/, 4 * MiB),
  );
  assert.equal(decodeNpy(small, "a.npy").data.length, 1024 * 1024);
  // a 1 kB file declaring 100 MiB is truncated, whatever the budget
  assert.throws(() => decodeNpy(npyOf([100, 1024, 128], 1024), "t.npy"), /data truncated/);
  // a 100 MiB (sparse) file is refused from its header, before it is read
  const dir = Deno.makeTempDirSync();
  try {
    writeSparseNpy(`${dir}/big.npy`, [100, 1024, 128]);
    const old = setMaxMemory(64 * MiB);
    try {
      await assert.rejects(
        readNpy(`${dir}/big.npy`),
        (e) => refused(e, /big\.npy: header: shape \(100, 1024, 128\)/, 64 * MiB),
      );
    } finally {
      setMaxMemory(old);
    }
    assert.equal((await readNpy(`${dir}/big.npy`)).data.length, 100 * 1024 * 128);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("budget: NPZ members are checked before inflating; a lying directory stops", async () => {
  const zeros = npzOfZeros(100 * 2 ** 17); // 100 MiB of float64 zeros in about 100 kB
  assert.throws(
    () => decodeNpz(zeros, "z.npz", { maxMemory: 64 * MiB }),
    (e) => refused(e, /^z\.npz: entry 'x\.npy': a member of \d+ bytes/, 64 * MiB),
  );
  assert.throws(
    () => decodeNpz(npzBomb(100 * 2 ** 17), "bomb.npz"),
    /: bomb\.npz: entry 'x\.npy': decompresses past the 4096 bytes expected$/,
  );
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeFileSync(`${dir}/z.npz`, zeros);
    await assert.rejects(
      readNpz(`${dir}/z.npz`, { maxMemory: 64 * MiB }),
      (e) => refused(e, /z\.npz: entry 'x\.npy'/, 64 * MiB),
    );
    // describe streams the member, so it needs no budget
    const d = await describe(`${dir}/z.npz`);
    assert.deepEqual([d.arrays[0].min, d.arrays[0].max], [0, 0]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("budget: a 64 kB .nii.gz of 256^3 float32 is refused before gunzipping", () => {
  const gz = niftiGzOfZeros([256, 256, 256]);
  assert.ok(gz.length < 200_000);
  assert.throws(
    () => decodeNifti(gz, "v.nii.gz", { maxMemory: 64 * MiB }),
    (e) => refused(e, /^v\.nii\.gz: dim \(byte 40\): 256×256×256 float32 voxels/, 64 * MiB),
  );
  // a small image followed by a gzip bomb stops at the budget
  const bomb = niftiGzOfZeros([4, 4, 4], 200 * MiB);
  assert.throws(
    () => decodeNifti(bomb, "b.nii.gz", { maxMemory: 16 * MiB }),
    /: b\.nii\.gz: gzip: decompresses to more than 16777216 bytes/,
  );
  assert.deepEqual(decodeNifti(niftiGzOfZeros([4, 4, 4]), "ok.nii.gz").data.shape, [4, 4, 4]);
});
