import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import {
  parseParamSpace,
  spacePoints,
  spaceVolume,
} from "../../../lib/pipelines/diffsims/param_space.ts";

const ORIGINAL_FORM = `# paramspace form, as the original's param_space_yaml.yml
---
sim_params: !pspace
  root_path: '.'
  simulation_orientations_chunk_size: 1000
  random_seed: !pdim
    default: 10
    values: [0, 5, 10, 15, 20, 25]
  save_relpath: 'data/simulations'
  structure_parameters:
    phase_files_location_from_root: 'models/crystal_phases'
    phase_files: ['a.cif', 'b.cif', 'c.cif']
    add_bkg_phase: False
    scattering_params: 'lobato'
  calibration_parameters:
    calibration_value: [0.00588]
    calibration_modify_percent: 5
  relrod_parameters:
    randomise_relrod: True
    relrod_list: [0.02, 0.2, 0.4, 0.6, 1, 2, 5, 10]
  detector_geometry:
    detector_size: 515
    beam_energy: 200.
    detector_pix_size: 55e-6
  postprocessing_parameters:
    cropping_start_px: 13
    cropping_stop_px: 160
    sqrt_signal: !pdim
      default: False
      values: [True, False]
`;

Deno.test("paramspace !pspace/!pdim: 6 × 2 points, first dimension fastest", () => {
  const s = parseParamSpace(ORIGINAL_FORM, "p.yml");
  assertEquals(spaceVolume(s), 12);
  assertEquals(s.dims.map((d) => d.path.join(".")), [
    "postprocessing_parameters.sqrt_signal",
    "random_seed",
  ]);
  assertEquals(s.dims[1].line, 6);
  const pts = spacePoints(s);
  assertEquals(pts.map((p) => p.seed), [0, 0, 5, 5, 10, 10, 15, 15, 20, 20, 25, 25]);
  assertEquals(pts[1].coords, { "postprocessing_parameters.sqrt_signal": false, random_seed: 0 });
  assertEquals(new Set(pts.map((p) => p.uuid)).size, 12);
  const det = pts[0].params.detector_geometry as Record<string, unknown>;
  assertEquals(det.detector_pix_size, 55e-6);
  assertEquals(det.radial_integration_1d, true); // filled from the defaults
  assertEquals(s.base.random_seed, 10);
  // same text, same uuids
  assertEquals(spacePoints(parseParamSpace(ORIGINAL_FORM, "q.yml"))[3].uuid, pts[3].uuid);
});

Deno.test("plain form: lists under sweep: are dimensions", () => {
  const s = parseParamSpace(
    "sim_params:\n  random_seed: 3\nsweep:\n  random_seed: [1, 2]\n  sigma_parameters:\n" +
      "    sigma_2d_gaussian_list: [[1, 2], [3]]\n",
    "plain.yml",
  );
  const pts = spacePoints(s);
  assertEquals(pts.length, 4);
  assertEquals(pts.map((p) => p.seed), [1, 2, 1, 2]);
  assertEquals((pts[3].params.sigma_parameters as Record<string, unknown>).sigma_2d_gaussian_list, [
    3,
  ]);
});

Deno.test("!pdim range, linspace; no dimension is one point", () => {
  const s = parseParamSpace(
    "sim_params: !pspace\n  random_seed: !pdim {range: [0, 6, 2]}\n" +
      "  detector_geometry:\n    beam_energy: !pdim {linspace: [100, 300, 3], default: 200}\n",
    "r.yml",
  );
  assertEquals(s.dims.map((d) => d.values), [[100, 200, 300], [0, 2, 4]]);
  assertEquals(spaceVolume(parseParamSpace("sim_params:\n  random_seed: 1\n", "x.yml")), 1);
});

Deno.test("errors name the file, line and key", () => {
  const bad = (t: string, re: RegExp) => throws(() => parseParamSpace(t, "bad.yml"), re);
  bad(
    "sim_params:\n  random_seed: 1\n  detector_geometry:\n    detectr_size: 5\n",
    /bad.yml: line 4: detector_geometry.detectr_size: unknown key/,
  );
  bad("sim_params:\n  random_seed: 'x'\n", /line 2: random_seed: expected int, got "x"/);
  bad(
    "sim_params: !pspace\n  random_seed: !pdim {values: [1, 'a']}\n",
    /line 2: random_seed: expected int/,
  );
  bad("sim_params:\n  random_seed: !pdim {values: [1]}\n", /!pdim outside a !pspace/);
  bad(
    "sim_params: !pspace\n  random_seed: !coupled-pdim {values: [1]}\n",
    /unknown tag !coupled-pdim/,
  );
  bad("sim_params:\n  a: 1\n  a: 2\n", /bad.yml: line 3/);
  bad("sweep:\n  random_sed: [1]\n", /line 2: random_sed: unknown key/);
  bad("sweep:\n  random_seed: 4\n", /random_seed: a sweep entry must be a non-empty list/);
  bad("simparams: {}\n", /line 1: simparams: unknown key/);
  const err = (() => {
    try {
      parseParamSpace("sim_params:\n  relrod_parameters:\n    relrod_list: [1, x]\n", "e.yml");
    } catch (e) {
      return String((e as Error).message);
    }
  })();
  assert(err && !err.includes("\n"), err);
});
