/**
 * Synthetic embryo-like time-lapse videos in the public dataset's tree (7 focal planes, phase
 * CSVs, elapsed times, grades) and, optionally, its ten archives. Each frame is drawn from a
 * height field of cells inside a zona pellucida, shown as Hoffman-like relief: one cell with
 * pronuclei, then 2, 3 … 8 cells, 9+, a compact morula, a cavity opening, the blastocyst, its
 * expansion and hatching. Planes away from F+00 are blurred. Seeded: same seed, same bytes.
 * The cells are dark against a light background and every video lays its cells out at a similar
 * orientation (within ±20°), so that the phases stay apart even at 16 px, where the demo's
 * diffusion models work.
 *
 * @example
 * ```ts
 * import { writeEmbryoTree } from "./synthetic_embryo.ts";
 * const t = await writeEmbryoTree("/tmp/extracted", { videos: 8, size: 64, seed: 0 });
 * console.log(t.videos, t.frames);
 * ```
 * @module
 */
import { SimRng } from "../../data/rng.ts";
import { gzip } from "../../io/zip.ts";
import { PHASES, PLANES } from "./dataset.ts";
import { encodeGrayJpegFast } from "./gray_jpeg_encoder.ts";
import { tarBytes, type TarFile } from "./tar_write.ts";

/** A video's look: fixed per video, varied between videos. */
export interface EmbryoStyle {
  /** Rotation of the cell arrangement (radians). */
  angle: number;
  /** Offset of the embryo from the image centre (fraction of the size). */
  dx: number;
  dy: number;
  /** Zona radius (fraction of the size). */
  zona: number;
  /** Background gray level. */
  background: number;
  /** Per-cell jitter seed. */
  seed: number;
}

interface Dome {
  x: number;
  y: number;
  r: number;
  h: number;
  /** a ring of width w instead of a disk */
  ring?: number;
}

