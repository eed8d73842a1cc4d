/**
 * NSW image folders (the original's `make_image_folder`): one image per phase per video, the
 * median frame of that phase in the F+00 plane, written as `images/<i>.jpeg` (the frame's JPEG
 * bytes, not re-encoded), `descriptions/<i>.txt` (the prompt) and `metadata.csv`
 * (`filename,label,phase`, labels `{plane}_{video}_{frame}`). Order and shuffle replay the
 * original's `random.Random(seed)` draws. The folder is built beside its place and renamed in.
 *
 * @example
 * ```ts
 * import { makeImageFolder } from "./image_folder.ts";
 * await makeImageFolder({
 *   dataset: "/data/extracted", videos: ["BM016-5"], phases: ["t6", "t7", "t8"],
 *   parent: "/data/image-folders", name: "v6-8", shuffle: true, seed: 0,
 * });
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { buildDirAtomic, pathExists } from "../../run/atomic.ts";
import {
  annotate,
  checkPhase,
  PHASES,
  phasesCsv,
  planeDir,
  readPhaseRanges,
  videoFrames,
} from "./dataset.ts";
import { PyRandom } from "./py_random.ts";

/** One selected frame. */
export interface SelectedFrame {
  video: string;
  frame: number;
  phase: string;
  plane: string;
  /** Path of the frame's JPEG. */
  path: string;
}

/**
 * The prompt of an image: the focal plane is named only when several planes are used.
 *
 * @example
 * ```ts
 * promptFor("t2"); // "a microscopic image of a human embryo at phase t2"
 * ```
 */
export function promptFor(phase: string, plane?: string): string {
  const base = `a microscopic image of a human embryo at phase ${phase}`;
  return plane ? `${base} recorded at focal plane ${plane}` : base;
}

/**
 * The `--phases` values: `all` alone means every phase; otherwise known phases only.
 *
 * @example
 * ```ts
 * parsePhases(["all"]).length; // 16
 * parsePhases(["t6", "t7"]); // ["t6", "t7"]
 * ```
 */
export function parsePhases(values: readonly string[], flag = "--phases"): string[] {
  if (values.length === 0) throw new LumenError(flag, "", "give phases or all");
  if (values.includes("all")) {
    if (values.length > 1) throw new LumenError(flag, "", "all may not be given with other phases");
    return [...PHASES];
  }
  for (const p of values) checkPhase(p, flag);
  return [...values];
}

/**
 * Throws unless every video has a frame folder and a `_phases.csv` in the dataset.
 *
 * @example
 * ```ts
 * checkVideos("/data/extracted", ["BM016-5"], "split.json");
 * ```
 */
export function checkVideos(dataset: string, videos: readonly string[], source: string): void {
  const dir = planeDir(dataset, "F+00");
  for (const v of videos) {
    if (!pathExists(`${dir}/${v}`) || !pathExists(phasesCsv(dataset, v))) {
      throw new LumenError(source, v, `video not in the dataset ${dataset}`);
    }
  }
}

/**
 * The median frame of each selected phase of each video (lower middle for an even count), in
 * video order then the order the phases appear; frames outside the annotated span are ignored.
 *
 * @example
 * ```ts
 * medianFrames("/data/extracted", ["BM016-5"], ["t2"])[0].frame;
 * ```
 */
export function medianFrames(
  dataset: string,
  videos: readonly string[],
  phases: readonly string[],
  plane = "F+00",
): SelectedFrame[] {
  const keep = new Set(phases);
  const out: SelectedFrame[] = [];
  for (const video of videos) {
    const ranges = readPhaseRanges(dataset, video);
    let lo = Infinity, hi = -Infinity;
    for (const r of ranges.values()) {
      lo = Math.min(lo, r.first);
      hi = Math.max(hi, r.last);
    }
    const frames = videoFrames(dataset, plane, video).filter((f) => lo <= f.frame && f.frame <= hi);
    const perPhase = new Map<string, number[]>();
    frames.forEach((f, i) => {
      const p = annotate(ranges, f.frame);
      if (p === null) throw new LumenError(f.path, "", "frame is inside no annotated phase");
      if (!perPhase.has(p)) perPhase.set(p, []);
      perPhase.get(p)!.push(i);
    });
    for (const [phase, idx] of perPhase) {
      if (!keep.has(phase)) continue;
      // int(np.median(idx)) as the original takes it
      const n = idx.length;
      const f = frames[Math.trunc((idx[(n - 1) >> 1] + idx[n >> 1]) / 2)];
      out.push({ video, frame: f.frame, phase, plane, path: f.path });
    }
  }
  return out;
}

