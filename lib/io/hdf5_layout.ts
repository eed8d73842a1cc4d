/**
 * HDF5 metadata read from the file's bytes, beside h5wasm: the superblock, an object's header
 * messages (version 1 and 2 headers, continuation blocks), attribute messages checked field by
 * field, a dataspace's dimensions as exact BigInts, and a group's symbol table (local heap,
 * version 1 B-tree nodes and symbol nodes) checked against the file's bounds.
 *
 * h5wasm's HDF5 skips some damage without a word: an attribute whose message it cannot decode
 * is left out of the attribute list, a continuation block that runs past the end of the file is
 * cut at the end, a B-tree key that points outside the group's name heap is not looked at, and
 * dataspace dimensions arrive as doubles (rounded beyond 2^53). The checks here find that damage
 * in the bytes (each names the field and its value), so that the reader refuses the file in one
 * line instead of reporting less than the file claims to hold. Layout as in the HDF5 File Format
 * Specification, version 3.0 (sections II–IV).
 *
 * @example
 * ```ts
 * import { H5Layout } from "./hdf5_layout.ts";
 * const lay = H5Layout.open("scan.h5");
 * if (lay) {
 *   lay.check(96n).problem; // null, or "attribute message 1 (at byte 824): …"
 *   lay.close();
 * }
 * ```
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { chunksV4 } from "./hdf5_index_v4.ts";

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const MSG_DATASPACE = 0x01, MSG_SYMBOL_TABLE = 0x11, MSG_ATTRIBUTE = 0x0c, MSG_CONT = 0x10;
const MSG_ATTR_INFO = 0x15, MSG_LAYOUT = 0x08;
/** The most messages and continuation blocks one object header is read for. */
const MAX_MESSAGES = 1 << 16, MAX_CHUNKS = 4096;

/** One header message: its type, flags and body. */
export interface H5Message {
  /** Message type (1 dataspace, 12 attribute, 16 continuation, 17 symbol table…). */
  type: number;
  /** Message flags (bit 1: the body is a shared-message reference). */
  flags: number;
  /** Absolute file offset of the body. */
  at: number;
  /** The body. */
  body: Uint8Array;
}

/** One stored chunk of a chunked dataset (see {@link H5Layout.chunks}). */
export interface ChunkEntry {
  /** The chunk's first element, per dimension. */
  offset: number[];
  /** Absolute position of its bytes in the file. */
  position: number;
  /** Bytes stored (after filters). */
  size: number;
  /** Filters skipped for this chunk (bit i: filter i of the pipeline). */
  filterMask: number;
}

/** A chunked dataset's chunk shape and stored chunks (see {@link H5Layout.chunks}). */
export interface ChunkTable {
  /** Chunk dimensions, in elements. */
  chunk: number[];
  /** Bytes per element, as the layout message gives it. */
  elementSize: number;
  /** The chunks written to the file, in B-tree order. */
  entries: ChunkEntry[];
}

/** Damage found in the bytes: a problem sentence (the reader names file and object). */
export class LayoutProblem extends Error {}

const fail = (msg: string): never => {
  throw new LayoutProblem(msg);
};

/** Reads little-endian fields of a byte array (offsets and lengths of 4 or 8 bytes). */
class Fields {
  readonly dv: DataView;
  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  u8(p: number): number {
    return this.b[p];
  }
  u16(p: number): number {
    return this.dv.getUint16(p, true);
  }
  u32(p: number): number {
    return this.dv.getUint32(p, true);
  }
  /** An unsigned field of `n` bytes as a bigint. */
  big(p: number, n: number): bigint {
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.b[p + i]);
    return v;
  }
}

/** The file's HDF5 layout: sizes of offsets and lengths, base address, and bounds. */
export class H5Layout {
  /** Bytes per address. */
  readonly offsets: number;
  /** Bytes per length. */
  readonly lengths: number;
  /** Absolute offset that addresses are relative to. */
  readonly base: bigint;
  /** The file's size in bytes. */
  readonly size: number;
  /** The superblock's version. */
  readonly version: number;
  private readonly fd: number;

  private constructor(
    fd: number,
    size: number,
    version: number,
    o: number,
    l: number,
    base: bigint,
  ) {
    this.fd = fd;
    this.size = size;
    this.version = version;
    this.offsets = o;
    this.lengths = l;
    this.base = base;
  }

