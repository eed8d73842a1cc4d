import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { existsSync } from "node:fs";
import { cifPeaks, formatPeaks } from "../../../tools/diffsims/cif_peaks.ts";
import { parseCif, xrdPeaks } from "../../../lib/pipelines/diffsims/mod.ts";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";

const PB = "/work/shared/data/diffraction/pb.cif";

Deno.test("cif-peaks --json prints the documented keys", async () => {
  const path = "/tmp/lumen_cif_peaks_pb.cif";
  Deno.writeTextFileSync(path, DEMO_CIFS.pb);
  const r = await new Deno.Command("deno", {
    args: ["run", "--quiet", "--allow-read", "tools/diffsims/cif_peaks.ts", path, "--json"],
  }).output();
  assert(r.success, new TextDecoder().decode(r.stderr));
  const j = JSON.parse(new TextDecoder().decode(r.stdout));
  assertEquals(Object.keys(j), ["file", "wavelength", "peaks"]);
  assertEquals(Object.keys(j.peaks[0]), ["q", "two_theta", "intensity", "hkl"]);
  assertEquals(j.peaks[0].hkl, [[1, 1, 1]]);
  // fcc a = 4.95 Å: (111) at √3/a
  assert(Math.abs(j.peaks[0].q - Math.sqrt(3) / 4.95) < 1e-9);
  assert(Math.max(...j.peaks.map((p: { intensity: number }) => p.intensity)) === 100);
});

Deno.test("cif-peaks --q-max and the table", async () => {
  const path = "/tmp/lumen_cif_peaks_pb.cif";
  Deno.writeTextFileSync(path, DEMO_CIFS.pb);
  const r = await cifPeaks(path, 0.61992, 0.6);
  assertEquals(r.peaks.length, 3); // (111) (200) (220)
  assert(formatPeaks(r).includes("(2 2 0)"));
});

Deno.test({
  name: "cif-peaks on the shared Pb CIF equals the library call",
  ignore: !existsSync(PB),
  fn: async () => {
    const r = await cifPeaks(PB, 0.61992);
    const want = xrdPeaks(parseCif(Deno.readTextFileSync(PB), PB));
    assertEquals(r.peaks.map((p) => p.q), want.map((p) => p.q));
  },
});

Deno.test("cif-peaks: a missing file is one line", async () => {
  const r = await new Deno.Command("deno", {
    args: ["run", "--quiet", "--allow-read", "tools/diffsims/cif_peaks.ts", "/tmp/none.cif"],
  }).output();
  assert(!r.success);
  const err = new TextDecoder().decode(r.stderr).trim();
  assertEquals(err.split("\n").length, 1);
  assert(err.includes("/tmp/none.cif: no such file"));
});
