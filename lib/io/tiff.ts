/**
 * TIFF images and stacks: read and write.
 *
 * Reading (classic TIFF and BigTIFF, either byte order) handles strips or tiles, uncompressed,
 * deflate (8 and 32946), LZW (5) and PackBits (32773) compression, horizontal (2) and
 * floating-point (3) predictors, 8/16/32/64-bit unsigned, signed and floating samples
 * (`uint8`…`uint64`, `int8`…`int64`, `float32`, `float64`), one or more samples per pixel,
 * contiguous or separate planes. Each page becomes an {@link NdArray} of shape (h, w), (h, w, s)
 * for contiguous multi-sample pixels, or (s, h, w) for separate planes: the shapes tifffile
 * gives. {@link readTiff} returns the file's first series as tifffile's `imread` does: one page →
 * (h, w); several pages of equal shape and dtype → (pages, h, w); a tifffile JSON description
 * (`{"shape": [...]}`) or an ImageJ description (`images=`, `slices=`, `frames=`, `channels=`)
 * reshapes it as tifffile would.
 *
 * Writing builds the IFDs here (utif's encoder writes only RGBA): little-endian, one strip per
 * page (uncompressed) or strips of about 256 KiB (deflate), BlackIsZero, SampleFormat (339),
 * resolution tags, and the tifffile JSON description with the array's shape on the first page
 * (or, with `imagej`, an ImageJ description). All pages' pixel data is contiguous, as ImageJ
 * writes it, so the files open in tifffile, ImageJ/Fiji and PIL. BigTIFF is used automatically
 * past 4 GiB.
 *
 * Corrupt or unsupported input gives a one-line {@link LumenError}, e.g.
 * `x.tif: page 0 strip 3: offset 81234 + 4096 bytes runs past the end of the file (80000 bytes)`.
 *
 * @example
 * ```ts
 * import { readTiff, writeTiff } from "./tiff.ts";
 * import { ndarray } from "./array.ts";
 * const stack = ndarray(new Uint16Array(3 * 64 * 64), [3, 64, 64]);
 * await writeTiff("stack.tif", stack, { overwrite: true }); // 3 pages
 * const back = await readTiff("stack.tif"); // shape [3, 64, 64], dtype "uint16"
 * ```
 * @module
 */
import {
  type DType,
  DTYPE_SIZE,
  type NdArray,
  sizeOf,
  type TypedArray,
  typedView,
} from "./array.ts";
import { LumenError } from "../run/errors.ts";
import { safePoint } from "../run/interrupt.ts";
import { checkMemory, exactBytes } from "./budget.ts";
import { readInput, writeChunksAtomicSync } from "../run/atomic.ts";
import { allocTyped, byteswapInPlace, HOST_LITTLE_ENDIAN, typedToBytes } from "./npy.ts";
import { concat, deflate, inflateChecked } from "./zip.ts";

/** What a page of a TIFF file holds, from its IFD (no pixel data decoded). */
export interface TiffPageInfo {
  /** Page number, from 0. */
  index: number;
  /** Byte offset of the IFD. */
  ifdOffset: number;
  /** Image width (tag 256). */
  width: number;
  /** Image height (tag 257). */
  height: number;
  /** Samples per pixel (tag 277). */
  samplesPerPixel: number;
  /** Bits per sample (tag 258). */
  bitsPerSample: number;
  /** 1 unsigned, 2 signed, 3 float (tag 339). */
  sampleFormat: number;
  /** Lumen dtype of the samples. */
  dtype: DType;
  /** Compression code (tag 259): 1 none, 5 LZW, 8 deflate, 32773 PackBits… */
  compression: number;
  /** Predictor (tag 317): 1 none, 2 horizontal, 3 floating point. */
  predictor: number;
  /** Photometric interpretation (tag 262). */
  photometric: number;
  /** Planar configuration (tag 284): 1 contiguous, 2 separate. */
  planarConfig: number;
  /** Tile size, where the page is tiled. */
  tile?: [number, number];
  /** Rows per strip, where the page is stripped. */
  rowsPerStrip?: number;
  /** NewSubfileType (tag 254). */
  subfileType: number;
  /** ImageDescription (tag 270), if any. */
  description?: string;
  /** Software (tag 305), if any. */
  software?: string;
  /** Shape of the decoded page. */
  shape: number[];
}

/** The parsed structure of a TIFF file. */
export interface TiffInfo {
  /** True for "II" files. */
  littleEndian: boolean;
  /** True for BigTIFF (version 43). */
  bigTiff: boolean;
  /** Every page (IFD) in file order. */
  pages: TiffPageInfo[];
}

// ---------------------------------------------------------------------------------------------
// Parsing

const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

interface RawPage {
  info: TiffPageInfo;
  offsets: number[];
  counts: number[];
}

/** Tags whose values we need; a bad offset in any other tag is ignored, as tifffile does. */
/** BYTE, SHORT, LONG, SBYTE, SSHORT, SLONG, IFD, LONG8, SLONG8, IFD8. */
const INTEGER_TYPES = new Set([1, 3, 4, 6, 8, 9, 13, 16, 17, 18]);

const NEEDED = new Set([
  254,
  256,
  257,
  258,
  259,
  262,
  273,
  277,
  278,
  279,
  284,
  317,
  322,
  323,
  324,
  325,
  339,
]);

