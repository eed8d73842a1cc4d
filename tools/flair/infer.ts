/**
 * `flair-infer`: Flair Visibility inference with the fold ONNX models. `--data` runs each fold's
 * model on its own test patients (out of fold) and writes per-patient NIfTI maps and
 * `test_inference.csv` with volumes in mL and Dice against the ground truth; `--patient` runs a
 * new patient folder through all K models (majority vote) and writes `predictions.nii.gz`,
 * `heatmap.nii.gz`, `results.csv` and `key_slices.png`. Every map lies on the patient's native
 * grid with its affine.
 *
 * @module
 */
import { defineTool, OVERWRITE, UsageError } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { inferOutOfFold, inferPatient } from "../../lib/pipelines/flair/infer_run.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "flair/infer",
  summary: "Flair Visibility inference: out-of-fold test patients or a new patient folder",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "flair-infer",
  flags: {
    data: { type: "string", arg: "DIR", help: "prepared dataset: each fold's test patients" },
    patient: { type: "string", arg: "DIR", help: "a new patient folder (b0, b1000, …)" },
    models: { type: "string", arg: "DIR", default: "saved_models_ONNX", help: "ONNX models" },
    out: { type: "string", arg: "DIR", required: true, help: "output folder" },
    threads: { type: "int", min: 1, default: 1, help: "onnxruntime-web threads" },
    overwrite: OVERWRITE,
  },
  examples: [
    "--data prepared --models saved_models_ONNX --out results",
    "--patient input_data/NEW --models saved_models_ONNX --out results/NEW",
  ],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    if ((f.data === undefined) === (f.patient === undefined)) {
      throw new UsageError("--data/--patient", "give exactly one of them");
    }
    const o = { threads: f.threads, overwrite: f.overwrite };
    if (f.patient !== undefined) {
      const r = await inferPatient(f.patient, f.models, f.out, o);
      if (!f.quiet) {
        console.log(
          `${f.out}: ${r.patient}: stroke ${r.strokeMl.toFixed(2)} mL, visible ` +
            `${r.visibleMlMean.toFixed(2)} mL (mean of ${r.models} models; majority ` +
            `${r.visibleMlMajority.toFixed(2)} mL), ratio ${r.ratio.toFixed(3)}`,
        );
      }
      return;
    }
    const rows = await inferOutOfFold(f.data!, f.models, f.out, {
      ...o,
      onPatient: (r) => {
        if (f.quiet) return;
        console.error(
          `${r.patient} (fold ${r.fold}): stroke ${r.pred.strokeMl.toFixed(2)} mL ` +
            `(truth ${r.truth.strokeMl.toFixed(2)}), visible ${r.pred.visibleMl.toFixed(2)} mL ` +
            `(truth ${r.truth.visibleMl.toFixed(2)}), Dice stroke ${r.dice.stroke.toFixed(3)}`,
        );
      },
    });
    if (!f.quiet) console.log(`${f.out}/test_inference.csv: ${rows.length} patients`);
  });
}
