/**
 * Hostile HDF5 (issue 16, defect 1): hard links forming a cycle are walked once per object
 * (by address), as h5py's visit does, instead of growing exponentially.
 */
import assert from "node:assert/strict";
import { hasPython, ROOT, runPython } from "../_helpers.ts";
import { H5File } from "../../lib/io/hdf5.ts";

const PY = hasPython("h5py", "numpy");

Deno.test({
  name: "hostile hdf5: hard-link cycle walks each object once, like h5py visit",
  ignore: !PY,
  async fn() {
    const dir = `${ROOT}/tests/fixtures/out/hostile`;
    Deno.mkdirSync(dir, { recursive: true });
    const path = `${dir}/cycle.h5`;
    const expected: string[] = JSON.parse(
      runPython("tests/fixtures/hostile/hdf5_cycle.py", [path]).trim(),
    );
    const f = await H5File.open(path);
    try {
      const names = f.walk("/").map((n) => n.path.replace(/^\//, "")).sort();
      assert.deepEqual(names, [...expected].sort());
    } finally {
      f.close();
    }
  },
});