class Reader {
  readonly dv: DataView;
  readonly le: boolean;
  readonly big: boolean;
  constructor(readonly bytes: Uint8Array, readonly file: string) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 8) {
      throw new LumenError(file, "byte 0", `not a TIFF file (${bytes.length} bytes)`);
    }
    const bo = String.fromCharCode(bytes[0], bytes[1]);
    if (bo !== "II" && bo !== "MM") {
      throw new LumenError(file, "byte 0", "not a TIFF file (byte order mark is not II or MM)");
    }
    this.le = bo === "II";
    const version = this.dv.getUint16(2, this.le);
    if (version === 42) this.big = false;
    else if (version === 43) {
      this.big = true;
      if (bytes.length < 16 || this.dv.getUint16(4, this.le) !== 8) {
        throw new LumenError(file, "byte 4", "bad BigTIFF header");
      }
    } else {throw new LumenError(
        file,
        "byte 2",
        `not a TIFF file (version ${version}, expected 42)`,
      );}
  }

  u16 = (o: number) => this.dv.getUint16(o, this.le);
  u32 = (o: number) => this.dv.getUint32(o, this.le);
  u64 = (o: number) => {
    const v = this.dv.getBigUint64(o, this.le);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };
  off = (o: number) => (this.big ? this.u64(o) : this.u32(o));

  value(type: number, o: number): number {
    const d = this.dv, le = this.le;
    switch (type) {
      case 1:
      case 2:
      case 7:
        return d.getUint8(o);
      case 6:
        return d.getInt8(o);
      case 3:
        return d.getUint16(o, le);
      case 8:
        return d.getInt16(o, le);
      case 4:
      case 13:
        return d.getUint32(o, le);
      case 9:
        return d.getInt32(o, le);
      case 5:
        return d.getUint32(o, le) / d.getUint32(o + 4, le);
      case 10:
        return d.getInt32(o, le) / d.getInt32(o + 4, le);
      case 11:
        return d.getFloat32(o, le);
      case 12:
        return d.getFloat64(o, le);
      case 16:
      case 18:
        return this.u64(o);
      case 17:
        return Number(d.getBigInt64(o, le));
    }
    return NaN;
  }

  info(): { pages: RawPage[] } {
    const size = this.bytes.length;
    let ifd = this.big ? this.u64(8) : this.u32(4);
    const seen = new Set<number>();
    const pages: RawPage[] = [];
    let prev = this.big ? "header (byte 8)" : "header (byte 4)";
    while (ifd !== 0) {
      const place = `IFD ${pages.length} at byte ${ifd}`;
      if (seen.has(ifd)) throw new LumenError(this.file, place, "IFD chain loops back on itself");
      seen.add(ifd);
      const head = this.big ? 8 : 2, entry = this.big ? 20 : 12, tail = this.big ? 8 : 4;
      if (ifd + head > size) {
        throw new LumenError(
          this.file,
          prev,
          `IFD offset ${ifd} is past the end of the file (${size} bytes)`,
        );
      }
      const n = this.big ? this.u64(ifd) : this.u16(ifd);
      if (ifd + head + n * entry + tail > size) {
        throw new LumenError(
          this.file,
          place,
          `${n} entries run past the end of the file (${size} bytes)`,
        );
      }
      const tags = new Map<number, number[] | string>();
      for (let i = 0; i < n; i++) {
        const e = ifd + head + i * entry;
        const tag = this.u16(e), type = this.u16(e + 2);
        if (tags.has(tag)) continue; // a repeated tag: the first counts (as libtiff, tifffile)
        const count = this.big ? this.u64(e + 4) : this.u32(e + 4);
        const tsize = TYPE_SIZE[type];
        if (!tsize) continue;
        if (NEEDED.has(tag) && !INTEGER_TYPES.has(type)) {
          throw new LumenError(
            this.file,
            `${place}, tag ${tag}`,
            `stored as type ${type}, not an integer type; corrupt file?`,
          );
        }
        const nbytes = count * tsize;
        const inline = this.big ? 8 : 4;
        const voff = nbytes <= inline ? e + (this.big ? 12 : 8) : this.off(e + (this.big ? 12 : 8));
        if (voff + nbytes > size || count > 1 << 28) {
          if (NEEDED.has(tag) || tag === 270) {
            throw new LumenError(
              this.file,
              `${place}, tag ${tag}`,
              `value (${count} × ${tsize} bytes at ${voff}) runs past the end of the file (${size} bytes)`,
            );
          }
          continue;
        }
        if (type === 2) {
          let s = "";
          for (let k = 0; k < nbytes; k++) {
            const c = this.bytes[voff + k];
            if (c === 0) break;
            s += String.fromCharCode(c);
          }
          tags.set(tag, decodeUtf8Lenient(s));
        } else if (NEEDED.has(tag)) {
          const vals = new Array<number>(count);
          for (let k = 0; k < count; k++) vals[k] = this.value(type, voff + k * tsize);
          tags.set(tag, vals);
        }
      }
      pages.push(this.page(pages.length, ifd, tags));
      prev = place;
      ifd = this.off(ifd + head + n * entry);
    }
    return { pages };
  }

  page(index: number, ifdOffset: number, tags: Map<number, number[] | string>): RawPage {
    const place = `page ${index}`;
    const num = (t: number, dflt?: number): number => {
      const v = tags.get(t);
      if (Array.isArray(v) && v.length > 0) return v[0];
      if (dflt === undefined) {
        throw new LumenError(this.file, place, `required tag ${t} is missing`);
      }
      return dflt;
    };
    const arr = (t: number): number[] | undefined => {
      const v = tags.get(t);
      return Array.isArray(v) ? v : undefined;
    };
    const width = num(256), height = num(257);
    if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height))) {
      throw new LumenError(this.file, place, `bad image size ${width}×${height}`);
    }
    const spp = num(277, 1);
    if (!(spp >= 1 && Number.isInteger(spp))) {
      throw new LumenError(this.file, place, `bad SamplesPerPixel ${spp}`);
    }
    const bpsArr = arr(258) ?? [1];
    const bps = bpsArr[0];
    if (bpsArr.some((b) => b !== bps)) {
      throw new LumenError(this.file, place, `mixed bits per sample (${bpsArr}) are not supported`);
    }
    const fmtArr = arr(339) ?? [1];
    const fmt = fmtArr[0];
    const dtype = dtypeFor(fmt, bps);
    if (!dtype) {
      throw new LumenError(
        this.file,
        place,
        `${bps}-bit samples of format ${fmt} are not supported (8/16/32/64-bit integer, 32/64-bit float)`,
      );
    }
    const compression = num(259, 1);
    if (![1, 5, 8, 32946, 32773].includes(compression)) {
      throw new LumenError(
        this.file,
        place,
        `compression ${compression} is not supported (none, LZW, deflate, PackBits)`,
      );
    }
    const predictor = num(317, 1);
    if (![1, 2, 3].includes(predictor)) {
      throw new LumenError(this.file, place, `predictor ${predictor} is not supported`);
    }
    if (predictor === 3 && fmt !== 3) {
      throw new LumenError(this.file, place, "floating-point predictor on integer samples");
    }
    if (predictor === 2 && fmt === 3) {
      throw new LumenError(this.file, place, "horizontal predictor on floating-point samples");
    }
    const planar = num(284, 1);
    const tiled = tags.has(322);
    let offsets: number[] | undefined, counts: number[] | undefined;
    let tile: [number, number] | undefined;
    let rowsPerStrip: number | undefined;
    if (tiled) {
      tile = [num(323), num(322)];
      if (!(tile[0] > 0 && tile[1] > 0)) {
        throw new LumenError(this.file, place, `bad tile size ${tile[1]}×${tile[0]}`);
      }
      offsets = arr(324) ?? arr(273);
      counts = arr(325) ?? arr(279);
    } else {
      rowsPerStrip = Math.min(num(278, height), height);
      if (!(rowsPerStrip > 0)) rowsPerStrip = height;
      offsets = arr(273);
      counts = arr(279);
    }
    if (!offsets) throw new LumenError(this.file, place, "no strip or tile offsets (tag 273/324)");
    const planes = planar === 2 ? spp : 1;
    const segs = tiled
      ? Math.ceil(height / tile![0]) * Math.ceil(width / tile![1]) * planes
      : Math.ceil(height / rowsPerStrip!) * planes;
    if (offsets.length < segs) {
      throw new LumenError(
        this.file,
        place,
        `${offsets.length} ${tiled ? "tile" : "strip"} offsets, expected ${segs}`,
      );
    }
    if (!counts) {
      if (compression !== 1) {
        throw new LumenError(this.file, place, "no strip or tile byte counts (tag 279/325)");
      }
      counts = [];
    }
    const shape = spp === 1 ? [height, width] : planar === 2 ? [spp, height, width] : [
      height,
      width,
      spp,
    ];
    const desc = tags.get(270);
    const soft = tags.get(305);
    return {
      info: {
        index,
        ifdOffset,
        width,
        height,
        samplesPerPixel: spp,
        bitsPerSample: bps,
        sampleFormat: fmt,
        dtype,
        compression,
        predictor,
        photometric: num(262, 1),
        planarConfig: planar,
        tile,
        rowsPerStrip,
        subfileType: num(254, 0),
        description: typeof desc === "string" ? desc : undefined,
        software: typeof soft === "string" ? soft : undefined,
        shape,
      },
      offsets,
      counts,
    };
  }
}

