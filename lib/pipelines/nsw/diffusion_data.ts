/**
 * Image folders as diffusion training data: `metadata.csv` (`filename,label,phase`) and
 * `images/<file>`, decoded to gray, resized (anti-aliased bilinear) to the model's size and
 * scaled to [−1, 1]; and the seeded draws of a training step (images, timesteps, noise) that
 * depend only on the seed and the step number, so a resumed run draws what a straight run does.
 *
 * @example
 * ```ts
 * import { readImageFolder, stepDraws } from "./diffusion_data.ts";
 * const data = await readImageFolder("/data/image-folders/v6-8", 32);
 * const d = stepDraws(data.images.length, 16, 1000, 32 * 32, 0, 7);
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { ioError } from "../../run/atomic.ts";
import { decodeJpeg } from "../../io/jpeg.ts";
import { resize2d } from "../../data/resize.ts";
import { SimRng } from "../../data/rng.ts";
import { annotate, checkPhase, PHASES, readPhaseRanges, videoFrames } from "./dataset.ts";

/** Decoded images of one folder. */
export interface ImageSet {
  size: number;
  /** Each `size × size`, values in [−1, 1]. */
  images: Float32Array[];
  /** Phase index (0–15) of each image. */
  labels: number[];
  files: string[];
}

/**
 * Gray pixels of a decoded JPEG (RGB averaged) resized to `size × size`, scaled to [−1, 1].
 *
 * @example
 * ```ts
 * jpegToUnit(Deno.readFileSync("0.jpeg"), 32, "0.jpeg").length; // 1024
 * ```
 */
export function jpegToUnit(bytes: Uint8Array, size: number, file: string): Float32Array {
  const img = decodeJpeg(bytes, file);
  const [h, w] = img.shape;
  const c = img.shape.length === 3 ? img.shape[2] : 1;
  const src = img.data as Uint8Array;
  const gray = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    let s = 0;
    for (let k = 0; k < c; k++) s += src[i * c + k];
    gray[i] = s / c;
  }
  const r = h === size && w === size ? gray : resize2d(gray, [h, w], [size, size]);
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = r[i] / 127.5 - 1;
  return out;
}

/**
 * Reads an image folder's images and phases (optionally only `phase`).
 *
 * @example
 * ```ts
 * const s = await readImageFolder("/data/image-folders/all", 32, "t2");
 * ```
 */
export async function readImageFolder(
  folder: string,
  size: number,
  phase?: string,
): Promise<ImageSet> {
  const csv = `${folder}/metadata.csv`;
  let text: string;
  try {
    text = await Deno.readTextFile(csv);
  } catch (e) {
    throw ioError(csv, e, "cannot read the image folder's metadata");
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines[0]?.trim() !== "filename,label,phase") {
    throw new LumenError(csv, "line 1", "expected the header filename,label,phase");
  }
  if (phase !== undefined) checkPhase(phase, "--phase");
  const out: ImageSet = { size, images: [], labels: [], files: [] };
  for (let i = 1; i < lines.length; i++) {
    const [file, , p] = lines[i].split(",").map((s) => s.trim());
    checkPhase(p ?? "", csv, `line ${i + 1}`);
    if (phase !== undefined && p !== phase) continue;
    const path = `${folder}/images/${file}`;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw ioError(path, e, "cannot read image");
    }
    out.images.push(jpegToUnit(bytes, size, path));
    out.labels.push(PHASES.indexOf(p));
    out.files.push(file);
  }
  if (out.images.length === 0) {
    throw new LumenError(folder, "", `no images${phase ? ` of phase ${phase}` : ""}`);
  }
  return out;
}

/**
 * Every annotated frame of `videos` in one focal plane (unannotated frames are skipped), gray,
 * `size × size`, in [−1, 1], labelled with its phase.
 *
 * @example
 * ```ts
 * const real = await readVideoFrames("/data/extracted", ["BM016-5"], "F+00", 16);
 * ```
 */
export async function readVideoFrames(
  dataset: string,
  videos: readonly string[],
  plane: string,
  size: number,
): Promise<ImageSet> {
  const out: ImageSet = { size, images: [], labels: [], files: [] };
  for (const v of videos) {
    const ranges = readPhaseRanges(dataset, v);
    for (const fr of videoFrames(dataset, plane, v)) {
      const p = annotate(ranges, fr.frame);
      if (p === null) continue;
      let bytes: Uint8Array;
      try {
        bytes = await Deno.readFile(fr.path);
      } catch (e) {
        throw ioError(fr.path, e, "cannot read frame");
      }
      out.images.push(jpegToUnit(bytes, size, fr.path));
      out.labels.push(PHASES.indexOf(p));
      out.files.push(fr.path);
    }
  }
  return out;
}

/**
 * A standard normal draw (Box–Muller).
 *
 * @example
 * ```ts
 * gaussian(new SimRng(0));
 * ```
 */
export function gaussian(rng: SimRng): number {
  const u = Math.max(rng.uniform(), 1e-300), v = rng.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** What one training step uses. */
export interface StepDraws {
  /** Indices of the images. */
  index: number[];
  /** Timesteps. */
  t: number[];
  /** Standard normal noise, `batch × per`. */
  noise: Float32Array;
  /** Per sample: drop the phase (classifier-free guidance training). */
  drop: boolean[];
}

/**
 * The draws of training step `step` under `seed` (independent of earlier steps).
 *
 * @example
 * ```ts
 * stepDraws(100, 8, 1000, 1024, 0, 0).t.length; // 8
 * ```
 */
export function stepDraws(
  count: number,
  batch: number,
  T: number,
  per: number,
  seed: number,
  step: number,
  dropProb = 0.1,
): StepDraws {
  const rng = new SimRng((seed % 1_000_000) * 10_000_019 + step);
  const index: number[] = [], t: number[] = [], drop: boolean[] = [];
  const noise = new Float32Array(batch * per);
  for (let i = 0; i < batch; i++) {
    index.push(rng.int(0, count - 1));
    t.push(rng.int(0, T - 1));
    drop.push(rng.uniform() < dropProb);
  }
  for (let i = 0; i < noise.length; i++) noise[i] = gaussian(rng);
  return { index, t, noise, drop };
}
