/**
 * Random access to a prepared Flair Visibility dataset (prepare.ts's folder) without loading
 * it: slices are read from `images.npy`, `labels.npy` and `mask.npy` by offset, as the
 * original's memmaps are; decoded slices are kept in memory up to {@link CACHE_BYTES}. A sample is the 2.5D stack of a slice z, (2, 7, 256, 256) float32 with
 * slices z−3 … z+3 of the same patient (a neighbour beyond the patient's first or last slice is
 * filled with the slice's per-channel minimum; never with another patient's slice), and its
 * target (3, 256, 256) [brain mask, stroke, visible].
 *
 * @example
 * ```ts
 * import { PreparedDataset } from "./dataset.ts";
 * const ds = PreparedDataset.open("prepared");
 * const { x, y } = ds.batch([0, 1]); // x: 2·2·7·256·256 floats, y: 2·3·256·256
 * ds.close();
 * ```
 * @module
 */
import { join } from "node:path";
import { decodeFloat16 } from "../../io/float16.ts";
import { parseNpyHeader } from "../../io/npy.ts";
import { LumenError } from "../../run/errors.ts";
import type { PatientGeometry } from "./prepare.ts";
import { SLICE } from "./slices.ts";
import { STACK } from "./model.ts";

/** Bytes of decoded slices a dataset keeps in memory (about 200 slices). */
export const CACHE_BYTES = 256 * 2 ** 20;

/** One slice's row of meta.npy. */
export interface SliceMeta {
  patient: number;
  slice: number;
  hasStroke: boolean;
  fold: number;
  valid: boolean;
}

/** The slices of one role in a fold's training. */
export interface FoldSlices {
  train: number[];
  valid: number[];
  test: number[];
  /** True when no patient was marked for validation and training slices stand in. */
  validFromTrain: boolean;
}

interface NpyFile {
  file: Deno.FsFile;
  offset: number;
  path: string;
}

function openNpy(dir: string, name: string, descr: string, tail: number[]): NpyFile {
  const path = join(dir, name);
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch {
    throw new LumenError(path, "", "missing: not a prepared dataset (run flair-prepare)");
  }
  const head = new Uint8Array(4096);
  const n = file.readSync(head) ?? 0;
  const isF2 = descr === "<f2";
  // parseNpyHeader knows no float16: read the header with its dtype swapped for <u2
  const bytes = head.subarray(0, n);
  const at = String.fromCharCode(...bytes.subarray(0, Math.min(n, 512))).indexOf("'<f2'");
  if (isF2 && at >= 0) bytes[at + 2] = 0x75;
  const h = parseNpyHeader(bytes, path);
  const want = isF2 ? "uint16" : descr === "|u1" ? "uint8" : "int32";
  if (h.dtype !== want || h.shape.slice(1).join() !== tail.join()) {
    throw new LumenError(path, "header", `expected ${descr} (Z, ${tail.join(", ")})`);
  }
  return { file, offset: h.dataOffset, path };
}

function readAt(f: NpyFile, pos: number, out: Uint8Array): void {
  f.file.seekSync(f.offset + pos, Deno.SeekMode.Start);
  let got = 0;
  while (got < out.length) {
    const n = f.file.readSync(out.subarray(got));
    if (!n) throw new LumenError(f.path, `byte ${f.offset + pos + got}`, "truncated");
    got += n;
  }
}

/** A prepared dataset opened for reading. */
export class PreparedDataset {
  readonly meta: SliceMeta[];
  readonly patients: PatientGeometry[];
  readonly kfolds: number;
  #images: NpyFile;
  #labels: NpyFile;
  #mask: NpyFile;
  /** Decoded slices (images and targets), first in first out within {@link CACHE_BYTES}. */
  #cache = new Map<string, Float32Array>();
  #cached = 0;

  private constructor(readonly dir: string) {
    this.#images = openNpy(dir, "images.npy", "<f2", [2, SLICE, SLICE]);
    this.#labels = openNpy(dir, "labels.npy", "|u1", [2, SLICE, SLICE]);
    this.#mask = openNpy(dir, "mask.npy", "|u1", [SLICE, SLICE]);
    const m = openNpy(dir, "meta.npy", "<i4", [5]);
    const size = Deno.statSync(m.path).size - m.offset;
    const raw = new Uint8Array(size);
    readAt(m, 0, raw);
    m.file.close();
    const ints = new Int32Array(raw.buffer);
    this.meta = [];
    for (let i = 0; i + 5 <= ints.length; i += 5) {
      this.meta.push({
        patient: ints[i],
        slice: ints[i + 1],
        hasStroke: ints[i + 2] !== 0,
        fold: ints[i + 3],
        valid: ints[i + 4] !== 0,
      });
    }
    const g = JSON.parse(Deno.readTextFileSync(join(dir, "geometry.json")));
    this.patients = g.patients;
    this.kfolds = g.kfolds;
  }

