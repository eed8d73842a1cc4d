/**
 * PNG images: write (grayscale, grayscale+alpha, RGB, RGBA; 8 or 16 bits) and read (every color
 * type and bit depth, Adam7 interlacing, palettes with transparency), zlib via node:zlib, every
 * chunk's CRC-32 checked on read.
 *
 * Arrays are (h, w) for grayscale and (h, w, c) otherwise, c = 2 (gray+alpha), 3 (RGB) or
 * 4 (RGBA), in `uint8` or `uint16`. Reading a palette image gives RGB, or RGBA when it has a tRNS
 * chunk; 1/2/4-bit grayscale values are returned as stored (0…2^bits−1), not rescaled.
 *
 * @example
 * ```ts
 * import { writePng, readPng } from "./png.ts";
 * import { ndarray } from "./array.ts";
 * await writePng("mask.png", ndarray(new Uint8Array(64 * 64), [64, 64]), { overwrite: true });
 * const img = await readPng("mask.png"); // shape [64, 64], dtype "uint8"
 * ```
 * @module
 */
import { type NdArray, sizeOf } from "./array.ts";
import { LumenError } from "../run/errors.ts";
import { readInput, writeFileAtomic } from "../run/atomic.ts";
import { concat, crc32, deflate, inflateChecked } from "./zip.ts";
import { checkMemory, exactBytes } from "./budget.ts";
import { safePoint } from "../run/interrupt.ts";

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

// ---------------------------------------------------------------------------------------------
// Writing

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Options of {@link encodePng}. */
export interface PngWriteOptions {
  /** zlib level 0–9 (default 6). */
  level?: number;
  /** Replace an existing file (writePng only). */
  overwrite?: boolean;
}

/**
 * Encodes an array as PNG bytes: (h, w) grayscale, or (h, w, c) with c = 1, 2, 3, 4;
 * uint8 or uint16.
 */
export function encodePng(img: NdArray, opts: PngWriteOptions = {}): Uint8Array {
  if (img.dtype !== "uint8" && img.dtype !== "uint16") {
    throw new RangeError(`PNG holds uint8 or uint16, not ${img.dtype}`);
  }
  const [h, w, c = 1] = img.shape;
  if (img.shape.length < 2 || img.shape.length > 3 || c < 1 || c > 4) {
    throw new RangeError(`PNG expects shape (h, w) or (h, w, 1..4), got [${img.shape}]`);
  }
  if (!(h > 0 && w > 0)) {
    throw new RangeError(`PNG image size must be positive, got [${img.shape}]`);
  }
  if (img.data.length !== sizeOf(img.shape)) {
    throw new RangeError("shape does not match data length");
  }
  const depth = img.dtype === "uint16" ? 16 : 8;
  const colorType = [0, 0, 4, 2, 6][c];
  const bpp = c * (depth / 8);
  const rowBytes = w * bpp;
  // Raw rows, big-endian samples.
  const raw = new Uint8Array(h * rowBytes);
  if (depth === 8) raw.set(img.data as Uint8Array);
  else {
    const src = img.data as Uint16Array;
    for (let i = 0; i < src.length; i++) {
      raw[2 * i] = src[i] >> 8;
      raw[2 * i + 1] = src[i] & 255;
    }
  }
  // Filter each row with whichever of the five filters gives the smallest sum of |bytes|.
  const filtered = new Uint8Array(h * (rowBytes + 1));
  const cand = new Uint8Array(rowBytes);
  for (let y = 0; y < h; y++) {
    const cur = raw.subarray(y * rowBytes, (y + 1) * rowBytes);
    const prev = y > 0 ? raw.subarray((y - 1) * rowBytes, y * rowBytes) : null;
    let best = 0, bestCost = Infinity;
    const out = filtered.subarray(y * (rowBytes + 1) + 1, (y + 1) * (rowBytes + 1));
    for (let f = 0; f < 5; f++) {
      let cost = 0;
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? cur[i - bpp] : 0;
        const b = prev ? prev[i] : 0;
        const cc = prev && i >= bpp ? prev[i - bpp] : 0;
        let v: number;
        switch (f) {
          case 0:
            v = cur[i];
            break;
          case 1:
            v = cur[i] - a;
            break;
          case 2:
            v = cur[i] - b;
            break;
          case 3:
            v = cur[i] - ((a + b) >> 1);
            break;
          default:
            v = cur[i] - paeth(a, b, cc);
        }
        v &= 255;
        cand[i] = v;
        cost += v < 128 ? v : 256 - v;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = f;
        out.set(cand);
      }
    }
    filtered[y * (rowBytes + 1)] = best;
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w);
  dv.setUint32(4, h);
  ihdr[8] = depth;
  ihdr[9] = colorType;
  const idat = deflate(filtered, opts.level ?? 6);
  const parts = [Uint8Array.from(SIGNATURE), chunk("IHDR", ihdr)];
  for (let o = 0; o < idat.length || o === 0; o += 1 << 20) {
    parts.push(chunk("IDAT", idat.subarray(o, o + (1 << 20))));
  }
  parts.push(chunk("IEND", new Uint8Array(0)));
  return concat(parts);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