function decodeUtf8Lenient(latin: string): string {
  const b = Uint8Array.from(latin, (c) => c.charCodeAt(0));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    return latin;
  }
}

function dtypeFor(fmt: number, bps: number): DType | null {
  if (fmt === 1 || fmt === 4) {
    return ({ 8: "uint8", 16: "uint16", 32: "uint32", 64: "uint64" } as Record<number, DType>)[
      bps
    ] ??
      null;
  }
  if (fmt === 2) {
    return ({ 8: "int8", 16: "int16", 32: "int32", 64: "int64" } as Record<number, DType>)[bps] ??
      null;
  }
  if (fmt === 3) {
    return ({ 32: "float32", 64: "float64" } as Record<number, DType>)[bps] ?? null;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Decompression

/** Output bytes between two yields of a decoder step generator (a safe point when async). */
const STEP_BYTES = 1 << 22;

/** Runs a decoder's step generator to its end in this call (the synchronous readers). */
function runSync<T>(g: Generator<Step, T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    if (r.value) throw new Error("an asynchronous step in a synchronous TIFF decode");
  }
}

/**
 * Runs a decoder's step generator with a safe point (lib/run/interrupt.ts) at each step, so a
 * signal stops even a single huge strip or tile part-way; a step that is a promise (a streamed
 * inflate) is awaited.
 */
async function runAsync<T>(g: Generator<Step, T>): Promise<T> {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    if (r.value) await r.value;
    await safePoint();
  }
}

/** What a decoder step generator yields: nothing (a place to stop) or a promise to await. */
type Step = void | Promise<unknown>;

/** Decodes TIFF LZW (MSB-first codes, early change) into at most `expected` bytes. */
export function lzwDecode(src: Uint8Array, expected: number): Uint8Array {
  return runSync(lzwSteps(src, expected));
}

/** {@link lzwDecode}, yielding after every {@link STEP_BYTES} of output. */
function* lzwSteps(src: Uint8Array, expected: number): Generator<Step, Uint8Array> {
  let nextStep = STEP_BYTES;
  let out = new Uint8Array(Math.max(expected, 16));
  let outLen = 0;
  // Table entries point into the output: code → (start, length) of its string there.
  const start = new Int32Array(4096);
  const len = new Int32Array(4096);
  let next = 258, width = 9;
  let bitPos = 0;
  const totalBits = src.length * 8;
  let prevStart = -1, prevLen = 0; // the previous code's string, in the output
  const ensure = (n: number) => {
    if (outLen + n <= out.length) return;
    const bigger = new Uint8Array(Math.max(out.length * 2, outLen + n));
    bigger.set(out.subarray(0, outLen));
    out = bigger;
  };
  while (bitPos + width <= totalBits) {
    // Read `width` bits MSB-first.
    let code = 0;
    for (let k = 0; k < width; k++) {
      const b = bitPos + k;
      code = (code << 1) | ((src[b >> 3] >> (7 - (b & 7))) & 1);
    }
    bitPos += width;
    if (code === 257) break;
    if (code === 256) {
      next = 258;
      width = 9;
      prevStart = -1;
      continue;
    }
    const s = outLen;
    let l: number;
    if (code < 256) {
      ensure(1);
      out[outLen++] = code;
      l = 1;
    } else if (code < next && prevStart >= 0) {
      l = len[code];
      ensure(l);
      out.copyWithin(outLen, start[code], start[code] + l);
      outLen += l;
    } else if (code === next && prevStart >= 0) {
      // KwKwK: the previous string plus its own first byte.
      ensure(prevLen + 1);
      out.copyWithin(outLen, prevStart, prevStart + prevLen);
      out[outLen + prevLen] = out[prevStart];
      l = prevLen + 1;
      outLen += l;
    } else {
      throw new Error(`code ${code} is not in the table (next ${next})`);
    }
    if (prevStart >= 0 && next < 4096) {
      // New entry: the previous string plus the first byte of this one, which follows it.
      start[next] = prevStart;
      len[next] = prevLen + 1;
      next++;
      if (next >= (1 << width) - 1 && width < 12) width++;
    }
    prevStart = s;
    prevLen = l;
    if (outLen >= expected) break;
    if (outLen >= nextStep) {
      nextStep = outLen + STEP_BYTES;
      yield;
    }
  }
  return out.subarray(0, outLen);
}

