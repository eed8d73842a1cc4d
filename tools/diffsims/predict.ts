/**
 * `diffsims-predict`: phase probabilities of experimental scans with a trained CNN:
 * `EXP.npz` (`x` (147,), `y` (ny, nx, 147)) → `EXP_probability_pred.npz` (`pred` (ny, nx, n),
 * `phases`, `cnn_id`) and `EXP_phase_map.png` beside it (or in `--out-dir`), with provenance.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { BACKEND, defineTool, type Parsed, THREADS } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { writeFileAtomic } from "../../lib/run/atomic.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { ndarray } from "../../lib/io/array.ts";
import { loadCnn } from "../../lib/pipelines/diffsims/train_cnn.ts";
import {
  phaseMap,
  phaseMapPng,
  predictMap,
  readExperiment,
} from "../../lib/pipelines/diffsims/predict.ts";
import { writeNpzText } from "../../lib/pipelines/diffsims/npz_text.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "diffsims/predict",
  task: "diffsims-predict",
  summary: "phase probability maps of experimental .npz scans with a trained CNN",
  permissions: ["--allow-read", "--allow-write=OUT"],
  assets: true,
  args: [{ name: "EXP.npz", help: "experimental scans (x, y)", variadic: true }],
  flags: {
    model: { type: "string", arg: "MODEL_DIR", required: true, help: "cnn_models/model-<uuid>" },
    outDir: { type: "string", arg: "DIR", help: "where to write (default: beside each scan)" },
    backend: BACKEND,
    threads: THREADS,
  },
  examples: ["--model cnn_models/model-<uuid> roi_3_rebin_radial_crop.npz"],
});

type Flags = Parsed<typeof meta.flags>;

/**
 * Runs the tool; returns the prediction files written.
 * @example
 * ```ts
 * await predict(parseFlags(meta, ["--model", "cnn_models/model-<uuid>", "roi.npz"]));
 * ```
 */
export async function predict(f: Flags): Promise<string[]> {
  await initEngine({ backend: f.backend === "auto" ? "wasm" : f.backend, threads: f.threads });
  const { net, info } = await loadCnn(f.model);
  const out: string[] = [];
  for (const path of f._) {
    const e = await readExperiment(path, info.len);
    const pred = predictMap(net, e);
    const stem = join(f.outDir ?? dirname(path), basename(path).replace(/\.npz$/i, ""));
    const file = `${stem}_probability_pred.npz`;
    await writeNpzText(file, {
      pred: ndarray(pred, [e.ny, e.nx, info.phases.length]),
      phases: info.phases,
      cnn_id: [info.cnn_id],
    });
    await writeFileAtomic(
      `${stem}_phase_map.png`,
      phaseMapPng(phaseMap(pred, e.ny * e.nx), e.ny, e.nx),
      { overwrite: true },
    );
    const prov = await makeProvenance({
      tool: meta.name,
      args: { model: basename(f.model), cnn_id: info.cnn_id, input: basename(path) },
      inputs: [path, `${f.model}/model.json`],
    });
    await writeProvenance(file, prov);
    out.push(file);
  }
  return out;
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await predict(f);
  }, argv);

if (import.meta.main) {
  await runTool(meta, async (f) => {
    for (const p of await predict(f)) console.log(p);
  });
}
