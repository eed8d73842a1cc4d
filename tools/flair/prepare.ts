/**
 * `flair-prepare`: Flair Visibility's data preparation (the original's `1-DataPreparation.py`):
 * every patient folder of `--input` (b0, b1000, stroke_roi, flairviz_roi, optional mask or
 * mask_roi) onto the model's 256×256 grid, z-scored inside the brain mask, split into K folds
 * by patient, written as NumPy arrays plus `subjects.csv` into `--out` (whole or not at all).
 *
 * @module
 */
import { defineTool, OVERWRITE, provenanceArgs, SEED } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { prepareDataset } from "../../lib/pipelines/flair/prepare.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "flair/prepare",
  summary: "prepare Flair Visibility patients (NIfTI) into a k-fold NumPy dataset",
  description: "Reads --input/<patient>/{b0,b1000,stroke_roi,flairviz_roi}.nii.gz (and mask or " +
    "mask_roi when present; otherwise the brain mask is median-Otsu on b0 and b1000), rescales " +
    "slices whose larger side is < 240 or > 272 to ~256, centre pads/crops to 256×256 and " +
    "writes images.npy (float16 [b1000, b0]), labels.npy, mask.npy, meta.npy, subjects.csv and " +
    "geometry.json. One patient is in memory at a time.",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "flair-prepare",
  flags: {
    input: { type: "string", arg: "DIR", default: "input_data", help: "folder of patient folders" },
    out: { type: "string", arg: "DIR", default: "prepared", help: "output dataset folder" },
    kfolds: { type: "int", short: "k", default: 10, min: 2, help: "number of folds" },
    validProportion: {
      type: "number",
      short: "v",
      default: 0.2,
      min: 0,
      max: 0.99,
      help: "proportion of each fold's patients kept for validation (also --valid_proportion)",
    },
    seed: SEED,
    overwrite: OVERWRITE,
  },
  examples: ["--input input_data --out prepared -k 10 -v 0.2 --seed 0"],
});

if (import.meta.main) {
  // the original's spelling, --valid_proportion, is taken as --valid-proportion
  const argv = Deno.args.map((a) => a.replace(/^--valid_proportion(?==|$)/, "--valid-proportion"));
  await runTool(meta, async (f) => {
    const bar = progress("patients", undefined, { quiet: f.quiet });
    const r = await prepareDataset(f.input, f.out, {
      kfolds: f.kfolds,
      valid: f.validProportion,
      seed: f.seed,
      overwrite: f.overwrite,
      onPatient: (_n, done) => bar.set(done),
    });
    bar.done();
    const prov = await makeProvenance({
      tool: meta.name,
      args: provenanceArgs(meta, f),
      seed: f.seed,
      inputs: [f.input],
      fast: true,
    });
    await writeProvenance(`${f.out}/subjects.csv`, prov);
    if (!f.quiet) {
      console.log(`${f.out}: ${r.patients.length} patients, ${r.slices} slices, ${f.kfolds} folds`);
    }
  }, argv);
}