  /**
   * Opens a file's layout from its superblock (at byte 0, 512, 1024, …), or null where there is
   * none this module reads (no signature, a superblock version beyond 3, sizes other than 4 or
   * 8): then h5wasm alone judges the file.
   *
   * @example
   * ```ts
   * const lay = H5Layout.open("a.h5"); // lay?.offsets === 8
   * ```
   */
  static open(path: string): H5Layout | null {
    const fd = openSync(path, "r");
    try {
      const size = fstatSync(fd).size;
      const buf = new Uint8Array(64);
      for (let off = 0; off + 16 <= size; off = off === 0 ? 512 : off * 2) {
        const n = readSync(fd, buf, 0, 64, off);
        if (n < 16 || !SIGNATURE.every((b, i) => buf[i] === b)) continue;
        const f = new Fields(buf);
        const v = f.u8(8);
        if (v > 3) break;
        const o = v >= 2 ? f.u8(9) : f.u8(13), l = v >= 2 ? f.u8(10) : f.u8(14);
        if ((o !== 4 && o !== 8) || (l !== 4 && l !== 8)) break;
        const at = v >= 2 ? 12 : v === 1 ? 28 : 24;
        if (at + o > n) break;
        const lay = new H5Layout(fd, size, v, o, l, f.big(at, o));
        return lay.base >= BigInt(size) ? (lay.close(), null) : lay;
      }
    } catch {
      // unreadable: h5wasm gives its own error
    }
    closeSync(fd);
    return null;
  }

  /** Releases the file. */
  close(): void {
    try {
      closeSync(this.fd);
    } catch { /* closed */ }
  }

  /** True for the "undefined address" (all bits set). */
  undef(a: bigint): boolean {
    return a === (1n << BigInt(8 * this.offsets)) - 1n;
  }

  /** The absolute offset of an address, or a problem when `len` bytes there leave the file. */
  private where(addr: bigint, len: number | bigint, what: string): number {
    const abs = this.base + addr;
    if (this.undef(addr) || abs + BigInt(len) > BigInt(this.size)) {
      fail(
        `${what} at address ${addr} (${len} bytes) runs past the end of the file (${this.size} bytes)`,
      );
    }
    return Number(abs);
  }

  private read(addr: bigint, len: number, what: string): Fields {
    const at = this.where(addr, len, what);
    const b = new Uint8Array(len);
    readSync(this.fd, b, 0, len, at);
    return new Fields(b);
  }

  /**
   * The header messages of the object whose header is at `addr` (an object reference's
   * address), continuation blocks followed; damage to the header's framing is a
   * {@link LayoutProblem}.
   *
   * @example
   * ```ts
   * lay.messages(96n).filter((m) => m.type === 12).length; // attribute messages
   * ```
   */
  messages(addr: bigint): H5Message[] {
    const out: H5Message[] = [];
    const head = this.read(addr, 16, "object header");
    const seen = new Set<bigint>();
    const todo: [bigint, number, number][] = []; // [address, length, version]
    const v2 = head.u32(0) === 0x5244484f; // "OHDR"
    if (v2) {
      const flags = head.u8(5);
      let p = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
      const w = 1 << (flags & 3);
      const pre = this.read(addr, p + w, "object header");
      const len = Number(pre.big(p, w));
      p += w;
      this.chunk(addr + BigInt(p), len, 2, flags, out, todo, "object header");
    } else {
      if (head.u8(0) !== 1) fail(`object header version ${head.u8(0)} (1 or "OHDR" expected)`);
      this.chunk(addr + 16n, head.u32(8), 1, 0, out, todo, "object header");
    }
    while (todo.length) {
      const [a, len, ver] = todo.shift()!;
      if (seen.has(a)) fail(`continuation blocks of the object header form a loop (at ${a})`);
      seen.add(a);
      if (seen.size > MAX_CHUNKS) fail(`more than ${MAX_CHUNKS} continuation blocks`);
      if (ver === 2) {
        const sig = this.read(a, 4, "continuation block");
        if (sig.u32(0) !== 0x4b48434f) {
          fail(`continuation block at ${a} lacks its "OCHK" signature`);
        }
        this.chunk(a + 4n, len - 8, 2, v2 ? head.u8(5) : 0, out, todo, "continuation block");
      } else this.chunk(a, len, 1, 0, out, todo, "continuation block");
    }
    return out;
  }

