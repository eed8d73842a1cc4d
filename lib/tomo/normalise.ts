/**
 * Flat/dark normalisation and −log, exactly as NoStripesNet prepares real data
 * (as NoStripesNet reads real data), and sinograms read from a scan.
 *
 * ```text
 * NaN → 0 (projections, flats, darks)
 * dark  = mean(darks), flat = mean(flats)          per pixel, float32
 * v     = (proj − dark) / max(flat − dark, 1e-6)   float32
 * v ≤ 0 → 1e-9
 * out   = −log(v)
 * ```
 *
 * The per-pixel work runs in the Rust/SIMD128 kernel `wasm/tomo.wasm` ({@link TomoKernel});
 * {@link normaliseTS} is the same computation as a plain TypeScript loop (the reference the
 * kernel is tested against). Means are accumulated in float64 and rounded to float32.
 *
 * @example
 * ```ts
 * import { openScan } from "../io/nexus.ts";
 * import { readSinograms } from "./normalise.ts";
 * const scan = await openScan("scan.nxs");
 * const sino = await readSinograms(scan, 100, 116);   // (16, angles, cols) float32
 * scan.close();
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";
import { safePoint } from "../run/interrupt.ts";
import { type DType, type NdArray, ndarray, TYPED_ARRAY, type TypedArray } from "../io/array.ts";
import type { FrameSet, TomoScan } from "../io/nexus.ts";
import { loadWasm, WasmArena } from "../wasm/load.ts";

/** Per-pixel dark mean and denominator max(mean(flat) − mean(dark), 1e-6), (rows, cols). */
export interface FlatDark {
  /** Detector rows. */
  rows: number;
  /** Detector columns. */
  cols: number;
  /** mean(darks) (0 without darks), (rows, cols). */
  dark: Float32Array;
  /** max(mean(flats) − mean(dark), 1e-6), (rows, cols). */
  denom: Float32Array;
}

const EPS = Math.fround(1e-6);
const TINY = Math.fround(1e-9);

/** Mean over the first axis of (frames, rows, cols) with NaN → 0, in float64, as float32. */
export function meanFrames(stack: NdArray): Float32Array {
  const [n, rows, cols] = stack.shape;
  const per = rows * cols;
  const acc = new Float64Array(per);
  const d = stack.data as ArrayLike<number | bigint>;
  for (let f = 0; f < n; f++) {
    const o = f * per;
    for (let i = 0; i < per; i++) {
      const v = Number(d[o + i]);
      if (v === v) acc[i] += v;
    }
  }
  const out = new Float32Array(per);
  if (n > 0) { for (let i = 0; i < per; i++) out[i] = acc[i] / n; }
  return out;
}

/**
 * The dark mean and denominator from flat and dark stacks (frames, rows, cols). With no darks
 * (an empty stack), the dark is 0.
 */
export function flatDark(flats: NdArray, darks: NdArray | null): FlatDark {
  const [nf, rows, cols] = flats.shape;
  if (!nf) throw new Error("flatDark: no flat frames");
  const flat = meanFrames(flats);
  const dark = darks && darks.shape[0] ? meanFrames(darks) : new Float32Array(rows * cols);
  const denom = new Float32Array(rows * cols);
  for (let i = 0; i < denom.length; i++) {
    const q = Math.fround(flat[i] - dark[i]);
    denom[i] = q > EPS ? q : q === q ? EPS : q;
  }
  return { rows, cols, dark, denom };
}

/**
 * The plain TypeScript computation (the kernel's reference): normalises frames (n, rows, cols)
 * of any numeric dtype into `out` laid out as sinograms (rows, totalAngles, cols), starting at
 * angle `angleOffset`.
 */
