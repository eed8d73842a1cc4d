/**
 * The NSW demo, end to end on generated embryo-like time-lapses (the real dataset is external):
 *
 * 1. writes the ten archives of a small synthetic dataset (7 focal planes, phase CSVs);
 * 2. extracts them (`extract_dataset`'s checks), splits the videos (`make_split`'s greedy rule);
 * 3. makes the training image folder (`make_image_folder`: median frame per phase per video);
 * 4. trains a base DDPM on every phase (the `micro` preset, 16 px, x₀-prediction), fine-tunes one
 *    model per phase from it (the original's one model per phase) and samples each phase with
 *    DDIM into `make_synthetic_dataset`'s folders (JPEGs upsampled to 64 px);
 * 5. trains the phase classifier on real frames only (every annotated F+00 frame of the training
 *    videos) and scores it on the held-out videos' frames and on the samples;
 * 6. FID on 4×4 pooled gray levels (two halves of the real frames, and real against synthetic),
 *    `demo_metrics.json` and an HTML report.
 *
 * @example
 * ```ts
 * import { runDemo } from "./_demo.ts";
 * const r = await runDemo("demo_out/nsw", { quiet: true, seed: 0 });
 * console.log(r.index);
 * ```
 * @module
 */
import type { DemoResult } from "../../lib/run/demo.ts";
import { closeEngine, initEngine } from "../../lib/tensor/engine.ts";
import {
  extractDataset,
  makeImageFolder,
  makeSplit,
  PHASES,
  readImageFolder,
  scoreDemo,
  splitJsonText,
  trainPhaseModels,
  writeDemoReport,
  writeEmbryoArchives,
  writePhaseSamples,
} from "../../lib/pipelines/nsw/mod.ts";

const TEMPLATE = "a grayscale microscopic image of human embryo at phase {phase}";
const SIZE = 16, PER_PHASE = 4;

/** Runs the demo into `out` (created; it should not hold an earlier run). */
export async function runDemo(
  out: string,
  f: { quiet: boolean; seed: number; threads?: number; baseSteps?: number; fineSteps?: number },
): Promise<DemoResult> {
  const t0 = performance.now();
  const say = (s: string) => {
    if (!f.quiet) {
      console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}`);
    }
  };
  Deno.mkdirSync(out, { recursive: true });
  say("1/6 synthetic embryo archives (8 videos, 7 focal planes, 64 px)");
  const tree = await writeEmbryoArchives(`${out}/archives`, {
    videos: 8,
    size: 64,
    seed: f.seed,
    framesPerPhase: [1, 3],
  });
  say("2/6 extract_dataset, make_split");
  const ex = `${out}/extracted`;
  const xr = await extractDataset(`${out}/archives`, ex);
  const split = makeSplit(ex, [0.6, 0.2, 0.2], 1234567890);
  Deno.writeTextFileSync(`${out}/split.json`, splitJsonText(split));
  const splitText = Object.entries(split).map(([k, v]) => `${k} ${v.length}`).join(", ");
  say("3/6 make_image_folder (train, all phases)");
  Deno.mkdirSync(`${out}/image-folders`, { recursive: true });
  const folder = await makeImageFolder({
    dataset: ex,
    videos: split.train,
    phases: PHASES,
    parent: `${out}/image-folders`,
    name: "train-all",
    shuffle: true,
    seed: 0,
  });
  const baseSteps = f.baseSteps ?? 100, fineSteps = f.fineSteps ?? 40;
  say(`4/6 base DDPM (${baseSteps} steps), one model per phase (${fineSteps} steps each), DDIM`);
  await initEngine({ threads: f.threads });
  try {
    const data = await readImageFolder(folder.folder, SIZE);
    const models = await trainPhaseModels({
      data,
      preset: "micro",
      baseSteps,
      fineSteps,
      prediction: "x0",
      seed: f.seed,
      out: `${out}/models`,
      samplesPerPhase: PER_PHASE,
      prompt: "a grayscale microscopic image of human embryo",
    });
    const synthDir = `${out}/all-synthetic-runs`;
    Deno.mkdirSync(synthDir, { recursive: true });
    const opts = { size: SIZE, outSize: 64, template: TEMPLATE, seed: f.seed, ddimSteps: 10 };
    await writePhaseSamples(synthDir, models.phases, opts);
    const synth = models.phases.flatMap((m) => m.samples);
    say("5/6 phase classifier on real frames; accuracy on held-out frames and on the samples");
    const { fids, ...m } = await scoreDemo({
      dataset: ex,
      train: split.train,
      held: [...split.val, ...split.test],
      samples: synth,
      labels: models.phases.flatMap((p) => p.samples.map(() => p.phase)),
      size: SIZE,
      seed: f.seed,
      out: `${out}/classifier`,
    });
    say("6/6 demo_metrics.json and the report");
    Deno.writeTextFileSync(`${out}/demo_metrics.json`, JSON.stringify(m, null, 2) + "\n");
    const acc = `held-out real ${m.held_out_accuracy.toFixed(3)}, samples ${
      m.sample_accuracy.toFixed(3)
    } (chance ${m.chance.toFixed(4)})`;
    const index = `${out}/report.html`;
    await writeDemoReport(index, {
      meta: {
        videos: tree.videos.length,
        "frames (7 planes)": tree.frames,
        "files extracted": xr.files,
        split: splitText,
        "training images": data.images.length,
        "DDPM steps": `base ${baseSteps}, ${fineSteps} per phase model (x₀-prediction, 16 px)`,
        "classifier (trained on real frames only)": acc,
      },
      real: data.images.slice(0, 48),
      samples: Array.from({ length: PER_PHASE }, (_, k) => models.phases.map((m) => m.samples[k]))
        .flat(),
      size: SIZE,
      fid: fids,
    });
    return {
      index,
      summary: [
        `${tree.videos.length} videos, ${tree.frames} frames in 10 archives → ${ex}`,
        `split ${splitText}; image folder ${folder.images.length} images`,
        `DDPM: base ${baseSteps} steps + ${models.phases.length} phase models × ${fineSteps}, ` +
        `${synth.length} samples → ${out}/all-synthetic-runs/synthetic-<phase>`,
        `classifier (real frames only): ${acc}`,
        `FID (pooled pixels): real/real ${m.fid_real_real.toFixed(4)}, real/synthetic ${
          m.fid_real_synthetic.toFixed(4)
        }`,
        `report: ${index}`,
      ],
    };
  } finally {
    closeEngine();
  }
}
