/**
 * The data of diffsims XL's demo: a small parameter space over the project's three CIFs and an
 * experimental-like scan with a known phase layout (three vertical bands, noisier settings,
 * another seed), written as `demo_map.npz` (`x`, `y`) as an experiment's file.
 *
 * @example
 * ```ts
 * import { demoSpace, writeDemoMap } from "./demo_data.ts";
 * const text = demoSpace(160, [1, 2]);
 * const map = await writeDemoMap("demo_out/experimental", text, "param_space.yaml", 1000);
 * ```
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ndarray } from "../../io/array.ts";
import { writeNpz } from "../../io/npz.ts";
import { parseCif } from "./cif.ts";
import { DEMO_CIFS } from "./demo_cifs.ts";
import { parseParamSpace, spacePoints } from "./param_space.ts";
import { simulateMap, stripesLayout } from "./exp_map.ts";
import { KinematicWasm } from "./kinematic_wasm.ts";

/**
 * The demo's parameter space (the original's keys; a small sweep).
 * @example
 * ```ts
 * Deno.writeTextFileSync("param_space.yaml", demoSpace(160, [1, 2]));
 * ```
 */
export function demoSpace(nPoints: number, seeds: number[]): string {
  return `# diffsims demo parameter space (paramspace tags, as the original's param_space_yaml.yml)
sim_params: !pspace
  random_seed: !pdim
    default: ${seeds[0]}
    values: [${seeds.join(", ")}]
  structure_parameters:
    phase_files_location_from_root: 'models/crystal_phases'
    phase_files: ['pb.cif', 'cspbbr3.cif', 'pbi2.cif']
    lattice_scaling_ranges: [[0.99, 1.01], [0.99, 1.01], [0.99, 1.01]]
  calibration_parameters:
    calibration_value: [0.00588]
    calibration_modify_percent: 1
  orientations_parameters:
    n_points: ${nPoints}
  relrod_parameters:
    relrod_list: [0.1, 0.2, 0.4]
  sigma_parameters:
    sigma_2d_gaussian_list: [1, 2, 3]
  data_augmentation_parameters:
    peak_removal:
      n_intensity_peaks: 5
      num_peaks_to_remove: 'random'
    noise_addition:
      add_noise: 'random'
      snrs: [0.99, 0.999]
      intensity_spikes: [0, 0.1]
    background_parameters:
      add_background_to_1d: 'random'
      a_vals: [0, 0.1, 0.5]
      tau_vals: [1.0, 2.0]
`;
}

/** The experimental-like scan of {@link writeDemoMap}: where it is and its true phases. */
export interface DemoMap {
  path: string;
  ny: number;
  nx: number;
  /** The phase index of each pixel (row-major). */
  layout: Int32Array;
}

/**
 * Simulates a 12 × 18 scan in three vertical bands of the demo's phases with the first point of
 * the parameter space `spaceText` (read from `cfgPath`) and writes `<dir>/demo_map.npz`.
 *
 * @example
 * ```ts
 * const { path, layout } = await writeDemoMap("demo_out/experimental", text, "p.yaml", 1000);
 * ```
 */
export async function writeDemoMap(
  dir: string,
  spaceText: string,
  cfgPath: string,
  seed: number,
): Promise<DemoMap> {
  const [ny, nx] = [12, 18];
  const layout = stripesLayout(ny, nx, 3);
  const base = spacePoints(parseParamSpace(spaceText, cfgPath))[0].params;
  const phases = Object.entries(DEMO_CIFS).map(([name, text]) => ({
    name,
    cif: parseCif(text, `${name}.cif`),
  }));
  const m = simulateMap(base, phases, layout, ny, nx, seed, await KinematicWasm.load());
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "demo_map.npz");
  await writeNpz(path, { x: ndarray(m.x, [m.len]), y: ndarray(m.y, [ny, nx, m.len]) }, {
    overwrite: true,
  });
  return { path, ny, nx, layout };
}
