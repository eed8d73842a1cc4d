import assert from "node:assert/strict";
import { H5File } from "../../lib/io/hdf5.ts";
import { ndarray } from "../../lib/io/array.ts";

Deno.test("HDF5 files written at different times have the same bytes (same content → same file)", async () => {
  const dir = await Deno.makeTempDir();
  const write = async (path: string) => {
    const f = await H5File.open(path, "w");
    f.createGroup("/entry");
    f.write("/entry/a", ndarray(Float32Array.from({ length: 64 }, (_, i) => i / 3), [8, 8]), {
      chunks: [4, 8],
      compression: 4,
      attrs: { units: "mm" },
    });
    f.createDataset("/entry/b", [4, 2, 3], "float32", { chunks: [4, 1, 3] });
    f.writeSlice("/entry/b", [0, 1, 0], ndarray(new Float32Array(12).fill(2), [4, 1, 3]));
    f.setAttr("/entry/b", "rows_done", 1);
    f.flush();
    f.close();
  };
  await write(`${dir}/1.h5`);
  await new Promise((r) => setTimeout(r, 1100));
  await write(`${dir}/2.h5`);
  assert.deepEqual(await Deno.readFile(`${dir}/1.h5`), await Deno.readFile(`${dir}/2.h5`));
  await Deno.remove(dir, { recursive: true });
});
