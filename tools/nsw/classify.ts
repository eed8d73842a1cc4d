/**
 * `classify`: trains the 16-way phase classifier (small ResNet, class-weighted cross-entropy,
 * Adam with a per-step cosine schedule) on an image folder, optionally with synthetic sets
 * added; rerunning the same command resumes.
 *
 * @module
 */
import { BACKEND, defineTool, OVERWRITE, provenanceArgs, THREADS } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { openLog } from "../../lib/run/log.ts";
import { finishResumableDir, openResumableDir } from "../../lib/run/resume.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { latestCheckpoint } from "../../lib/nn/run_dir.ts";
import {
  mergeImageSets,
  readImageFolder,
  readSyntheticDataset,
  trainClassifier,
} from "../../lib/pipelines/nsw/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "nsw/classify",
  summary: "train the phase classifier on real (and synthetic) images",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "nsw-classify",
  flags: {
    imageFolder: { type: "string", arg: "DIR", required: true, help: "real image folder" },
    synthetic: { type: "list", help: "synthetic dataset folders to add" },
    out: { type: "string", arg: "OUT", aliases: ["save-dir"], required: true, help: "run folder" },
    size: { type: "int", min: 8, default: 32, help: "input size in pixels" },
    epochs: { type: "int", min: 1, default: 50, help: "epochs" },
    batchSize: { type: "int", min: 1, default: 16, help: "images per step" },
    lr: { type: "number", min: 0, default: 1e-3, help: "Adam learning rate (cosine per step)" },
    seed: { type: "int", min: 0, default: 0, help: "random seed" },
    backend: BACKEND,
    threads: THREADS,
    overwrite: OVERWRITE,
  },
  examples: [
    "--image-folder /data/image-folders/train --synthetic /data/all-synthetic-runs/t2 --out runs/cls",
  ],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const out = f.out!;
    const args = provenanceArgs(meta, f);
    const state = openResumableDir(out, args, { overwrite: f.overwrite });
    await initEngine({ backend: f.backend, threads: f.threads });
    try {
      const sets = [await readImageFolder(f.imageFolder!, f.size)];
      for (const d of f.synthetic) sets.push(await readSyntheticDataset(d, f.size));
      const data = mergeImageSets(sets);
      const log = openLog(`${out}/train_log.jsonl`);
      const r = await trainClassifier({
        data,
        epochs: f.epochs,
        batch: f.batchSize,
        lr: f.lr,
        seed: f.seed,
        out,
        resume: state === "resume"
          ? latestCheckpoint(`${out}/checkpoints`, "ckpt")?.path
          : undefined,
        log: (rec) => log.write(rec),
      });
      log.close();
      const prov = await makeProvenance({ tool: meta.name, args, seed: f.seed, inputs: [] });
      await writeProvenance(r.path, prov);
      finishResumableDir(out);
      if (!f.quiet) {
        console.error(
          `${r.path}: ${data.images.length} images, ${r.steps} steps, loss ${
            r.lastLoss.toFixed(4)
          }`,
        );
      }
    } finally {
      closeEngine();
    }
  });
}