  /** Reads one chunk's messages (v1: 8-byte prefixes, v2: 4 or 6 bytes). */
  private chunk(
    addr: bigint,
    len: number,
    ver: number,
    flags: number,
    out: H5Message[],
    todo: [bigint, number, number][],
    what: string,
  ): void {
    if (len < 0) fail(`${what} at address ${addr} has a negative length`);
    const at = this.where(addr, len, what);
    const b = new Uint8Array(len);
    readSync(this.fd, b, 0, len, at);
    const f = new Fields(b);
    const prefix = ver === 1 ? 8 : 4 + (flags & 0x04 ? 2 : 0);
    for (let p = 0; p + prefix <= len;) {
      const type = ver === 1 ? f.u16(p) : f.u8(p);
      const size = ver === 1 ? f.u16(p + 2) : f.u16(p + 1);
      const mflags = ver === 1 ? f.u8(p + 4) : f.u8(p + 3);
      const body = p + prefix;
      if (body + size > len) {
        fail(`message of type ${type} (at byte ${at + p}) is ${size} bytes, past its ${what}`);
      }
      out.push({ type, flags: mflags, at: at + body, body: b.subarray(body, body + size) });
      if (out.length > MAX_MESSAGES) fail(`more than ${MAX_MESSAGES} header messages`);
      if (type === MSG_CONT) {
        const c = new Fields(b.subarray(body, body + size));
        if (size < this.offsets + this.lengths) fail(`continuation message of ${size} bytes`);
        const length = c.big(this.offsets, this.lengths);
        this.where(c.big(0, this.offsets), length, "continuation block");
        todo.push([c.big(0, this.offsets), Number(length), ver]);
      }
      p = body + size;
    }
  }

  /**
   * Checks the object whose header is at `addr`: `problem` is what is wrong with the header's
   * framing, the first attribute message whose fields HDF5 cannot decode, or (for a group) its
   * symbol table, else null; `attributes` counts the attribute messages in the header, and
   * `dense` says the object also keeps attributes in dense storage (an attribute info message).
   *
   * @example
   * ```ts
   * lay.check(96n); // { problem: "attribute message 1 (at byte 824): datatype version 0 (class 9)", … }
   * ```
   */
  check(addr: bigint): { problem: string | null; attributes: number; dense: boolean } {
    let attributes = 0, dense = false;
    try {
      const msgs = this.messages(addr);
      for (const m of msgs) {
        if (m.type === MSG_ATTR_INFO && m.body.length >= 2 + 2 + this.offsets) {
          // version, flags, [max creation index], fractal heap address: dense storage in use
          const f = new Fields(m.body);
          if (!this.undef(f.big(m.body[1] & 1 ? 4 : 2, this.offsets))) dense = true;
        }
        if (m.type !== MSG_ATTRIBUTE) continue;
        attributes++;
        if (m.flags & 0x02) continue; // a shared attribute: its body is a reference
        const p = attributeProblem(m.body, this);
        if (p) {
          return {
            problem: `attribute message ${attributes} (at byte ${m.at}): ${p}`,
            attributes,
            dense,
          };
        }
      }
      for (const m of msgs) {
        if (m.flags & 0x02) continue; // shared: a reference
        if (m.type === MSG_SYMBOL_TABLE) this.symbolTable(m.body);
        if (m.type === MSG_LAYOUT) this.chunkIndex(m.body);
      }
      return { problem: null, attributes, dense };
    } catch (e) {
      if (e instanceof LayoutProblem) return { problem: e.message, attributes, dense };
      throw e;
    }
  }

  /**
   * The dataspace dimensions of the dataset whose header is at `addr`, exactly, or null where
   * its header has no dataspace message this module reads.
   *
   * @example
   * ```ts
   * lay.dims(800n); // [9007199254740993n, 3n]
   * ```
   */
  dims(addr: bigint): bigint[] | null {
    const m = this.messages(addr).find((x) => x.type === MSG_DATASPACE && !(x.flags & 0x02));
    if (!m) return null;
    const d = dataspace(new Fields(m.body), 0, m.body.length, this.lengths);
    return typeof d === "string" ? null : d.dims;
  }

  /**
   * Checks a chunked dataset's version 1 B-tree chunk index (layout message versions 1 to 3):
   * every node lies in the file with its "TREE" signature and node type 1, its siblings are
   * undefined or other such nodes, and its children lie in the file. (Layout version 4 indexes
   * are left to HDF5.)
   */
  private chunkIndex(body: Uint8Array): void {
    this.walkChunkTree(body);
  }

