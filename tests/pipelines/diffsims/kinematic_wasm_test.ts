import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { mkdirSync } from "node:fs";
import { DEMO_CIFS } from "../../../lib/pipelines/diffsims/demo_cifs.ts";
import { parseCif } from "../../../lib/pipelines/diffsims/cif.ts";
import {
  electronWavelength,
  preparePhase,
  radialBins,
  type Spots,
} from "../../../lib/pipelines/diffsims/kinematic.ts";
import { KinematicWasm, TS_KERNELS } from "../../../lib/pipelines/diffsims/kinematic_wasm.ts";
import { eulerToMatrix, randomRotation } from "../../../lib/pipelines/diffsims/orientations.ts";
import { parseParamSpace, spacePoints } from "../../../lib/pipelines/diffsims/param_space.ts";
import { simulatePoint } from "../../../lib/pipelines/diffsims/simulate.ts";
import { simulatePointThreads } from "../../../lib/pipelines/diffsims/sim_threads.ts";
import { SimRng } from "../../../lib/data/rng.ts";
import { hasPython } from "../../_helpers.ts";

const OUT = "tests/fixtures/out/diffsims_wasm";
const wasm = await KinematicWasm.load();

/** Largest |a − b| over the largest |b|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m > 0 ? d / m : d;
}

function sameSpots(a: Spots, b: Spots, what: string): void {
  assertEquals([...a.px], [...b.px], `${what} px`);
  assertEquals([...a.py], [...b.py], `${what} py`);
  assertEquals([...a.hkl], [...b.hkl], `${what} hkl`);
  assert(relDiff(a.intensity, b.intensity) < 1e-12, `${what} intensity`);
}

/** WASM profile (table and windowed), render and integrate against the TypeScript kernels. */
function sameKernels(s: Spots, size: number, sigma: number, what: string): void {
  const rb = radialBins(size, Math.ceil((Math.floor(size / 2) - 1) / 2) * 2);
  const ref = TS_KERNELS.profile(s, size, sigma, rb);
  assert(relDiff(wasm.profile(s, size, sigma, rb), ref) < 1e-6, `${what} profile`);
  assert(relDiff(wasm.profileWindowed(s, size, sigma, rb), ref) < 1e-12, `${what} windowed`);
  const img = TS_KERNELS.render(s, size, sigma);
  assert(relDiff(wasm.render(s, size, sigma), img) < 1e-12, `${what} render`);
  assert(relDiff(wasm.integrate(img, rb), TS_KERNELS.integrate(img, rb)) < 1e-12, `${what} bins`);
}

const CASES = [
  { name: "pb", euler: [10, 20, 30], sigma: 2, relrod: 0.2, cal: 0.00588, sc: "lobato" },
  { name: "pbi2", euler: [0, 0, 0], sigma: 3, relrod: 0.05, cal: 0.006, sc: "lobato" },
  { name: "cspbbr3", euler: [45, 54.7356, 0], sigma: 1, relrod: 0.6, cal: 0.0057, scale: 0.95 },
  { name: "pb", euler: [30, 40, 50], sigma: 2, relrod: 0.3, cal: 0.00588, sc: "xtables" },
  {
    name: "cspbbr3",
    euler: [5, 60, 70],
    sigma: 2.5,
    relrod: 0.2,
    cal: 0.00588,
    sc: "doyle_turner",
  },
] as const;

Deno.test("wasm kernels: spots bit for bit, profiles as TypeScript and numpy (1e-4)", async () => {
  mkdirSync(OUT, { recursive: true });
  const size = 515, nbins = 256;
  const rb = radialBins(size, nbins);
  const py = hasPython("numpy", "scipy");
  if (!py) console.log("numpy/scipy missing: only WASM vs TypeScript");
  for (const [ci, c] of CASES.entries()) {
    const sc = "sc" in c ? c.sc : "lobato";
    const ph = preparePhase(parseCif(DEMO_CIFS[c.name], `${c.name}.cif`), c.name, sc);
    const rot = eulerToMatrix(c.euler[0], c.euler[1], c.euler[2]);
    const o = {
      wavelength: electronWavelength(200),
      calibration: c.cal,
      relrod: c.relrod,
      size,
      scale: "scale" in c ? c.scale : 1,
    };
    const what = `${c.name}/${sc}`;
    const spots = wasm.spots(ph, rot, o);
    assert(spots.px.length > 3, `${what}: ${spots.px.length} spots`);
    sameSpots(spots, TS_KERNELS.spots(ph, rot, o), what);
    sameKernels(spots, size, c.sigma, what);
    if (!py) continue;
    const inp = `${OUT}/case${ci}_in.json`;
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
        scattering: sc,
      }),
    );
    const r = await new Deno.Command("/usr/bin/python3", {
      args: ["tests/fixtures/diffsims/kinematic_ref.py", inp, `${OUT}/case${ci}`],
    }).output();
    assert(r.success, new TextDecoder().decode(r.stderr));
    const ref = JSON.parse(Deno.readTextFileSync(`${OUT}/case${ci}.json`));
    assertEquals([...spots.px], ref.px, `${what} px vs numpy`);
    assertEquals([...spots.py], ref.py, `${what} py vs numpy`);
    assert(relDiff(spots.intensity, ref.intensity) < 1e-9, `${what} intensity vs numpy`);
    const d = relDiff(wasm.profile(spots, size, c.sigma, rb), ref.profile);
    assert(d < 1e-4, `${what} profile vs numpy: ${d}`);
  }
});

