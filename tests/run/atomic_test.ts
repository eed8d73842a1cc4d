/**
 * lib/run/atomic: files and directories appear whole or not at all, nothing is replaced without
 * `overwrite`, and no temporary names are left behind on success or failure.
 */
import assert from "node:assert/strict";
import { assertLumenError, listDir, tempDir } from "../io/formats_helpers.ts";
import {
  buildDirAtomic,
  readInput,
  writeChunksAtomicSync,
  writeFileAtomic,
  writeTextAtomic,
} from "../../lib/run/atomic.ts";

Deno.test("atomic: files are written whole, refused when present unless overwrite", async () => {
  const dir = tempDir();
  try {
    const p = `${dir}/a.bin`;
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    assert.deepEqual(await Deno.readFile(p), new Uint8Array([1, 2, 3]));
    await assertLumenError(
      () => writeFileAtomic(p, new Uint8Array([9])),
      /a\.bin: exists; pass --overwrite$/,
    );
    assert.deepEqual(await Deno.readFile(p), new Uint8Array([1, 2, 3]));
    await writeTextAtomic(p, "new\n", { overwrite: true });
    assert.equal(await Deno.readTextFile(p), "new\n");
    writeChunksAtomicSync(`${dir}/c.bin`, [new Uint8Array([1]), new Uint8Array([2, 3])]);
    assert.deepEqual(await Deno.readFile(`${dir}/c.bin`), new Uint8Array([1, 2, 3]));
    assert.deepEqual(listDir(dir), ["a.bin", "c.bin"]);
    // A failing chunk source leaves neither the file nor a temporary.
    assert.throws(() =>
      writeChunksAtomicSync(
        `${dir}/d.bin`,
        (function* () {
          yield new Uint8Array([1]);
          throw new Error("source failed");
        })(),
      )
    );
    assert.deepEqual(listDir(dir), ["a.bin", "c.bin"]);
    await assertLumenError(
      () => writeFileAtomic(`${dir}/missing/x.bin`, new Uint8Array(1)),
      /missing\/x\.bin: cannot write: directory .*\/missing does not exist$/,
    );
    Deno.mkdirSync(`${dir}/sub`);
    await assertLumenError(
      () => writeFileAtomic(`${dir}/sub`, new Uint8Array(1), { overwrite: true }),
      /sub: cannot write: /,
    );
    assert.deepEqual(listDir(dir), ["a.bin", "c.bin", "sub"]);
    await assertLumenError(() => readInput(`${dir}/nope`), /nope: no such file$/);
    await assertLumenError(() => readInput(`${dir}/sub`), /sub: is a directory, expected a file$/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("atomic: directories are built under a temporary name and renamed in place", async () => {
  const dir = tempDir();
  try {
    const dest = `${dir}/run`;
    const r = await buildDirAtomic(dest, (tmp) => {
      assert.notEqual(tmp, dest);
      Deno.writeTextFileSync(`${tmp}/a.txt`, "a");
      return 42;
    });
    assert.equal(r, 42);
    assert.equal(await Deno.readTextFile(`${dest}/a.txt`), "a");
    // A failing build leaves nothing, and the existing tree stays.
    await assert.rejects(
      buildDirAtomic(`${dir}/failed`, (tmp) => {
        Deno.writeTextFileSync(`${tmp}/half.txt`, "x");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.deepEqual(listDir(dir), ["run"]);
    await assertLumenError(() => buildDirAtomic(dest, () => {}), /run: exists; pass --overwrite$/);
    await assert.rejects(
      buildDirAtomic(dest, () => {
        throw new Error("boom");
      }, { overwrite: true }),
      /boom/,
    );
    assert.equal(await Deno.readTextFile(`${dest}/a.txt`), "a");
    await buildDirAtomic(dest, (tmp) => Deno.writeTextFileSync(`${tmp}/b.txt`, "b"), {
      overwrite: true,
    });
    assert.deepEqual(listDir(dest), ["b.txt"]);
    assert.deepEqual(listDir(dir), ["run"]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
