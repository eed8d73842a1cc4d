import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { existsSync, readdirSync } from "node:fs";
import { parseCif, parseSymOp } from "../../../lib/pipelines/diffsims/cif.ts";
import { xrdPeaks } from "../../../lib/pipelines/diffsims/xrd.ts";

const DATA = "/work/shared/data/diffraction";
const OUT = "tests/fixtures/out/diffsims_xrd.json";

Deno.test("symmetry operations in xyz forms", () => {
  const op = parseSymOp("x-1/2,-y-1/2,z");
  assertEquals(op.rot, [1, 0, 0, 0, -1, 0, 0, 0, 1]);
  assertEquals(op.trans, [-0.5, -0.5, 0]);
  assertEquals(parseSymOp("+x,1/2-y,+z").trans, [0, 0.5, 0]);
});

Deno.test("CIF errors name the line", () => {
  throws(() => parseCif("data_x\n_cell_length_a 4\n", "bad.cif"), /bad.cif/);
  const t = "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n" +
    "_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_fract_x\n" +
    "_atom_site_fract_y\n_atom_site_fract_z\nQq 0 0 0\n";
  throws(() => parseCif(t, "el.cif"), /el.cif: line 13: unknown element/);
});

Deno.test({
  name: "cif-peaks equals pymatgen XRDCalculator on the shared CIFs",
  ignore: !existsSync(DATA),
  fn: async () => {
    const cifs = readdirSync(DATA).filter((f) => f.endsWith(".cif")).map((f) => `${DATA}/${f}`);
    if (!existsSync(OUT)) {
      const r = await new Deno.Command("/usr/bin/python3", {
        args: ["tests/fixtures/diffsims/xrd_peaks.py", OUT, ...cifs],
      }).output();
      if (!r.success) {
        console.log("skipped: pymatgen fixture failed:", new TextDecoder().decode(r.stderr));
        return;
      }
    }
    const ref = JSON.parse(Deno.readTextFileSync(OUT));
    for (const f of cifs) {
      const got = xrdPeaks(parseCif(Deno.readTextFileSync(f), f), { wavelength: 0.61992 });
      const want = ref[f];
      assertEquals(got.length, want.q.length, f);
      for (let i = 0; i < got.length; i++) {
        assert(Math.abs(got[i].q - want.q[i]) < 1e-4, `${f} peak ${i} q`);
        assert(Math.abs(got[i].intensity - want.intensity[i]) < 1, `${f} peak ${i} I`);
      }
    }
  },
});
