/**
 * Reading a NoStripesNet patch dataset for training and testing: the clean/stripe pairs under
 * `<root>/<sample>/fake_artifacts/{clean,stripe}/`, a seeded train/validation/test split (3:1:1 by
 * default), and batches of `[N, 1, H, W]` tensors in [−1, 1] with the stripe mask
 * `|clean − stripe| > min |clean − stripe|` (NoStripesNet's MaskedDataset).
 *
 * The split is fixed by `splitSeed` (NoStripesNet shuffles with seed 0); the training order of an
 * epoch is a function of (seed, epoch) alone, so a resumed run sees the same batches.
 *
 * @example
 * ```ts
 * import { listPatchPairs, PatchSet, splitPairs } from "./patch_loader.ts";
 * const pairs = await listPatchPairs("./data");
 * const split = splitPairs(pairs.length, [3, 1, 1], 0);
 * const train = new PatchSet(pairs, split.train);
 * for await (const b of train.batches(16, { shuffle: true, seed: 0, epoch: 0 })) {
 *   // b.stripe, b.mask, b.clean: Tensor [N, 1, H, W]
 * }
 * ```
 * @module
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { LumenError } from "../../run/errors.ts";
import { readTiff } from "../../io/tiff.ts";
import { SimRng } from "../../data/rng.ts";
import { fromUint16 } from "../../data/patches.ts";
import { type Tensor, tensor } from "../../tensor/tensor.ts";

/** One clean/stripe pair of patch files. */
export interface PatchPair {
  /** `<sample>/<file name>`, unique in the dataset. */
  name: string;
  clean: string;
  stripe: string;
}

/** A patch pair as arrays in [−1, 1] (H × W) and its 0/1 stripe mask. */
export interface PatchArrays {
  clean: Float32Array;
  stripe: Float32Array;
  mask: Float32Array;
  shape: [number, number];
}

/** A batch: stripe image, mask and clean image, each `[N, 1, H, W]`; names of its pairs. */
export interface PatchBatch {
  stripe: Tensor;
  mask: Tensor;
  clean: Tensor;
  names: string[];
}

function isSample(root: string, d: string): boolean {
  return /^\d{4,}$/.test(d) && statSync(`${root}/${d}`).isDirectory();
}

/**
 * Every clean/stripe pair under `<root>/<sample>/fake_artifacts`, in sample then file-name
 * order. Throws a LumenError when the root holds no sample or a clean patch has no partner.
 */
export async function listPatchPairs(root: string): Promise<PatchPair[]> {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new LumenError(root, "", "no such dataset folder (make one with data_generator)");
  }
  const samples = readdirSync(root).filter((d) => isSample(root, d)).sort();
  const out: PatchPair[] = [];
  for (const s of samples) {
    const cdir = `${root}/${s}/fake_artifacts/clean`, sdir = `${root}/${s}/fake_artifacts/stripe`;
    if (!existsSync(cdir)) continue;
    for (const f of readdirSync(cdir).filter((f) => f.endsWith(".tif")).sort()) {
      if (!existsSync(`${sdir}/${f}`)) {
        throw new LumenError(
          `${sdir}/${f}`,
          "",
          `missing: the clean patch ${cdir}/${f} has no stripe partner`,
        );
      }
      out.push({ name: `${s}/${f}`, clean: `${cdir}/${f}`, stripe: `${sdir}/${f}` });
    }
  }
  if (!out.length) {
    throw new LumenError(
      root,
      "",
      "holds no clean/stripe patch pairs (<sample>/fake_artifacts/{clean,stripe}/*.tif)",
    );
  }
  await Promise.resolve();
  return out;
}

/** Real-stripe patches (`<root>/<sample>/real_artifacts/stripe/*.tif`), in order. */
export function listRealStripePatches(root: string): string[] {
  const out: string[] = [];
  for (const s of readdirSync(root).filter((d) => isSample(root, d)).sort()) {
    const d = `${root}/${s}/real_artifacts/stripe`;
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).filter((f) => f.endsWith(".tif")).sort()) out.push(`${d}/${f}`);
  }
  return out;
}

