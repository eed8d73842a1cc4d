/**
 * TIFF described: byte order, BigTIFF, each page's shape, dtype and compression, and the
 * statistics of the pages read one at a time. Pages of equal shape and dtype form one stack
 * ("pages", as tifffile's first series); otherwise each page is its own array ("page 3").
 *
 * @example
 * ```ts
 * import { describeTiff } from "./tiff.ts";
 * const d = await describeTiff("stack.tif", {}); // { arrays, byteOrder, bigTiff, pages }
 * ```
 * @module
 */
import { readInput } from "../../run/atomic.ts";
import { safePoint } from "../../run/interrupt.ts";
import { TiffDocument } from "../tiff.ts";
import { BLOCK, MinMax, NO_STATS, type Stats } from "./stats.ts";
import type { NdArray } from "../array.ts";
import { clip } from "./text.ts";
import type { ArrayInfo, DescribeOptions, Description, Details } from "./types.ts";

/** One page of a described TIFF. */
export interface TiffPage {
  /** Page number, from 0. */
  index: number;
  /** Decoded shape. */
  shape: number[];
  /** Sample dtype. */
  dtype: string;
  /** "none", "lzw", "deflate", "packbits"… or the code. */
  compression: string;
  /** Predictor, where not 1. */
  predictor?: number;
  /** Tile size, where tiled. */
  tile?: [number, number];
  /** ImageDescription, where present. */
  description?: string;
}

/** What {@link describeTiff} finds. */
export interface TiffDetails extends Details {
  /** "little" or "big". */
  byteOrder: string;
  /** True for BigTIFF. */
  bigTiff: boolean;
  /** Every page. */
  pages: TiffPage[];
}

const COMPRESSION: Record<number, string> = {
  1: "none",
  5: "lzw",
  8: "deflate",
  32946: "deflate",
  32773: "packbits",
  7: "jpeg",
  50000: "zstd",
};

/** Adds an array to `mm` a block at a time, with a safe point between blocks (huge pages). */
async function addInSteps(mm: MinMax, data: NdArray["data"]): Promise<void> {
  for (let o = 0; o < data.length; o += BLOCK) {
    mm.add(data.subarray(o, o + BLOCK));
    await safePoint();
  }
  if (!data.length) mm.add(data);
}

/** {@link statsOf}, a block at a time. */
async function statsInSteps(a: NdArray): Promise<Stats> {
  const mm = new MinMax();
  await addInSteps(mm, a.data);
  return mm.result();
}

/**
 * Describes a TIFF file.
 *
 * @example
 * ```ts
 * (await describeTiff("stack.tif", {})).arrays[0].shape; // [5, 32, 48]
 * ```
 */
export async function describeTiff(path: string, opts: DescribeOptions): Promise<TiffDetails> {
  const doc = new TiffDocument(await readInput(path), path);
  const info = doc.info;
  const pages = info.pages.map((p) => ({
    index: p.index,
    shape: p.shape,
    dtype: p.dtype,
    compression: COMPRESSION[p.compression] ?? String(p.compression),
    ...(p.predictor !== 1 ? { predictor: p.predictor } : {}),
    ...(p.tile ? { tile: p.tile } : {}),
    ...(p.description ? { description: p.description } : {}),
  }));
  const p0 = info.pages[0];
  const same = info.pages.every((p) => p.dtype === p0.dtype && p.shape.join() === p0.shape.join());
  const stats = opts.stats ?? true;
  const arrays: ArrayInfo[] = [];
  if (same && info.pages.length > 0) {
    const mm = new MinMax();
    if (stats) {
      for (let i = 0; i < doc.pageCount; i++) {
        await addInSteps(mm, (await doc.pageAsync(i)).data);
        await safePoint();
      }
    }
    arrays.push({
      name: "pages",
      shape: info.pages.length > 1 ? [info.pages.length, ...p0.shape] : p0.shape,
      dtype: p0.dtype,
      ...(stats ? mm.result() : NO_STATS),
    });
  } else {
    for (let i = 0; i < doc.pageCount; i++) {
      const p = info.pages[i];
      arrays.push({
        name: `page ${i}`,
        shape: p.shape,
        dtype: p.dtype,
        ...(stats ? await statsInSteps(await doc.pageAsync(i)) : NO_STATS),
      });
      await safePoint();
    }
  }
  return { arrays, byteOrder: info.littleEndian ? "little" : "big", bigTiff: info.bigTiff, pages };
}

/**
 * The text lines of a TIFF description after its arrays: byte order and page count, then runs of
 * alike pages and the pages' descriptions.
 *
 * @example
 * ```ts
 * tiffLines(d); // ["  little-endian, 5 pages", "    pages 0–4: (32, 48) uint16, compression none"]
 * ```
 */
export function tiffLines(d: Description): string[] {
  const t = d as Description & TiffDetails;
  const pages = t.pages;
  const lines = [
    `  ${t.byteOrder}-endian${t.bigTiff ? " BigTIFF" : ""}, ${pages.length} page${
      pages.length === 1 ? "" : "s"
    }`,
  ];
  const key = (p: TiffPage) => `(${p.shape.join(", ")}) ${p.dtype}, compression ${p.compression}`;
  for (let i = 0; i < pages.length;) {
    let j = i + 1;
    while (j < pages.length && key(pages[j]) === key(pages[i]) && !pages[j].description) j++;
    lines.push(`    page${j - i > 1 ? `s ${i}–${j - 1}` : ` ${i}`}: ${key(pages[i])}`);
    if (pages[i].description) {
      lines.push(`      page ${i} description: ${clip(JSON.stringify(pages[i].description), 100)}`);
    }
    i = j;
  }
  return lines;
}