export function normaliseTS(
  raw: NdArray,
  fd: FlatDark,
  out?: Float32Array,
  angleOffset = 0,
  totalAngles?: number,
): Float32Array {
  const [n, rows, cols] = raw.shape;
  const total = totalAngles ?? n;
  const o = out ?? new Float32Array(rows * total * cols);
  const d = raw.data as ArrayLike<number | bigint>;
  const f32 = new Float32Array(1);
  for (let a = 0; a < n; a++) {
    for (let r = 0; r < rows; r++) {
      const src = (a * rows + r) * cols;
      const dst = (r * total + angleOffset + a) * cols;
      const pix = r * cols;
      for (let c = 0; c < cols; c++) {
        f32[0] = Number(d[src + c]);
        let v = f32[0];
        if (v !== v) v = 0;
        let t = Math.fround(Math.fround(v - fd.dark[pix + c]) / fd.denom[pix + c]);
        if (t <= 0) t = TINY;
        o[dst + c] = -Math.log(t);
      }
    }
  }
  return o;
}

interface TomoExports {
  memory: WebAssembly.Memory;
  norm_u16(...a: number[]): void;
  norm_f32(...a: number[]): void;
  neg_log_f32(ptr: number, n: number): void;
}

let kernelPromise: Promise<TomoKernel> | null = null;

/** The SIMD kernels of `wasm/tomo.wasm`, one instance per process. */
export class TomoKernel {
  private readonly ex: TomoExports;
  private readonly arena: WasmArena;

  private constructor(inst: WebAssembly.Instance) {
    this.ex = inst.exports as unknown as TomoExports;
    this.arena = WasmArena.of(inst);
  }

  /** Loads (once) and returns the kernel. */
  static load(): Promise<TomoKernel> {
    if (!kernelPromise) {
      kernelPromise = loadWasm(new URL("../../wasm/tomo.wasm", import.meta.url)).then((i) =>
        new TomoKernel(i)
      );
      kernelPromise.catch(() => (kernelPromise = null));
    }
    return kernelPromise;
  }

  /**
   * Normalises `frames` frames of raw bytes (frames, fd.rows, fd.cols) in `dtype` into `out`,
   * laid out as sinograms (fd.rows, totalAngles, fd.cols) from angle `angleOffset`.
   * uint16 and float32 run natively; other dtypes are converted to float32 first.
   */
  normalise(
    raw: Uint8Array,
    dtype: DType,
    frames: number,
    fd: FlatDark,
    out: Float32Array,
    angleOffset: number,
    totalAngles: number,
  ): void {
    const { rows, cols } = fd;
    const per = rows * cols;
    const n = frames * per;
    let bytes = raw;
    let kind: "u16" | "f32" = "f32";
    if (dtype === "uint16") kind = "u16";
    else if (dtype !== "float32") bytes = toF32Bytes(raw, dtype, n);
    const a = this.arena;
    a.reset();
    const pIn = a.alloc(bytes.byteLength);
    const pDark = a.alloc(per * 4);
    const pDen = a.alloc(per * 4);
    const pOut = a.alloc(n * 4);
    a.u8(pIn, bytes.byteLength).set(bytes);
    a.f32(pDark, per).set(fd.dark);
    a.f32(pDen, per).set(fd.denom);
    const fn = kind === "u16" ? this.ex.norm_u16 : this.ex.norm_f32;
    // Block-local sinogram order (rows, frames, cols), then one copy per row into `out`.
    fn(pIn, frames, rows, cols, pDark, pDen, pOut, cols, frames * cols);
    const res = a.f32(pOut, n);
    const rowLen = frames * cols;
    for (let r = 0; r < rows; r++) {
      out.set(res.subarray(r * rowLen, (r + 1) * rowLen), (r * totalAngles + angleOffset) * cols);
    }
  }

  /** In place: x ≤ 0 → 1e-9, then −log(x). */
  negLog(x: Float32Array): void {
    const a = this.arena;
    a.reset();
    const p = a.alloc(x.byteLength);
    a.f32(p, x.length).set(x);
    this.ex.neg_log_f32(p, x.length);
    x.set(a.f32(p, x.length));
  }
}