  /**
   * The chunk table of the dataset whose header is at `addr`: its chunk shape and every stored
   * chunk's offset (in elements), absolute file position, stored size and filter mask, read from
   * its version 1 B-tree (layout message versions 1 to 3, checked as {@link check} does) or its
   * version 4 index (lib/io/hdf5_index_v4.ts). A sentence where the dataset is not chunked or
   * its chunks are indexed in a way not read here (a version 2 B-tree).
   *
   * @example
   * ```ts
   * const t = lay.chunks(800n); // { chunk: [1, 256, 2560], elementSize: 2, entries: [...] }
   * if (typeof t !== "string") t.entries[0]; // { offset: [0, 0, 0], position: 4016, size: 1310720, filterMask: 0 }
   * ```
   */
  chunks(addr: bigint): ChunkTable | string {
    const msgs = this.messages(addr);
    const m = msgs.find((x) => x.type === MSG_LAYOUT && !(x.flags & 0x02));
    if (!m) return "no layout message";
    if (m.body[0] === 4 && m.body[1] === 2) {
      const ds = msgs.find((x) => x.type === MSG_DATASPACE && !(x.flags & 0x02));
      const max = ds ? maxDims(ds.body, this.lengths) : null;
      return max ? chunksV4(this, m.body, max) : "no dataspace message";
    }
    const entries: ChunkEntry[] = [];
    const dims = this.walkChunkTree(m.body, entries);
    if (!dims) return "not a chunked layout";
    return { chunk: dims.slice(0, -1), elementSize: dims[dims.length - 1], entries };
  }

  /**
   * `len` bytes at address `addr` (relative to the base address), or a {@link LayoutProblem}
   * naming `what` where they leave the file.
   *
   * @example
   * ```ts
   * lay.readBlock(4016n, 12, "fixed array header"); // Uint8Array(12)
   * ```
   */
  readBlock(addr: bigint, len: number, what: string): Uint8Array {
    return this.read(addr, len, what).b;
  }

  /**
   * Walks a chunked layout message's v1 B-tree (see {@link chunkIndex}); collects the leaf
   * entries into `out` when given. Returns the chunk dimensions (the last one is the element
   * size), or null where the message is not a chunked layout of versions 1 to 3.
   */
  private walkChunkTree(body: Uint8Array, out?: ChunkEntry[]): number[] | null {
    const o = this.offsets;
    const f = new Fields(body);
    const ver = f.u8(0);
    let rank: number, addr: bigint, dimsAt: number;
    if ((ver === 1 || ver === 2) && body.length >= 8 + o && f.u8(2) === 2) {
      rank = f.u8(1);
      addr = f.big(8, o);
      dimsAt = 8 + o;
    } else if (ver === 3 && body.length >= 3 + o && f.u8(1) === 2) {
      rank = f.u8(2);
      addr = f.big(3, o);
      dimsAt = 3 + o;
    } else return null;
    const dims: number[] = [];
    if (rank >= 1 && dimsAt + 4 * rank <= body.length) {
      for (let i = 0; i < rank; i++) dims.push(f.u32(dimsAt + 4 * i));
    } else if (out) {
      fail(`chunked layout message of ${body.length} bytes for ${rank} dimensions`);
    }
    if (this.undef(addr)) return dims; // no chunk written yet
    const keySize = 8 + 8 * rank;
    const seen = new Set<bigint>();
    const isNode = (a: bigint) => {
      if (this.base + a + 8n > BigInt(this.size)) return false;
      const h = this.read(a, 8, "chunk B-tree node");
      return h.u32(0) === 0x45455254 && h.u8(4) === 1;
    };
    const node = (a: bigint, depth: number) => {
      const { h, level, used } = this.treeNode(a, 1, "chunk", seen, depth);
      for (const [side, s] of [["left", h.big(8, o)], ["right", h.big(8 + o, o)]] as const) {
        if (!this.undef(s) && !isNode(s)) {
          fail(
            `chunk B-tree node at ${a}: ${side} sibling address ${s} is not a chunk B-tree node`,
          );
        }
      }
      const b = this.read(
        a + BigInt(8 + 2 * o),
        used * (keySize + o) + keySize,
        "chunk B-tree node",
      );
      for (let i = 0; i < used; i++) {
        const at = i * (keySize + o);
        const child = b.big(at + keySize, o);
        if (this.undef(child) || this.base + child >= BigInt(this.size)) {
          fail(
            `chunk B-tree node at ${a}: child ${i} at address ${child}, past the end of the file`,
          );
        }
        if (level > 0) node(child, depth + 1);
        else if (out) {
          const offset: number[] = [];
          for (let j = 0; j < rank - 1; j++) offset.push(Number(b.big(at + 8 + 8 * j, 8)));
          const position = Number(this.base + child), size = b.u32(at);
          if (position + size > this.size) {
            fail(
              `chunk B-tree node at ${a}: chunk ${i} of ${size} bytes at address ${child} runs past the end of the file`,
            );
          }
          out.push({ offset, position, size, filterMask: b.u32(at + 4) });
        }
      }
    };
    node(addr, 0);
    return dims;
  }

