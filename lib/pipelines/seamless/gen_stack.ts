/**
 * SEAMLeSS `gen_stack`: random stacks of consecutive EM sections at mip m (2^m average pooling),
 * cut from a local (z, y, x) volume, as the original's `gen_stack.py` cuts them from CloudVolume.
 *
 * @module
 */
import { extname } from "node:path";
import { type NdArray, ndarray } from "../../io/array.ts";
import { H5File } from "../../io/hdf5.ts";
import { readTiffPages } from "../../io/tiff.ts";
import { readNpy } from "../../io/npy.ts";

/** One sampled stack: first section z and the top-left corner (y, x) at mip 0. */
export interface StackCoord {
  z: number;
  y: number;
  x: number;
}

/** A volume held in memory as float32 (z, y, x). */
export interface Volume {
  data: Float32Array;
  shape: [number, number, number];
}

/**
 * mulberry32: a small seeded generator of floats in [0, 1).
 *
 * @example
 * ```ts
 * const r = seededRandom(1); r(); // 0.627...
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Reads a (z, y, x) volume: `file.h5:/dataset`, a multi-page TIFF, or a 3-D `.npy`.
 *
 * @example
 * ```ts
 * const v = await readVolume("vol.h5:/volume");
 * ```
 */
export async function readVolume(source: string): Promise<Volume> {
  let arr: NdArray;
  const m = /^(.*\.(?:h5|hdf5|hdf))(?::(.+))?$/i.exec(source);
  if (m) {
    const f = await H5File.open(m[1], "r");
    try {
      const ds = m[2] ?? f.paths().find((p) => f.isDataset(p));
      if (!ds) throw new Error(`${m[1]}: no dataset in the file`);
      arr = f.read(ds);
    } finally {
      f.close();
    }
  } else if (extname(source).toLowerCase() === ".npy") {
    arr = await readNpy(source);
  } else {
    const { pages } = await readTiffPages(source);
    const [h, w] = pages[0].shape;
    const data = new Float32Array(pages.length * h * w);
    pages.forEach((p, i) => data.set(Float32Array.from(p.data as ArrayLike<number>), i * h * w));
    return { data, shape: [pages.length, h, w] };
  }
  if (arr.shape.length !== 3) {
    throw new Error(`${source}: volume has shape (${arr.shape}), expected (z, y, x)`);
  }
  const data = Float32Array.from(arr.data as ArrayLike<number>);
  return { data, shape: arr.shape as [number, number, number] };
}

/**
 * Draws `count` stack origins: z in [zMin, zMax − height), (y, x) so the dim·2^mip window fits.
 *
 * @example
 * ```ts
 * sampleCoords(2, [100, 512, 512], { height: 5, dim: 64, mip: 1, zMin: 1, zMax: 80, seed: 0 });
 * ```
 */
export function sampleCoords(
  count: number,
  shape: readonly number[],
  o: { height: number; dim: number; mip: number; zMin: number; zMax: number; seed: number },
): StackCoord[] {
  const win = o.dim << o.mip;
  const zHi = Math.min(o.zMax, shape[0]) - o.height;
  if (zHi <= o.zMin) {
    throw new RangeError(
      `stack height ${o.height} does not fit the z range [${o.zMin}, ${
        Math.min(o.zMax, shape[0])
      }) of a volume with ${shape[0]} sections`,
    );
  }
  if (win > shape[1] || win > shape[2]) {
    throw new RangeError(
      `dim ${o.dim} at mip ${o.mip} needs ${win}×${win} px, the volume's sections are ${shape[1]}×${
        shape[2]
      }`,
    );
  }
  const r = seededRandom(o.seed);
  const out: StackCoord[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      z: o.zMin + Math.floor(r() * (zHi - o.zMin)),
      y: Math.floor(r() * (shape[1] - win + 1)),
      x: Math.floor(r() * (shape[2] - win + 1)),
    });
  }
  return out;
}

