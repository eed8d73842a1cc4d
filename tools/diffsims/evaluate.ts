/**
 * `diffsims-evaluate`: scores phase predictions against the crystal structures: for
 * `EXP_probability_pred.npz` it reads `--exp-dir/EXP.npz` and `--cif-dir/<phase>.cif`, finds the
 * O'Haver peaks of each phase's mean profile and their distance to the cif-peaks positions, and
 * writes `EXP_evaluation.{json,csv,html}` (the HTML: each phase's profile with the experimental
 * and simulated peak positions). Prints the per-phase and mean errors.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { defineTool, type Parsed } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { readInput, writeTextAtomic } from "../../lib/run/atomic.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { readNpzArray } from "../../lib/io/npz.ts";
import { writeHtmlReport } from "../../lib/viz/html_report.ts";
import { decodeCif, parseCif, xrdPeaks } from "../../lib/pipelines/diffsims/mod.ts";
import { readNpzStrings } from "../../lib/pipelines/diffsims/npz_text.ts";
import { readExperiment } from "../../lib/pipelines/diffsims/predict.ts";
import {
  evaluatePrediction,
  type Evaluation,
  evaluationCsv,
  evaluationReport,
} from "../../lib/pipelines/diffsims/evaluate.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "diffsims/evaluate",
  task: "diffsims-evaluate",
  summary: "peak-position error of phase predictions against the phases' CIFs",
  permissions: ["--allow-read", "--allow-write=OUT"],
  flags: {
    pred: { type: "list", arg: "PRED.npz", required: true, help: "*_probability_pred.npz files" },
    expDir: { type: "string", arg: "DIR", required: true, help: "folder of the experimental .npz" },
    cifDir: { type: "string", arg: "DIR", required: true, help: "folder of <phase>.cif" },
    wavelength: { type: "number", min: 0.01, default: 0.61992, help: "X-ray λ (Å) of cif-peaks" },
    outDir: { type: "string", arg: "DIR", help: "where to write (default: beside each file)" },
  },
  examples: ["--pred roi_3_probability_pred.npz --exp-dir experimental/ --cif-dir models/"],
});

type Flags = Parsed<typeof meta.flags>;

/**
 * Runs the tool; returns the evaluations by prediction file.
 * @example
 * ```ts
 * await evaluate(parseFlags(meta, ["--pred", "roi_probability_pred.npz", "--exp-dir", "exp", "--cif-dir", "cifs"]));
 * ```
 */
export async function evaluate(f: Flags): Promise<Map<string, Evaluation>> {
  const out = new Map<string, Evaluation>();
  for (const pf of f.pred) {
    const name = basename(pf).split("_probab")[0];
    const expPath = join(f.expDir, `${name}.npz`);
    const phases = readNpzStrings(pf, "phases");
    const cifs = phases.map((p) => join(f.cifDir, `${p}.cif`));
    cifs.forEach((c, i) => {
      if (!existsSync(c)) {
        throw new LumenError(pf, "phases", `phase '${phases[i]}' has no ${c} in --cif-dir`);
      }
    });
    const pred = await readNpzArray(pf, "pred");
    const exp = await readExperimentAny(expPath);
    if (pred.shape[0] !== exp.ny || pred.shape[1] !== exp.nx) {
      throw new LumenError(
        pf,
        "pred",
        `shape (${pred.shape}) does not match ${expPath} (${exp.ny}, ${exp.nx})`,
      );
    }
    const sim = new Map<string, number[]>();
    for (let i = 0; i < phases.length; i++) {
      const text = decodeCif(await readInput(cifs[i]), cifs[i]);
      sim.set(
        phases[i],
        xrdPeaks(parseCif(text, cifs[i]), { wavelength: f.wavelength }).map((p) => p.q),
      );
    }
    const r = evaluatePrediction(
      Float32Array.from(pred.data as ArrayLike<number>),
      exp,
      phases,
      (p) => sim.get(p)!,
    );
    const stem = join(f.outDir ?? dirname(pf), `${name}_evaluation`);
    await writeTextAtomic(
      `${stem}.json`,
      JSON.stringify({ file: pf, experiment: expPath, ...r }, null, 1),
      { overwrite: true },
    );
    await writeTextAtomic(`${stem}.csv`, evaluationCsv(basename(pf), r), { overwrite: true });
    await writeHtmlReport(`${stem}.html`, evaluationReport(name, exp.x, r), { overwrite: true });
    const prov = await makeProvenance({
      tool: meta.name,
      args: { pred: basename(pf) },
      inputs: [pf, expPath, ...cifs],
    });
    await writeProvenance(`${stem}.json`, prov);
    out.set(pf, r);
  }
  return out;
}

async function readExperimentAny(path: string) {
  const x = await readNpzArray(path, "x");
  return readExperiment(path, x.shape[0]);
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await evaluate(f);
  }, argv);

if (import.meta.main) {
  await runTool(meta, async (f) => {
    for (const [pf, r] of await evaluate(f)) {
      console.log(`${basename(pf)}`);
      for (const p of r.phases) console.log(`  ${p.phase} -- error ${p.error ?? "n/a"}`);
      console.log(`  mean error -- ${r.mean_error ?? "n/a"}`);
    }
  });
}
