/**
 * One model per phase, as the original does (DreamBooth: one fine-tuned model per phase): a base
 * class-conditional DDPM trained on every phase of an image folder, then a short fine-tuning of
 * the base on each phase's images alone (`<out>/base`, `<out>/phase-<p>`), and seeded DDIM
 * samples of each phase from its own model.
 *
 * @example
 * ```ts
 * import { trainPhaseModels } from "./phase_models.ts";
 * const r = await trainPhaseModels({
 *   data, preset: "micro", baseSteps: 100, fineSteps: 40, out: "models", samplesPerPhase: 4,
 * });
 * console.log(r.phases[3].samples.length); // 4
 * ```
 * @module
 */
import { PHASES } from "./dataset.ts";
import type { ImageSet } from "./diffusion_data.ts";
import { type DiffusionTrainResult, sampleDdim, trainDiffusion } from "./diffusion_model.ts";
import type { PRESETS } from "./unet.ts";

/** Options of {@link trainPhaseModels}. */
export interface PhaseModelsOptions {
  data: ImageSet;
  preset: keyof typeof PRESETS;
  /** Steps of the base model (every phase) and of each phase's fine-tuning. */
  baseSteps: number;
  fineSteps: number;
  /** Images per step of the base model and of the fine-tunings (default 16 and 4). */
  batch?: number;
  fineBatch?: number;
  lr?: number;
  seed?: number;
  prediction?: "eps" | "x0";
  out: string;
  /** DDIM samples drawn from each phase's model, and the DDIM steps (default 10). */
  samplesPerPhase: number;
  ddimSteps?: number;
  prompt?: string;
  /** Called after each model (progress). */
  onModel?: (name: string) => void;
}

/** One phase's model and samples. */
export interface PhaseModel {
  /** Phase index (0–15). */
  phase: number;
  /** Its model folder. */
  dir: string;
  lastLoss: number;
  samples: Float32Array[];
}

/**
 * Trains the base and the per-phase models and samples each phase; see the module doc. Phases
 * without images in `data` get no model.
 *
 * @example
 * ```ts
 * const { base, phases } = await trainPhaseModels(options);
 * ```
 */
export async function trainPhaseModels(
  o: PhaseModelsOptions,
): Promise<{ base: DiffusionTrainResult; phases: PhaseModel[] }> {
  const seed = o.seed ?? 0, lr = o.lr ?? 2e-3, ddim = o.ddimSteps ?? 10;
  const base = await trainDiffusion({
    data: o.data,
    preset: o.preset,
    steps: o.baseSteps,
    batch: o.batch ?? 16,
    lr,
    seed,
    prediction: o.prediction,
    checkpointEvery: o.baseSteps,
    out: `${o.out}/base`,
    prompt: o.prompt,
  });
  o.onModel?.("base");
  const phases: PhaseModel[] = [];
  for (let p = 0; p < PHASES.length; p++) {
    const idx = o.data.labels.flatMap((l, i) => (l === p ? [i] : []));
    if (!idx.length) continue;
    const data: ImageSet = {
      size: o.data.size,
      images: idx.map((i) => o.data.images[i]),
      labels: idx.map(() => p),
      files: idx.map((i) => o.data.files[i]),
    };
    const dir = `${o.out}/phase-${PHASES[p]}`;
    const r = await trainDiffusion({
      data,
      init: `${o.out}/base`,
      steps: o.fineSteps,
      batch: o.fineBatch ?? 4,
      lr,
      seed: seed + 1 + p,
      checkpointEvery: o.fineSteps,
      out: dir,
      prompt: o.prompt ? `${o.prompt} at phase ${PHASES[p]}` : undefined,
    });
    const samples = await sampleDdim(r.ema, r.meta, Array(o.samplesPerPhase).fill(p), {
      steps: ddim,
      seed: seed + p,
    });
    phases.push({ phase: p, dir, lastLoss: r.lastLoss, samples });
    o.onModel?.(PHASES[p]);
  }
  return { base, phases };
}