/** Writes a PNG file atomically (see {@link encodePng}). */
export function writePng(path: string, img: NdArray, opts: PngWriteOptions = {}): Promise<void> {
  return Promise.resolve().then(() =>
    writeFileAtomic(path, encodePng(img, opts), { overwrite: opts.overwrite })
  );
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Header facts of a PNG file. */
export interface PngInfo {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bits per sample (1, 2, 4, 8, 16). */
  bitDepth: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA. */
  colorType: number;
  /** True for Adam7 interlacing. */
  interlaced: boolean;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7's passes: x0, y0, dx, dy. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

/** Compressed data past the image's rows that is tolerated (and ignored), bytes. */
const EXTRA_IDAT = 1 << 20;

/** Options of {@link decodePng} and {@link readPng}. */
export interface PngReadOptions {
  /**
   * Memory budget in bytes (default: the process-wide one, see lib/io/budget.ts): an IHDR whose
   * image would take more is refused before anything is inflated.
   */
  maxMemory?: number;
}

/**
 * Decodes PNG bytes into an array (see the module notes for shapes).
 * Errors name the chunk: `a.png: chunk IDAT at byte 33: CRC mismatch`.
 */
export function decodePng(
  bytes: Uint8Array,
  file = "<png>",
  opts: PngReadOptions = {},
): NdArray & { info: PngInfo } {
  const steps = decodeSteps(bytes, file, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link decodePng} with a safe point (lib/run/interrupt.ts) every 256 rows, so that a signal
 * stops a large image's decoding there.
 *
 * @example
 * ```ts
 * const img = await decodePngAsync(await Deno.readFile("big.png"), "big.png");
 * ```
 */
export async function decodePngAsync(
  bytes: Uint8Array,
  file = "<png>",
  opts: PngReadOptions = {},
): Promise<NdArray & { info: PngInfo }> {
  const steps = decodeSteps(bytes, file, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await safePoint();
  }
}

/** The decoding of {@link decodePng}, yielding every 256 rows and every 2^20 palette pixels. */
function* decodeSteps(
  bytes: Uint8Array,
  file: string,
  opts: PngReadOptions,
): Generator<void, NdArray & { info: PngInfo }> {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new LumenError(file, "byte 0", "not a PNG file (bad signature)");
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 8;
  let info: PngInfo | null = null;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (p + 12 <= bytes.length) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(...bytes.subarray(p + 4, p + 8));
    const place = `chunk ${type} at byte ${p}`;
    if (p + 12 + len > bytes.length) {
      throw new LumenError(file, place, `length ${len} runs past the end of the file; truncated?`);
    }
    const data = bytes.subarray(p + 8, p + 8 + len);
    const stored = dv.getUint32(p + 8 + len);
    const c = crc32(bytes.subarray(p + 4, p + 8 + len));
    if (c !== stored) throw new LumenError(file, place, "CRC mismatch; corrupt file");
    if (type === "IHDR") {
      if (len < 13) throw new LumenError(file, place, "IHDR too short");
      const d = new DataView(data.buffer, data.byteOffset, 13);
      info = {
        width: d.getUint32(0),
        height: d.getUint32(4),
        bitDepth: data[8],
        colorType: data[9],
        interlaced: data[12] === 1,
      };
      const ok: Record<number, number[]> = {
        0: [1, 2, 4, 8, 16],
        2: [8, 16],
        3: [1, 2, 4, 8],
        4: [8, 16],
        6: [8, 16],
      };
      if (!ok[info.colorType]?.includes(info.bitDepth)) {
        throw new LumenError(
          file,
          place,
          `invalid color type ${info.colorType} with bit depth ${info.bitDepth}`,
        );
      }
      if (info.width === 0 || info.height === 0) throw new LumenError(file, place, "empty image");
      // PNG defines one compression method (0), one filter method (0) and two interlace methods
      if (data[10] !== 0 || data[11] !== 0 || data[12] > 1) {
        throw new LumenError(
          file,
          place,
          `unknown compression/filter/interlace method ${data[10]}/${data[11]}/${data[12]} ` +
            "(PNG defines 0/0/0 or 1)",
        );
      }
      // the inflated rows (a filter byte each) and the decoded image
      const row = exactBytes(info.width, CHANNELS[info.colorType], info.bitDepth === 16 ? 2 : 1);
      const cost = exactBytes(info.height) * (2n * row + 1n); // decoded + inflated rows
      checkMemory(file, place, `${info.width}x${info.height} image`, cost, opts.maxMemory);
    } else if (type === "PLTE") palette = data.slice();
    else if (type === "tRNS") trns = data.slice();
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") {
      ended = true;
      break;
    }
    p += 12 + len;
  }
  if (!info) throw new LumenError(file, "byte 8", "no IHDR chunk");
  if (idat.length === 0) throw new LumenError(file, "", "no IDAT chunk");
  if (!ended) throw new LumenError(file, `byte ${p}`, "no IEND chunk; truncated file?");
  const { width: w, height: h, bitDepth: depth, colorType: ct } = info;
  const ch = CHANNELS[ct];
  const bitsPerPixel = ch * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = info.interlaced ? ADAM7 : [[0, 0, 1, 1]];
  // the filtered rows the image needs: the IDAT stream may not inflate to more (a bomb)
  let need = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((w - x0) / dx), ph = Math.ceil((h - y0) / dy);
    if (pw > 0 && ph > 0) need += ph * (1 + Math.ceil((pw * bitsPerPixel) / 8));
  }
  const raw = inflateChecked(concat(idat), file, "IDAT", need + EXTRA_IDAT);
  // Samples (unpacked) in image order.
  const samples = depth === 16 ? new Uint16Array(w * h * ch) : new Uint8Array(w * h * ch);
  let off = 0;
  for (const [x0, y0, dx, dy] of passes) {
    const pw = Math.ceil((w - x0) / dx), ph = Math.ceil((h - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const rowBytes = Math.ceil((pw * bitsPerPixel) / 8);
    let prev = new Uint8Array(rowBytes);
    for (let y = 0; y < ph; y++) {
      if (off + 1 + rowBytes > raw.length) {
        throw new LumenError(file, "IDAT", "image data shorter than the image; truncated?");
      }
      const f = raw[off];
      const row = raw.slice(off + 1, off + 1 + rowBytes);
      off += 1 + rowBytes;
      unfilter(f, row, prev, bpp, file);
      if ((y & 255) === 255) yield;
      // Unpack samples of this row.
      const yy = y0 + y * dy;
      for (let x = 0; x < pw; x++) {
        const xx = x0 + x * dx;
        const base = (yy * w + xx) * ch;
        for (let k = 0; k < ch; k++) {
          const s = x * ch + k;
          let v: number;
          if (depth === 8) v = row[s];
          else if (depth === 16) v = (row[2 * s] << 8) | row[2 * s + 1];
          else {
            const bit = s * depth;
            v = (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
          }
          samples[base + k] = v;
        }
      }
      prev = row;
    }
  }
  if (ct === 3) {
    if (!palette) throw new LumenError(file, "", "palette image without a PLTE chunk");
    const outCh = trns ? 4 : 3;
    const out = new Uint8Array(w * h * outCh);
    for (let i = 0; i < w * h; i++) {
      if ((i & 0xfffff) === 0xfffff) yield;
      const idx = samples[i];
      if (idx * 3 + 2 >= palette.length) {
        throw new LumenError(file, "PLTE", `palette index ${idx} out of range`);
      }
      out[i * outCh] = palette[idx * 3];
      out[i * outCh + 1] = palette[idx * 3 + 1];
      out[i * outCh + 2] = palette[idx * 3 + 2];
      if (trns) out[i * outCh + 3] = idx < trns.length ? trns[idx] : 255;
    }
    return { dtype: "uint8", shape: [h, w, outCh], data: out, info };
  }
  return {
    dtype: depth === 16 ? "uint16" : "uint8",
    shape: ch === 1 ? [h, w] : [h, w, ch],
    data: samples,
    info,
  };
}

function unfilter(f: number, row: Uint8Array, prev: Uint8Array, bpp: number, file: string) {
  const n = row.length;
  switch (f) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) row[i] = (row[i] + row[i - bpp]) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) row[i] = (row[i] + prev[i]) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        row[i] = (row[i] + ((a + prev[i]) >> 1)) & 255;
      }
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? row[i - bpp] : 0;
        const c = i >= bpp ? prev[i - bpp] : 0;
        row[i] = (row[i] + paeth(a, prev[i], c)) & 255;
      }
      return;
    default:
      throw new LumenError(file, "IDAT", `bad filter type ${f}`);
  }
}

/** Reads a PNG file (see {@link decodePng}). */
export async function readPng(
  path: string,
  opts: PngReadOptions = {},
): Promise<NdArray & { info: PngInfo }> {
  return decodePngAsync(await readInput(path), path, opts);
}