  /**
   * Reads `dst.length` bytes at absolute file position `pos` (fewer only at the end of the
   * file); returns how many were read.
   *
   * @example
   * ```ts
   * lay.readAt(4016, new Uint8Array(20480)); // 20480
   * ```
   */
  readAt(pos: number, dst: Uint8Array): number {
    let got = 0;
    while (got < dst.length) {
      const n = readSync(this.fd, dst, got, dst.length - got, pos + got);
      if (n <= 0) break;
      got += n;
    }
    return got;
  }

  /**
   * The header of a v1 B-tree node of `type` (0 group, 1 chunk) at `a`: its depth bound, its
   * "TREE" signature and type checked, and `a` added to `seen` (a node seen twice is a loop).
   */
  private treeNode(
    a: bigint,
    type: 0 | 1,
    kind: "group" | "chunk",
    seen: Set<bigint>,
    depth: number,
  ): { h: Fields; level: number; used: number } {
    if (depth > 64) fail(`${kind} B-tree deeper than 64 levels (at ${a})`);
    if (seen.has(a)) fail(`${kind} B-tree nodes form a loop (at ${a})`);
    seen.add(a);
    const h = this.read(a, 8 + 2 * this.offsets, `${kind} B-tree node`);
    if (h.u32(0) !== 0x45455254) fail(`${kind} B-tree node at ${a} lacks its "TREE" signature`);
    if (h.u8(4) !== type) {
      fail(`${kind} B-tree node at ${a} has node type ${h.u8(4)} (${type} expected)`);
    }
    return { h, level: h.u8(5), used: h.u16(6) };
  }

  /**
   * Walks a local heap's free list as HDF5 reads it: each free block (next offset, size) lies
   * inside the heap's data segment, and the list ends (offset 1 is the end; a loop is damage).
   */
  private freeList(heapAddr: bigint, data: bigint, dataSize: bigint, first: bigint): void {
    const l = this.lengths;
    const FREE_NULL = 1n;
    const seen = new Set<bigint>();
    for (let f = first; f !== FREE_NULL && !this.undef(f);) {
      if (f >= dataSize || f + BigInt(2 * l) > dataSize) {
        fail(`local heap at ${heapAddr}: free block at offset ${f}, beyond its ${dataSize} bytes`);
      }
      if (seen.has(f)) fail(`local heap at ${heapAddr}: its free list loops (at offset ${f})`);
      seen.add(f);
      const b = this.read(data + f, 2 * l, "local heap free block");
      const next = b.big(0, l), size = b.big(l, l);
      if (f + size > dataSize) {
        fail(
          `local heap at ${heapAddr}: free block at offset ${f} of ${size} bytes runs past its ${dataSize} bytes`,
        );
      }
      if (next === 0n) {
        fail(`local heap at ${heapAddr}: free block at offset ${f} links to offset 0`);
      }
      f = next;
    }
  }