  /**
   * Opens the dataset folder `dir`.
   *
   * @example
   * ```ts
   * import { PreparedDataset } from "./dataset.ts";
   * const ds = PreparedDataset.open("prepared");
   * ```
   */
  static open(dir: string): PreparedDataset {
    return new PreparedDataset(dir);
  }

  /** Number of slices. */
  get length(): number {
    return this.meta.length;
  }

  /** The training, validation and test slices of fold `k` (test = the fold's own patients). */
  foldSlices(k: number): FoldSlices {
    if (!(k >= 0 && k < this.kfolds)) {
      throw new LumenError(`--kfold ${k}`, "", `the dataset has folds 0 to ${this.kfolds - 1}`);
    }
    const out: FoldSlices = { train: [], valid: [], test: [], validFromTrain: false };
    this.meta.forEach((m, i) => {
      if (m.fold === k) out.test.push(i);
      else if (m.valid) out.valid.push(i);
      else out.train.push(i);
    });
    if (out.valid.length === 0) out.valid = out.train.slice(), out.validFromTrain = true;
    return out;
  }

  #memo(key: string, make: () => Float32Array): Float32Array {
    const hit = this.#cache.get(key);
    if (hit) return hit;
    const v = make();
    this.#cache.set(key, v);
    this.#cached += v.byteLength;
    for (const [k, old] of this.#cache) {
      if (this.#cached <= CACHE_BYTES) break;
      this.#cache.delete(k);
      this.#cached -= old.byteLength;
    }
    return v;
  }

  #image(i: number): Float32Array {
    return this.#memo(`i${i}`, () => {
      const A = SLICE * SLICE, raw = new Uint8Array(2 * A * 2);
      readAt(this.#images, i * raw.length, raw);
      return decodeFloat16(new Uint16Array(raw.buffer));
    });
  }

  /** The two image channels [b1000, b0] of slice `i`, float32 (2·256·256). */
  image(i: number): Float32Array {
    return this.#image(i).slice();
  }

  #target(i: number): Float32Array {
    return this.#memo(`t${i}`, () => {
      const A = SLICE * SLICE;
      const lab = new Uint8Array(2 * A), msk = new Uint8Array(A);
      readAt(this.#labels, i * 2 * A, lab);
      readAt(this.#mask, i * A, msk);
      const out = new Float32Array(3 * A);
      out.set(msk);
      out.set(lab, A);
      return out;
    });
  }

  /** Slice `i`'s target (3·256·256): [mask, stroke, visible] as 0/1 floats. */
  target(i: number): Float32Array {
    return this.#target(i).slice();
  }

  /** The 2.5D stack of slice `i`: (2, 7, 256, 256) float32. */
  stack(i: number): Float32Array {
    const A = SLICE * SLICE, h = STACK >> 1;
    const out = new Float32Array(2 * STACK * A);
    const own = this.#image(i);
    const p = this.meta[i].patient;
    for (let s = 0; s < STACK; s++) {
      const j = i + s - h;
      const img = s === h
        ? own
        : (j >= 0 && j < this.length && this.meta[j].patient === p)
        ? this.#image(j)
        : null;
      for (let c = 0; c < 2; c++) {
        const dst = out.subarray((c * STACK + s) * A, (c * STACK + s + 1) * A);
        if (img) dst.set(img.subarray(c * A, (c + 1) * A));
        else {
          let mn = Infinity;
          for (let q = c * A; q < (c + 1) * A; q++) if (own[q] < mn) mn = own[q];
          dst.fill(mn);
        }
      }
    }
    return out;
  }

  /** Stacks and targets of slices `idx`, concatenated (N, 2, 7, 256, 256) and (N, 3, 256, 256). */
  batch(idx: readonly number[]): { x: Float32Array; y: Float32Array } {
    const A = SLICE * SLICE, xs = 2 * STACK * A;
    const x = new Float32Array(idx.length * xs), y = new Float32Array(idx.length * 3 * A);
    idx.forEach((i, n) => {
      x.set(this.stack(i), n * xs);
      y.set(this.#target(i), n * 3 * A);
    });
    return { x, y };
  }

  /** Closes the files. */
  close(): void {
    this.#cache.clear();
    this.#cached = 0;
    for (const f of [this.#images, this.#labels, this.#mask]) f.file.close();
  }
}
