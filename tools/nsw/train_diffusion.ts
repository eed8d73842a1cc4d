/**
 * `train_diffusion`: trains the class-conditional DDPM on an image folder from scratch, or
 * (`--init BASE`) fine-tunes a base model on one phase with prior preservation: class images of
 * the other phases are drawn from the base model first (DreamBooth's recipe in place of Stable
 * Diffusion 2.1, whose weights cannot be had here). Rerunning the same command resumes exactly.
 *
 * @module
 */
import { defineTool, provenanceArgs } from "../../lib/run/flags.ts";
import { runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { openLog } from "../../lib/run/log.ts";
import { progress } from "../../lib/run/progress.ts";
import { finishResumableDir, openResumableDir } from "../../lib/run/resume.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import { latestCheckpoint } from "../../lib/nn/run_dir.ts";
import {
  checkPhase,
  type ImageSet,
  loadDiffusionModel,
  mosaicPng,
  phaseFromPrompt,
  PHASES,
  PRESETS,
  readImageFolder,
  sampleDdim,
  TRAIN_DIFFUSION_FLAGS,
  trainDiffusion,
  writeClassImages,
  writeDiffusionReport,
} from "../../lib/pipelines/nsw/mod.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "nsw/train_diffusion",
  summary: "train the phase-conditional DDPM (or fine-tune one phase with prior preservation)",
  description: 'Without --phase, the phase named in --instance-prompt ("… at phase t2") is ' +
    "used; with neither, every phase of the folder. --init BASE fine-tunes BASE on that phase, " +
    "mixing in --num-class-images images of the other phases sampled from BASE (weight " +
    "--prior-loss-weight). The W&B flags of the original are accepted and not used.",
  permissions: ["--allow-read", "--allow-write=OUT"],
  task: "nsw-train-diffusion",
  flags: TRAIN_DIFFUSION_FLAGS,
  examples: [
    "--image-folder /data/image-folders/training-all-1vp --instance-prompt " +
    '"grayscale microscopic image of a human embryo at phase t2" --out models/phase-t2',
  ],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const phase = f.phase ?? phaseFromPrompt(f.instancePrompt ?? "");
    if (phase !== undefined) checkPhase(phase, "--phase");
    const out = f.out!;
    const args = provenanceArgs(meta, f);
    const state = openResumableDir(out, args, { overwrite: f.overwrite });
    await initEngine({ backend: f.backend, threads: f.threads });
    try {
      const base = f.init ? await loadDiffusionModel(f.init) : null;
      const size = base ? base.meta.cfg.size : PRESETS[f.preset as "tiny"].size;
      const data = await readImageFolder(f.imageFolder!, size, phase);
      let prior: { data: ImageSet; weight: number } | undefined;
      if (base && f.numClassImages > 0) {
        const others = base.meta.phases.filter((p) => PHASES[p] !== phase);
        if (!others.length) {
          throw new LumenError(f.init!, "", "the base model knows no other phase");
        }
        const labels = Array.from(
          { length: f.numClassImages },
          (_, i) => others[i % others.length],
        );
        if (!f.quiet) console.error(`sampling ${labels.length} class images from ${f.init}`);
        const images = await sampleDdim(base.net, base.meta, labels, {
          steps: 50,
          seed: f.seed + 1,
        });
        await writeClassImages(`${out}/class_images`, images, labels, size);
        prior = { data: { size, images, labels, files: [] }, weight: f.priorLossWeight };
      }
      const steps = f.steps ?? Math.min(4000, f.stepsPerImage * data.images.length);
      const resume = state === "resume"
        ? latestCheckpoint(`${out}/checkpoints`, "ckpt")?.path
        : undefined;
      const log = openLog(`${out}/train_log.jsonl`);
      const records: Record<string, unknown>[] = [];
      const bar = progress("train", steps, { quiet: f.quiet });
      const r = await trainDiffusion({
        data,
        preset: f.preset as "tiny",
        init: f.init,
        prior,
        steps,
        batch: f.batchSize,
        lr: f.lr,
        seed: f.seed,
        emaDecay: f.emaDecay,
        schedule: f.schedule as "linear",
        prediction: f.prediction as "eps",
        checkpointEvery: f.checkpointSteps,
        out,
        resume,
        prompt: f.instancePrompt ?? "",
        log: (rec) => {
          log.write(rec);
          records.push(rec);
          if (typeof rec.step === "number") bar.set(rec.step);
        },
        onCheckpoint: async (step, ema, m) => {
          if (!f.validationImages) return;
          const labels = m.phases.flatMap((p) => Array(f.validationImages).fill(p));
          const imgs = await sampleDdim(ema, m, labels, {
            steps: f.validationDdimSteps,
            seed: 12345,
          });
          // columns: phases; rows: the samples of each phase
          const cols = m.phases.length, order: Float32Array[] = [];
          for (let k = 0; k < f.validationImages; k++) {
            for (let c = 0; c < cols; c++) order.push(imgs[c * f.validationImages + k]);
          }
          await Deno.mkdir(`${out}/samples`, { recursive: true });
          await Deno.writeFile(
            `${out}/samples/step_${step}.png`,
            mosaicPng(order, m.cfg.size, cols),
          );
        },
      });
      bar.done();
      log.close();
      const report = await writeDiffusionReport(out, r.meta, records, {
        steps: r.steps,
        "last loss": r.lastLoss.toFixed(4),
        images: data.images.length,
      });
      const prov = await makeProvenance({ tool: meta.name, args, seed: f.seed, inputs: [] });
      await writeProvenance(r.path, prov);
      finishResumableDir(out);
      if (!f.quiet) {
        console.error(`${r.path}: ${r.steps} steps, loss ${r.lastLoss.toFixed(4)}; ${report}`);
      }
    } finally {
      closeEngine();
    }
  });
}
