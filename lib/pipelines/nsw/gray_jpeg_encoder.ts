/**
 * A small baseline JPEG encoder for one gray component (JFIF, 8×8 float DCT, the standard
 * luminance quantisation table scaled as IJG does, the standard Huffman tables). Its tables are
 * built once, so it writes thousands of small frames quickly (jpeg-js rebuilds its tables on
 * every call); the synthetic time-lapse frames use it.
 *
 * @example
 * ```ts
 * import { encodeGrayJpegFast } from "./gray_jpeg_encoder.ts";
 * const bytes = encodeGrayJpegFast(new Uint8Array(64 * 64).fill(128), 64, 64, 90);
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";

const ZIGZAG = [
  0,
  1,
  8,
  16,
  9,
  2,
  3,
  10,
  17,
  24,
  32,
  25,
  18,
  11,
  4,
  5,
  12,
  19,
  26,
  33,
  40,
  48,
  41,
  34,
  27,
  20,
  13,
  6,
  7,
  14,
  21,
  28,
  35,
  42,
  49,
  56,
  57,
  50,
  43,
  36,
  29,
  22,
  15,
  23,
  30,
  37,
  44,
  51,
  58,
  59,
  52,
  45,
  38,
  31,
  39,
  46,
  53,
  60,
  61,
  54,
  47,
  55,
  62,
  63,
];
const STD_LUMA = [
  16,
  11,
  10,
  16,
  24,
  40,
  51,
  61,
  12,
  12,
  14,
  19,
  26,
  58,
  60,
  55,
  14,
  13,
  16,
  24,
  40,
  57,
  69,
  56,
  14,
  17,
  22,
  29,
  51,
  87,
  80,
  62,
  18,
  22,
  37,
  56,
  68,
  109,
  103,
  77,
  24,
  35,
  55,
  64,
  81,
  104,
  113,
  92,
  49,
  64,
  78,
  87,
  103,
  121,
  120,
  101,
  72,
  92,
  95,
  98,
  112,
  100,
  103,
  99,
];
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALS = [
  0x01,
  0x02,
  0x03,
  0x00,
  0x04,
  0x11,
  0x05,
  0x12,
  0x21,
  0x31,
  0x41,
  0x06,
  0x13,
  0x51,
  0x61,
  0x07,
  0x22,
  0x71,
  0x14,
  0x32,
  0x81,
  0x91,
  0xa1,
  0x08,
  0x23,
  0x42,
  0xb1,
  0xc1,
  0x15,
  0x52,
  0xd1,
  0xf0,
  0x24,
  0x33,
  0x62,
  0x72,
  0x82,
  0x09,
  0x0a,
  0x16,
  0x17,
  0x18,
  0x19,
  0x1a,
  0x25,
  0x26,
  0x27,
  0x28,
  0x29,
  0x2a,
  0x34,
  0x35,
  0x36,
  0x37,
  0x38,
  0x39,
  0x3a,
  0x43,
  0x44,
  0x45,
  0x46,
  0x47,
  0x48,
  0x49,
  0x4a,
  0x53,
  0x54,
  0x55,
  0x56,
  0x57,
  0x58,
  0x59,
  0x5a,
  0x63,
  0x64,
  0x65,
  0x66,
  0x67,
  0x68,
  0x69,
  0x6a,
  0x73,
  0x74,
  0x75,
  0x76,
  0x77,
  0x78,
  0x79,
  0x7a,
  0x83,
  0x84,
  0x85,
  0x86,
  0x87,
  0x88,
  0x89,
  0x8a,
  0x92,
  0x93,
  0x94,
  0x95,
  0x96,
  0x97,
  0x98,
  0x99,
  0x9a,
  0xa2,
  0xa3,
  0xa4,
  0xa5,
  0xa6,
  0xa7,
  0xa8,
  0xa9,
  0xaa,
  0xb2,
  0xb3,
  0xb4,
  0xb5,
  0xb6,
  0xb7,
  0xb8,
  0xb9,
  0xba,
  0xc2,
  0xc3,
  0xc4,
  0xc5,
  0xc6,
  0xc7,
  0xc8,
  0xc9,
  0xca,
  0xd2,
  0xd3,
  0xd4,
  0xd5,
  0xd6,
  0xd7,
  0xd8,
  0xd9,
  0xda,
  0xe1,
  0xe2,
  0xe3,
  0xe4,
  0xe5,
  0xe6,
  0xe7,
  0xe8,
  0xe9,
  0xea,
  0xf1,
  0xf2,
  0xf3,
  0xf4,
  0xf5,
  0xf6,
  0xf7,
  0xf8,
  0xf9,
  0xfa,
];

/** Huffman code and length per symbol. */
function huffman(bits: number[], vals: number[]): { code: Uint16Array; len: Uint8Array } {
  const code = new Uint16Array(256), len = new Uint8Array(256);
  let c = 0, k = 0;
  for (let l = 1; l <= 16; l++) {
    for (let i = 0; i < bits[l - 1]; i++) {
      code[vals[k]] = c;
      len[vals[k]] = l;
      c++;
      k++;
    }
    c <<= 1;
  }
  return { code, len };
}

