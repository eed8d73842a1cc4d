/**
 * `diffsims-train`: trains diffsims XL's 1D CNN on simulation files (streamed) and writes
 * `<out>/model-<cnn_id>/` (checkpoints, `model.json`, `model.onnx`, `train.log.jsonl`,
 * `report.html`, provenance). Prints the `cnn_id`. `--resume DIR` continues a run.
 *
 * @module
 */
import { BACKEND, defineTool, type Parsed, provenanceArgs, THREADS } from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { listSimFiles } from "../../lib/pipelines/diffsims/sim_data.ts";
import { trainCnn, type TrainCnnResult } from "../../lib/pipelines/diffsims/train_cnn.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "diffsims/train",
  task: "diffsims-train",
  summary: "train the 1D CNN phase classifier on simulation files; prints the cnn_id",
  permissions: ["--allow-read", "--allow-write=OUT"],
  assets: true,
  flags: {
    sim: { type: "list", arg: "DIR|FILE", required: true, help: "simulation folders or files" },
    out: { type: "string", arg: "DIR", default: "cnn_models", help: "models folder" },
    epochs: { type: "int", min: 1, default: 2, help: "epochs" },
    batchSize: { type: "int", min: 1, default: 64, help: "batch size" },
    testFraction: { type: "number", min: 0, max: 0.9, default: 0.25, help: "held-out share" },
    lr: { type: "number", min: 0, default: 1e-3, help: "Adam learning rate" },
    seed: { type: "int", min: 0, default: 10, help: "random seed (the original's: 10)" },
    resume: { type: "string", arg: "MODEL_DIR", help: "continue the run in this model folder" },
    backend: BACKEND,
    threads: THREADS,
  },
  examples: ["--sim sims/ --epochs 2 --out cnn_models/"],
});

type Flags = Parsed<typeof meta.flags>;

/**
 * Runs the tool.
 * @example
 * ```ts
 * const r = await train(parseFlags(meta, ["--sim", "sims/", "--epochs", "2"])); r.cnnId;
 * ```
 */
export async function train(f: Flags): Promise<TrainCnnResult> {
  await initEngine({ backend: f.backend === "auto" ? "wasm" : f.backend, threads: f.threads });
  const r = await trainCnn({
    sim: f.sim,
    out: f.out,
    epochs: f.epochs,
    batchSize: f.batchSize,
    testFraction: f.testFraction,
    lr: f.lr,
    seed: f.seed,
    resume: f.resume,
    onEpoch: (e, m) => {
      if (!f.quiet) {
        console.error(`epoch ${e + 1}: loss ${m.loss.toFixed(4)} acc ${m.acc.toFixed(3)}`);
      }
    },
  });
  const prov = await makeProvenance({
    tool: meta.name,
    args: provenanceArgs(meta, f),
    seed: f.seed,
    inputs: listSimFiles(f.sim),
    fast: true,
  });
  await writeProvenance(`${r.dir}/model.json`, prov);
  return r;
}

/** Runs the tool in this process (errors are thrown). */
export const main = (argv: readonly string[]): Promise<void> =>
  callTool(meta, async (f) => {
    await train(f);
  }, argv);

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const r = await train(f);
    console.log(r.cnnId);
  });
}