/** What {@link makeImageFolder} needs. */
export interface ImageFolderOptions {
  /** The extracted dataset. */
  dataset: string;
  /** The videos (a split set). */
  videos: readonly string[];
  /** The phases to keep. */
  phases: readonly string[];
  /** Where the folder is created (must exist). */
  parent: string;
  /** The folder's name; a random UUID when absent. */
  name?: string;
  shuffle: boolean;
  seed: number;
}

/** What {@link makeImageFolder} wrote. */
export interface ImageFolderResult {
  folder: string;
  images: SelectedFrame[];
}

/**
 * The original's order: the median frames, planes drawn (`prg.choices`), then shuffled.
 *
 * @example
 * ```ts
 * imageFolderOrder(frames, true, 0);
 * ```
 */
export function imageFolderOrder(
  frames: readonly SelectedFrame[],
  shuffle: boolean,
  seed: number,
): SelectedFrame[] {
  const prg = new PyRandom(seed);
  prg.choices(["F+00"], frames.length);
  const out = [...frames];
  if (shuffle) prg.shuffle(out);
  return out;
}

/**
 * `metadata.csv`'s text for the images in order.
 *
 * @example
 * ```ts
 * metadataCsv(images); // "filename,label,phase\n0.jpeg,F+00_BM016-5_146,t2\n…"
 * ```
 */
export function metadataCsv(images: readonly SelectedFrame[]): string {
  return "filename,label,phase\n" +
    images.map((s, i) => `${i}.jpeg,${s.plane}_${s.video}_${s.frame},${s.phase}\n`).join("");
}

/**
 * Writes an image folder (refuses an existing one, or a missing parent).
 *
 * @example
 * ```ts
 * const r = await makeImageFolder({ dataset, videos, phases, parent, shuffle: true, seed: 0 });
 * console.log(r.folder, r.images.length);
 * ```
 */
export async function makeImageFolder(o: ImageFolderOptions): Promise<ImageFolderResult> {
  let st: Deno.FileInfo | null = null;
  try {
    st = Deno.statSync(o.parent);
  } catch { /* reported below */ }
  if (!st?.isDirectory) throw new LumenError(o.parent, "", "image folder parent must exist");
  const name = o.name ?? crypto.randomUUID();
  if (name === "" || name.includes("/") || name === "." || name === "..") {
    throw new LumenError("--image-folder-name", name, "must be a plain folder name");
  }
  const folder = `${o.parent}/${name}`;
  if (pathExists(folder)) throw new LumenError(folder, "", "image folder already exists");
  checkVideos(o.dataset, o.videos, "split");
  const images = imageFolderOrder(medianFrames(o.dataset, o.videos, o.phases), o.shuffle, o.seed);
  await buildDirAtomic(folder, async (tmp) => {
    Deno.mkdirSync(`${tmp}/images`);
    Deno.mkdirSync(`${tmp}/descriptions`);
    for (let i = 0; i < images.length; i++) {
      await Deno.copyFile(images[i].path, `${tmp}/images/${i}.jpeg`);
      await Deno.writeTextFile(`${tmp}/descriptions/${i}.txt`, promptFor(images[i].phase) + "\n");
    }
    await Deno.writeTextFile(`${tmp}/metadata.csv`, metadataCsv(images));
  });
  return { folder, images };
}
