/**
 * Pictures and the HTML report of a diffusion run: a gray mosaic of images in [−1, 1], sample
 * grids per phase saved at each checkpoint (`<out>/samples/step_<n>.png`), and a report with
 * the loss curve and the grids over training.
 *
 * @example
 * ```ts
 * import { mosaicPng, writeDiffusionReport } from "./diffusion_report.ts";
 * Deno.writeFileSync("grid.png", mosaicPng(images, 32, 8));
 * await writeDiffusionReport("models/phase-t2", meta, logRecords);
 * ```
 * @module
 */
import { encodePng } from "../../io/png.ts";
import type { NdArray } from "../../io/array.ts";
import { type LossRecord, writeHtmlReport } from "../../viz/html_report.ts";
import { PHASES } from "./dataset.ts";
import type { DiffusionMeta } from "./diffusion_model.ts";

/**
 * A PNG of `images` (each `size × size`, values in [−1, 1]) in rows of `cols`, 2-pixel gaps.
 *
 * @example
 * ```ts
 * mosaicPng([new Float32Array(16)], 4, 1);
 * ```
 */
export function mosaicPng(images: readonly Float32Array[], size: number, cols: number): Uint8Array {
  const rows = Math.max(1, Math.ceil(images.length / cols));
  const g = 2, W = cols * (size + g) + g, H = rows * (size + g) + g;
  const data = new Uint8Array(W * H).fill(255);
  images.forEach((img, k) => {
    const ox = g + (k % cols) * (size + g), oy = g + Math.floor(k / cols) * (size + g);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = Math.round((img[y * size + x] + 1) * 127.5);
        data[(oy + y) * W + ox + x] = Math.max(0, Math.min(255, v));
      }
    }
  });
  return encodePng({ dtype: "uint8", shape: [H, W], data } as NdArray);
}

/**
 * Writes `<out>/report.html`: the run's facts, its loss curve and every saved sample grid
 * (columns: the phases trained on).
 *
 * @example
 * ```ts
 * await writeDiffusionReport("models/all", meta, records);
 * ```
 */
export async function writeDiffusionReport(
  out: string,
  meta: DiffusionMeta,
  losses: readonly LossRecord[],
  extra: Record<string, string | number> = {},
): Promise<string> {
  const grids: { step: number; png: Uint8Array }[] = [];
  try {
    for (const e of Deno.readDirSync(`${out}/samples`)) {
      const m = /^step_(\d+)\.png$/.exec(e.name);
      if (m) grids.push({ step: Number(m[1]), png: Deno.readFileSync(`${out}/samples/${e.name}`) });
    }
  } catch { /* no samples yet */ }
  grids.sort((a, b) => a.step - b.step);
  const phases = meta.phases.map((p) => PHASES[p]).join(" ");
  const path = `${out}/report.html`;
  await writeHtmlReport(path, {
    title: "NSW class-conditional DDPM",
    subtitle: meta.base ? `fine-tuned from ${meta.base}` : "trained from scratch",
    meta: {
      preset: meta.preset,
      size: `${meta.cfg.size} px`,
      channels: meta.cfg.channels.join(","),
      schedule: `${meta.schedule}, T = ${meta.T}`,
      phases,
      prompt: meta.prompt,
      ...extra,
    },
    losses: losses.filter((r) => typeof r.loss === "number").map((r) => ({
      step: r.step,
      loss: r.loss,
    })),
    sections: [{
      heading: "Samples per phase over training (EMA weights, DDIM)",
      text: `Columns: ${phases}. Each row is one checkpoint, from the same starting noise.`,
      images: grids.map((g) => ({ title: `step ${g.step}`, png: g.png })),
    }],
  }, { overwrite: true });
  return path;
}
