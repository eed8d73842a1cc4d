/**
 * Synthetic datasets (the original's `make_synthetic_dataset`): `<parent>/<name>/img{i}.jpg`
 * (JPEG by jpeg-js's encoder) and `metadata.json` {datetime, prompt — formatted, the original
 * wrote its template —, phase, focal-plane, model, model-sha256, seed, steps}; built beside its
 * place and renamed in. Also the prompt helpers and the prior-preservation class images.
 *
 * @example
 * ```ts
 * import { formatPrompt, writeSyntheticDataset } from "./synthetic_dataset.ts";
 * const prompt = formatPrompt("a microscopic image of human embryo at phase {phase}", "t2", "F+00");
 * await writeSyntheticDataset("/data/all-synthetic-runs", "t2-run", images, 32, { prompt, … });
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { buildDirAtomic, pathExists } from "../../run/atomic.ts";
import { PHASES } from "./dataset.ts";
import { encodeGrayJpeg } from "./jpeg_write.ts";
import { type ImageSet, jpegToUnit } from "./diffusion_data.ts";
import type { PhaseModel } from "./phase_models.ts";
import { resize2d } from "../../data/resize.ts";

/**
 * `{phase}` and `{focal_plane}` replaced (as the original's `str.format` with those keys).
 *
 * @example
 * ```ts
 * formatPrompt("embryo at phase {phase} ({focal_plane})", "t7", "F+00"); // "embryo at phase t7 (F+00)"
 * ```
 */
export function formatPrompt(template: string, phase: string, plane: string): string {
  if (!template.trim()) throw new LumenError("--prompt", "", "is empty");
  return template.replaceAll("{phase}", phase).replaceAll("{focal_plane}", plane);
}

/**
 * The phase a prompt names (`… at phase t2` → `t2`), if it names a known one.
 *
 * @example
 * ```ts
 * phaseFromPrompt("grayscale microscopic image of a human embryo at phase t2"); // "t2"
 * ```
 */
export function phaseFromPrompt(prompt: string): string | undefined {
  const m = /\bphase\s+(\S+)/.exec(prompt);
  return m && PHASES.includes(m[1]) ? m[1] : undefined;
}

function toGray(img: Float32Array): Float32Array {
  return img.map((v) => (v + 1) * 127.5);
}

/** What `metadata.json` records. */
export interface SyntheticMetadata {
  prompt: string;
  phase: string;
  "focal-plane": string;
  model: string;
  "model-sha256": string;
  seed: number;
  steps: number;
  [field: string]: unknown;
}

/**
 * Writes `<parent>/<name>/img{i}.jpg` + `metadata.json` (`datetime` added). The folder must not
 * exist or be empty; `parent` must exist.
 *
 * @example
 * ```ts
 * await writeSyntheticDataset("/data/runs", "t2", images, 32, meta);
 * ```
 */
export async function writeSyntheticDataset(
  parent: string,
  name: string,
  images: readonly Float32Array[],
  size: number,
  meta: SyntheticMetadata,
  quality = 95,
): Promise<string> {
  let st: Deno.FileInfo | null = null;
  try {
    st = Deno.statSync(parent);
  } catch { /* below */ }
  if (!st?.isDirectory) throw new LumenError(parent, "", "the synthetic dataset parent must exist");
  if (!name || name.includes("/") || name === "." || name === "..") {
    throw new LumenError("--dataset-name", name, "must be a plain folder name");
  }
  const dir = `${parent}/${name}`;
  if (pathExists(dir)) {
    if ([...Deno.readDirSync(dir)].length) throw new LumenError(dir, "", "is not empty");
    Deno.removeSync(dir);
  }
  await buildDirAtomic(dir, async (tmp) => {
    for (let i = 0; i < images.length; i++) {
      await Deno.writeFile(
        `${tmp}/img${i}.jpg`,
        encodeGrayJpeg(toGray(images[i]), size, size, quality),
      );
    }
    const record = { datetime: new Date().toISOString(), ...meta };
    await Deno.writeTextFile(`${tmp}/metadata.json`, JSON.stringify(record, null, 2) + "\n");
  });
  return dir;
}