const DC = huffman(DC_BITS, DC_VALS);
const AC = huffman(AC_BITS, AC_VALS);
// COS[x * 8 + u] = C(u)/2 · cos((2x + 1)uπ/16)
const COS = new Float64Array(64);
for (let x = 0; x < 8; x++) {
  for (let u = 0; u < 8; u++) {
    COS[x * 8 + u] = (u === 0 ? Math.SQRT1_2 : 1) / 2 * Math.cos(((2 * x + 1) * u * Math.PI) / 16);
  }
}

/**
 * The IJG-scaled luminance table for a quality 1–100 (natural order).
 *
 * @example
 * ```ts
 * quantTable(50)[0]; // 16
 * ```
 */
export function quantTable(quality: number): Uint8Array {
  const q = Math.max(1, Math.min(100, Math.round(quality)));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  return Uint8Array.from(
    STD_LUMA,
    (v) => Math.max(1, Math.min(255, Math.floor((v * scale + 50) / 100))),
  );
}

class BitWriter {
  buf = new Uint8Array(4096);
  n = 0;
  private acc = 0;
  private bits = 0;
  byte(b: number): void {
    if (this.n === this.buf.length) {
      const nb = new Uint8Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.n++] = b;
  }
  bytes(bs: readonly number[]): void {
    for (const b of bs) this.byte(b);
  }
  put(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.bits === 8) {
        this.byte(this.acc);
        if (this.acc === 0xff) this.byte(0);
        this.acc = 0;
        this.bits = 0;
      }
    }
  }
  flush(): void {
    if (this.bits > 0) this.put((1 << (8 - this.bits)) - 1, 8 - this.bits);
  }
}

function category(v: number): number {
  let a = Math.abs(v), c = 0;
  while (a > 0) {
    c++;
    a >>= 1;
  }
  return c;
}

/**
 * Encodes `h × w` gray pixels (row-major; values clamped to 0–255) as a baseline JPEG.
 *
 * @example
 * ```ts
 * encodeGrayJpegFast(new Float32Array(16 * 16), 16, 16, 92).length;
 * ```
 */
export function encodeGrayJpegFast(
  pixels: ArrayLike<number>,
  w: number,
  h: number,
  quality = 92,
): Uint8Array {
  if (pixels.length !== w * h || w < 1 || h < 1 || w > 65535 || h > 65535) {
    throw new LumenError("jpeg", "", `bad image: ${w}×${h} with ${pixels.length} pixels`);
  }
  const qt = quantTable(quality);
  const out = new BitWriter();
  out.bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  out.bytes([0xff, 0xdb, 0, 67, 0]);
  for (let k = 0; k < 64; k++) out.byte(qt[ZIGZAG[k]]);
  out.bytes([0xff, 0xc0, 0, 11, 8, h >> 8, h & 255, w >> 8, w & 255, 1, 1, 0x11, 0]);
  out.bytes([0xff, 0xc4, 0, 31, 0x00, ...DC_BITS, ...DC_VALS]);
  out.bytes([0xff, 0xc4, 0, 181, 0x10, ...AC_BITS, ...AC_VALS]);
  out.bytes([0xff, 0xda, 0, 8, 1, 1, 0, 0, 63, 0]);
  const block = new Float64Array(64), tmp = new Float64Array(64);
  const coef = new Int32Array(64);
  let prevDc = 0;
  for (let by = 0; by < h; by += 8) {
    for (let bx = 0; bx < w; bx += 8) {
      for (let y = 0; y < 8; y++) {
        const yy = Math.min(h - 1, by + y);
        for (let x = 0; x < 8; x++) {
          const v = pixels[yy * w + Math.min(w - 1, bx + x)];
          block[y * 8 + x] = Math.max(0, Math.min(255, Math.round(v))) - 128;
        }
      }
      // rows then columns of the separable DCT
      for (let y = 0; y < 8; y++) {
        for (let u = 0; u < 8; u++) {
          let s = 0;
          for (let x = 0; x < 8; x++) s += block[y * 8 + x] * COS[x * 8 + u];
          tmp[y * 8 + u] = s;
        }
      }
      for (let u = 0; u < 8; u++) {
        for (let v = 0; v < 8; v++) {
          let s = 0;
          for (let y = 0; y < 8; y++) s += tmp[y * 8 + u] * COS[y * 8 + v];
          coef[v * 8 + u] = Math.round(s / qt[v * 8 + u]);
        }
      }
      const dc = coef[0], diff = dc - prevDc;
      prevDc = dc;
      const dcat = category(diff);
      out.put(DC.code[dcat], DC.len[dcat]);
      if (dcat) out.put(diff < 0 ? diff + (1 << dcat) - 1 : diff, dcat);
      let run = 0;
      for (let k = 1; k < 64; k++) {
        const c = coef[ZIGZAG[k]];
        if (c === 0) {
          run++;
          continue;
        }
        while (run > 15) {
          out.put(AC.code[0xf0], AC.len[0xf0]);
          run -= 16;
        }
        const cat = category(c), sym = (run << 4) | cat;
        out.put(AC.code[sym], AC.len[sym]);
        out.put(c < 0 ? c + (1 << cat) - 1 : c, cat);
        run = 0;
      }
      if (run > 0) out.put(AC.code[0], AC.len[0]);
    }
  }
  out.flush();
  out.bytes([0xff, 0xd9]);
  return out.buf.slice(0, out.n);
}
