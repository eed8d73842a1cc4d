/**
 * The NSW demo, end to end on generated embryo-like time-lapses (the real dataset is external):
 *
 * 1. writes the ten archives of a small synthetic dataset (7 focal planes, phase CSVs);
 * 2. extracts them (`extract_dataset`'s checks), splits the videos (`make_split`'s greedy rule);
 * 3. makes the training image folder (`make_image_folder`: median frame per phase per video);
 * 4. trains the tiny class-conditional DDPM briefly and samples every phase with DDIM
 *    (`make_synthetic_dataset`);
 * 5. FID on 4×4 pooled gray levels (a stand-in for the classifier's features): two halves of the
 *    real frames against each other, and real against synthetic; an HTML report.
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
  fid,
  formatPrompt,
  jpegToUnit,
  makeImageFolder,
  makeSplit,
  PHASES,
  pooledFeatures,
  readImageFolder,
  sampleDdim,
  splitJsonText,
  trainDiffusion,
  videoFrames,
  writeDemoReport,
  writeEmbryoArchives,
  writeSyntheticDataset,
} from "../../lib/pipelines/nsw/mod.ts";

const TEMPLATE = "a grayscale microscopic image of human embryo at phase {phase}";

/** Runs the demo into `out` (created; it should not hold an earlier run). */
export async function runDemo(
  out: string,
  f: { quiet: boolean; seed: number; threads?: number; steps?: number },
): Promise<DemoResult> {
  const t0 = performance.now();
  const say = (s: string) => {
    if (!f.quiet) {
      console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${s}`);
    }
  };
  Deno.mkdirSync(out, { recursive: true });
  say("1/5 synthetic embryo archives (8 videos, 7 focal planes, 64 px)");
  const tree = await writeEmbryoArchives(`${out}/archives`, {
    videos: 8,
    size: 64,
    seed: f.seed,
    framesPerPhase: [1, 3],
  });
  say("2/5 extract_dataset, make_split");
  const ex = `${out}/extracted`;
  const xr = await extractDataset(`${out}/archives`, ex);
  const split = makeSplit(ex, [0.6, 0.2, 0.2], 1234567890);
  Deno.writeTextFileSync(`${out}/split.json`, splitJsonText(split));
  say("3/5 make_image_folder (train, all phases)");
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
  const steps = f.steps ?? 40;
  say(`4/5 train the tiny DDPM (${steps} steps) and sample every phase`);
  await initEngine({ threads: f.threads });
  let result;
  try {
    const data = await readImageFolder(folder.folder, 32);
    const r = await trainDiffusion({
      data,
      preset: "tiny",
      steps,
      batch: 4,
      lr: 1e-3,
      seed: f.seed,
      checkpointEvery: steps,
      out: `${out}/model`,
      prompt: "a grayscale microscopic image of human embryo",
    });
    const labels = PHASES.map((_, i) => i).flatMap((i) => [i, i]);
    const synth = await sampleDdim(r.ema, r.meta, labels, { steps: 10, seed: f.seed });
    Deno.mkdirSync(`${out}/all-synthetic-runs`, { recursive: true });
    for (let k = 0; k < PHASES.length; k++) {
      await writeSyntheticDataset(
        `${out}/all-synthetic-runs`,
        `synthetic-${PHASES[k]}`,
        synth.slice(2 * k, 2 * k + 2),
        32,
        {
          prompt: formatPrompt(TEMPLATE, PHASES[k], "F+00"),
          phase: PHASES[k],
          "focal-plane": "F+00",
          model: `${out}/model`,
          "model-sha256": "",
          seed: f.seed,
          steps: 10,
        },
      );
    }
    say("5/5 FID (4×4 pooled gray levels) and the report");
    const real: Float32Array[] = [];
    for (const v of split.train) {
      for (const fr of videoFrames(ex, "F+00", v)) {
        real.push(jpegToUnit(Deno.readFileSync(fr.path), 32, fr.path));
      }
    }
    const a = real.filter((_, i) => i % 2 === 0), b = real.filter((_, i) => i % 2 === 1);
    const half = fid(pooledFeatures(a, 32, 4), pooledFeatures(b, 32, 4));
    const rs = fid(pooledFeatures(a, 32, 4), pooledFeatures(synth, 32, 4));
    const index = `${out}/report.html`;
    await writeDemoReport(index, {
      meta: {
        videos: tree.videos.length,
        "frames (7 planes)": tree.frames,
        "files extracted": xr.files,
        split: Object.entries(split).map(([k, v]) => `${k} ${v.length}`).join(", "),
        "training images": data.images.length,
        "DDPM steps": r.steps,
        "last loss": r.lastLoss.toFixed(4),
      },
      real: data.images.slice(0, 48),
      samples: synth.filter((_, i) => i % 2 === 0).concat(synth.filter((_, i) => i % 2)),
      size: 32,
      fid: [["real half A vs real half B", half], ["real half A vs synthetic", rs]],
    });
    result = {
      index,
      summary: [
        `${tree.videos.length} videos, ${tree.frames} frames in 10 archives → ${ex}`,
        `split ${
          Object.entries(split).map(([k, v]) => `${k} ${v.length}`).join(", ")
        }; image folder ${folder.images.length} images`,
        `tiny DDPM ${r.steps} steps (loss ${
          r.lastLoss.toFixed(3)
        }), ${synth.length} samples → ${out}/all-synthetic-runs/synthetic-<phase>`,
        `FID (pooled pixels): real/real ${half.fid.toFixed(4)}, real/synthetic ${
          rs.fid.toFixed(4)
        }`,
        `report: ${index}`,
      ],
    };
  } finally {
    closeEngine();
  }
  return result;
}
