/**
 * The structural checks libjpeg makes on a JPEG's headers before it decodes, which jpeg-js
 * skips: segment lengths, the frame (8-bit precision, sampling factors, component count),
 * quantization tables (index, length, every component's table defined) and the Huffman tables
 * the first scan uses (counts, code space, DC symbols 0..15). A file that fails one is corrupt
 * for libjpeg (PIL, scikit-image) too, whatever jpeg-js would make of it.
 *
 * @example
 * ```ts
 * import { checkJpegHeaders } from "./jpeg_check.ts";
 * checkJpegHeaders(bytes, "photo.jpg"); // throws a one-line LumenError naming the segment
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";

interface Huff {
  counts: number[];
  symbols: Uint8Array;
  at: number;
}

/**
 * True when the bytes end with the EOI marker (after any trailing zero padding).
 *
 * @example
 * ```ts
 * hasEoi(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])); // true
 * ```
 */
export function hasEoi(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 2 && bytes[end - 1] === 0) end--;
  for (let p = end - 2; p >= Math.max(0, end - 64); p--) {
    if (bytes[p] === 0xff && bytes[p + 1] === 0xd9) return true;
  }
  return false;
}

const SOF = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Refuses a Huffman table libjpeg would call bogus (codes overrun their lengths). */
function checkHuffman(t: Huff, dc: boolean, file: string): void {
  const place = `byte ${t.at} (DHT)`;
  let code = 0;
  for (let l = 1; l <= 16; l++) {
    code += t.counts[l - 1];
    if (t.counts[l - 1] && code > 1 << l) {
      throw new LumenError(file, place, `bogus Huffman table (${code} codes of length ≤ ${l})`);
    }
    if (t.counts[l - 1] && code === 1 << l) {
      throw new LumenError(file, place, `bogus Huffman table (an all-ones code of length ${l})`);
    }
    code <<= 1;
  }
  if (dc) {
    const bad = t.symbols.findIndex((s) => s > 15);
    if (bad >= 0) {
      throw new LumenError(file, place, `bogus DC Huffman table (symbol ${t.symbols[bad]} > 15)`);
    }
  }
}

/**
 * Checks the segments of a JPEG up to its first scan as libjpeg does; throws a one-line
 * LumenError naming the segment and its byte.
 *
 * @example
 * ```ts
 * checkJpegHeaders(Deno.readFileSync("a.jpg"), "a.jpg");
 * ```
 */
export function checkJpegHeaders(bytes: Uint8Array, file: string): void {
  const huff = new Map<number, Huff>(); // class*4 + id
  const quant = new Set<number>();
  let comps: { id: number; tq: number }[] | null = null;
  let progressive = false;
  let p = 2;
  while (p + 4 <= bytes.length) {
    if (bytes[p] !== 0xff) return; // not a marker where one should be: left to the decoder
    const m = bytes[p + 1];
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      p += 2;
      continue;
    }
    if (m === 0xd9) return;
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    const name = (x: string) => `byte ${p} (${x})`;
    if (len < 2) throw new LumenError(file, name(`marker ff${m.toString(16)}`), `length ${len}`);
    const end = p + 2 + len;
    if (end > bytes.length) {
      if (!hasEoi(bytes)) {
        throw new LumenError(file, "", "corrupt JPEG data (truncated: no end-of-image marker)");
      }
      throw new LumenError(
        file,
        name(`marker ff${m.toString(16)}`),
        `segment of ${len} bytes runs past the end of the file (${bytes.length} bytes); ` +
          "truncated or corrupt?",
      );
    }
    const s = bytes.subarray(p + 4, end);
    if (m === 0xdb) {
      for (let q = 0; q < s.length;) {
        const prec = s[q] >> 4, id = s[q] & 15;
        if (id > 3) throw new LumenError(file, name("DQT"), `quantization table index ${id} > 3`);
        const n = prec ? 128 : 64;
        if (q + 1 + n > s.length) {
          throw new LumenError(file, name("DQT"), "quantization table runs past its segment");
        }
        quant.add(id);
        q += 1 + n;
      }
    } else if (m === 0xc4) {
      for (let q = 0; q < s.length;) {
        if (q + 17 > s.length) throw new LumenError(file, name("DHT"), "truncated Huffman table");
        const cls = s[q] >> 4, id = s[q] & 15;
        if (cls > 1 || id > 3) {
          throw new LumenError(file, name("DHT"), `Huffman table index 0x${s[q].toString(16)}`);
        }
        const counts = Array.from(s.subarray(q + 1, q + 17));
        const total = counts.reduce((a, b) => a + b, 0);
        if (total > 256 || q + 17 + total > s.length) {
          throw new LumenError(file, name("DHT"), `bogus Huffman table (${total} symbols)`);
        }
        huff.set(cls * 4 + id, { counts, symbols: s.subarray(q + 17, q + 17 + total), at: p });
        q += 17 + total;
      }
    } else if (SOF(m)) {
      const nc = s[5];
      if (s[0] !== 8) {
        throw new LumenError(file, name("SOF"), `${s[0]}-bit samples (8-bit JPEG only)`);
      }
      if (len !== 8 + 3 * nc || nc === 0) {
        throw new LumenError(file, name("SOF"), `length ${len} for ${nc} components`);
      }
      progressive = m === 0xc2 || m === 0xc6 || m === 0xca || m === 0xce;
      comps = [];
      for (let c = 0; c < nc; c++) {
        const hv = s[7 + 3 * c], tq = s[8 + 3 * c];
        const h = hv >> 4, v = hv & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) {
          throw new LumenError(file, name("SOF"), `bad sampling factors ${h}×${v}`);
        }
        if (tq > 3) throw new LumenError(file, name("SOF"), `quantization table index ${tq}`);
        comps.push({ id: s[6 + 3 * c], tq });
      }
    } else if (m === 0xda) {
      if (!comps) return; // no frame: the decoder says so
      const ns = s[0];
      if (ns < 1 || ns > 4 || len !== 6 + 2 * ns) {
        throw new LumenError(file, name("SOS"), `length ${len} for ${ns} components`);
      }
      const ss = s[1 + 2 * ns],
        se = s[2 + 2 * ns],
        ah = s[3 + 2 * ns] >> 4,
        al = s[3 + 2 * ns] & 15;
      // a progressive scan is a DC scan (0..0) or an AC band of one component (libjpeg's rule)
      if (
        progressive &&
        ((ss === 0 ? se !== 0 : se < ss || se > 63 || ns !== 1) || ah > 13 || al > 13)
      ) {
        throw new LumenError(
          file,
          name("SOS"),
          `invalid progressive parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al}`,
        );
      }
      for (let c = 0; c < ns; c++) {
        const id = s[1 + 2 * c], td = s[2 + 2 * c] >> 4, ta = s[2 + 2 * c] & 15;
        const comp = comps.find((x) => x.id === id);
        if (!comp) {
          throw new LumenError(file, name("SOS"), `scan names component ${id}, not in the frame`);
        }
        if (!quant.has(comp.tq)) {
          throw new LumenError(file, name("SOS"), `quantization table ${comp.tq} is not defined`);
        }
        if ((ss === 0 && td > 3) || (se > 0 && ta > 3)) {
          throw new LumenError(file, name("SOS"), `Huffman table index ${td}/${ta} > 3`);
        }
        // a missing table gets libjpeg's standard one; a defined one must be sound
        const dcT = huff.get(td), acT = huff.get(4 + ta);
        if (ss === 0 && dcT) checkHuffman(dcT, true, file);
        if (se > 0 && acT) checkHuffman(acT, false, file);
      }
      return;
    }
    p = end;
  }
}