function gaussian(rng: SimRng): number {
  const u = Math.max(rng.uniform(), 1e-12), v = rng.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Sunflower positions of n cells of radius r inside radius R (unit-free). */
function cellLayout(n: number, R: number, angle: number): Dome[] {
  if (n === 1) return [{ x: 0, y: 0, r: R * 0.92, h: 1 }];
  const r = R * Math.min(0.62, 1.05 / Math.sqrt(n + 0.6));
  const spread = R - r * 0.95;
  const out: Dome[] = [];
  for (let i = 0; i < n; i++) {
    const rho = n <= 4 ? spread * 0.78 : spread * Math.sqrt((i + 0.5) / n) * 1.05;
    const th = angle + i * (n <= 4 ? (2 * Math.PI) / n : 2.39996);
    out.push({ x: rho * Math.cos(th), y: rho * Math.sin(th), r, h: 1 });
  }
  return out;
}

/**
 * The domes (cells, nuclei, cavities) of one phase, in units of the inner zona radius.
 *
 * @example
 * ```ts
 * phaseDomes("t4", 0.5, 0).length; // 4
 * ```
 */
export function phaseDomes(phase: string, progress: number, angle: number): Dome[] {
  const k = PHASES.indexOf(phase);
  const domes: Dome[] = [];
  if (k <= 2) {
    domes.push({ x: 0, y: 0, r: 0.9, h: 1 });
    domes.push({ x: 0.86 * Math.cos(angle + 2), y: 0.86 * Math.sin(angle + 2), r: 0.12, h: 0.8 });
    if (phase === "tPNa" || phase === "tPNf") {
      const a = phase === "tPNf" ? 1 - 0.7 * progress : 0.4 + 0.6 * progress;
      const d = phase === "tPNf" ? 0.12 : 0.22;
      domes.push({ x: d * Math.cos(angle), y: d * Math.sin(angle), r: 0.17, h: -0.9 * a });
      domes.push({ x: -d * Math.cos(angle), y: -d * Math.sin(angle), r: 0.17, h: -0.9 * a });
    }
    return domes;
  }
  if (k <= 9) return cellLayout(k - 1, 0.95, angle + 0.3 * progress);
  if (phase === "t9+") return cellLayout(11, 0.95, angle + 0.3 * progress);
  if (phase === "tM" || phase === "tSB") {
    domes.push({ x: 0, y: 0, r: 0.74, h: 1.2 });
    for (const c of cellLayout(16, 0.7, angle)) domes.push({ ...c, h: 0.25 });
    if (phase === "tSB") {
      const off = 0.25;
      domes.push({
        x: off * Math.cos(angle),
        y: off * Math.sin(angle),
        r: 0.2 + 0.2 * progress,
        h: -1,
      });
    }
    return domes;
  }
  // blastocysts: trophectoderm ring, inner cell mass, flat cavity
  const scale = phase === "tB" ? 0.9 : phase === "tEB" ? 1.08 : 1.12;
  const shift = phase === "tHB" ? 0.35 + 0.35 * progress : 0;
  const cx = shift * Math.cos(angle), cy = shift * Math.sin(angle);
  domes.push({ x: cx, y: cy, r: scale, h: 0.9, ring: 0.13 });
  domes.push({
    x: cx + 0.5 * scale * Math.cos(angle + Math.PI),
    y: cy + 0.5 * scale * Math.sin(angle + Math.PI),
    r: 0.3 * scale,
    h: 1,
  });
  return domes;
}

/**
 * One frame: `size × size` gray levels for a phase, its progress (0–1), a focal plane index
 * (0 = F-45 … 3 = F+00 … 6 = F+45) and a video style.
 *
 * @example
 * ```ts
 * const img = renderEmbryo("t2", 0.5, 3, style, 64, new SimRng(0));
 * ```
 */
export function renderEmbryo(
  phase: string,
  progress: number,
  plane: number,
  style: EmbryoStyle,
  size: number,
  rng: SimRng,
): Float32Array {
  const h = new Float32Array(size * size);
  const k = PHASES.indexOf(phase);
  const thin = k >= 14 ? 0.55 : 1; // the zona thins as the blastocyst expands
  const zr = style.zona * size, zw = 0.05 * size * thin;
  const cx0 = size / 2 + style.dx * size, cy0 = size / 2 + style.dy * size;
  const inner = zr - zw;
  const domes: Dome[] = [{ x: 0, y: 0, r: zr / inner, h: 0.7, ring: zw / inner }];
  const jit = new SimRng(style.seed + 7919 * k);
  for (const d of phaseDomes(phase, progress, style.angle)) {
    domes.push({
      ...d,
      x: d.x + 0.02 * gaussian(jit),
      y: d.y + 0.02 * gaussian(jit),
      r: d.r * (1 + 0.04 * gaussian(jit)),
    });
  }
  for (const d of domes) {
    const x0 = cx0 + d.x * inner, y0 = cy0 + d.y * inner, r = d.r * inner;
    const w = (d.ring ?? 0) * inner;
    const reach = r + 2;
    for (let y = Math.max(0, Math.floor(y0 - reach)); y < Math.min(size, y0 + reach); y++) {
      for (let x = Math.max(0, Math.floor(x0 - reach)); x < Math.min(size, x0 + reach); x++) {
        const dist = Math.hypot(x + 0.5 - x0, y + 0.5 - y0);
        let v: number;
        if (d.ring !== undefined) {
          const t = Math.abs(dist - (r - w / 2)) / (w / 2);
          v = t < 1 ? Math.sqrt(1 - t * t) : 0;
        } else {
          const t = dist / r;
          v = t < 1 ? Math.sqrt(1 - t * t) : 0;
        }
        const i = y * size + x;
        h[i] = d.h > 0 ? Math.max(h[i], d.h * v) : h[i] + d.h * v;
      }
    }
  }
  // focal blur: repeated box filters of a radius that grows away from F+00
  const blur = Math.round(Math.abs(plane - 3) * size / 96);
  for (let pass = 0; pass < 2 && blur > 0; pass++) boxBlur(h, size, blur);
  const out = new Float32Array(size * size);
  const relief = 3 * size;
  const tint = (plane - 3) * 4;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const gx = (h[y * size + Math.min(size - 1, x + 1)] - h[y * size + Math.max(0, x - 1)]) / 2;
      const gy = (h[Math.min(size - 1, y + 1) * size + x] - h[Math.max(0, y - 1) * size + x]) / 2;
      out[i] = style.background + tint - relief * (gx + 0.5 * gy) - 80 * h[i] +
        3 * gaussian(rng);
    }
  }
  return out;
}

