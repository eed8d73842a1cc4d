import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { mkdirSync } from "node:fs";
import { parseCif, xrdPeaks } from "../../../lib/pipelines/diffsims/mod.ts";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";
import {
  binQ,
  electronWavelength,
  integrate,
  kinematicSpots,
  preparePhase,
  radialBins,
  renderPattern,
} from "../../../lib/pipelines/diffsims/kinematic.ts";
import { eulerToMatrix, randomRotation } from "../../../lib/pipelines/diffsims/orientations.ts";
import { SimRng } from "../../../lib/data/rng.ts";
import { readNpy } from "../../../lib/io/npy.ts";
import { hasPython } from "../../_helpers.ts";

const OUT = "tests/fixtures/out/diffsims_kinematic";

Deno.test("electron wavelength at 200 kV", () => {
  assert(Math.abs(electronWavelength(200) - 0.0250793) < 1e-6);
});

const CASES = [
  { name: "pb", cif: DEMO_CIFS.pb, euler: [10, 20, 30], sigma: 2, relrod: 0.2, cal: 0.00588 },
  { name: "pbi2", cif: DEMO_CIFS.pbi2, euler: [0, 0, 0], sigma: 3, relrod: 0.05, cal: 0.006 },
  {
    name: "cspbbr3",
    cif: DEMO_CIFS.cspbbr3,
    euler: [45, 54.7356, 0],
    sigma: 1,
    relrod: 0.6,
    cal: 0.0057,
    scale: 0.95,
  },
  {
    name: "pb_xtables",
    cif: DEMO_CIFS.pb,
    euler: [30, 40, 50],
    sigma: 2,
    relrod: 0.3,
    cal: 0.00588,
    scattering: "xtables" as const,
  },
];

Deno.test({
  name: "spots, pattern and profile equal the numpy implementation",
  ignore: !hasPython("numpy"),
  fn: async () => {
    mkdirSync(OUT, { recursive: true });
    const size = 515, nbins = 256;
    const rb = radialBins(size, nbins);
    for (const c of CASES) {
      const ph = preparePhase(parseCif(c.cif, `${c.name}.cif`), c.name, c.scattering ?? "lobato");
      const rot = eulerToMatrix(c.euler[0], c.euler[1], c.euler[2]);
      const o = {
        wavelength: electronWavelength(200),
        calibration: c.cal,
        relrod: c.relrod,
        size,
        scale: c.scale ?? 1,
      };
      const spots = kinematicSpots(ph, rot, o);
      const img = renderPattern(spots, size, c.sigma);
      const prof = integrate(img, rb);
      const inp = `${OUT}/${c.name}_in.json`;
      Deno.writeTextFileSync(
        inp,
        JSON.stringify({
          basis: ph.basis,
          atoms: ph.atoms,
          rot,
          ...o,
          sigma: c.sigma,
          nbins,
          calibration_nominal: c.cal,
          scattering: ph.scattering,
        }),
      );
      const r = await new Deno.Command("/usr/bin/python3", {
        args: ["tests/fixtures/diffsims/kinematic_ref.py", inp, `${OUT}/${c.name}`],
      }).output();
      assert(r.success, new TextDecoder().decode(r.stderr));
      const ref = JSON.parse(Deno.readTextFileSync(`${OUT}/${c.name}.json`));
      assert(spots.px.length > 3, `${c.name}: ${spots.px.length} spots`);
      assertEquals([...spots.px], ref.px, `${c.name} px`);
      assertEquals([...spots.py], ref.py, `${c.name} py`);
      assertEquals([...spots.hkl], ref.hkl.flat(), `${c.name} hkl`);
      for (let i = 0; i < ref.intensity.length; i++) {
        const d = Math.abs(spots.intensity[i] - ref.intensity[i]);
        assert(d <= 1e-9 * ref.intensity[i], `${c.name} I[${i}]`);
      }
      const refImg = (await readNpy(`${OUT}/${c.name}_img.npy`)).data as Float64Array;
      let dmax = 0;
      for (let i = 0; i < img.length; i++) dmax = Math.max(dmax, Math.abs(img[i] - refImg[i]));
      assert(dmax < 1e-9, `${c.name} image max diff ${dmax}`);
      if (ref.scipy_err !== null) assert(ref.scipy_err < 1e-9, `scipy ${ref.scipy_err}`);
      const pmax = Math.max(...ref.profile);
      for (let i = 0; i < nbins; i++) {
        assert(Math.abs(prof[i] - ref.profile[i]) <= 1e-4 * pmax, `${c.name} profile[${i}]`);
      }
      const q = binQ(rb, c.cal);
      assert(Math.abs(q[100] - ref.q[100]) < 1e-12);
    }
  },
});

Deno.test("Pb ring radii land on the cif-peaks q values (±1 bin)", () => {
  const cif = parseCif(DEMO_CIFS.pb, "pb.cif");
  const ph = preparePhase(cif, "pb");
  const size = 515, cal = 0.00588;
  const rb = radialBins(size, 256);
  const rng = new SimRng(3);
  const sum = new Float64Array(256);
  for (let n = 0; n < 300; n++) {
    const spots = kinematicSpots(ph, randomRotation(rng), {
      wavelength: electronWavelength(200),
      calibration: cal,
      relrod: 0.03,
      size,
    });
    const p = integrate(renderPattern(spots, size, 1), rb);
    for (let i = 0; i < 256; i++) sum[i] += p[i];
  }
  const q = binQ(rb, cal);
  const peaks = xrdPeaks(cif, { qMax: q[255] }).map((p) => p.q);
  const dq = q[1] - q[0];
  const max = Math.max(...sum);
  let found = 0;
  for (let i = 2; i < 254; i++) {
    if (sum[i] > 0.15 * max && sum[i] >= sum[i - 1] && sum[i] > sum[i + 1]) {
      const near = Math.min(...peaks.map((p) => Math.abs(p - q[i])));
      assert(near <= dq, `ring at q=${q[i].toFixed(4)} is ${near.toFixed(4)} from a peak`);
      found++;
    }
  }
  assert(found >= 4, `${found} rings`);
});