  /**
   * Checks a group's symbol table (message 0x11: B-tree and local heap addresses): the heap's
   * data segment lies in the file and its free list inside the segment; every B-tree node and
   * symbol node lies in the file, carries its signature, and its keys and link names are
   * offsets inside the heap's data.
   */
  private symbolTable(body: Uint8Array): void {
    const o = this.offsets, l = this.lengths;
    const f = new Fields(body);
    const tree = f.big(0, o), heapAddr = f.big(o, o);
    const heap = this.read(heapAddr, 8 + 2 * l + o, "local heap");
    if (heap.u32(0) !== 0x50414548) fail(`local heap at ${heapAddr} lacks its "HEAP" signature`);
    const dataSize = heap.big(8, l), free = heap.big(8 + l, l), data = heap.big(8 + 2 * l, o);
    this.where(data, dataSize, "local heap data segment");
    this.freeList(heapAddr, data, dataSize, free);
    const seen = new Set<bigint>();
    const node = (addr: bigint, depth: number) => {
      const { h, level, used } = this.treeNode(addr, 0, "group", seen, depth);
      for (const [side, s] of [["left", h.big(8, o)], ["right", h.big(8 + o, o)]] as const) {
        if (!this.undef(s) && this.base + s >= BigInt(this.size)) {
          fail(
            `group B-tree node at ${addr}: ${side} sibling address ${s} is past the end of the file`,
          );
        }
      }
      const body = this.read(addr + BigInt(8 + 2 * o), used * (l + o) + l, "group B-tree node");
      for (let i = 0; i <= used; i++) {
        const key = body.big(i * (l + o), l);
        if (key >= dataSize) {
          fail(
            `group B-tree node at ${addr}: key ${i} is name offset ${key}, beyond the ${dataSize}-byte name heap`,
          );
        }
        if (i === used) break;
        const child = body.big(i * (l + o) + l, o);
        if (level > 0) node(child, depth + 1);
        else symbolNode(child);
      }
    };
    const symbolNode = (addr: bigint) => {
      const h = this.read(addr, 8, "symbol table node");
      if (h.u32(0) !== 0x444f4e53) fail(`symbol table node at ${addr} lacks its "SNOD" signature`);
      const n = h.u16(6), entry = l + o + 24;
      const e = this.read(addr + 8n, n * entry, "symbol table node");
      for (let i = 0; i < n; i++) {
        const name = e.big(i * entry, l), obj = e.big(i * entry + l, o);
        const soft = e.u32(i * entry + l + o) === 2; // a soft link: no object header
        if (name >= dataSize) {
          fail(
            `symbol table node at ${addr}: entry ${i} names offset ${name}, beyond the ${dataSize}-byte name heap`,
          );
        }
        if (
          soft
            ? !this.undef(obj) && this.base + obj >= BigInt(this.size)
            : this.undef(obj) || this.base + obj >= BigInt(this.size)
        ) {
          fail(
            `symbol table node at ${addr}: entry ${i} points at address ${obj}, past the end of the file`,
          );
        }
      }
    };
    node(tree, 0);
  }
}

const pad8 = (n: number) => (n + 7) & ~7;

/** Datatype classes HDF5 defines (0 fixed-point … 10 array) and the versions each may carry. */
const DT_VERSIONS: Record<number, number[]> = {
  0: [1, 2, 3, 4],
  1: [1, 2, 3, 4],
  2: [1, 2, 3, 4],
  3: [1, 2, 3, 4],
  4: [1, 2, 3, 4],
  5: [1, 2, 3, 4],
  6: [1, 2, 3, 4],
  7: [1, 2, 3, 4],
  8: [1, 2, 3, 4],
  9: [1, 2, 3, 4],
  10: [2, 3, 4],
};

/**
 * What is wrong with the datatype at `p` (`len` bytes available), or its size in bytes. Checks
 * what HDF5 checks when it decodes one (version per class) and what no valid file holds: a
 * fixed-point or floating-point type wider than 16 bytes (HDF5's widest predefined types are 16
 * bytes) or whose bits do not fit its size; the base type of a variable-length type, recursively.
 */
function datatype(f: Fields, p: number, len: number, depth = 0): string | number {
  if (len < 8) return `datatype of ${len} bytes (8 at least)`;
  const cls = f.u8(p) & 0x0f, ver = f.u8(p) >> 4;
  const versions = DT_VERSIONS[cls];
  if (!versions) return `datatype class ${cls} (0 to 10 exist)`;
  if (!versions.includes(ver)) return `datatype version ${ver} (class ${cls})`;
  const size = f.u32(p + 4);
  if (cls === 0 || cls === 1) {
    if (len < 12) return `datatype of class ${cls} in ${len} bytes`;
    const offset = f.u16(p + 8), precision = f.u16(p + 10);
    if (size < 1 || size > 16) return `${cls ? "floating-point" : "integer"} type of ${size} bytes`;
    if (precision < 1 || offset + precision > 8 * size) {
      return `${
        cls ? "floating-point" : "integer"
      } type of ${size} bytes with bits ${offset}+${precision}`;
    }
  } else if (cls === 9) {
    if (depth > 8) return "variable-length types nested deeper than 8";
    const base = datatype(f, p + 8, len - 8, depth + 1);
    if (typeof base === "string") return `base type of a variable-length type: ${base}`;
  }
  return size;
}