/** Decodes PackBits data. */
export function packbitsDecode(src: Uint8Array, expected: number): Uint8Array {
  return runSync(packbitsSteps(src, expected));
}

/** {@link packbitsDecode}, yielding after every {@link STEP_BYTES} of output. */
function* packbitsSteps(src: Uint8Array, expected: number): Generator<Step, Uint8Array> {
  const out = new Uint8Array(expected);
  let i = 0, o = 0, nextStep = STEP_BYTES;
  while (i < src.length && o < expected) {
    if (o >= nextStep) {
      nextStep = o + STEP_BYTES;
      yield;
    }
    const n = (src[i++] << 24) >> 24;
    if (n >= 0) {
      const c = Math.min(n + 1, expected - o, src.length - i);
      out.set(src.subarray(i, i + c), o);
      i += n + 1;
      o += c;
    } else if (n !== -128) {
      const c = Math.min(1 - n, expected - o);
      out.fill(src[i++], o, o + c);
      o += c;
    }
  }
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------------
// Page decoding

/** Strips and tiles from this many bytes decoded are inflated as a stream when async. */
const STREAM_INFLATE = 8 << 20;

/**
 * Inflates zlib data piece by piece (a safe point between pieces of output), stopping past
 * `max` bytes as {@link inflateChecked} does; for strips and tiles too big to inflate in one
 * call without ignoring signals.
 */
async function inflateStream(
  raw: Uint8Array,
  expected: number,
  max: number,
  file: string,
  place: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(expected); // the pieces go straight in: no second copy
  const ds = new DecompressionStream("deflate");
  const w = ds.writable.getWriter();
  const feeding = (async () => {
    for (let o = 0; o < raw.length; o += 4096) {
      await w.write(raw.slice(o, o + 4096) as Uint8Array<ArrayBuffer>);
    }
    await w.close();
  })().catch(() => {});
  const rd = ds.readable.getReader();
  let n = 0;
  try {
    for (;;) {
      const { value, done } = await rd.read();
      if (done) break;
      if (n < expected) out.set(value.subarray(0, expected - n), n);
      n += value.length;
      if (n > max) {
        throw new LumenError(
          file,
          place,
          `inflates to more than the ${max} bytes it can hold (a decompression bomb?)`,
        );
      }
      await safePoint();
    }
  } catch (e) {
    await rd.cancel().catch(() => {});
    if (e instanceof LumenError) throw e;
    throw new LumenError(file, place, `invalid deflate data (${(e as Error).message})`);
  } finally {
    await feeding;
  }
  return out.subarray(0, Math.min(n, expected));
}

function* segmentSteps(
  r: Reader,
  p: RawPage,
  seg: number,
  rows: number,
  rowSamples: number,
  stride: number,
  async: boolean,
): Generator<Step, Uint8Array> {
  const info = p.info;
  const size = DTYPE_SIZE[info.dtype];
  const rowBytes = rowSamples * size;
  const expected = rows * rowBytes;
  const what = info.tile ? "tile" : "strip";
  const place = `page ${info.index} ${what} ${seg}`;
  const off = p.offsets[seg];
  let count = p.counts[seg];
  if (count === undefined) count = expected; // uncompressed without byte counts
  if (off + count > r.bytes.length) {
    throw new LumenError(
      r.file,
      place,
      `offset ${off} + ${count} bytes runs past the end of the file (${r.bytes.length} bytes)`,
    );
  }
  const raw = r.bytes.subarray(off, off + count);
  let data: Uint8Array;
  try {
    switch (info.compression) {
      case 1:
        data = raw;
        break;
      case 5:
        data = yield* lzwSteps(raw, expected);
        break;
      case 8:
      case 32946:
        if (async && expected >= STREAM_INFLATE) {
          let got: Uint8Array | null = null;
          const max = expected + (1 << 20);
          yield inflateStream(raw, expected, max, r.file, place).then((d) => (got = d));
          data = got!;
        } else data = inflateChecked(raw, r.file, place, expected + (1 << 20)); // no bomb
        break;
      case 32773:
        data = yield* packbitsSteps(raw, expected);
        break;
      default:
        throw new LumenError(r.file, place, `compression ${info.compression} is not supported`);
    }
  } catch (e) {
    if (e instanceof LumenError) throw e;
    throw new LumenError(r.file, place, `corrupt compressed data (${(e as Error).message})`);
  }
  if (data.length < expected) {
    throw new LumenError(
      r.file,
      place,
      `holds ${data.length} bytes after decompression, expected ${expected}`,
    );
  }
  // Native order and no predictor: the caller copies straight from the (decompressed) bytes.
  if (info.predictor === 1 && (r.le === HOST_LITTLE_ENDIAN || size === 1)) {
    return data.subarray(0, expected);
  }
  // Otherwise an own, aligned copy of exactly the expected bytes, transformed in place.
  const buf = new Uint8Array(expected);
  buf.set(data.subarray(0, expected));
  if (info.predictor === 3) return floatPredictorUndo(buf, rows, rowSamples, stride, size);
  if (r.le !== HOST_LITTLE_ENDIAN) byteswapInPlace(buf, size);
  if (info.predictor === 2) horizontalUndo(buf, info.dtype, rows, rowSamples, stride);
  return buf;
}

/** Undoes horizontal differencing on native-order samples (modular integer addition). */
function horizontalUndo(buf: Uint8Array, dtype: DType, rows: number, n: number, stride: number) {
  const a = viewOf(buf, dtype);
  if (a instanceof BigInt64Array || a instanceof BigUint64Array) {
    for (let y = 0; y < rows; y++) {
      const o = y * n;
      for (let i = stride; i < n; i++) {
        a[o + i] = (a[o + i] as bigint) + (a[o + i - stride] as bigint);
      }
    }
    return;
  }
  const arr = a as Uint8Array;
  for (let y = 0; y < rows; y++) {
    const o = y * n;
    for (let i = stride; i < n; i++) arr[o + i] += arr[o + i - stride];
  }
}

/** Undoes the floating-point predictor (byte planes, MSB first, differenced) → native order. */
function floatPredictorUndo(
  buf: Uint8Array,
  rows: number,
  n: number,
  stride: number,
  size: number,
): Uint8Array {
  const out = new Uint8Array(buf.length);
  const rowBytes = n * size;
  for (let y = 0; y < rows; y++) {
    const o = y * rowBytes;
    for (let i = stride; i < rowBytes; i++) buf[o + i] = (buf[o + i] + buf[o + i - stride]) & 255;
    for (let s = 0; s < n; s++) {
      for (let b = 0; b < size; b++) {
        // plane b holds byte b of each sample, most significant first
        const v = buf[o + b * n + s];
        const dst = HOST_LITTLE_ENDIAN ? size - 1 - b : b;
        out[o + s * size + dst] = v;
      }
    }
  }
  return out;
}

function viewOf(buf: Uint8Array, dtype: DType): TypedArray {
  return typedView(dtype, buf.buffer, buf.byteOffset, buf.byteLength / DTYPE_SIZE[dtype]);
}

/** Decodes a page into `target` (its bytes, native order) or a new array. */
function decodePage(r: Reader, p: RawPage, target?: Uint8Array): NdArray {
  return runSync(pageSteps(r, p, target, false));
}

/**
 * {@link decodePage} as a step generator: it yields between strips or tiles and inside large
 * ones (see {@link runAsync}); `async` lets large deflate segments inflate as a stream.
 */
function* pageSteps(
  r: Reader,
  p: RawPage,
  target: Uint8Array | undefined,
  async: boolean,
): Generator<Step, NdArray> {
  const info = p.info;
  const { width: w, height: h, samplesPerPixel: spp } = info;
  const size = DTYPE_SIZE[info.dtype];
  const planes = info.planarConfig === 2 ? spp : 1;
  const pxSamples = info.planarConfig === 2 ? 1 : spp; // samples per pixel within a plane
  if (!target) {
    checkMemory(
      r.file,
      `page ${info.index}`,
      `${w}×${h}×${spp} image`,
      exactBytes(w, h, spp, size),
    );
  }
  const out = target ?? new Uint8Array(w * h * spp * size);
  const planeBytes = w * h * pxSamples * size;
  const outRow = w * pxSamples * size;
  if (info.tile) {
    const [th, tw] = info.tile;
    const across = Math.ceil(w / tw), down = Math.ceil(h / th);
    for (let pl = 0; pl < planes; pl++) {
      for (let ty = 0; ty < down; ty++) {
        for (let tx = 0; tx < across; tx++) {
          const seg = pl * across * down + ty * across + tx;
          if (seg) yield;
          const data = yield* segmentSteps(r, p, seg, th, tw * pxSamples, pxSamples, async);
          const rows = Math.min(th, h - ty * th);
          const cols = Math.min(tw, w - tx * tw) * pxSamples * size;
          const tileRow = tw * pxSamples * size;
          for (let y = 0; y < rows; y++) {
            const dst = pl * planeBytes + (ty * th + y) * outRow + tx * tw * pxSamples * size;
            out.set(data.subarray(y * tileRow, y * tileRow + cols), dst);
          }
        }
      }
    }
  } else {
    const rps = info.rowsPerStrip!;
    const perPlane = Math.ceil(h / rps);
    for (let pl = 0; pl < planes; pl++) {
      for (let s = 0; s < perPlane; s++) {
        const rows = Math.min(rps, h - s * rps);
        const seg = pl * perPlane + s;
        if (seg) yield;
        const data = yield* segmentSteps(r, p, seg, rows, w * pxSamples, pxSamples, async);
        const at = pl * planeBytes + s * rps * outRow;
        for (let o = 0; o < data.length; o += STEP_BYTES) {
          if (o) yield; // a huge uncompressed strip is copied in steps
          out.set(data.subarray(o, o + STEP_BYTES), at + o);
        }
      }
    }
  }
  return { dtype: info.dtype, shape: info.shape.slice(), data: viewOf(out, info.dtype) };
}

// ---------------------------------------------------------------------------------------------
// Public reading API

/** A TIFF file parsed in memory: its structure, and pages decoded on demand. */
export class TiffDocument {
  /** Byte order, BigTIFF flag and every page's IFD. */
  readonly info: TiffInfo;
  private readonly reader: Reader;
  private readonly raw: RawPage[];

  /**
   * @param bytes the whole file
   * @param file its name, for error messages
   */
  constructor(bytes: Uint8Array, readonly file = "<tiff>") {
    this.reader = new Reader(bytes, file);
    this.raw = this.reader.info().pages;
    this.info = {
      littleEndian: this.reader.le,
      bigTiff: this.reader.big,
      pages: this.raw.map((p) => p.info),
    };
  }

  /** Number of pages. */
  get pageCount(): number {
    return this.raw.length;
  }

  /** Decodes page `i` (0-based). */
  page(i: number): NdArray {
    if (i < 0 || i >= this.raw.length) {
      throw new LumenError(
        this.file,
        `page ${i}`,
        `no such page (the file has ${this.raw.length})`,
      );
    }
    return decodePage(this.reader, this.raw[i]);
  }

  /**
   * Decodes page `i` as {@link page} does, with a safe point (lib/run/interrupt.ts) between its
   * strips or tiles and inside large ones, so that a signal stops a huge page part-way.
   *
   * @example
   * ```ts
   * const img = await doc.pageAsync(0); // Ctrl-C during a 2 GB strip stops within a second
   * ```
   */
  pageAsync(i: number): Promise<NdArray> {
    if (i < 0 || i >= this.raw.length) return Promise.resolve(this.page(i)); // its error
    return runAsync(pageSteps(this.reader, this.raw[i], undefined, true));
  }

  /**
   * The first series, as tifffile's `imread` returns it: the pages with the shape and dtype of
   * page 0, stacked to (n, h, w) when there are several, and reshaped by a tifffile JSON or
   * ImageJ description on page 0.
   */
  series(): NdArray {
    const first = this.raw[0].info;
    const ij = parseImageJ(first.description);
    // ImageJ files may hold more images than IFDs (contiguous data after the first).
    if (ij && ij.images > this.raw.length && first.compression === 1 && !first.tile) {
      return this.imagejContiguous(ij);
    }
    const same = this.raw.filter((p) =>
      p.info.dtype === first.dtype && sameShape(p.info.shape, first.shape) &&
      (p === this.raw[0] || (p.info.subfileType & 1) === 0)
    );
    const per = sizeOf(first.shape);
    let out: NdArray;
    if (same.length === 1) out = decodePage(this.reader, same[0]);
    else {
      // Decode each page straight into the stack.
      checkMemory(
        this.file,
        "page 0",
        `a stack of ${same.length} pages of ${first.shape.join("×")} ${first.dtype}`,
        exactBytes(first.shape, same.length, DTYPE_SIZE[first.dtype]),
      );
      const data = allocTyped(first.dtype, per * same.length);
      const bytes = new Uint8Array(data.buffer);
      const pageBytes = per * DTYPE_SIZE[first.dtype];
      same.forEach((p, i) => {
        decodePage(this.reader, p, bytes.subarray(i * pageBytes, (i + 1) * pageBytes));
      });
      out = { dtype: first.dtype, shape: [same.length, ...first.shape], data };
    }
    const shaped = shapedDescription(first.description);
    if (shaped && sizeOf(shaped) === out.data.length) out.shape = shaped;
    else if (ij) {
      const dims = [ij.frames, ij.slices, ij.channels].filter((d) => d > 1);
      const shape = [...dims, ...first.shape];
      if (sizeOf(shape) === out.data.length) out.shape = shape;
    }
    return out;
  }

  private imagejContiguous(ij: ImageJMeta): NdArray {
    const p = this.raw[0];
    const per = sizeOf(p.info.shape);
    const size = DTYPE_SIZE[p.info.dtype];
    const off = p.offsets[0];
    const total = per * ij.images * size;
    if (off + total > this.reader.bytes.length) {
      throw new LumenError(
        this.file,
        "page 0",
        `ImageJ data (${ij.images} images, ${total} bytes at ${off}) runs past the end of the file`,
      );
    }
    const buf = this.reader.bytes.slice(off, off + total);
    if (this.reader.le !== HOST_LITTLE_ENDIAN) byteswapInPlace(buf, size);
    const dims = [ij.frames, ij.slices, ij.channels].filter((d) => d > 1);
    let shape = [...dims, ...p.info.shape];
    if (sizeOf(shape) !== per * ij.images) shape = [ij.images, ...p.info.shape];
    return { dtype: p.info.dtype, shape, data: viewOf(buf, p.info.dtype) };
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function shapedDescription(desc?: string): number[] | null {
  if (!desc || desc[0] !== "{" || !desc.includes('"shape":')) return null;
  try {
    const j = JSON.parse(desc);
    if (
      Array.isArray(j.shape) &&
      j.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0)
    ) {
      return j.shape;
    }
  } catch { /* not JSON */ }
  return null;
}

interface ImageJMeta {
  images: number;
  channels: number;
  slices: number;
  frames: number;
}

function parseImageJ(desc?: string): ImageJMeta | null {
  if (!desc || !desc.startsWith("ImageJ=")) return null;
  const get = (k: string) => {
    const m = new RegExp(`^${k}=(\\d+)`, "m").exec(desc);
    return m ? Number(m[1]) : 0;
  };
  const channels = get("channels") || 1, slices = get("slices") || 1, frames = get("frames") || 1;
  const images = get("images") || channels * slices * frames;
  // A plain stack: images=N with no dimensions given → N slices.
  if (channels * slices * frames === 1 && images > 1) {
    return { images, channels: 1, slices: images, frames: 1 };
  }
  return { images, channels, slices, frames };
}

/** Parses a TIFF file held in memory (IFDs only; pixels are decoded on demand). */
export function parseTiff(bytes: Uint8Array, file = "<tiff>"): TiffDocument {
  return new TiffDocument(bytes, file);
}

/**
 * Decodes a TIFF file held in memory to its first series (see {@link TiffDocument.series}):
 * (h, w) for one page, (pages, h, w) for a stack.
 */
export function decodeTiff(bytes: Uint8Array, file = "<tiff>"): NdArray {
  return new TiffDocument(bytes, file).series();
}

/** Decodes every page of a TIFF file held in memory. */
export function decodeTiffPages(bytes: Uint8Array, file = "<tiff>"): NdArray[] {
  const doc = new TiffDocument(bytes, file);
  return Array.from({ length: doc.pageCount }, (_, i) => doc.page(i));
}

/**
 * Reads a TIFF file's first series: (h, w), or (pages, h, w) for a stack.
 *
 * @example
 * ```ts
 * const img = await readTiff("proj_0001.tif"); // { dtype: "uint16", shape: [2160, 2560], … }
 * ```
 */
export async function readTiff(path: string): Promise<NdArray> {
  return decodeTiff(await readInput(path), path);
}

/** Reads every page of a TIFF file, each as its own array, with the file's structure. */
export async function readTiffPages(path: string): Promise<{ info: TiffInfo; pages: NdArray[] }> {
  const doc = new TiffDocument(await readInput(path), path);
  return { info: doc.info, pages: Array.from({ length: doc.pageCount }, (_, i) => doc.page(i)) };
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Options of {@link encodeTiff} / {@link writeTiff}. */
export interface TiffWriteOptions {
  /** "none" (default) or "deflate" (compression 8, readable by tifffile, PIL, ImageJ). */
  compression?: "none" | "deflate";
  /** Write an ImageJ description (uint8, uint16 and float32 only) instead of tifffile's JSON. */
  imagej?: boolean;
  /** Text for the ImageDescription of the first page (replaces the shape description). */
  description?: string;
  /** Force BigTIFF (default: only when the file would pass 4 GiB). */
  bigTiff?: boolean;
  /** Replace an existing file (writeTiff only). */
  overwrite?: boolean;
}

const SAMPLE_FORMAT: Record<DType, number> = {
  bool: 1,
  uint8: 1,
  uint16: 1,
  uint32: 1,
  uint64: 1,
  int8: 2,
  int16: 2,
  int32: 2,
  int64: 2,
  float32: 3,
  float64: 3,
};

interface Strips {
  rowsPerStrip: number;
  parts: Uint8Array[];
  compressed: boolean;
}

interface Tag {
  tag: number;
  type: number; // 2 ASCII, 3 SHORT, 4 LONG, 5 RATIONAL, 16 LONG8
  values: number[] | Uint8Array;
}

function pagesOf(arr: NdArray | NdArray[]): { pages: NdArray[]; shape: number[] } {
  const list = Array.isArray(arr) ? arr : [arr];
  const pages: NdArray[] = [];
  for (const a of list) {
    if (a.dtype === "bool") throw new RangeError("TIFF: bool arrays are not supported; use uint8");
    if (a.data.length !== sizeOf(a.shape)) {
      throw new RangeError(
        `shape [${a.shape}] holds ${sizeOf(a.shape)} elements, data has ${a.data.length}`,
      );
    }
    if (a.shape.length === 2) pages.push(a);
    else if (a.shape.length >= 3) {
      const h = a.shape[a.shape.length - 2], w = a.shape[a.shape.length - 1];
      const n = sizeOf(a.shape.slice(0, -2));
      for (let i = 0; i < n; i++) {
        pages.push({
          dtype: a.dtype,
          shape: [h, w],
          data: a.data.subarray(i * h * w, (i + 1) * h * w) as TypedArray,
        });
      }
    } else throw new RangeError(`TIFF: expected a 2-D or higher array, got shape [${a.shape}]`);
  }
  if (pages.length === 0) throw new RangeError("TIFF: no pages to write");
  let shape: number[];
  if (!Array.isArray(arr)) shape = arr.shape.slice();
  else if (arr.length === 1) shape = arr[0].shape.slice();
  else shape = [pages.length, ...pages[0].shape];
  return { pages, shape };
}

/**
 * Encodes arrays as TIFF bytes, returned in pieces (header and IFDs, then each page's data) so a
 * large stack need not be joined in memory. A 2-D array is one page; an array of shape
 * (..., h, w) gives one page per leading index; a list of 2-D arrays gives one page each.
 */
export function encodeTiffChunks(
  arr: NdArray | NdArray[],
  opts: TiffWriteOptions = {},
): Uint8Array[] {
  const { pages, shape } = pagesOf(arr);
  const compress = opts.compression === "deflate";
  if (opts.imagej) {
    const bad = pages.find((p) => !["uint8", "uint16", "float32"].includes(p.dtype));
    if (bad) throw new RangeError(`ImageJ TIFF holds uint8, uint16 or float32, not ${bad.dtype}`);
    if (pages.some((p) => p.dtype !== pages[0].dtype || !sameShape(p.shape, pages[0].shape))) {
      throw new RangeError("ImageJ TIFF pages must share shape and dtype");
    }
  }
  // Pixel data of each page, as strips.
  const strips: Strips[] = pages.map((p) => {
    const [h, w] = p.shape;
    const bytes = typedToBytes(p.data, true);
    const rowBytes = w * DTYPE_SIZE[p.dtype];
    if (!compress) return { rowsPerStrip: h, parts: [bytes], compressed: false };
    const rps = Math.max(1, Math.min(h, Math.floor(262144 / Math.max(1, rowBytes))));
    const parts: Uint8Array[] = [];
    for (let y = 0; y < h; y += rps) {
      parts.push(deflate(bytes.subarray(y * rowBytes, Math.min(h, y + rps) * rowBytes)));
    }
    return { rowsPerStrip: rps, parts, compressed: true };
  });
  let description = opts.description;
  if (description === undefined) {
    if (opts.imagej) {
      const n = pages.length;
      description = n > 1
        ? `ImageJ=1.11a\nimages=${n}\nslices=${n}\nloop=false\n`
        : "ImageJ=1.11a\n";
    } else description = JSON.stringify({ shape });
  }
  const dataBytes = strips.reduce((s, st) => s + st.parts.reduce((t, q) => t + q.length, 0), 0);
  const big = opts.bigTiff ?? (dataBytes + pages.length * 512 + description.length > 0xfff00000);
  return layout(pages, strips, description, big);
}

function layout(
  pages: NdArray[],
  strips: Strips[],
  description: string,
  big: boolean,
): Uint8Array[] {
  const descBytes = new TextEncoder().encode(description + "\0");
  const software = new TextEncoder().encode("Lumen\0");
  const tagsFor = (i: number, offsets: number[]): Tag[] => {
    const p = pages[i];
    const [h, w] = p.shape;
    const st = strips[i];
    const tags: Tag[] = [
      { tag: 254, type: 4, values: [0] },
      { tag: 256, type: 4, values: [w] },
      { tag: 257, type: 4, values: [h] },
      { tag: 258, type: 3, values: [DTYPE_SIZE[p.dtype] * 8] },
      { tag: 259, type: 3, values: [st.compressed ? 8 : 1] },
      { tag: 262, type: 3, values: [1] },
    ];
    if (i === 0) tags.push({ tag: 270, type: 2, values: descBytes });
    tags.push(
      { tag: 273, type: big ? 16 : 4, values: offsets },
      { tag: 277, type: 3, values: [1] },
      { tag: 278, type: 4, values: [st.rowsPerStrip] },
      { tag: 279, type: big ? 16 : 4, values: st.parts.map((q) => q.length) },
      { tag: 282, type: 5, values: [1, 1] },
      { tag: 283, type: 5, values: [1, 1] },
      { tag: 296, type: 3, values: [1] },
    );
    if (i === 0) tags.push({ tag: 305, type: 2, values: software });
    tags.push({ tag: 339, type: 3, values: [SAMPLE_FORMAT[p.dtype]] });
    return tags;
  };
  const entrySize = big ? 20 : 12, inline = big ? 8 : 4;
  const ifdSize = (tags: Tag[]) => {
    let n = (big ? 8 : 2) + tags.length * entrySize + (big ? 8 : 4);
    for (const t of tags) {
      const b = valueBytes(t);
      if (b > inline) n += b + (b & 1);
    }
    return n;
  };
  // Sizes do not depend on offset values, so lay out with placeholders first.
  const placeholder = (i: number) => strips[i].parts.map(() => 0);
  const header = big ? 16 : 8;
  const ifd0Size = ifdSize(tagsFor(0, placeholder(0)));
  let dataStart = header + ifd0Size;
  dataStart = (dataStart + 15) & ~15;
  const stripOffsets: number[][] = [];
  let pos = dataStart;
  for (const st of strips) {
    const offs: number[] = [];
    for (const q of st.parts) {
      offs.push(pos);
      pos += q.length;
    }
    stripOffsets.push(offs);
  }
  pos += pos & 1;
  const ifdOffsets = [header];
  for (let i = 1; i < pages.length; i++) {
    ifdOffsets.push(pos);
    pos += ifdSize(tagsFor(i, placeholder(i)));
  }
  if (!big && pos > 0xffffffff) throw new RangeError("TIFF too large for classic format");
  const out: Uint8Array[] = [];
  const head = new Uint8Array(header);
  const hd = new DataView(head.buffer);
  head[0] = 0x49;
  head[1] = 0x49;
  hd.setUint16(2, big ? 43 : 42, true);
  if (big) {
    hd.setUint16(4, 8, true);
    hd.setBigUint64(8, BigInt(header), true);
  } else hd.setUint32(4, header, true);
  out.push(head);
  const ifdBytes = (i: number): Uint8Array => {
    const tags = tagsFor(i, stripOffsets[i]);
    const at = ifdOffsets[i];
    const buf = new Uint8Array(ifdSize(tags));
    const d = new DataView(buf.buffer);
    let p = 0;
    if (big) (d.setBigUint64(0, BigInt(tags.length), true), (p = 8));
    else (d.setUint16(0, tags.length, true), (p = 2));
    let extra = p + tags.length * entrySize + (big ? 8 : 4);
    for (const t of tags) {
      const n = t.values.length / (t.type === 5 ? 2 : 1);
      d.setUint16(p, t.tag, true);
      d.setUint16(p + 2, t.type, true);
      if (big) d.setBigUint64(p + 4, BigInt(n), true);
      else d.setUint32(p + 4, n, true);
      const nb = valueBytes(t);
      let vo: number;
      if (nb <= inline) vo = p + (big ? 12 : 8);
      else {
        vo = extra;
        if (big) d.setBigUint64(p + 12, BigInt(at + extra), true);
        else d.setUint32(p + 8, at + extra, true);
        extra += nb + (nb & 1);
      }
      writeValues(d, buf, vo, t);
      p += entrySize;
    }
    const next = i + 1 < pages.length ? ifdOffsets[i + 1] : 0;
    if (big) d.setBigUint64(p, BigInt(next), true);
    else d.setUint32(p, next, true);
    return buf;
  };
  out.push(ifdBytes(0));
  const gap = dataStart - header - ifd0Size;
  if (gap > 0) out.push(new Uint8Array(gap));
  for (const st of strips) out.push(...st.parts);
  let end = dataStart + strips.reduce((s, st) => s + st.parts.reduce((t, q) => t + q.length, 0), 0);
  if (end & 1) (out.push(new Uint8Array(1)), end++);
  for (let i = 1; i < pages.length; i++) out.push(ifdBytes(i));
  return out;
}

function valueBytes(t: Tag): number {
  if (t.values instanceof Uint8Array) return t.values.length;
  const per = t.type === 3 ? 2 : t.type === 16 ? 8 : 4;
  return t.type === 5 ? t.values.length * 4 : t.values.length * per;
}

function writeValues(d: DataView, buf: Uint8Array, at: number, t: Tag): void {
  if (t.values instanceof Uint8Array) {
    buf.set(t.values, at);
    return;
  }
  t.values.forEach((v, k) => {
    if (t.type === 3) d.setUint16(at + 2 * k, v, true);
    else if (t.type === 16) d.setBigUint64(at + 8 * k, BigInt(v), true);
    else d.setUint32(at + 4 * k, v, true);
  });
}

/** Encodes arrays as one TIFF file in memory (see {@link encodeTiffChunks}). */
export function encodeTiff(arr: NdArray | NdArray[], opts: TiffWriteOptions = {}): Uint8Array {
  return concat(encodeTiffChunks(arr, opts));
}

/**
 * Writes a TIFF file atomically: one page for a 2-D array, (pages, h, w) as a stack, or a list of
 * 2-D pages. Refuses to replace an existing file unless `overwrite`.
 *
 * @example
 * ```ts
 * await writeTiff("recon.tif", volume, { compression: "deflate", overwrite: true });
 * ```
 */
export function writeTiff(
  path: string,
  arr: NdArray | NdArray[],
  opts: TiffWriteOptions = {},
): Promise<void> {
  return Promise.resolve().then(() =>
    writeChunksAtomicSync(path, encodeTiffChunks(arr, opts), { overwrite: opts.overwrite })
  );
}