function toF32Bytes(raw: Uint8Array, dtype: DType, n: number): Uint8Array {
  const Ctor = TYPED_ARRAY[dtype];
  const aligned = raw.byteOffset % 8 === 0 ? raw : raw.slice();
  const src = new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, n) as ArrayLike<
    number | bigint
  >;
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = Number(src[i]);
  return new Uint8Array(f.buffer);
}

/**
 * Normalises frames (n, rows, cols) with flats and darks given as stacks, returning sinograms
 * (rows, n, cols) float32 (the in-memory counterpart of {@link readSinograms}).
 */
export async function normaliseFrames(
  raw: NdArray,
  flats: NdArray,
  darks: NdArray | null,
): Promise<NdArray<Float32Array>> {
  const [n, rows, cols] = raw.shape;
  const fd = flatDark(flats, darks);
  const k = await TomoKernel.load();
  const out = new Float32Array(n * rows * cols);
  const bytes = new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  k.normalise(bytes, raw.dtype, n, fd, out, 0, n);
  return ndarray(out, [rows, n, cols], "float32");
}

/** Options of {@link readSinograms}. */
export interface ReadSinogramsOptions {
  /** Projection range [start, stop) (default all). */
  angles?: [number, number];
  /** "wasm" (default) or "ts" (the plain loop, for tests). */
  kernel?: "wasm" | "ts";
  /** Upper bound of raw bytes per hyperslab read (default 32 MiB). */
  blockBytes?: number;
  /**
   * Where to write the result (rows × angles × cols floats), e.g. one buffer reused for every
   * row chunk of a volume; default a new array.
   */
  out?: Float32Array;
}

function readStack(set: FrameSet, r0: number, r1: number): NdArray | null {
  return set.count ? set.read({ rows: [r0, r1] }) : null;
}

/** Checks the rows and angles of a read and that the scan has flats; the angle range. */
function checkRead(
  scan: TomoScan,
  rowStart: number,
  rowEnd: number,
  angles?: [number, number],
): [number, number] {
  const P = scan.projections;
  if (
    !Number.isInteger(rowStart) || !Number.isInteger(rowEnd) || rowStart < 0 ||
    rowEnd > scan.rows || rowStart >= rowEnd
  ) {
    throw new LumenError(
      scan.path,
      P.path,
      `rows [${rowStart}, ${rowEnd}) out of range 0–${scan.rows}`,
    );
  }
  const [a0, a1] = angles ?? [0, P.count];
  if (!Number.isInteger(a0) || !Number.isInteger(a1) || a0 < 0 || a1 > P.count || a0 >= a1) {
    throw new LumenError(scan.path, P.path, `angles [${a0}, ${a1}) out of range 0–${P.count}`);
  }
  if (!scan.flats.count) {
    throw new LumenError(
      scan.path,
      P.path,
      "no flat fields (name them with paths.flats or flatsFile)",
    );
  }
  return [a0, a1];
}

/**
 * Reads and normalises the sinograms of detector rows [rowStart, rowEnd): (rows, angles, cols)
 * float32. Reads only those rows of the projections, flats and darks, a block of frames at a
 * time (memory stays near `blockBytes` plus the result).
 *
 * @throws LumenError when the rows are out of range or the scan has no flats
 */
