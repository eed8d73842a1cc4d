/**
 * The chunk indexes of HDF5's data layout message version 4 (files written with
 * `libver="latest"`, SWMR detector files): single chunk, implicit, fixed array (paged or not)
 * and extensible array (index block, data blocks, super blocks; unpaged data blocks), for
 * unfiltered chunks. Each block's signature is checked; checksums are not. The version 2 B-tree
 * index (two or more unlimited dimensions) and filtered chunks are left to HDF5 (a reason).
 * Layout as in the HDF5 File Format Specification, version 3.0 (sections III.H, VII).
 *
 * @example
 * ```ts
 * import { chunksV4 } from "./hdf5_index_v4.ts";
 * const t = chunksV4(lay, layoutBody, maxdims); // a ChunkTable, or why HDF5 must read it
 * ```
 * @module
 */
import type { ChunkEntry, ChunkTable } from "./hdf5_layout.ts";

/** What the index readers need of the file (lib/io/hdf5_layout.ts `H5Layout`). */
export interface BlockSource {
  /** Bytes per address. */
  readonly offsets: number;
  /** Bytes per length. */
  readonly lengths: number;
  /** Absolute offset addresses are relative to. */
  readonly base: bigint;
  /** `len` bytes at address `addr`, or a LayoutProblem naming `what` where they leave the file. */
  readBlock(addr: bigint, len: number, what: string): Uint8Array;
}

/** The most chunks an index is read for here (beyond: HDF5 reads the dataset). */
const MAX_CHUNKS = 1 << 24;

function uint(b: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[p + i];
  return v;
}

const sig = (b: Uint8Array, s: string) => [...s].every((c, i) => b[i] === c.charCodeAt(0));

/** The chunk grid's linear order: element index → chunk coordinates (HDF5's "scaled"). */
function unravel(maxChunks: number[], first: number): (idx: number) => number[] {
  // the dimension `first` (an extensible array's unlimited one) varies slowest
  const r = maxChunks.length;
  const order = [first, ...[...Array(r).keys()].filter((i) => i !== first)];
  const down = new Array<number>(r);
  for (let k = r - 1, s = 1; k >= 0; k--) (down[k] = s), (s *= k > 0 ? maxChunks[order[k]] : 1);
  return (idx: number) => {
    const c = new Array<number>(r);
    for (let k = 0; k < r; k++) {
      c[order[k]] = Math.floor(idx / down[k]);
      idx -= c[order[k]] * down[k];
    }
    return c;
  };
}

/**
 * The chunk table of a version 4 chunked layout message `b` (see the module doc), or a reason.
 * `maxdims` are the dataspace's maximum dimensions (-1: unlimited).
 *
 * @example
 * ```ts
 * chunksV4(lay, body, [-1, 256, 2560]); // an extensible array's chunks
 * ```
 */