function boxBlur(a: Float32Array, size: number, r: number): void {
  const tmp = new Float32Array(a.length);
  for (let pass = 0; pass < 2; pass++) {
    const src = pass === 0 ? a : tmp, dst = pass === 0 ? tmp : a;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let s = 0, n = 0;
        for (let d = -r; d <= r; d++) {
          const xx = pass === 0 ? x + d : x, yy = pass === 0 ? y : y + d;
          if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
          s += src[yy * size + xx];
          n++;
        }
        dst[y * size + x] = s / n;
      }
    }
  }
}

/** One synthetic video: name, phase rows and frame count. */
export interface EmbryoVideo {
  name: string;
  /** `[phase, first, last]` rows (inclusive frame numbers). */
  phases: [string, number, number][];
  /** Frames `RUN1 … RUNframes` (a few after the last phase are unannotated). */
  frames: number;
  style: EmbryoStyle;
  /** Frame file name prefix (before `RUN<n>.jpeg`). */
  prefix: string;
}

/** Options of {@link planEmbryoVideos}. */
export interface EmbryoOptions {
  videos: number;
  /** Image size in pixels (default 64). */
  size?: number;
  seed: number;
  /** Frames per phase: [min, max] (default [1, 4]). */
  framesPerPhase?: [number, number];
  /** Focal planes to write (default all 7, by name). */
  planes?: readonly string[];
  /** JPEG quality (default 92). */
  quality?: number;
}

/**
 * The videos' names, phase rows and styles (no pixels yet).
 *
 * @example
 * ```ts
 * planEmbryoVideos({ videos: 4, seed: 0 })[0].phases[0]; // ["tPB2", 1, 2] or similar
 * ```
 */
