/**
 * Hyperslabs of uncompressed HDF5 datasets read with positioned reads at the chunks' file
 * positions, without HDF5. h5wasm's HDF5 reads a whole chunk for any part of it (and keeps no
 * chunk cache worth the name), so reading a few detector rows of frame-shaped chunks
 * (1, rows, cols) reads every chunk whole: tens of times the bytes asked for. Here each chunk's
 * part is one read (or one read per outer index where the part is scattered), straight into the
 * destination where its bytes are contiguous there too.
 *
 * {@link DirectDataset.of} takes a dataset's object header (lib/io/hdf5_layout.ts) and accepts
 * only what it reads exactly as HDF5 does: little-endian integers of full precision and IEEE
 * floats, a simple dataspace, contiguous storage or chunks indexed by a version 1 B-tree or a
 * layout version 4 index other than the version 2 B-tree (lib/io/hdf5_index_v4.ts), no
 * filter pipeline, no external data files, and a fill value (or the default 0) for chunks never
 * written. Anything else gets a reason, and the caller reads it with HDF5.
 *
 * @example
 * ```ts
 * import { H5Layout } from "./hdf5_layout.ts";
 * import { DirectDataset } from "./hdf5_direct.ts";
 * const lay = H5Layout.open("scan.nxs")!;
 * const d = DirectDataset.of(lay, 800n); // or a string: why HDF5 must read it
 * if (typeof d !== "string") {
 *   const dst = new Uint8Array(10 * 4 * 2560 * d.itemsize);
 *   d.read([0, 100, 0], [10, 4, 2560], dst); // frames 0–9, rows 100–103
 * }
 * ```
 * @module
 */
import type { ChunkEntry, H5Layout, H5Message } from "./hdf5_layout.ts";

const MSG_DATASPACE = 0x01, MSG_DATATYPE = 0x03, MSG_FILL_OLD = 0x04, MSG_FILL = 0x05;
const MSG_EXTERNAL = 0x07, MSG_LAYOUT = 0x08, MSG_FILTERS = 0x0b;
/** A read of this many bytes is cheaper than a system call per piece of it. */
const SLACK_BYTES = 64 << 10;

/**
 * A read the file could not satisfy (it ended early); H5File turns it into a LumenError.
 *
 * @example
 * ```ts
 * try { d.read([0, 0], [4, 4], dst); } catch (e) { if (e instanceof DirectReadError) console.error(e.message); }
 * ```
 */
export class DirectReadError extends Error {}

/** IEEE float layouts by size: exponent location, size, mantissa location, size, bias, sign. */
const IEEE: Record<number, number[]> = {
  2: [10, 5, 0, 10, 15, 15],
  4: [23, 8, 0, 23, 127, 31],
  8: [52, 11, 0, 52, 1023, 63],
};

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(dv: DataView, p: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + dv.getUint8(p + i);
  return v;
}

/** The element size of a datatype message HDF5 would read byte for byte, or why not. */
function datatypeSize(b: Uint8Array): number | string {
  if (b.length < 12) return "a datatype message of fewer than 12 bytes";
  const dv = view(b);
  const cls = b[0] & 0x0f, bits = b[1] | (b[2] << 8), size = dv.getUint32(4, true);
  const offset = dv.getUint16(8, true), precision = dv.getUint16(10, true);
  if (cls === 0) {
    if (bits & 1) return "big-endian integers";
    if (![1, 2, 4, 8].includes(size) || offset !== 0 || precision !== 8 * size) {
      return `an integer type of ${size} bytes with bits ${offset}+${precision}`;
    }
    return size;
  }
  if (cls === 1) {
    if (bits & 0x41) return "big-endian or VAX floats";
    const want = IEEE[size];
    if (!want || b.length < 20) return `a float type of ${size} bytes`;
    const got = [b[12], b[13], b[14], b[15], dv.getUint32(16, true), b[2]];
    const norm = (bits >> 4) & 3;
    if (offset !== 0 || precision !== 8 * size || norm !== 2 || got.some((v, i) => v !== want[i])) {
      return `a float type of ${size} bytes that is not IEEE`;
    }
    return size;
  }
  return `datatype class ${cls}`;
}