export function chunksV4(src: BlockSource, b: Uint8Array, maxdims: number[]): ChunkTable | string {
  const o = src.offsets;
  if (b.length < 6) return "a short layout message";
  const flags = b[2], nd = b[3], enc = b[4];
  let p = 5;
  if (nd < 2 || p + nd * enc + 1 > b.length) return "a short layout message";
  const dims: number[] = [];
  for (let i = 0; i < nd; i++, p += enc) dims.push(uint(b, p, enc));
  const type = b[p++];
  const chunk = dims.slice(0, -1), elementSize = dims[nd - 1];
  if (chunk.length !== maxdims.length || chunk.some((c) => c < 1)) return "chunk dimensions";
  const bytes = chunk.reduce((a, c) => a * c, 1) * elementSize;
  const maxChunks = maxdims.map((d, i) => (d < 0 ? -1 : Math.ceil(d / chunk[i])));
  const table = (entries: ChunkEntry[]): ChunkTable => ({ chunk, elementSize, entries });
  const entry = (coords: number[], addr: number): ChunkEntry => ({
    offset: coords.map((c, i) => c * chunk[i]),
    position: Number(src.base) + addr,
    size: bytes,
    filterMask: 0,
  });
  const undef = 2 ** (8 * o) - 1;
  if (flags & 2) return "a filtered single chunk";
  if (type === 1) {
    if (p + o > b.length) return "a short layout message";
    const a = uint(b, p, o);
    return table(a === undef ? [] : [entry(chunk.map(() => 0), a)]);
  }
  if (type === 5) return "a version 2 B-tree chunk index";
  if (type !== 2 && type !== 3 && type !== 4) return `chunk index type ${type}`;
  const infoLen = type === 2 ? 0 : type === 3 ? 1 : 5;
  if (p + infoLen + o > b.length) return "a short layout message";
  const info = b.subarray(p, p + infoLen), addr = uint(b, p + infoLen, o);
  if (addr === undef) return table([]);
  const unlimited = maxChunks.map((m, i) => (m < 0 ? i : -1)).filter((i) => i >= 0);
  if (type === 4 ? unlimited.length !== 1 : unlimited.length) return "unlimited dimensions";
  const coords = unravel(maxChunks, type === 4 ? unlimited[0] : 0);
  const total = maxChunks.reduce((a, m) => a * Math.max(m, 1), 1);
  if (type !== 4 && total > MAX_CHUNKS) return `more than ${MAX_CHUNKS} chunks`;
  if (type === 2) {
    // implicit: every chunk allocated, one after the other in the grid's order
    const out: ChunkEntry[] = [];
    for (let i = 0; i < total; i++) out.push(entry(coords(i), addr + i * bytes));
    return table(out);
  }
  const out: ChunkEntry[] = [];
  const put = (i: number, a: number) => {
    if (a !== undef) out.push(entry(coords(i), a));
  };
  const r = type === 3
    ? fixedArray(src, BigInt(addr), info[0], put)
    : extensibleArray(src, BigInt(addr), info, put);
  return r ?? table(out);
}

/** The elements (chunk addresses) of a fixed array at `addr`, through `put`; or a reason. */
function fixedArray(
  src: BlockSource,
  addr: bigint,
  pageBits: number,
  put: (i: number, a: number) => void,
): string | null {
  const o = src.offsets, l = src.lengths;
  const h = src.readBlock(addr, 8 + l + o + 4, "fixed array header");
  if (!sig(h, "FAHD")) return `no fixed array header at ${addr}`;
  if (h[5] !== 0) return "a fixed array of filtered chunks";
  if (h[6] !== o) return `fixed array elements of ${h[6]} bytes`;
  const n = uint(h, 8, l), dblk = BigInt(uint(h, 8 + l, o));
  if (n > MAX_CHUNKS) return `more than ${MAX_CHUNKS} chunks`;
  const pageN = 2 ** pageBits;
  const prefix = 4 + 1 + 1 + o;
  if (n <= pageN) {
    const d = src.readBlock(dblk, prefix + n * o + 4, "fixed array data block");
    if (!sig(d, "FADB")) return `no fixed array data block at ${dblk}`;
    for (let i = 0; i < n; i++) put(i, uint(d, prefix + i * o, o));
    return null;
  }
  const pages = Math.ceil(n / pageN), mapLen = Math.ceil(pages / 8);
  const d = src.readBlock(dblk, prefix + mapLen + 4, "fixed array data block");
  if (!sig(d, "FADB")) return `no fixed array data block at ${dblk}`;
  let at = dblk + BigInt(prefix + mapLen + 4);
  for (let pg = 0; pg < pages; pg++) {
    const m = Math.min(pageN, n - pg * pageN);
    if (d[prefix + (pg >> 3)] & (0x80 >> (pg & 7))) {
      const e = src.readBlock(at, m * o, "fixed array page");
      for (let i = 0; i < m; i++) put(pg * pageN + i, uint(e, i * o, o));
    }
    at += BigInt(m * o + 4);
  }
  return null;
}

