/**
 * `make_synthetic_dataset`: DDIM samples of one phase from a trained model, seeded, written as
 * `<parent>/<name>/img{i}.jpg` with `metadata.json` holding the formatted prompt.
 *
 * @module
 */
import { BACKEND, defineTool, provenanceArgs, THREADS } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { readCheckpointRecord } from "../../lib/nn/checkpoint.ts";
import {
  formatPrompt,
  loadDiffusionModel,
  PHASES,
  PLANES,
  sampleDdim,
  writeSyntheticDataset,
} from "../../lib/pipelines/nsw/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "nsw/make_synthetic_dataset",
  summary: "generate a synthetic dataset of one phase with a trained NSW diffusion model",
  description: "The folder <parent>/<dataset-name> must not exist or be empty. The prompt may " +
    "hold {phase} and {focal_plane}; metadata.json records it formatted.",
  permissions: ["--allow-read", "--allow-write=PARENT"],
  task: "nsw-synthesize",
  flags: {
    phase: { type: "choice", choices: [...PHASES], required: true, help: "phase to generate" },
    datasetName: { type: "string", arg: "NAME", required: true, help: "name of the dataset" },
    modelPath: { type: "string", arg: "MODEL", required: true, help: "trained model folder" },
    parent: {
      type: "string",
      arg: "PARENT",
      aliases: ["synthetic-dataset-parent"],
      default: ".",
      help: "where the synthetic datasets are saved",
    },
    count: { type: "int", min: 1, default: 50, aliases: ["num-images"], help: "number of images" },
    steps: { type: "int", min: 1, default: 50, help: "DDIM steps" },
    eta: { type: "number", min: 0, default: 0, help: "DDIM eta (0: deterministic)" },
    guidance: { type: "number", min: 0, default: 1, help: "classifier-free guidance scale" },
    focalPlane: {
      type: "choice",
      choices: PLANES.map((p) => p.name),
      default: "F+00",
      help: "focal plane recorded in the metadata",
    },
    prompt: {
      type: "string",
      default: "a grayscale microscopic image of human embryo at phase {phase}",
      help: "prompt recorded in the metadata ({phase}, {focal_plane} replaced)",
    },
    seed: { type: "int", min: 0, default: 0, help: "random seed" },
    backend: BACKEND,
    threads: THREADS,
  },
  examples: [
    "--phase t2 --dataset-name new-synthetic-t2 --model-path models/phase-t2 " +
    "--parent /data/all-synthetic-runs",
  ],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const prompt = formatPrompt(f.prompt!, f.phase!, f.focalPlane!);
    await initEngine({ backend: f.backend, threads: f.threads });
    try {
      const { net, meta: m } = await loadDiffusionModel(f.modelPath!);
      const p = PHASES.indexOf(f.phase!);
      if (!m.phases.includes(p)) {
        throw new LumenError(
          f.modelPath!,
          "",
          `the model was not trained on phase ${f.phase} (it knows ${
            m.phases.map((i) => PHASES[i]).join(" ")
          })`,
        );
      }
      const rec = await readCheckpointRecord(`${f.modelPath}/model.json`);
      const bar = progress("sample", f.steps * Math.ceil(f.count / 16), { quiet: f.quiet });
      const images = await sampleDdim(net, m, Array(f.count).fill(p), {
        steps: f.steps,
        seed: f.seed,
        eta: f.eta,
        guidance: f.guidance,
        onStep: () => bar.tick(),
      });
      bar.done();
      const dir = await writeSyntheticDataset(f.parent!, f.datasetName!, images, m.cfg.size, {
        prompt,
        phase: f.phase!,
        "focal-plane": f.focalPlane!,
        model: f.modelPath!,
        "model-sha256": rec.files.weights.sha256,
        seed: f.seed,
        steps: f.steps,
      });
      const prov = await makeProvenance({
        tool: meta.name,
        args: provenanceArgs(meta, f),
        seed: f.seed,
        inputs: [`${f.modelPath}/model.json`],
      });
      await writeProvenance(`${dir}/metadata.json`, prov);
      if (!f.quiet) console.error(`${dir}: ${images.length} images of ${f.phase}`);
    } finally {
      closeEngine();
    }
  });
}