/** A simple dataspace's dimensions, or why not. */
function dataspaceDims(b: Uint8Array, lengths: number): number[] | string {
  if (b.length < 4) return "a short dataspace message";
  const ver = b[0], rank = b[1];
  if (ver === 2 && b[3] !== 1) return b[3] === 0 ? "a scalar dataspace" : "a null dataspace";
  if (ver !== 1 && ver !== 2) return `dataspace version ${ver}`;
  if (rank === 0) return "a scalar dataspace";
  const head = ver === 1 ? 8 : 4;
  if (head + rank * lengths > b.length) return "a short dataspace message";
  const dv = view(b);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(u64(dv, head + i * lengths, lengths));
  return dims.some((d) => !Number.isSafeInteger(d)) ? "dimensions beyond 2^53" : dims;
}

/**
 * The fill value of unwritten elements (`value` null: zeros), or why HDF5's reading of them
 * cannot be known here (`unknown`: a fill value left undefined or never written, which HDF5
 * leaves out of the read), or a reason the message itself is unread (a string).
 */
function fillValue(
  msgs: H5Message[],
  itemsize: number,
): { value: Uint8Array | null; unknown: string | null } | string {
  const m = msgs.find((x) => x.type === MSG_FILL);
  let value: Uint8Array | null = null, unknown: string | null = null;
  if (m) {
    const b = m.body, dv = view(b);
    const ver = b[0];
    let writeTime: number, at: number;
    if ((ver === 1 || ver === 2) && b.length >= 4) {
      writeTime = b[2];
      if (b[3] === 0) unknown = "an undefined fill value";
      at = b[3] ? 4 : -1;
    } else if (ver === 3 && b.length >= 2) {
      writeTime = (b[1] >> 2) & 3;
      if (b[1] & 0x10) unknown = "an undefined fill value";
      at = b[1] & 0x20 ? 2 : -1;
    } else return `fill value message version ${ver}`;
    if (writeTime === 1) unknown = "fill values never written";
    if (at >= 0) {
      if (b.length < at + 4) return "a short fill value message";
      const size = dv.getUint32(at, true);
      if (size && size !== itemsize) return `a fill value of ${size} bytes`;
      if (size) {
        if (at + 4 + size > b.length) return "a short fill value message";
        value = b.slice(at + 4, at + 4 + size);
      }
    }
  } else {
    const old = msgs.find((x) => x.type === MSG_FILL_OLD);
    if (old && old.body.length >= 4) {
      const size = view(old.body).getUint32(0, true);
      if (size && size !== itemsize) return `a fill value of ${size} bytes`;
      if (size) value = old.body.slice(4, 4 + size);
    }
  }
  return { value: value && value.some((v) => v !== 0) ? value : null, unknown };
}

/** Stored chunks by grid position. */
interface ChunkGrid {
  chunk: number[];
  /** Linear grid index → position in the file. */
  at: Map<number, number>;
  /** Grid strides, in chunks. */
  strides: number[];
}

/** An uncompressed dataset read with positioned reads (see the module doc). */
export class DirectDataset {
  /** Bytes scattered reads go through, kept between reads. */
  private scratch = new Uint8Array(0);

  private constructor(
    private readonly lay: H5Layout,
    /** Dimensions. */
    readonly shape: number[],
    /** Bytes per element. */
    readonly itemsize: number,
    private readonly grid: ChunkGrid,
    private readonly fill: Uint8Array | null,
  ) {}

