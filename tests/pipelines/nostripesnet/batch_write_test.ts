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
