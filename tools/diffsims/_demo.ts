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
import { demoArgv, type DemoResult } from "../../lib/run/demo.ts";
import { writeTextAtomic } from "../../lib/run/atomic.ts";
import { writeHtmlReport } from "../../lib/viz/html_report.ts";
import { DEMO_CIFS } from "../../lib/pipelines/diffsims/demo_cifs.ts";
import { demoSpace, writeDemoMap } from "../../lib/pipelines/diffsims/demo_data.ts";
import { phaseMap } from "../../lib/pipelines/diffsims/predict.ts";
import { readNpzArray } from "../../lib/io/npz.ts";
import { main as simulate } from "./simulate.ts";
import { train } from "./train.ts";
import { meta as trainMeta } from "./train.ts";
import { parseFlags } from "../../lib/run/flags.ts";
import { main as predict } from "./predict.ts";
import { evaluate } from "./evaluate.ts";
import { meta as evalMeta } from "./evaluate.ts";

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
  const common = { threads: f.threads || undefined, quiet: f.quiet };
  const cifDir = join(out, "models", "crystal_phases");
  mkdirSync(cifDir, { recursive: true });
  for (const [k, v] of Object.entries(DEMO_CIFS)) {
    await writeTextAtomic(join(cifDir, `${k}.cif`), v, { overwrite: true });
  }
  const cfg = join(out, "param_space.yaml");
  const spaceText = demoSpace(f.nPoints ?? 160, [f.seed + 1, f.seed + 2]);
  await writeTextAtomic(cfg, spaceText, { overwrite: true });
  const sims = join(out, "sims");
  await simulate(demoArgv({ config: cfg, out: sims, overwrite: true, quiet: f.quiet }));
  const t = await train(parseFlags(
    trainMeta,
    demoArgv({ sim: sims, epochs: f.epochs ?? 7, out: join(out, "cnn_models"), ...common }),
  ));
  // an experimental-like scan: noisier, another seed, three vertical bands
  const expDir = join(out, "experimental");
  const { path: expPath, ny, nx, layout } = await writeDemoMap(
    expDir,
    spaceText,
    cfg,
    f.seed + 1000,
  );
  await predict([...demoArgv({ model: t.dir }), expPath, ...demoArgv(common)]);
  const predPath = join(expDir, "demo_map_probability_pred.npz");
  const pred = await readNpzArray(predPath, "pred");
  const got = phaseMap(Float32Array.from(pred.data as ArrayLike<number>), ny * nx);
  let ok = 0;
  for (let i = 0; i < got.length; i++) if (got[i] === layout[i]) ok++;
  const recovered = ok / got.length;
  const evalArgv = demoArgv({ pred: predPath, "exp-dir": expDir, "cif-dir": cifDir });
  const ev = (await evaluate(parseFlags(evalMeta, evalArgv))).get(predPath)!;
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