export async function readSinograms(
  scan: TomoScan,
  rowStart: number,
  rowEnd: number,
  opts: ReadSinogramsOptions = {},
): Promise<NdArray<Float32Array>> {
  const P = scan.projections;
  const [a0, a1] = checkRead(scan, rowStart, rowEnd, opts.angles);
  const rows = rowEnd - rowStart, cols = scan.cols, nA = a1 - a0;
  const flats = readStack(scan.flats, rowStart, rowEnd)!;
  const darks = readStack(scan.darks, rowStart, rowEnd);
  const fd = flatDark(flats, darks);
  const size = rows * nA * cols;
  if (opts.out && opts.out.length !== size) {
    throw new RangeError(`readSinograms: out holds ${opts.out.length} floats, ${size} needed`);
  }
  const out = opts.out ?? new Float32Array(size);
  const useTS = opts.kernel === "ts";
  const k = useTS ? null : await TomoKernel.load();
  const itemsize = { uint16: 2, float32: 4 }[P.dtype as string] ?? 8;
  const perFrame = rows * cols * itemsize;
  const maxRun = Math.max(1, Math.floor((opts.blockBytes ?? 32 << 20) / perFrame));
  for (const [start, n, off] of P.runs(a0, a1, maxRun)) {
    P.file.withHyperslab(P.path, [start, rowStart, 0], [n, rows, cols], (bytes, dtype) => {
      if (k) {
        k.normalise(bytes, dtype, n, fd, out, off - a0, nA);
      } else {
        const copy = bytes.slice();
        const raw = typedOf(copy, dtype, n * rows * cols);
        normaliseTS(ndarray(raw, [n, rows, cols], dtype), fd, out, off - a0, nA);
      }
    });
    await safePoint();
  }
  return ndarray(out, [rows, nA, cols], "float32");
}

function typedOf(bytes: Uint8Array, dtype: DType, n: number): TypedArray {
  const C = TYPED_ARRAY[dtype];
  return new C(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
}

/** Raw projections of some detector rows, as stored, with their flat/dark terms. */
export interface RawRows {
  /** (angles, rows, cols) values in `dtype`, little-endian bytes. */
  bytes: Uint8Array;
  dtype: "uint16" | "float32";
  angles: number;
  rows: number;
  cols: number;
  /** Dark mean and denominator of those rows (rows, cols). */
  fd: FlatDark;
}

/**
 * The raw projections of detector rows [rowStart, rowEnd) (every angle) and their flat/dark
 * terms, for normalising elsewhere (a worker, with the kernels {@link readSinograms} uses:
 * `norm_u16`/`norm_f32` of `wasm/tomo.wasm`, the same values). Half the bytes of the sinograms
 * for uint16 scans. `shared` puts them in a SharedArrayBuffer. Null for dtypes other than
 * uint16 and float32 (read those with readSinograms). `into`, when it holds enough bytes, is
 * filled instead of a new buffer (the result's `bytes` is its prefix).
 *
 * @example
 * ```ts
 * const raw = await readRawRows(scan, 0, 8, { shared: true });
 * ```
 */
export async function readRawRows(
  scan: TomoScan,
  rowStart: number,
  rowEnd: number,
  opts: { shared?: boolean; blockBytes?: number; into?: Uint8Array } = {},
): Promise<RawRows | null> {
  const P = scan.projections;
  const [a0, a1] = checkRead(scan, rowStart, rowEnd);
  if (P.dtype !== "uint16" && P.dtype !== "float32") return null;
  const rows = rowEnd - rowStart, cols = scan.cols, nA = a1 - a0;
  const fd = flatDark(
    readStack(scan.flats, rowStart, rowEnd)!,
    readStack(scan.darks, rowStart, rowEnd),
  );
  const itemsize = P.dtype === "uint16" ? 2 : 4;
  const perFrame = rows * cols * itemsize;
  const size = nA * perFrame;
  // a caller's buffer is reused (its first `size` bytes): no fresh pages to fault in per block
  const bytes = opts.into && opts.into.length >= size
    ? opts.into.subarray(0, size)
    : new Uint8Array(opts.shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
  const maxRun = Math.max(1, Math.floor((opts.blockBytes ?? 32 << 20) / perFrame));
  for (const [start, n, off] of P.runs(a0, a1, maxRun)) {
    P.file.withHyperslab(P.path, [start, rowStart, 0], [n, rows, cols], (b, dtype) => {
      if (dtype !== P.dtype) throw new Error(`readRawRows: ${dtype} read for ${P.dtype}`);
      bytes.set(b.subarray(0, n * perFrame), (off - a0) * perFrame);
    });
    await safePoint();
  }
  return { bytes, dtype: P.dtype, angles: nA, rows, cols, fd };
}
