import assert from "node:assert/strict";
import { writeFilesAtomic } from "../../../lib/pipelines/nostripesnet/batch_write.ts";

Deno.test("batch_write: a group of files written in place (replacing), no temporary left; a failing path leaves the earlier files complete and no temporary", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen_batch_" });
  try {
    await Deno.writeTextFile(`${dir}/b.bin`, "old");
    const files: [string, Uint8Array][] = [
      [`${dir}/a.bin`, new Uint8Array([1, 2, 3])],
      [`${dir}/b.bin`, new Uint8Array(100_000).fill(7)],
    ];
    await writeFilesAtomic(files);
    assert.deepEqual(await Deno.readFile(`${dir}/a.bin`), files[0][1]);
    assert.deepEqual(await Deno.readFile(`${dir}/b.bin`), files[1][1]);
    await assert.rejects(
      writeFilesAtomic([[`${dir}/c.bin`, new Uint8Array(4)], [
        `${dir}/no/d.bin`,
        new Uint8Array(4),
      ]]),
      /no\/d\.bin/,
    );
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["a.bin", "b.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("batch_write: FileGroup writes at add (the bytes may change after), commits in place, and an abort or a failing path leaves no temporary", async () => {
  const { FileGroup } = await import("../../../lib/pipelines/nostripesnet/batch_write.ts");
  const dir = await Deno.makeTempDir({ prefix: "lumen_group_" });
  const names = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  try {
    await Deno.writeTextFile(`${dir}/b.bin`, "old");
    const buf = new Uint8Array(70_000).fill(3);
    const g = new FileGroup();
    g.add(`${dir}/a.bin`, buf);
    buf.fill(9); // reused at once, as a kernel's memory is
    g.add(`${dir}/b.bin`, buf.subarray(0, 5));
    assert.deepEqual(names().filter((n) => !n.endsWith(".tmp")), ["b.bin"]);
    await g.commit();
    assert.deepEqual(names(), ["a.bin", "b.bin"]);
    assert.deepEqual(await Deno.readFile(`${dir}/a.bin`), new Uint8Array(70_000).fill(3));
    assert.deepEqual(await Deno.readFile(`${dir}/b.bin`), new Uint8Array(5).fill(9));
    const dropped = new FileGroup();
    dropped.add(`${dir}/c.bin`, buf);
    dropped.abort();
    assert.deepEqual(names(), ["a.bin", "b.bin"]);
    const bad = new FileGroup();
    bad.add(`${dir}/d.bin`, buf);
    assert.throws(() => bad.add(`${dir}/no/e.bin`, buf), /no\/e\.bin/);
    bad.abort();
    assert.deepEqual(names(), ["a.bin", "b.bin"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
