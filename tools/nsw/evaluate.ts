/**
 * `evaluate`: the phase classifier on a real image folder (confusion matrix, balanced accuracy,
 * per-phase precision/recall/F1, ROC-AUC, softmax entropy) and, per synthetic set, the share
 * classified as its phase and the FID against the real images of that phase from the
 * classifier's features of every image. Writes `metrics.json` and `report.html`.
 *
 * @module
 */
import { BACKEND, defineTool, THREADS } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import {
  evaluateSynthetic,
  loadClassifier,
  readImageFolder,
  readSyntheticDataset,
} from "../../lib/pipelines/nsw/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "nsw/evaluate",
  summary: "classifier metrics on real images and FID of synthetic sets per phase",
  description: "FID needs at least --min-count images on each side (default: the feature " +
    "dimension, as pytorch-fid requires).",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "nsw-evaluate",
  flags: {
    real: { type: "string", arg: "DIR", required: true, help: "real image folder" },
    synthetic: { type: "list", help: "synthetic dataset folders" },
    classifier: { type: "string", arg: "RUN", required: true, help: "nsw-classify run folder" },
    out: { type: "string", arg: "OUT", help: "where to write (default: <classifier>/evaluation)" },
    minCount: { type: "int", min: 2, help: "fewest images per side for FID" },
    backend: BACKEND,
    threads: THREADS,
  },
  examples: [
    "--real /data/image-folders/v6-8 --synthetic /data/all-synthetic-runs/t2 --classifier runs/cls",
  ],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    await initEngine({ backend: f.backend, threads: f.threads });
    try {
      const model = await loadClassifier(f.classifier!);
      const size = model.cfg.size;
      const real = await readImageFolder(f.real!, size);
      const sets = [];
      for (const d of f.synthetic) {
        sets.push({
          name: d.replace(/\/$/, "").split("/").pop()!,
          set: await readSyntheticDataset(d, size),
        });
      }
      const out = f.out ?? `${f.classifier}/evaluation`;
      await Deno.mkdir(out, { recursive: true });
      const r = await evaluateSynthetic(model, real, sets, { out, minCount: f.minCount });
      console.log(
        `balanced accuracy ${r.real.balancedAccuracy.toFixed(4)}, ROC-AUC ${
          r.real.rocAuc.toFixed(4)
        }`,
      );
      for (const s of r.synthetic) {
        console.log(
          `${s.name} (${s.phase}): FID ${
            s.fid.fid.toFixed(4)
          } (${s.fid.nReal} real, ${s.fid.nFake} synthetic), ` +
            `classified as ${s.phase}: ${(100 * s.accuracy).toFixed(1)} %`,
        );
      }
      if (!f.quiet) console.error(`${out}/metrics.json, ${out}/report.html`);
    } finally {
      closeEngine();
    }
  });
}