/** Seeded Fisher–Yates permutation of 0…n−1. */
export function permutation(n: number, seed: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  const r = new SimRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(0, i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * Train/validation/test indices: a seeded shuffle of 0…n−1 cut in the ratio `tvt` (3:1:1).
 * Every part that has a non-zero ratio gets at least one item when n allows.
 */
export function splitPairs(
  n: number,
  tvt: readonly [number, number, number] = [3, 1, 1],
  seed = 0,
): { train: number[]; val: number[]; test: number[] } {
  const total = tvt[0] + tvt[1] + tvt[2];
  if (!(total > 0) || tvt.some((x) => x < 0)) {
    throw new LumenError("--tvt", tvt.join(","), "ratios must be ≥ 0 with a positive sum");
  }
  let nVal = Math.round((n * tvt[1]) / total), nTest = Math.round((n * tvt[2]) / total);
  if (tvt[1] > 0 && nVal === 0 && n >= 3) nVal = 1;
  if (tvt[2] > 0 && nTest === 0 && n >= 3) nTest = 1;
  const nTrain = Math.max(0, n - nVal - nTest);
  const p = permutation(n, seed);
  return {
    train: p.slice(0, nTrain),
    val: p.slice(nTrain, nTrain + nVal),
    test: p.slice(nTrain + nVal),
  };
}

/** The stripe mask of NoStripesNet: |clean − stripe| > min |clean − stripe|, as 0/1. */
export function stripeMask(clean: Float32Array, stripe: Float32Array): Float32Array {
  let lo = Infinity;
  const d = new Float32Array(clean.length);
  for (let i = 0; i < d.length; i++) {
    d[i] = Math.abs(clean[i] - stripe[i]);
    if (d[i] < lo) lo = d[i];
  }
  const m = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) m[i] = d[i] > lo ? 1 : 0;
  return m;
}

async function readPatch(path: string): Promise<{ data: Float32Array; shape: [number, number] }> {
  const a = await readTiff(path);
  if (a.dtype !== "uint16" || a.shape.length !== 2) {
    throw new LumenError(path, "", `expected a 2-D uint16 patch, found ${a.dtype} [${a.shape}]`);
  }
  return { data: fromUint16(a.data as Uint16Array), shape: [a.shape[0], a.shape[1]] };
}

/** Loads one pair: both images in [−1, 1] and the mask. */
export async function loadPair(p: PatchPair): Promise<PatchArrays> {
  const c = await readPatch(p.clean), s = await readPatch(p.stripe);
  if (c.shape[0] !== s.shape[0] || c.shape[1] !== s.shape[1]) {
    throw new LumenError(
      p.stripe,
      "",
      `shape ${s.shape.join("×")} differs from its clean partner's ${c.shape.join("×")}`,
    );
  }
  return { clean: c.data, stripe: s.data, mask: stripeMask(c.data, s.data), shape: c.shape };
}

/** Options of {@link PatchSet.batches}. */
export interface BatchOptions {
  /** Shuffle the order with (seed, epoch). */
  shuffle?: boolean;
  seed?: number;
  epoch?: number;
  /** Keep the last, smaller batch (default true). */
  keepLast?: boolean;
}

/** A subset of the pairs, loaded on demand and cached in memory up to `cacheBytes`. */
export class PatchSet {
  private cache = new Map<number, PatchArrays>();
  private cached = 0;

  /**
   * @param pairs all pairs of the dataset
   * @param indices the ones in this set
   * @param cacheBytes memory for decoded pairs (default 1 GiB)
   */
  constructor(
    readonly pairs: readonly PatchPair[],
    readonly indices: readonly number[],
    readonly cacheBytes = 1 << 30,
  ) {}

  /** Number of pairs. */
  get size(): number {
    return this.indices.length;
  }

  /** The i-th pair of the set (cached). */
  async get(i: number): Promise<PatchArrays> {
    const k = this.indices[i];
    const hit = this.cache.get(k);
    if (hit) return hit;
    const a = await loadPair(this.pairs[k]);
    const bytes = a.clean.byteLength * 3;
    if (this.cached + bytes <= this.cacheBytes) {
      this.cache.set(k, a);
      this.cached += bytes;
    }
    return a;
  }

  /** Batches of `[N, 1, H, W]` tensors in order, or shuffled by (seed, epoch). */
  async *batches(size: number, o: BatchOptions = {}): AsyncGenerator<PatchBatch> {
    const order = o.shuffle
      ? permutation(this.size, (o.seed ?? 0) * 100003 + (o.epoch ?? 0) + 1)
      : Array.from({ length: this.size }, (_, i) => i);
    for (let b = 0; b < order.length; b += size) {
      const idx = order.slice(b, b + size);
      if (idx.length < size && o.keepLast === false) break;
      const items: PatchArrays[] = [];
      for (const i of idx) items.push(await this.get(i));
      const [h, w] = items[0].shape;
      for (const [j, it] of items.entries()) {
        if (it.shape[0] !== h || it.shape[1] !== w) {
          throw new LumenError(
            this.pairs[this.indices[idx[j]]].clean,
            "",
            `patch ${it.shape.join("×")} differs from the batch's ${h}×${w}`,
          );
        }
      }
      const n = items.length, hw = h * w;
      const stack = (key: "clean" | "stripe" | "mask") => {
        const out = new Float32Array(n * hw);
        items.forEach((it, j) => out.set(it[key], j * hw));
        return tensor(out, [n, 1, h, w]);
      };
      yield {
        stripe: stack("stripe"),
        mask: stack("mask"),
        clean: stack("clean"),
        names: idx.map((i) => this.pairs[this.indices[i]].name),
      };
    }
  }
}