/**
 * Writes prior-preservation class images as `<dir>/<i>_<phase>.jpg` (for inspection).
 *
 * @example
 * ```ts
 * await writeClassImages("models/t2/class_images", images, labels, 32);
 * ```
 */
export async function writeClassImages(
  dir: string,
  images: readonly Float32Array[],
  labels: readonly number[],
  size: number,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < images.length; i++) {
    await Deno.writeFile(
      `${dir}/${i}_${PHASES[labels[i]]}.jpg`,
      encodeGrayJpeg(toGray(images[i]), size, size, 95),
    );
  }
}

/**
 * Reads a synthetic dataset folder (`img{i}.jpg` + `metadata.json` naming the phase) as images
 * of `size` px in [−1, 1].
 *
 * @example
 * ```ts
 * const s = await readSyntheticDataset("/data/all-synthetic-runs/new-synthetic-t2", 32);
 * ```
 */
export async function readSyntheticDataset(dir: string, size: number): Promise<ImageSet> {
  const metaPath = `${dir}/metadata.json`;
  let meta: { phase?: unknown };
  try {
    meta = JSON.parse(await Deno.readTextFile(metaPath));
  } catch (e) {
    throw new LumenError(metaPath, "", `cannot read synthetic metadata (${(e as Error).message})`);
  }
  const phase = String(meta.phase);
  if (!PHASES.includes(phase)) throw new LumenError(metaPath, "phase", `unknown phase ${phase}`);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    /^img\d+\.jpe?g$/.test(n)
  )
    .sort((a, b) => Number(a.replace(/\D/g, "")) - Number(b.replace(/\D/g, "")));
  if (!files.length) throw new LumenError(dir, "", "no img<i>.jpg files");
  const images = await Promise.all(
    files.map(async (f) => jpegToUnit(await Deno.readFile(`${dir}/${f}`), size, `${dir}/${f}`)),
  );
  return { size, images, labels: files.map(() => PHASES.indexOf(phase)), files };
}

/**
 * Joins image sets of the same size.
 *
 * @example
 * ```ts
 * const all = mergeImageSets([real, synthetic]);
 * ```
 */
export function mergeImageSets(sets: readonly ImageSet[]): ImageSet {
  const size = sets[0].size;
  if (sets.some((s) => s.size !== size)) throw new LumenError("images", "", "sizes differ");
  return {
    size,
    images: sets.flatMap((s) => s.images),
    labels: sets.flatMap((s) => s.labels),
    files: sets.flatMap((s) => s.files),
  };
}

/**
 * Writes each phase model's samples as `<parent>/synthetic-<phase>` (the original's
 * all-synthetic-runs layout), upsampled from `size` to `outSize` pixels, with the prompt that
 * `template` gives for the phase at focal plane F+00.
 *
 * @example
 * ```ts
 * await writePhaseSamples("out/all-synthetic-runs", models.phases, { size: 16, outSize: 64, template, seed: 0, ddimSteps: 10 });
 * ```
 */
export async function writePhaseSamples(
  parent: string,
  phases: readonly PhaseModel[],
  o: { size: number; outSize: number; template: string; seed: number; ddimSteps: number },
): Promise<void> {
  for (const m of phases) {
    const phase = PHASES[m.phase];
    const big = m.samples.map((s) => resize2d(s, [o.size, o.size], [o.outSize, o.outSize]));
    await writeSyntheticDataset(parent, `synthetic-${phase}`, big, o.outSize, {
      prompt: formatPrompt(o.template, phase, "F+00"),
      phase,
      "focal-plane": "F+00",
      model: m.dir,
      "model-sha256": "",
      seed: o.seed + m.phase,
      steps: o.ddimSteps,
    });
  }
}