/** The elements of an extensible array at `addr` (unpaged data blocks), through `put`. */
function extensibleArray(
  src: BlockSource,
  addr: bigint,
  info: Uint8Array,
  put: (i: number, a: number) => void,
): string | null {
  const o = src.offsets, l = src.lengths;
  const h = src.readBlock(addr, 12 + 6 * l + o + 4, "extensible array header");
  if (!sig(h, "EAHD")) return `no extensible array header at ${addr}`;
  if (h[5] !== 0) return "an extensible array of filtered chunks";
  const [esize, maxBits, idxElmts, dblkMin, sblkMinPtrs, pageBits] = [...h.subarray(6, 12)];
  if (esize !== o) return `extensible array elements of ${esize} bytes`;
  if (info[0] !== maxBits || info[1] !== idxElmts) return "extensible array parameters";
  const maxIdx = uint(h, 12 + 4 * l, l);
  if (maxIdx > MAX_CHUNKS) return `more than ${MAX_CHUNKS} chunks`;
  if (dblkMin < 1 || sblkMinPtrs < 1 || maxBits > 64) return "extensible array parameters";
  const iblockAddr = BigInt(uint(h, 12 + 6 * l, o));
  const undef = 2 ** (8 * o) - 1;
  if (Number(iblockAddr) === undef) return null;
  const log2 = (x: number) => Math.floor(Math.log2(x));
  // super block s: 2^⌊s/2⌋ data blocks of 2^⌊(s+1)/2⌋ · dblkMin elements each
  const nsblks = 1 + maxBits - log2(dblkMin);
  const sb: { ndblks: number; nelmts: number; start: number; startDblk: number }[] = [];
  for (let s = 0, start = 0, sd = 0; s < nsblks; s++) {
    const ndblks = 2 ** Math.floor(s / 2), nelmts = 2 ** Math.floor((s + 1) / 2) * dblkMin;
    sb.push({ ndblks, nelmts, start, startDblk: sd });
    start += ndblks * nelmts;
    sd += ndblks;
  }
  const ibSblks = 2 * log2(sblkMinPtrs), ibDblks = 2 * (sblkMinPtrs - 1);
  const offSize = Math.floor((maxBits + 7) / 8);
  const ibLen = 6 + o + idxElmts * o + ibDblks * o + (nsblks - ibSblks) * o + 4;
  const ib = src.readBlock(iblockAddr, ibLen, "extensible array index block");
  if (!sig(ib, "EAIB")) return `no extensible array index block at ${iblockAddr}`;
  let p = 6 + o;
  for (let i = 0; i < idxElmts && i < maxIdx; i++, p += o) put(i, uint(ib, p, o));
  const dblkAddrs: number[] = [];
  for (let i = 0; i < ibDblks; i++, p += o) dblkAddrs.push(uint(ib, p, o));
  const sblkAddrs: number[] = [];
  for (let i = ibSblks; i < nsblks; i++, p += o) sblkAddrs.push(uint(ib, p, o));
  const pageN = 2 ** pageBits;
  const dataBlock = (a: number, nelmts: number, first: number): string | null => {
    if (a === undef) return null;
    if (nelmts > pageN) return "paged extensible array data blocks";
    const n = Math.min(nelmts, maxIdx - first);
    if (n <= 0) return null;
    const d = src.readBlock(BigInt(a), 6 + o + offSize + n * o, "extensible array data block");
    if (!sig(d, "EADB")) return `no extensible array data block at ${a}`;
    for (let i = 0; i < n; i++) put(first + i, uint(d, 6 + o + offSize + i * o, o));
    return null;
  };
  for (let s = 0; s < nsblks; s++) {
    const g = sb[s], first = idxElmts + g.start;
    if (first >= maxIdx) break;
    if (s < ibSblks) {
      for (let k = 0; k < g.ndblks; k++) {
        const r = dataBlock(dblkAddrs[g.startDblk + k], g.nelmts, first + k * g.nelmts);
        if (r) return r;
      }
      continue;
    }
    const sa = sblkAddrs[s - ibSblks];
    if (sa === undef) continue;
    if (g.nelmts > pageN) return "paged extensible array data blocks";
    const sbl = src.readBlock(
      BigInt(sa),
      6 + o + offSize + g.ndblks * o,
      "extensible array super block",
    );
    if (!sig(sbl, "EASB")) return `no extensible array super block at ${sa}`;
    for (let k = 0; k < g.ndblks; k++) {
      const a = uint(sbl, 6 + o + offSize + k * o, o);
      const r = dataBlock(a, g.nelmts, first + k * g.nelmts);
      if (r) return r;
    }
  }
  return null;
}