/** The dims of a dataspace at `p`, or what is wrong with it. */
function dataspace(
  f: Fields,
  p: number,
  len: number,
  l: number,
): { dims: bigint[]; count: bigint } | string {
  if (len < 4) return `dataspace of ${len} bytes`;
  const ver = f.u8(p), rank = f.u8(p + 1), flags = f.u8(p + 2);
  if (ver !== 1 && ver !== 2) return `dataspace version ${ver} (1 or 2)`;
  if (rank > 32) return `dataspace of rank ${rank} (32 at most)`;
  const head = ver === 1 ? 8 : 4;
  const need = head + rank * l * (flags & 1 ? 2 : 1);
  if (need > len) return `dataspace of rank ${rank} needs ${need} bytes, has ${len}`;
  if (ver === 2 && f.u8(p + 3) === 2) return { dims: [], count: 0n }; // the null dataspace
  const dims: bigint[] = [];
  for (let i = 0; i < rank; i++) dims.push(f.big(p + head + i * l, l));
  return { dims, count: dims.reduce((a, b) => a * b, 1n) };
}

/** A simple dataspace's maximum dimensions (-1: unlimited; its dimensions where none are
 * stored), or null where the message is not one. */
function maxDims(b: Uint8Array, l: number): number[] | null {
  const f = new Fields(b);
  const d = dataspace(f, 0, b.length, l);
  if (typeof d === "string" || !d.dims.length) return null;
  const rank = d.dims.length, head = f.u8(0) === 1 ? 8 : 4;
  if (!(f.u8(2) & 1)) return d.dims.map(Number);
  const out: number[] = [];
  const undef = (1n << BigInt(8 * l)) - 1n;
  for (let i = 0; i < rank; i++) {
    const v = f.big(head + (rank + i) * l, l);
    out.push(v === undef ? -1 : Number(v));
  }
  return out;
}

/**
 * What is wrong with an attribute message's body, or null: its version, a name whose stored
 * length is not where its NUL is, a datatype or dataspace HDF5 cannot decode, fields that run
 * past the message, and data shorter than its elements need.
 *
 * @example
 * ```ts
 * attributeProblem(body, lay); // "datatype version 0 (class 0)"
 * ```
 */
export function attributeProblem(body: Uint8Array, lay: { lengths: number }): string | null {
  const f = new Fields(body);
  if (body.length < 8) return `attribute message of ${body.length} bytes`;
  const ver = f.u8(0);
  if (ver < 1 || ver > 3) return `attribute message version ${ver} (1 to 3)`;
  const flags = ver === 1 ? 0 : f.u8(1);
  const nameLen = f.u16(2), dtLen = f.u16(4), dsLen = f.u16(6);
  const r = ver === 1 ? pad8 : (n: number) => n;
  const start = ver === 3 ? 9 : 8;
  const need = start + r(nameLen) + r(dtLen) + r(dsLen);
  if (need > body.length) {
    return `fields of ${nameLen}+${dtLen}+${dsLen} bytes run past the ${body.length}-byte message`;
  }
  const name = body.subarray(start, start + nameLen);
  const nul = name.indexOf(0);
  if (nameLen === 0 || nul !== nameLen - 1) {
    return `name stored as ${nameLen} bytes, its NUL is at ${nul < 0 ? "none" : nul}`;
  }
  const dtAt = start + r(nameLen), dsAt = dtAt + r(dtLen);
  let size = 0;
  if (!(flags & 1)) {
    const d = datatype(f, dtAt, dtLen);
    if (typeof d === "string") return d;
    size = d;
  }
  if (!(flags & 2)) {
    const s = dataspace(f, dsAt, dsLen, lay.lengths);
    if (typeof s === "string") return s;
    const n = s.count;
    const have = BigInt(body.length - need);
    if (!(flags & 1) && n * BigInt(size) > have) {
      return `data of ${n} elements × ${size} bytes exceeds the ${have} bytes the message holds`;
    }
  }
  return null;
}
