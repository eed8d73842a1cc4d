/**
 * `flair-export`: each fold's best checkpoint as ONNX (`<out>/model<k+1>.onnx`, input
 * `modelInput` (N, 2, 7, 256, 256), output `modelOutput`, dynamic batch axis), as the original's
 * `3-ConvertModels.py`, with the checkpoint chosen by metric instead of by editing the script.
 * Each file is then run in onnxruntime-web and in the engine on two of the fold's slices; a
 * difference above 1e-4 fails.
 *
 * @module
 */
import { BACKEND, defineTool, THREADS } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { PreparedDataset } from "../../lib/pipelines/flair/dataset.ts";
import { exportFold, loadFlairNet, onnxParity } from "../../lib/pipelines/flair/export.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "flair/export",
  summary: "export each fold's best Flair Visibility checkpoint to ONNX and check it in ORT",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "flair-export",
  flags: {
    data: { type: "string", arg: "DIR", default: "prepared", help: "prepared dataset (folds)" },
    name: { type: "string", short: "n", default: "FVV", help: "run name" },
    models: { type: "string", arg: "DIR", default: "saved_models", help: "checkpoint folder" },
    out: { type: "string", arg: "DIR", default: "saved_models_ONNX", help: "ONNX folder" },
    metric: {
      type: "choice",
      choices: ["visDice", "diceMean", "kappa", "auc"],
      default: "visDice",
      help: "which best checkpoint of each fold (visDice: the original's metric)",
    },
    noVerify: { type: "boolean", help: "skip the onnxruntime-web vs engine check" },
    backend: BACKEND,
    threads: THREADS,
  },
  examples: ["--data prepared -n FVV --models saved_models --out saved_models_ONNX"],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const ds = PreparedDataset.open(f.data);
    await initEngine({ backend: f.backend, threads: f.threads });
    try {
      for (let k = 0; k < ds.kfolds; k++) {
        const r = await exportFold(f.models, f.name, k, f.out, f.metric);
        let note = "";
        if (!f.noVerify) {
          const idx = ds.foldSlices(k).test.slice(0, 2);
          const { x } = ds.batch(idx);
          const d = await onnxParity(r.path, await loadFlairNet(r.checkpoint), x, idx.length);
          if (!(d <= 1e-4)) {
            throw new LumenError(r.path, "", `onnxruntime-web differs from the engine by ${d}`);
          }
          note = `, ORT − engine ≤ ${d.toExponential(1)}`;
        }
        if (!f.quiet) {
          console.log(
            `${r.path}: fold ${k}, epoch ${r.epoch} (${r.metric} ${r.value.toFixed(4)})${note}`,
          );
        }
      }
    } finally {
      ds.close();
      closeEngine();
    }
  });
}