/**
 * Cuts one stack (height, dim, dim) at mip m: average pooling over 2^m × 2^m blocks.
 *
 * @example
 * ```ts
 * const s = cutStack(vol, { z: 1, y: 0, x: 0 }, 5, 64, 1);
 * ```
 */
export function cutStack(
  v: Volume,
  c: StackCoord,
  height: number,
  dim: number,
  mip: number,
): Float32Array {
  const [, H, W] = v.shape;
  const f = 1 << mip, inv = 1 / (f * f);
  const out = new Float32Array(height * dim * dim);
  for (let s = 0; s < height; s++) {
    const base = (c.z + s) * H * W;
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < dim; j++) {
        let acc = 0;
        for (let a = 0; a < f; a++) {
          const row = base + (c.y + i * f + a) * W + c.x + j * f;
          for (let b = 0; b < f; b++) acc += v.data[row + b];
        }
        out[(s * dim + i) * dim + j] = acc * inv;
      }
    }
  }
  return out;
}

/** coords.txt text: one `z y x` line per stack. */
export function formatCoords(coords: readonly StackCoord[]): string {
  return coords.map((c) => `${c.z} ${c.y} ${c.x}\n`).join("");
}

/** The stack geometry a gen_stack run used. */
export interface StackGeometry {
  stackHeight: number;
  dim: number;
  mip: number;
}

/**
 * The geometry recorded with a coords file (`<stem>coords.txt` beside `<stem>.h5.prov.json`, the
 * provenance gen_stack writes), or null when there is no such record.
 *
 * @example
 * ```ts
 * replayGeometry("small_train_mip1coords.txt"); // { stackHeight: 6, dim: 128, mip: 1 }
 * ```
 */
export function replayGeometry(coordsPath: string): StackGeometry | null {
  if (!coordsPath.endsWith("coords.txt")) return null;
  let args: Record<string, unknown>;
  try {
    const prov = JSON.parse(Deno.readTextFileSync(`${coordsPath.slice(0, -10)}.h5.prov.json`));
    args = prov.args ?? {};
  } catch {
    return null;
  }
  const [h, d, m] = [args["stack-height"], args.dim, args.mip];
  if (typeof h !== "number" || typeof d !== "number" || typeof m !== "number") return null;
  return { stackHeight: h, dim: d, mip: m };
}

/** Parses coords.txt (lines `z y x`, or `z,y,x`; blank lines ignored). */
export function parseCoords(text: string, file = "<coords>"): StackCoord[] {
  const out: StackCoord[] = [];
  text.split("\n").forEach((line, k) => {
    const t = line.trim();
    if (!t) return;
    const n = t.split(/[\s,]+/).map(Number);
    if (n.length !== 3 || n.some((x) => !Number.isInteger(x) || x < 0)) {
      throw new Error(`${file}:${k + 1}: expected "z y x" non-negative integers, got "${t}"`);
    }
    out.push({ z: n[0], y: n[1], x: n[2] });
  });
  return out;
}

/**
 * Builds the dataset `main` (count, height, dim, dim) from coords.
 *
 * @example
 * ```ts
 * const arr = buildStacks(vol, coords, 5, 64, 1);
 * ```
 */
export function buildStacks(
  v: Volume,
  coords: readonly StackCoord[],
  height: number,
  dim: number,
  mip: number,
): NdArray<Float32Array> {
  const per = height * dim * dim;
  const data = new Float32Array(coords.length * per);
  coords.forEach((c, i) => {
    if (
      c.z + height > v.shape[0] || c.y + (dim << mip) > v.shape[1] ||
      c.x + (dim << mip) > v.shape[2]
    ) {
      throw new RangeError(`stack ${i} at (${c.z}, ${c.y}, ${c.x}) leaves the volume`);
    }
    data.set(cutStack(v, c, height, dim, mip), i * per);
  });
  return ndarray(data, [coords.length, height, dim, dim]);
}
