/**
 * generate_mask over the direct (positioned-read) path of lib/io/hdf5_direct.ts: on h5py-written
 * i12 scans (tests/fixtures/hdf5_direct.py) with one-frame chunks, with (4, 5, 40) chunks that
 * cut across every slab of rows, and gzip-compressed (read by HDF5), the archive is byte for
 * byte the one the tool wrote before the direct path existed, and the one HDF5's reads give.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hasPython, pyFixture, runTool } from "../../_helpers.ts";
import { openScan } from "../../../lib/io/nexus.ts";
import { maskScan, maskScanToEntry } from "../../../lib/pipelines/nostripesnet/mask_scan.ts";
import { maskScanToArchive } from "../../../lib/pipelines/nostripesnet/mask_parallel.ts";
import { appendNpz } from "../../../lib/io/npz.ts";
import { ndarray } from "../../../lib/io/array.ts";
import { MASK_DETECT, MASK_FLAGS, MASK_MERGE } from "./_mask_params.ts";

const PY = hasPython("h5py", "numpy");
const PARAMS = MASK_FLAGS, detect = MASK_DETECT, merge = MASK_MERGE;
/** SHA-256 of the archive generate_mask wrote for these scans with HDF5 reads alone. */
const BEFORE = "5ecbdb2ca4d1b70451130d2b9a63abde89313ae94036662ccdead9f86714652e";

const sha256 = async (p: string) =>
  createHash("sha256").update(await Deno.readFile(p)).digest("hex");

Deno.test({
  name:
    "mask_direct: generate_mask's archive is byte for byte the same with positioned reads (frame chunks, tiles across slabs) as with HDF5's",
  ignore: !PY,
  fn: async () => {
    const fx = await pyFixture("hdf5_direct");
    const dir = await Deno.makeTempDir({ prefix: "lumen_maskdirect_" });
    try {
      for (const [name, route] of [["frames", "direct"], ["tiles", "direct"], ["gzip", "hdf5"]]) {
        const scanPath = `${fx}/scan_${name}.nxs`;
        const scan = await openScan(scanPath);
        assert.equal(scan.file.readRoute(scan.paths.data).route, route, name);
        const archive = `${dir}/${name}.npz`;
        const r = await runTool("nostripesnet/generate_mask", [
          "--allow-read",
          `--allow-write=${dir}`,
        ], [
          "--h5",
          scanPath,
          "-a",
          archive,
          ...PARAMS,
          "--slab-rows",
          "3",
          "--file-name",
          "mscan",
          "--quiet",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(await sha256(archive), BEFORE, `${name}: the archive of HDF5 reads`);
        // in the library, both routes, two workers and slabs of 2 rows
        const via = async (directReads: boolean) => {
          const out = `${dir}/${name}_${directReads}.npz`;
          const o = { detect, merge, slabRows: 2, workers: 2 };
          const s = await openScan(scanPath, { directReads });
          const m = await maskScanToEntry(s, { directReads }, o, out, "mscan", true);
          s.close();
          assert.ok(m.ones > 0, `${name}: stripes found`);
          return await Deno.readFile(out);
        };
        assert.deepEqual(await via(true), await via(false), name);
        scan.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "mask_direct: the streamed archive, deflated in many reused blocks from slabs in reused buffers, is appendNpz of the in-memory mask",
  ignore: !PY,
  fn: async () => {
    const fx = await pyFixture("hdf5_direct");
    const dir = await Deno.makeTempDir({ prefix: "lumen_maskblocks_" });
    try {
      const path = `${fx}/scan_tiles.nxs`;
      const scan = await openScan(path);
      const ref = await maskScan(scan, { detect, merge, backend: "wasm" });
      const shape = ref.shape;
      scan.close();
      const want = `${dir}/want.npz`;
      await appendNpz(want, "mscan", ndarray(ref.mask, [...shape], "uint8"), { compress: true });
      // 150 angles: blocks of 1, 7 and 64 angles (the last one short), fed to zlib in pieces of
      // 64 KiB, 128 KiB or 1 MiB (the mask is 183 KiB), 1 to 3 workers
      const cases = [[1, 2, 1, 64], [7, 3, 2, 128], [64, 1, 5, 1024]];
      for (const [angles, workers, slabRows, pieceKiB] of cases) {
        const got = `${dir}/got_${angles}.npz`;
        const r = await maskScanToArchive({
          path,
          scanOptions: {},
          shape,
          detect,
          merge,
          archive: got,
          entry: "mscan",
          overwrite: true,
          slabRows,
          workers,
          deflateBlockBytes: angles * shape[1] * shape[2],
          deflatePieceBytes: pieceKiB << 10,
        });
        assert.equal(r.ones, ref.ones);
        assert.deepEqual(await Deno.readFile(got), await Deno.readFile(want), `${angles} angles`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
