/**
 * tools/demo.ts: the synthetic scan opens as an i12 NeXus scan, the sinograms are written with
 * provenance, outputs are not replaced without --overwrite, and the same seed gives the same
 * sinogram bytes.
 */
import assert from "node:assert/strict";
import { runTool } from "./_helpers.ts";
import { openScan } from "../lib/io/nexus.ts";
import { readTiff } from "../lib/io/tiff.ts";
import { readProvenance } from "../lib/run/provenance.ts";
import { PHANTOM, projectPhantom, simulateScan } from "../tools/demo.ts";

Deno.test("demo: writes a scan that opens as i12 and its sinograms, with provenance", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/demo`;
  const perms = ["--allow-read", `--allow-write=${dir}`];
  const args = ["--out", out, "--angles", "24", "--rows", "3", "--cols", "32", "--seed", "5"];
  try {
    const r = await runTool("demo", perms, args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /scan\.nxs: hdf5/);
    assert.match(r.stdout, /data {2}uint16 \(54, 3, 32\)/);
    assert.match(r.stdout, /sinograms\.tif: tiff/);

    const scan = await openScan(`${out}/scan.nxs`);
    try {
      assert.equal(scan.layout, "i12");
      assert.equal(scan.projections.count, 24);
      assert.equal(scan.flats.count, 20);
      assert.equal(scan.darks.count, 10);
      const angles = scan.angles();
      assert.equal(angles.length, 24);
      assert.equal(angles[1], 7.5);
    } finally {
      scan.close();
    }
    const sino = await readTiff(`${out}/sinograms.tif`);
    assert.deepEqual(sino.shape, [3, 24, 32]);
    assert.equal(sino.dtype, "float32");
    const prov = await readProvenance(`${out}/sinograms.tif`);
    assert.equal(prov.tool, "demo");
    assert.equal(prov.seed, 5);
    assert.equal(prov.inputs[0].path, `${out}/scan.nxs`);
    await readProvenance(`${out}/scan.nxs`);

    // no silent replacement
    const again = await runTool("demo", perms, args);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `demo: error: ${out}/scan.nxs: exists; pass --overwrite\n`);
    // same seed, same bytes (sinograms; HDF5 object headers carry times)
    const before = await Deno.readFile(`${out}/sinograms.tif`);
    const over = await runTool("demo", perms, [...args, "--overwrite", "-q"]);
    assert.equal(over.code, 0, over.stderr);
    assert.deepEqual(await Deno.readFile(`${out}/sinograms.tif`), before);
    const prov2 = await readProvenance(`${out}/sinograms.tif`);
    assert.equal(prov2.uuid === prov.uuid, prov2.inputs[0].sha256 === prov.inputs[0].sha256);
    // nothing left behind under temporary names
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assert.deepEqual(names, [
      "scan.nxs",
      "scan.nxs.prov.json",
      "sinograms.tif",
      "sinograms.tif.prov.json",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("demo: the phantom's projections equal numerical line integrals; the scan is seeded", () => {
  // density of the phantom at (x, y, z)
  const density = (x: number, y: number, z: number) => {
    let mu = 0;
    for (const e of PHANTOM) {
      const dx = x - e.x, dy = y - e.y, dz = (z - e.z) / e.c;
      const u = dx * Math.cos(e.phi) + dy * Math.sin(e.phi);
      const v = -dx * Math.sin(e.phi) + dy * Math.cos(e.phi);
      if ((u / e.a) ** 2 + (v / e.b) ** 2 + dz * dz <= 1) mu += e.mu;
    }
    return mu;
  };
  for (const [z, theta, s] of [[0, 0, 0], [0.2, 0.7, -0.3], [-0.5, 2.0, 0.45], [0.05, 3.0, 0.22]]) {
    const n = 40000, t0 = -1.5, dt = 3 / n;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const t = t0 + (i + 0.5) * dt;
      sum += density(
        s * Math.cos(theta) - t * Math.sin(theta),
        s * Math.sin(theta) + t * Math.cos(theta),
        z,
      );
    }
    assert.ok(Math.abs(sum * dt - projectPhantom(z, theta, s)) < 2e-3, `${z} ${theta} ${s}`);
  }
  assert.equal(projectPhantom(0, 0, 1.5), 0);
  const a = simulateScan(4, 2, 16, 1), b = simulateScan(4, 2, 16, 1), c = simulateScan(4, 2, 16, 2);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.deepEqual(
    [...a.imageKey],
    [...Array(10).fill(2), ...Array(10).fill(1), 0, 0, 0, 0, ...Array(10).fill(1)],
  );
});