  /**
   * The direct reader of the dataset whose object header is at `addr`, or a sentence saying why
   * HDF5 must read it (compressed, big-endian, a version 4 chunk index, a virtual dataset…).
   *
   * @example
   * ```ts
   * const d = DirectDataset.of(lay, addr); // "a filter pipeline (1 filter)" for gzip
   * ```
   */
  static of(lay: H5Layout, addr: bigint): DirectDataset | string {
    const msgs = lay.messages(addr);
    const one = (type: number) => msgs.find((x) => x.type === type);
    for (const t of [MSG_DATASPACE, MSG_DATATYPE, MSG_LAYOUT, MSG_FILL, MSG_FILTERS]) {
      if (one(t) && one(t)!.flags & 0x02) return `a shared message of type ${t}`;
    }
    const ds = one(MSG_DATASPACE), dt = one(MSG_DATATYPE), lm = one(MSG_LAYOUT);
    if (!ds || !dt || !lm) return "no dataspace, datatype or layout message";
    const filters = one(MSG_FILTERS);
    if (filters && filters.body.length >= 2 && filters.body[1] > 0) {
      return `a filter pipeline (${filters.body[1]} filter${filters.body[1] > 1 ? "s" : ""})`;
    }
    if (one(MSG_EXTERNAL)) return "external data files";
    const itemsize = datatypeSize(dt.body);
    if (typeof itemsize === "string") return itemsize;
    const shape = dataspaceDims(ds.body, lay.lengths);
    if (typeof shape === "string") return shape;
    const fill = fillValue(msgs, itemsize);
    if (typeof fill === "string") return fill;
    const grid = DirectDataset.storage(lay, addr, lm.body, shape, itemsize);
    if (typeof grid === "string") return grid;
    if (fill.unknown && !DirectDataset.complete(grid, shape)) return fill.unknown;
    return new DirectDataset(lay, shape, itemsize, grid, fill.value);
  }

  /** True when every chunk that holds part of `shape` is stored. */
  private static complete(g: ChunkGrid, shape: number[]): boolean {
    const need = shape.reduce((a, d, i) => a * Math.ceil(d / g.chunk[i]), 1);
    if (need === 0) return true;
    let have = 0;
    for (const k of g.at.keys()) {
      let inside = true;
      for (let i = 0, rest = k; i < shape.length; i++) {
        const c = g.strides[i] ? Math.floor(rest / g.strides[i]) : 0;
        rest -= c * g.strides[i];
        if (c * g.chunk[i] >= shape[i]) inside = false;
      }
      if (inside) have++;
    }
    return have >= need;
  }

  /** The chunk grid of a layout message (a contiguous dataset is one chunk), or why not. */
  private static storage(
    lay: H5Layout,
    addr: bigint,
    b: Uint8Array,
    shape: number[],
    itemsize: number,
  ): ChunkGrid | string {
    const ver = b[0], cls = b[1], o = lay.offsets;
    const total = shape.reduce((a, d) => a * d, 1) * itemsize;
    if ((ver === 3 || ver === 4) && cls === 1) {
      if (b.length < 2 + o + lay.lengths) return "a short layout message";
      const dv = view(b);
      const a = u64(dv, 2, o), size = u64(dv, 2 + o, lay.lengths);
      const at = new Map<number, number>();
      if (a !== 2 ** (8 * o) - 1) {
        if (size !== total) return `contiguous storage of ${size} bytes for ${total}`;
        const pos = Number(lay.base) + a;
        if (pos + size > lay.size) return "contiguous storage past the end of the file";
        at.set(0, pos);
      }
      return { chunk: shape.slice(), at, strides: shape.map(() => 0) };
    }
    if ((ver === 3 || ver === 4) && cls === 2) {
      const t = lay.chunks(addr);
      if (typeof t === "string") return t;
      if (t.chunk.length !== shape.length || t.elementSize !== itemsize) {
        return `chunks of ${t.chunk.length} dimensions × ${t.elementSize} bytes`;
      }
      if (t.chunk.some((c) => c < 1)) return "a chunk dimension of 0";
      return DirectDataset.gridOf(t.chunk, t.entries, shape, itemsize, lay.size);
    }
    if (cls === 0) return "compact storage";
    if (cls === 3) return "a virtual dataset";
    return `layout version ${ver}, class ${cls}`;
  }