export function planEmbryoVideos(o: EmbryoOptions): EmbryoVideo[] {
  const rng = new SimRng(o.seed);
  const [lo, hi] = o.framesPerPhase ?? [1, 4];
  const names = new Set<string>();
  const out: EmbryoVideo[] = [];
  const letters = "ABCDEFGHIJKLMNOPRSTV";
  while (out.length < o.videos) {
    const name = `${letters[rng.int(0, 19)]}${letters[rng.int(0, 19)]}${rng.int(10, 999)}-` +
      `${rng.int(1, 12)}`;
    if (names.has(name)) continue;
    names.add(name);
    const start = rng.uniform() < 0.7 ? 0 : rng.int(1, 2);
    const end = rng.uniform() < 0.6 ? 15 : rng.int(12, 14);
    const rows: [string, number, number][] = [];
    let f = 1;
    for (let k = start; k <= end; k++) {
      const n = rng.int(lo, hi);
      rows.push([PHASES[k], f, f + n - 1]);
      f += n;
    }
    out.push({
      name,
      phases: rows,
      frames: f - 1 + rng.int(0, 1),
      prefix: `D2016.01.${String(rng.int(1, 28)).padStart(2, "0")}_S${rng.int(1000, 9999)}` +
        `_I141_WELL${rng.int(1, 12)}_`,
      style: {
        angle: rng.range(-0.35, 0.35),
        dx: rng.range(-0.03, 0.03),
        dy: rng.range(-0.03, 0.03),
        zona: rng.range(0.4, 0.45),
        background: rng.range(150, 180),
        seed: rng.int(0, 1 << 30),
      },
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The phase and progress of a frame (null when unannotated).
 *
 * @example
 * ```ts
 * framePhase(video, 1); // { phase: "tPB2", progress: 0 }
 * ```
 */
export function framePhase(
  v: EmbryoVideo,
  frame: number,
): { phase: string; progress: number } | null {
  for (const [p, a, b] of v.phases) {
    if (a <= frame && frame <= b) {
      return { phase: p, progress: b > a ? (frame - a) / (b - a) : 0.5 };
    }
  }
  return null;
}

/**
 * Path and bytes of every file of a synthetic extracted tree.
 *
 * @example
 * ```ts
 * for (const f of embryoTreeFiles({ videos: 2, seed: 0 })) console.log(f.name);
 * ```
 */
export function* embryoTreeFiles(
  o: EmbryoOptions,
  videos: EmbryoVideo[] = planEmbryoVideos(o),
): Generator<TarFile> {
  const size = o.size ?? 64;
  const enc = new TextEncoder();
  const planes = o.planes ?? PLANES.map((p) => p.name);
  for (const v of videos) {
    for (const plane of planes) {
      const pi = PLANES.findIndex((p) => p.name === plane);
      const dir = `embryo_dataset${PLANES[pi].suffix}/${v.name}`;
      const rng = new SimRng(v.style.seed + 31 * pi);
      for (let f = 1; f <= v.frames; f++) {
        const fp = framePhase(v, f) ?? { phase: v.phases[v.phases.length - 1][0], progress: 1 };
        const img = renderEmbryo(fp.phase, fp.progress, pi, v.style, size, rng);
        yield {
          name: `${dir}/${v.prefix}RUN${f}.jpeg`,
          data: encodeGrayJpegFast(img, size, size, o.quality ?? 92),
        };
      }
    }
    yield {
      name: `embryo_dataset_annotations/${v.name}_phases.csv`,
      data: enc.encode(v.phases.map((r) => r.join(",") + "\n").join("")),
    };
    let t = "index,time\n";
    for (let f = 1; f <= v.frames; f++) t += `${f},${((f - 1) * 0.25).toFixed(2)}\n`;
    yield { name: `embryo_dataset_time_elapsed/${v.name}_timeElapsed.csv`, data: enc.encode(t) };
  }
}

/** What a synthetic tree holds. */
export interface EmbryoTree {
  videos: EmbryoVideo[];
  /** Frame files written (all planes). */
  frames: number;
}

function gradesCsv(videos: EmbryoVideo[]): Uint8Array {
  const g = "ABC";
  return new TextEncoder().encode(
    "video,grade\n" + videos.map((v, i) => `${v.name},${g[i % 3]}\n`).join(""),
  );
}

/**
 * Writes a synthetic extracted tree under `dest` (created; it should not hold another tree).
 *
 * @example
 * ```ts
 * await writeEmbryoTree("/tmp/extracted", { videos: 8, seed: 0 });
 * ```
 */
export async function writeEmbryoTree(dest: string, o: EmbryoOptions): Promise<EmbryoTree> {
  const videos = planEmbryoVideos(o);
  let frames = 0;
  for (const f of embryoTreeFiles(o, videos)) {
    const path = `${dest}/${f.name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, f.data);
    if (f.name.endsWith(".jpeg")) frames++;
  }
  await Deno.writeFile(`${dest}/embryo_dataset_grades.csv`, gradesCsv(videos));
  return { videos, frames };
}

/**
 * Writes the ten archives of a synthetic dataset under `dir` (the names extract_dataset expects).
 *
 * @example
 * ```ts
 * await writeEmbryoArchives("/tmp/archives", { videos: 8, seed: 0 });
 * ```
 */
export async function writeEmbryoArchives(dir: string, o: EmbryoOptions): Promise<EmbryoTree> {
  const videos = planEmbryoVideos(o);
  const groups = new Map<string, TarFile[]>();
  let frames = 0;
  for (const f of embryoTreeFiles(o, videos)) {
    const top = f.name.slice(0, f.name.indexOf("/"));
    if (!groups.has(top)) groups.set(top, []);
    groups.get(top)!.push(f);
    if (f.name.endsWith(".jpeg")) frames++;
  }
  await Deno.mkdir(dir, { recursive: true });
  const tops = [
    ...PLANES.map((p) => `embryo_dataset${p.suffix}`),
    "embryo_dataset_annotations",
    "embryo_dataset_time_elapsed",
  ];
  for (const top of tops) {
    await Deno.writeFile(`${dir}/${top}.tar.gz`, gzip(tarBytes(groups.get(top) ?? []), 1));
  }
  await Deno.writeFile(`${dir}/embryo_dataset_grades.csv`, gradesCsv(videos));
  return { videos, frames };
}