Deno.test("wasm kernels: random orientations, lattice scales and sigmas equal TypeScript", () => {
  const rng = new SimRng(11);
  for (const name of ["cspbbr3", "pbi2"] as const) {
    const ph = preparePhase(parseCif(DEMO_CIFS[name], `${name}.cif`), name);
    for (let n = 0; n < 8; n++) {
      const rot = randomRotation(rng);
      const o = {
        wavelength: electronWavelength(200),
        calibration: 0.00588 * rng.range(0.95, 1.05),
        relrod: [0.02, 0.2, 1][n % 3],
        size: 515,
        scale: rng.range(0.8, 1.1),
      };
      const s = wasm.spots(ph, rot, o);
      sameSpots(s, TS_KERNELS.spots(ph, rot, o), `${name} #${n}`);
      sameKernels(s, 515, [1, 2, 3.5, 6][n % 4], `${name} #${n}`);
    }
  }
});

Deno.test("wasm kernels: mirrored edges, shared pixels, zero intensities, small detectors", () => {
  const rng = new SimRng(5);
  for (const size of [33, 64, 101]) {
    for (const sigma of [0.7, 1, 3, 5]) {
      const n = 60;
      const px = Int32Array.from(
        { length: n },
        (_, i) => i < 8 ? [0, size - 1][i % 2] : rng.int(0, size - 1),
      );
      const py = Int32Array.from(
        { length: n },
        (_, i) => i < 8 ? [0, 1, size - 2, size - 1][i % 4] : rng.int(0, size - 1),
      );
      px[20] = px[21] = px[22];
      py[20] = py[21] = py[22];
      const intensity = Float64Array.from(
        { length: n },
        (_, i) => i % 7 === 3 ? 0 : rng.range(0, 100),
      );
      const s: Spots = { px, py, intensity, hkl: new Int32Array(3 * n) };
      sameKernels(s, size, sigma, `size ${size} sigma ${sigma}`);
    }
  }
  const none: Spots = {
    px: new Int32Array(),
    py: new Int32Array(),
    intensity: new Float64Array(),
    hkl: new Int32Array(),
  };
  const rb = radialBins(64, 30);
  assertEquals([...wasm.profile(none, 64, 2, rb)], new Array(30).fill(0));
  const one: Spots = {
    px: Int32Array.of(3),
    py: Int32Array.of(3),
    intensity: Float64Array.of(1),
    hkl: new Int32Array(3),
  };
  throws(() => wasm.profile(one, 64, 20, rb), /too large/);
});

Deno.test("simulatePoint with the WASM kernels equals the TypeScript one (noise, background, peak removal)", () => {
  const text = `sim_params:
  random_seed: 4
  orientations_parameters: {n_points: 3}
  structure_parameters: {lattice_scaling_ranges: [[0.9, 1.05], null]}
  relrod_parameters: {randomise_relrod: false, relrod_list: [0.05, 0.3]}
  sigma_parameters: {randomise_sigmas: false, sigma_2d_gaussian_list: [1, 3]}
  data_augmentation_parameters:
    noise_addition: {add_noise: true, include_also_non_noisy_simulation: true, snrs: [0.95], intensity_spikes: [0.1]}
    background_parameters: {add_background_to_1d: 'random', a_vals: [0, 0.5], tau_vals: [1]}
`;
  const pt = spacePoints(parseParamSpace(text, "w.yml"))[0];
  const phases = (["cspbbr3", "pbi2"] as const).map((n) => ({
    name: n,
    cif: parseCif(DEMO_CIFS[n], `${n}.cif`),
  }));
  const a = simulatePoint(pt.params, phases, pt.seed);
  const b = simulatePoint(pt.params, phases, pt.seed, undefined, wasm);
  assertEquals(b.yAll, a.yAll);
  assert(relDiff(b.xAll, a.xAll) < 1e-5, `x_all ${relDiff(b.xAll, a.xAll)}`);
  assert(relDiff(b.xPx, a.xPx) < 1e-5, `x_px ${relDiff(b.xPx, a.xPx)}`);
});

Deno.test({
  name: "simulatePointThreads: 2 workers = 1 thread = simulatePoint(WASM), byte for byte",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const text = `sim_params:
  random_seed: 8
  simulation_orientations_chunk_size: 2
  orientations_parameters: {n_points: 5}
  structure_parameters: {lattice_scaling_ranges: [null, [0.9, 1.1]]}
  data_augmentation_parameters:
    noise_addition: {add_noise: 'random', snrs: [0.97], intensity_spikes: [0, 0.1]}
`;
    const pt = spacePoints(parseParamSpace(text, "t.yml"))[0];
    const phases = (["pb", "pbi2"] as const).map((n) => ({
      name: n,
      cif: parseCif(DEMO_CIFS[n], `${n}.cif`),
    }));
    const one = simulatePoint(pt.params, phases, pt.seed, undefined, wasm);
    const t1 = await simulatePointThreads(pt.params, phases, pt.seed, undefined, 1);
    const t2 = await simulatePointThreads(pt.params, phases, pt.seed, undefined, 2);
    assertEquals(one.yAll.length, 10);
    for (const r of [t1, t2]) {
      assertEquals(r.yAll, one.yAll);
      assertEquals(r.xAll, one.xAll);
      assertEquals(r.xPx, one.xPx);
    }
  },
});