  private static gridOf(
    chunk: number[],
    entries: ChunkEntry[],
    shape: number[],
    itemsize: number,
    fileSize: number,
  ): ChunkGrid | string {
    const r = shape.length;
    const bytes = chunk.reduce((a, c) => a * c, 1) * itemsize;
    const dims = shape.map((d, i) => Math.ceil(d / chunk[i]));
    for (const e of entries) {
      for (let i = 0; i < r; i++) {
        dims[i] = Math.max(dims[i], Math.floor(e.offset[i] / chunk[i]) + 1);
      }
    }
    const strides = new Array<number>(r);
    let s = 1;
    for (let i = r - 1; i >= 0; i--) (strides[i] = s), (s *= dims[i]);
    if (!Number.isSafeInteger(s)) return "a chunk grid beyond 2^53 chunks";
    const at = new Map<number, number>();
    for (const e of entries) {
      if (e.size !== bytes) return `a chunk of ${e.size} bytes stored for ${bytes}`;
      if (!Number.isSafeInteger(e.position) || e.position + e.size > fileSize) {
        return `a chunk at byte ${e.position}, past the end of the file`;
      }
      let k = 0;
      for (let i = 0; i < r; i++) {
        if (e.offset[i] % chunk[i]) return `a chunk at offset [${e.offset}] off the chunk grid`;
        k += (e.offset[i] / chunk[i]) * strides[i];
      }
      at.set(k, e.position);
    }
    return { chunk, at, strides };
  }

  /**
   * Reads the hyperslab `offset` + `count` (unit stride, in range) into `dst` in C order, as
   * HDF5 gives it: little-endian bytes, unwritten chunks as the fill value.
   *
   * @example
   * ```ts
   * const dst = new Uint8Array(1801 * 4 * 2560 * 2);
   * d.read([0, 100, 0], [1801, 4, 2560], dst); // one read per frame chunk: rows 100–103
   * ```
   * @throws DirectReadError when the file ends before a chunk does
   */
  read(offset: number[], count: number[], dst: Uint8Array): void {
    const r = this.shape.length, C = this.grid.chunk, isz = this.itemsize;
    if (count.some((c) => c === 0)) return;
    const first = offset.map((o, i) => Math.floor(o / C[i]));
    const last = offset.map((o, i) => Math.floor((o + count[i] - 1) / C[i]));
    const cc = first.slice();
    const dstStride = new Array<number>(r);
    for (let i = r - 1, s = 1; i >= 0; i--) (dstStride[i] = s), (s *= count[i]);
    for (;;) {
      this.readChunk(cc, offset, count, dstStride, dst, isz);
      let i = r - 1;
      while (i >= 0 && cc[i] === last[i]) cc[i] = first[i--];
      if (i < 0) break;
      cc[i]++;
    }
  }

