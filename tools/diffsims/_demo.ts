/**
 * diffsims XL's demo: the pipeline end to end with the project's own three CIFs (Pb, CsPbBr₃,
 * PbI₂: lib/pipelines/diffsims/demo_cifs.ts), every step the tool a user runs, in-process:
 *
 * 1. `diffsims-simulate` on a small parameter space (two `!pdim` seeds → two simulation files);
 * 2. `diffsims-train`: the 1D CNN for a few epochs (held-out accuracy in its report);
 * 3. an experimental-like scan simulated with a known layout (three vertical bands, noisier
 *    settings, another seed), written as `experimental/demo_map.npz` (`x`, `y`);
 * 4. `diffsims-predict` → `demo_map_probability_pred.npz` and the phase-map PNG; the share of
 *    pixels whose phase is recovered;
 * 5. `diffsims-evaluate` → peak-position errors against cif-peaks.
 *
 * @example
 * ```ts
 * import { runDemo } from "./_demo.ts";
 * const r = await runDemo("demo_out/diffsims", { quiet: true, seed: 0 });
 * console.log(r.summary.join("\n"));
 * ```
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { DemoResult } from "../../lib/run/demo.ts";
import { writeTextAtomic } from "../../lib/run/atomic.ts";
import { writeHtmlReport } from "../../lib/viz/html_report.ts";
import { ndarray } from "../../lib/io/array.ts";
import { writeNpz } from "../../lib/io/npz.ts";
import { parseCif } from "../../lib/pipelines/diffsims/cif.ts";
import { DEMO_CIFS } from "../../lib/pipelines/diffsims/demo_cifs.ts";
import { parseParamSpace, spacePoints } from "../../lib/pipelines/diffsims/param_space.ts";
import { simulateMap, stripesLayout } from "../../lib/pipelines/diffsims/exp_map.ts";
import { KinematicWasm } from "../../lib/pipelines/diffsims/kinematic_wasm.ts";
import { phaseMap } from "../../lib/pipelines/diffsims/predict.ts";
import { readNpzArray } from "../../lib/io/npz.ts";
import { main as simulate } from "./simulate.ts";
import { train } from "./train.ts";
import { meta as trainMeta } from "./train.ts";
import { parseFlags } from "../../lib/run/flags.ts";
import { main as predict } from "./predict.ts";
import { evaluate } from "./evaluate.ts";
import { meta as evalMeta } from "./evaluate.ts";

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

/** The demo's sizes. */
export interface DiffsimsDemoOptions {
  quiet: boolean;
  seed: number;
  threads?: number;
  /** Orientations per phase and seed (default 160). */
  nPoints?: number;
  /** Training epochs (default 7). */
  epochs?: number;
}

/**
 * Runs the demo into `out`; returns its index page and summary lines.
 * @example
 * ```ts
 * const r = await runDemo("demo_out/diffsims", { quiet: true, seed: 0 });
 * ```
 */
export async function runDemo(out: string, f: DiffsimsDemoOptions): Promise<DemoResult> {
  const q = f.quiet ? ["--quiet"] : [];
  const thr = f.threads ? ["--threads", String(f.threads)] : [];
  const cifDir = join(out, "models", "crystal_phases");
  mkdirSync(cifDir, { recursive: true });
  for (const [k, v] of Object.entries(DEMO_CIFS)) {
    await writeTextAtomic(join(cifDir, `${k}.cif`), v, { overwrite: true });
  }
  const cfg = join(out, "param_space.yaml");
  const spaceText = demoSpace(f.nPoints ?? 160, [f.seed + 1, f.seed + 2]);
  await writeTextAtomic(cfg, spaceText, { overwrite: true });
  await simulate(["--config", cfg, "--out", join(out, "sims"), "--overwrite", ...q]);
  const t = await train(parseFlags(trainMeta, [
    "--sim",
    join(out, "sims"),
    "--epochs",
    String(f.epochs ?? 7),
    "--out",
    join(out, "cnn_models"),
    ...thr,
    ...q,
  ]));
  // an experimental-like scan: noisier, another seed, three vertical bands
  const [ny, nx] = [12, 18];
  const layout = stripesLayout(ny, nx, 3);
  const base = spacePoints(parseParamSpace(spaceText, cfg))[0].params;
  const phases = Object.entries(DEMO_CIFS).map(([name, text]) => ({
    name,
    cif: parseCif(text, `${name}.cif`),
  }));
  const m = simulateMap(base, phases, layout, ny, nx, f.seed + 1000, await KinematicWasm.load());
  const expDir = join(out, "experimental");
  mkdirSync(expDir, { recursive: true });
  const expPath = join(expDir, "demo_map.npz");
  await writeNpz(expPath, { x: ndarray(m.x, [m.len]), y: ndarray(m.y, [ny, nx, m.len]) }, {
    overwrite: true,
  });
  await predict(["--model", t.dir, expPath, ...thr, ...q]);
  const predPath = join(expDir, "demo_map_probability_pred.npz");
  const pred = await readNpzArray(predPath, "pred");
  const got = phaseMap(Float32Array.from(pred.data as ArrayLike<number>), ny * nx);
  let ok = 0;
  for (let i = 0; i < got.length; i++) if (got[i] === layout[i]) ok++;
  const recovered = ok / got.length;
  const ev = (await evaluate(parseFlags(evalMeta, [
    "--pred",
    predPath,
    "--exp-dir",
    expDir,
    "--cif-dir",
    cifDir,
  ]))).get(predPath)!;
  const summary = [
    `simulations: ${join(out, "sims")} (param space ${cfg})`,
    `CNN model-${t.cnnId}: held-out accuracy ${(100 * t.testAccuracy).toFixed(1)} %`,
    `phase map recovered on ${(100 * recovered).toFixed(1)} % of ${ny}×${nx} pixels`,
    `peak-position error (mean over phases): ${ev.mean_error?.toFixed(4) ?? "n/a"} 1/Å`,
  ];
  const index = join(out, "index.html");
  await writeHtmlReport(index, {
    title: "diffsims XL demo",
    meta: {
      cnn_id: t.cnnId,
      test_accuracy: t.testAccuracy.toFixed(4),
      map_recovered: recovered.toFixed(4),
      mean_peak_error: ev.mean_error ?? "n/a",
    },
    sections: [
      {
        heading: "Results",
        text: summary.join("\n\n") +
          "\n\nTraining report: cnn_models/model-" + t.cnnId + "/report.html" +
          "\n\nEvaluation: experimental/demo_map_evaluation.html",
      },
      {
        heading: "Phase map (pb, cspbbr3, pbi2 in three bands)",
        images: [{ src: "experimental/demo_map_phase_map.png", alt: "predicted phase map" }],
      },
      {
        heading: "Per-phase peak errors",
        tables: [{
          columns: ["phase", "pixels", "error (1/Å)", "original's method"],
          rows: ev.phases.map((p) => [p.phase, p.pixels, p.error, p.error_original]),
        }],
      },
    ],
  }, { overwrite: true });
  return { index, summary };
}