  /** The part of chunk `cc` inside the hyperslab, into `dst`. */
  private readChunk(
    cc: number[],
    offset: number[],
    count: number[],
    dstStride: number[],
    dst: Uint8Array,
    isz: number,
  ): void {
    const r = cc.length, C = this.grid.chunk;
    const lo = new Array<number>(r), n = new Array<number>(r), d0 = new Array<number>(r);
    let key = 0;
    for (let i = 0; i < r; i++) {
      const c0 = cc[i] * C[i];
      const a = Math.max(offset[i], c0), b = Math.min(offset[i] + count[i], c0 + C[i]);
      lo[i] = a - c0, n[i] = b - a, d0[i] = a - offset[i];
      key += cc[i] * this.grid.strides[i];
    }
    const pos = this.grid.at.get(key);
    // the chunk's element strides
    const S = new Array<number>(r);
    for (let i = r - 1, s = 1; i >= 0; i--) (S[i] = s), (s *= C[i]);
    // k: the first dimension from which one span of the chunk covers the part cheaply
    let k = 0;
    for (; k < r - 1; k++) {
      let span = 1, useful = 1;
      for (let i = k; i < r; i++) (span += (n[i] - 1) * S[i]), (useful *= n[i]);
      if (span * isz <= Math.max(2 * useful * isz, SLACK_BYTES)) break;
    }
    let span = 1;
    for (let i = k; i < r; i++) span += (n[i] - 1) * S[i];
    // a span maps onto contiguous destination bytes when every inner dimension is whole
    let straight = true;
    for (let i = k + 1; i < r; i++) if (n[i] !== C[i] || n[i] !== count[i]) straight = false;
    const t = new Array<number>(r).fill(0); // index within the part, dimensions < k
    for (;;) {
      let src = 0, dOff = 0;
      for (let i = 0; i < r; i++) {
        const j = i < k ? t[i] : 0;
        src += (lo[i] + j) * S[i];
        dOff += (d0[i] + j) * dstStride[i];
      }
      if (pos === undefined) this.fillPart(dst, dOff, n, k, dstStride, isz);
      else if (straight) {
        this.readFull(pos + src * isz, dst.subarray(dOff * isz, (dOff + span) * isz));
      } else {
        if (this.scratch.length < span * isz) this.scratch = new Uint8Array(span * isz);
        const buf = this.scratch.subarray(0, span * isz);
        this.readFull(pos + src * isz, buf);
        this.scatter(buf, dst, dOff, n, k, S, dstStride, isz);
      }
      let i = k - 1;
      while (i >= 0 && t[i] === n[i] - 1) t[i--] = 0;
      if (i < 0) break;
      t[i]++;
    }
  }

  private readFull(pos: number, dst: Uint8Array): void {
    const got = this.lay.readAt(pos, dst);
    if (got !== dst.length) {
      throw new DirectReadError(
        `the file ends at byte ${pos + got}, inside a chunk (${dst.length} bytes at ${pos})`,
      );
    }
  }

  /** Copies the rows of a span (dimensions ≥ k of the part) from `buf` into `dst`. */
  private scatter(
    buf: Uint8Array,
    dst: Uint8Array,
    dOff: number,
    n: number[],
    k: number,
    S: number[],
    D: number[],
    isz: number,
  ): void {
    const row = n[n.length - 1] * isz;
    eachRow(n, k, S, D, dOff, (s, d) => dst.set(buf.subarray(s * isz, s * isz + row), d * isz));
  }

  /** Writes the fill value over a part's dimensions ≥ k at `dOff`. */
  private fillPart(
    dst: Uint8Array,
    dOff: number,
    n: number[],
    k: number,
    D: number[],
    isz: number,
  ): void {
    const row = n[n.length - 1] * isz;
    eachRow(n, k, D, D, dOff, (_, d) => {
      const part = dst.subarray(d * isz, d * isz + row);
      if (!this.fill) part.fill(0);
      else for (let e = 0; e < row; e += isz) part.set(this.fill, e);
    });
  }
}

/**
 * Calls `f(s, d)` for every row (last dimension) of a block of extents `n` over its dimensions
 * ≥ k: `s` = the row's element offset with strides `S`, `d` = `dOff` + its offset with strides
 * `D`, rows in C order.
 */
function eachRow(
  n: number[],
  k: number,
  S: number[],
  D: number[],
  dOff: number,
  f: (s: number, d: number) => void,
): void {
  const r = n.length;
  const t = new Array<number>(r).fill(0);
  for (;;) {
    let s = 0, d = dOff;
    for (let i = k; i < r - 1; i++) (s += t[i] * S[i]), (d += t[i] * D[i]);
    f(s, d);
    let i = r - 2;
    while (i >= k && t[i] === n[i] - 1) t[i--] = 0;
    if (i < k) break;
    t[i]++;
  }
}
