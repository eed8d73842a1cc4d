/**
 * ZIP archives (as NumPy's `.npz` uses them), gzip, and CRC-32.
 *
 * {@link ZipReader} reads the central directory of a stored or deflated archive, ZIP64 included,
 * through a {@link ByteSource} (a file read piecewise, or bytes in memory), so an entry can be
 * read, or its compressed bytes copied, without loading the whole archive. {@link ZipWriter}
 * writes entries one after another to a sink and finishes with the central directory, switching
 * to ZIP64 records where sizes, offsets or the entry count need them (or always, if asked).
 * Compression is node:zlib's raw deflate; every entry read is checked against its CRC-32.
 *
 * @example
 * ```ts
 * import { ZipReader, ZipWriter, fileSource } from "./zip.ts";
 * const chunks: Uint8Array[] = [];
 * const w = new ZipWriter((b) => chunks.push(b.slice()));
 * w.add("a.txt", new TextEncoder().encode("hello"), { compress: true });
 * w.finish();
 * ```
 * @module
 */
import * as zlib from "node:zlib";
import { LumenError } from "../run/errors.ts";
import { checkMemory } from "./budget.ts";
import { safePoint } from "../run/interrupt.ts";

// ---------------------------------------------------------------------------------------------
// CRC-32 and gzip

let crcTable: Uint32Array | null = null;

function crc32Table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  return crcTable;
}

const nativeCrc = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;

/**
 * CRC-32 (the ZIP/PNG/gzip polynomial) of `data`, continuing from `crc` (0 to start).
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("hello")); // 0x3610a686
 * ```
 */
export function crc32(data: Uint8Array, crc = 0): number {
  if (nativeCrc) return nativeCrc(data, crc) >>> 0;
  const t = crc32Table();
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** True when `bytes` start with the gzip magic (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function zlibMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split("\n")[0];
}

/**
 * Decompresses gzip data (all members), or throws a LumenError naming `file`:
 * `x.tar.gz: gzip: invalid gzip data (incorrect header check)`.
 */
export function gunzipChecked(bytes: Uint8Array, file: string, maxBytes?: number): Uint8Array {
  if (!isGzip(bytes)) {
    throw new LumenError(file, "byte 0", "invalid gzip data (no gzip magic 1f 8b)");
  }
  try {
    const out = zlib.gunzipSync(bytes, maxBytes ? { maxOutputLength: maxBytes } : {});
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if (maxBytes && (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new LumenError(
        file,
        "gzip",
        `decompresses to more than ${maxBytes} bytes, the most this read may take ` +
          `(--max-memory); a decompression bomb or a file too large for the budget`,
      );
    }
    throw new LumenError(file, "gzip", `invalid gzip data (${zlibMessage(e)})`);
  }
}

/**
 * Gunzips a stream of pieces as they come (all members, as {@link gunzipChecked}), so memory
 * holds a few pieces whatever the size; corrupt data is the same one-line error as
 * {@link gunzipChecked}'s. Stopping early (a `break`) stops reading `src`.
 *
 * @example
 * ```ts
 * const f = await Deno.open("a.tar.gz");
 * let n = 0;
 * for await (const piece of gunzipStream(f.readable, "a.tar.gz")) n += piece.length;
 * ```
 */
export async function* gunzipStream(
  src: AsyncIterable<Uint8Array>,
  file: string,
  chunkSize = 1 << 18,
): AsyncGenerator<Uint8Array> {
  const gz = zlib.createGunzip({ chunkSize });
  let readError: unknown = null;
  const ready = () =>
    new Promise<void>((r) => {
      const done = () => {
        gz.off("drain", done);
        gz.off("close", done);
        r();
      };
      gz.once("drain", done);
      gz.once("close", done);
    });
  const feed = (async () => {
    try {
      for await (const c of src) {
        if (gz.destroyed) break;
        if (!gz.write(c)) await ready();
      }
      if (!gz.destroyed) gz.end();
    } catch (e) {
      readError = e;
      gz.destroy(e as Error);
    }
  })();
  try {
    for await (const out of gz) {
      yield new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
  } catch (e) {
    if (readError) throw readError;
    throw new LumenError(file, "gzip", `invalid gzip data (${zlibMessage(e)})`);
  } finally {
    gz.destroy();
    await feed;
  }
}

/** Gzip-compresses `bytes` (level 6 unless given). */
export function gzip(bytes: Uint8Array, level = 6): Uint8Array {
  const out = zlib.gzipSync(bytes, { level });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Raw-deflates `bytes` (level 6 unless given). */
export function deflateRaw(bytes: Uint8Array, level = 6): Uint8Array {
  const out = zlib.deflateRawSync(bytes, { level });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Inflates raw-deflate data; throws a LumenError naming `file` and `place` on bad data. */
export function inflateRawChecked(
  bytes: Uint8Array,
  file: string,
  place: string,
  maxBytes?: number,
): Uint8Array {
  try {
    const out = zlib.inflateRawSync(bytes, maxBytes ? { maxOutputLength: maxBytes } : {});
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if (maxBytes && (e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new LumenError(file, place, `decompresses past the ${maxBytes - 1} bytes expected`);
    }
    throw new LumenError(file, place, `invalid deflate data (${zlibMessage(e)})`);
  }
}

/** Inflates zlib-wrapped data (as TIFF and PNG store it); LumenError on bad data. */
export function inflateChecked(
  bytes: Uint8Array,
  file: string,
  place: string,
  maxBytes?: number,
): Uint8Array {
  try {
    const out = maxBytes === undefined
      ? zlib.inflateSync(bytes)
      : zlib.inflateSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if ((e as { code?: string })?.code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
      throw new LumenError(
        file,
        place,
        `inflates to more than the ${maxBytes} bytes it can hold (a decompression bomb?)`,
      );
    }
    throw new LumenError(file, place, `invalid deflate data (${zlibMessage(e)})`);
  }
}

/** Zlib-wraps and deflates `bytes`. */
export function deflate(bytes: Uint8Array, level = 6): Uint8Array {
  const out = zlib.deflateSync(bytes, { level });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

// ---------------------------------------------------------------------------------------------
// Byte sources

/** Random access to bytes: a file read piecewise, or an array in memory. */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /** `length` bytes from `offset` (fewer only at the end). */
  read(offset: number, length: number): Uint8Array;
  /** Releases the file, if any. */
  close(): void;
}

/** A ByteSource over bytes in memory (reads are views, not copies). */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
    close: () => {},
  };
}

/** A ByteSource reading the file at `path` piecewise (close it when done). */
export function fileSource(path: string): ByteSource {
  const f = Deno.openSync(path, { read: true });
  const size = f.statSync().size;
  return {
    size,
    read(offset, length) {
      const n = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(n);
      f.seekSync(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < n) {
        const r = f.readSync(out.subarray(got));
        if (r === null || r === 0) break;
        got += r;
      }
      return got === n ? out : out.subarray(0, got);
    },
    close: () => f.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** One entry of a ZIP central directory. */
export interface ZipEntry {
  /** Entry name (UTF-8 or CP437 as flagged; CP437 is decoded as Latin-1). */
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  /** General-purpose flags. */
  flags: number;
  /** CRC-32 of the uncompressed data. */
  crc32: number;
  /** Bytes stored in the archive. */
  compressedSize: number;
  /** Bytes after decompression. */
  size: number;
  /** Offset of the local file header. */
  localHeaderOffset: number;
  /** MS-DOS time and date fields. */
  dosTime: number;
  /** MS-DOS date. */
  dosDate: number;
  /** External attributes (Unix mode in the high 16 bits where made on Unix). */
  externalAttr: number;
  /** True when ZIP64 extra fields were needed for this entry. */
  zip64: boolean;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOC64 = 0x07064b50;
const SIG_CEN = 0x02014b50;
const SIG_LOC = 0x04034b50;
const U32 = 0xffffffff;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A ZIP64 field; one beyond 2^53 is refused with its exact value. */
function u64(d: DataView, off: number, file: string, what: string): number {
  const v = d.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new LumenError(file, "ZIP64 record", `${what} ${v} is beyond 2^53; corrupt archive?`);
  }
  return Number(v);
}

/** Reads the directory of a ZIP archive and its entries. */
export class ZipReader {
  /** The entries, in central-directory order. */
  readonly entries: ZipEntry[] = [];
  /** The archive comment. */
  readonly comment: string = "";
  /** True when the archive has a ZIP64 end-of-central-directory record. */
  readonly zip64: boolean = false;

  /**
   * @param src where the archive's bytes come from
   * @param file the archive's name for error messages
   */
  constructor(readonly src: ByteSource, readonly file: string) {
    const size = src.size;
    const notZip = (why: string) => new LumenError(file, "", `not a zip/npz archive (${why})`);
    if (size < 22) throw notZip(`${size} bytes, too short`);
    const tailLen = Math.min(size, 22 + 65535 + 20);
    const tail = src.read(size - tailLen, tailLen);
    const td = dv(tail);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (td.getUint32(i, true) === SIG_EOCD) {
        const clen = td.getUint16(i + 20, true);
        if (i + 22 + clen <= tail.length) {
          eocd = i;
          break;
        }
      }
    }
    if (eocd < 0) throw notZip("no end-of-central-directory record");
    const eocdAbs = size - tailLen + eocd;
    let count = td.getUint16(eocd + 10, true);
    let cdSize = td.getUint32(eocd + 12, true);
    let cdOff = td.getUint32(eocd + 16, true);
    let zip64At = -1;
    const clen = td.getUint16(eocd + 20, true);
    this.comment = new TextDecoder("latin1").decode(tail.subarray(eocd + 22, eocd + 22 + clen));
    if (eocd >= 20 && td.getUint32(eocd - 20, true) === SIG_LOC64) {
      const off64 = u64(td, eocd - 20 + 8, file, "end-of-directory offset");
      zip64At = off64;
      const rec = src.read(off64, 56);
      const rd = dv(rec);
      if (rec.length < 56 || rd.getUint32(0, true) !== SIG_EOCD64) {
        throw new LumenError(file, `byte ${off64}`, "bad ZIP64 end-of-central-directory record");
      }
      count = u64(rd, 32, file, "entry count");
      cdSize = u64(rd, 40, file, "central directory size");
      cdOff = u64(rd, 48, file, "central directory offset");
      this.zip64 = true;
    } else if (count === 0xffff || cdSize === U32 || cdOff === U32) {
      throw new LumenError(file, `byte ${eocdAbs}`, "ZIP64 locator missing");
    }
    if (cdOff + cdSize > size) {
      throw new LumenError(
        file,
        `byte ${eocdAbs}`,
        `central directory (${cdSize} bytes at ${cdOff}) runs past the end of the file (${size} bytes); truncated archive?`,
      );
    }
    // the directory ends where its end record (or the ZIP64 one) begins, as zipfile expects
    const cdEnd = this.zip64 ? zip64At : eocdAbs;
    if (cdOff + cdSize !== cdEnd) {
      throw new LumenError(
        file,
        `byte ${eocdAbs}`,
        `the central directory (${cdSize} bytes at ${cdOff}) does not end where its end record ` +
          `begins (byte ${cdEnd}); damaged archive?`,
      );
    }
    const cd = src.read(cdOff, cdSize);
    const cdv = dv(cd);
    let p = 0;
    for (let i = 0; i < count; i++) {
      const place = `central directory entry ${i} (byte ${cdOff + p})`;
      if (p + 46 > cd.length || cdv.getUint32(p, true) !== SIG_CEN) {
        throw new LumenError(file, place, "bad central directory header signature");
      }
      const flags = cdv.getUint16(p + 8, true);
      const method = cdv.getUint16(p + 10, true);
      const dosTime = cdv.getUint16(p + 12, true);
      const dosDate = cdv.getUint16(p + 14, true);
      const crc = cdv.getUint32(p + 16, true);
      let csize = cdv.getUint32(p + 20, true);
      let usize = cdv.getUint32(p + 24, true);
      const nlen = cdv.getUint16(p + 28, true);
      const xlen = cdv.getUint16(p + 30, true);
      const mlen = cdv.getUint16(p + 32, true);
      const extAttr = cdv.getUint32(p + 38, true);
      let local = cdv.getUint32(p + 42, true);
      if (p + 46 + nlen + xlen + mlen > cd.length) {
        throw new LumenError(file, place, "central directory entry runs past its end");
      }
      const nameBytes = cd.subarray(p + 46, p + 46 + nlen);
      const name = flags & 0x800
        ? new TextDecoder().decode(nameBytes)
        : new TextDecoder("latin1").decode(nameBytes);
      let zip64 = false;
      // Extra fields: ZIP64 (0x0001) holds the 64-bit values of fields set to 0xFFFFFFFF.
      let x = p + 46 + nlen;
      const xend = x + xlen;
      while (x + 4 <= xend) {
        const id = cdv.getUint16(x, true);
        const len = cdv.getUint16(x + 2, true);
        if (id === 0x0001) {
          zip64 = true;
          let q = x + 4;
          const qend = Math.min(xend, q + len);
          if (usize === U32 && q + 8 <= qend) {
            (usize = u64(cdv, q, file, `size of entry ${i}`)), (q += 8);
          }
          if (csize === U32 && q + 8 <= qend) {
            (csize = u64(cdv, q, file, `compressed size of entry ${i}`)), (q += 8);
          }
          if (local === U32 && q + 8 <= qend) {
            (local = u64(cdv, q, file, `local header offset of entry ${i}`)), (q += 8);
          }
        }
        x += 4 + len;
      }
      this.entries.push({
        name,
        method,
        flags,
        crc32: crc,
        compressedSize: csize,
        size: usize,
        localHeaderOffset: local,
        dosTime,
        dosDate,
        externalAttr: extAttr,
        zip64,
      });
      p += 46 + nlen + xlen + mlen;
    }
    if (p !== cd.length) {
      throw new LumenError(
        file,
        `byte ${eocdAbs}`,
        `the central directory is ${cd.length} bytes, its ${count} entries take ${p}; damaged archive?`,
      );
    }
  }

  /** The entry called `name`, or undefined. */
  get(name: string): ZipEntry | undefined {
    return this.entries.find((e) => e.name === name);
  }

  /** Offset of an entry's data (just past its local header). */
  dataOffset(e: ZipEntry): number {
    const h = this.src.read(e.localHeaderOffset, 30);
    const hd = dv(h);
    if (h.length < 30 || hd.getUint32(0, true) !== SIG_LOC) {
      throw new LumenError(
        this.file,
        `entry '${e.name}' (byte ${e.localHeaderOffset})`,
        "bad local file header signature",
      );
    }
    const nlen = hd.getUint16(26, true);
    const off = e.localHeaderOffset + 30 + nlen + hd.getUint16(28, true);
    // the local header repeats the name: a different one is a damaged archive (as zipfile says)
    const nameBytes = this.src.read(e.localHeaderOffset + 30, nlen);
    const local = e.flags & 0x800
      ? new TextDecoder().decode(nameBytes)
      : new TextDecoder("latin1").decode(nameBytes);
    if (local !== e.name) {
      throw new LumenError(
        this.file,
        `entry '${e.name}' (byte ${e.localHeaderOffset})`,
        `its local header names it '${local}'; damaged archive?`,
      );
    }
    if (off + e.compressedSize > this.src.size) {
      throw new LumenError(
        this.file,
        `entry '${e.name}'`,
        `data (${e.compressedSize} bytes at ${off}) runs past the end of the file; truncated archive?`,
      );
    }
    return off;
  }

  /** The entry's bytes as stored (compressed, if it is). */
  raw(e: ZipEntry): Uint8Array {
    return this.src.read(this.dataOffset(e), e.compressedSize);
  }

  /**
   * The entry's uncompressed bytes, checked against its size and CRC-32. The size its directory
   * entry declares is checked against the memory budget (`maxMemory`, else the process-wide one
   * of lib/io/budget.ts) before reading, and inflating stops as soon as it passes that size.
   */
  read(e: ZipEntry, maxMemory?: number): Uint8Array {
    const place = `entry '${e.name}'`;
    if (e.flags & 1) throw new LumenError(this.file, place, "encrypted entries are not supported");
    checkMemory(
      this.file,
      place,
      `a member of ${e.size} bytes (its directory entry)`,
      e.size,
      maxMemory,
    );
    const raw = this.raw(e);
    let data: Uint8Array;
    if (e.method === 0) data = raw;
    else if (e.method === 8) data = inflateRawChecked(raw, this.file, place, e.size + 1);
    else {
      throw new LumenError(this.file, place, `compression method ${e.method} is not supported`);
    }
    if (data.length !== e.size) {
      throw new LumenError(
        this.file,
        place,
        `decompressed to ${data.length} bytes, directory says ${e.size}`,
      );
    }
    const c = crc32(data);
    if (c !== e.crc32) {
      throw new LumenError(
        this.file,
        place,
        `CRC-32 mismatch (stored ${hex8(e.crc32)}, computed ${hex8(c)})`,
      );
    }
    return data;
  }

  /** Closes the source. */
  close(): void {
    this.src.close();
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

// ---------------------------------------------------------------------------------------------
// Writing

/** An entry to copy into a new archive as stored bytes (already compressed, CRC known). */
export interface ZipRawEntry {
  /** Entry name. */
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  /** CRC-32 of the uncompressed data. */
  crc32: number;
  /** Uncompressed size. */
  size: number;
  /** The stored bytes, possibly in pieces. Their total is the compressed size. */
  data: Uint8Array | Uint8Array[];
  /** MS-DOS time (default 0). */
  dosTime?: number;
  /** MS-DOS date (default 1980-01-01). */
  dosDate?: number;
  /** External attributes (default: Unix mode 0644). */
  externalAttr?: number;
}

interface CentralRecord {
  name: Uint8Array;
  utf8: boolean;
  method: number;
  crc32: number;
  csize: number;
  size: number;
  offset: number;
  dosTime: number;
  dosDate: number;
  externalAttr: number;
}

/** 1980-01-01, the MS-DOS epoch: entries are dated so, making archives reproducible. */
const DOS_DATE_EPOCH = (0 << 9) | (1 << 5) | 1;

/** Writes a ZIP archive, entry by entry, to a sink. */
export class ZipWriter {
  private offset = 0;
  private readonly central: CentralRecord[] = [];
  private finished = false;

  /**
   * @param sink receives the archive's bytes in order (copy them if kept: buffers may be reused)
   * @param opts forceZip64: write ZIP64 extra fields for every entry and a ZIP64 end record
   */
  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    private readonly opts: { forceZip64?: boolean } = {},
  ) {}

  private emit(b: Uint8Array) {
    this.sink(b);
    this.offset += b.length;
  }

  /** Adds an entry from its uncompressed bytes; `compress` deflates it (default false). */
  add(name: string, data: Uint8Array | Uint8Array[], opts: { compress?: boolean } = {}): void {
    const parts = Array.isArray(data) ? data : [data];
    let crc = 0, size = 0;
    for (const p of parts) {
      crc = crc32(p, crc);
      size += p.length;
    }
    let stored: Uint8Array[] = parts;
    if (opts.compress) {
      const whole = parts.length === 1 ? parts[0] : concat(parts);
      stored = [deflateRaw(whole)];
    }
    this.addRaw({ name, method: opts.compress ? 8 : 0, crc32: crc, size, data: stored });
  }

  /** Adds an entry whose stored bytes are given as they are (for copying between archives). */
  addRaw(e: ZipRawEntry): void {
    if (this.finished) throw new Error("ZipWriter: finished");
    const parts = Array.isArray(e.data) ? e.data : [e.data];
    const csize = parts.reduce((s, p) => s + p.length, 0);
    const nameBytes = new TextEncoder().encode(e.name);
    const utf8 = nameBytes.length !== e.name.length; // non-ASCII characters
    const force = this.opts.forceZip64 ?? false;
    const z64 = force || e.size >= U32 || csize >= U32;
    const h = new Uint8Array(30 + nameBytes.length + (z64 ? 20 : 0));
    const d = dv(h);
    d.setUint32(0, SIG_LOC, true);
    d.setUint16(4, z64 ? 45 : 20, true);
    d.setUint16(6, utf8 ? 0x800 : 0, true);
    d.setUint16(8, e.method, true);
    d.setUint16(10, e.dosTime ?? 0, true);
    d.setUint16(12, e.dosDate ?? DOS_DATE_EPOCH, true);
    d.setUint32(14, e.crc32 >>> 0, true);
    d.setUint32(18, z64 ? U32 : csize, true);
    d.setUint32(22, z64 ? U32 : e.size, true);
    d.setUint16(26, nameBytes.length, true);
    d.setUint16(28, z64 ? 20 : 0, true);
    h.set(nameBytes, 30);
    if (z64) {
      const x = 30 + nameBytes.length;
      d.setUint16(x, 1, true);
      d.setUint16(x + 2, 16, true);
      d.setBigUint64(x + 4, BigInt(e.size), true);
      d.setBigUint64(x + 12, BigInt(csize), true);
    }
    const offset = this.offset;
    this.emit(h);
    for (const p of parts) this.emit(p);
    this.central.push({
      name: nameBytes,
      utf8,
      method: e.method,
      crc32: e.crc32 >>> 0,
      csize,
      size: e.size,
      offset,
      dosTime: e.dosTime ?? 0,
      dosDate: e.dosDate ?? DOS_DATE_EPOCH,
      externalAttr: e.externalAttr ?? ((0o100644 << 16) >>> 0),
    });
  }

  /** Writes the central directory and end records. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const force = this.opts.forceZip64 ?? false;
    const cdStart = this.offset;
    for (const r of this.central) {
      const fields: number[] = [];
      if (force || r.size >= U32) fields.push(r.size);
      if (force || r.csize >= U32) fields.push(r.csize);
      if (force || r.offset >= U32) fields.push(r.offset);
      const xlen = fields.length ? 4 + 8 * fields.length : 0;
      const h = new Uint8Array(46 + r.name.length + xlen);
      const d = dv(h);
      d.setUint32(0, SIG_CEN, true);
      d.setUint16(4, (3 << 8) | (xlen ? 45 : 20), true); // made by Unix
      d.setUint16(6, xlen ? 45 : 20, true);
      d.setUint16(8, r.utf8 ? 0x800 : 0, true);
      d.setUint16(10, r.method, true);
      d.setUint16(12, r.dosTime, true);
      d.setUint16(14, r.dosDate, true);
      d.setUint32(16, r.crc32, true);
      d.setUint32(20, force || r.csize >= U32 ? U32 : r.csize, true);
      d.setUint32(24, force || r.size >= U32 ? U32 : r.size, true);
      d.setUint16(28, r.name.length, true);
      d.setUint16(30, xlen, true);
      d.setUint32(38, r.externalAttr >>> 0, true);
      d.setUint32(42, force || r.offset >= U32 ? U32 : r.offset, true);
      h.set(r.name, 46);
      if (xlen) {
        const x = 46 + r.name.length;
        d.setUint16(x, 1, true);
        d.setUint16(x + 2, 8 * fields.length, true);
        fields.forEach((v, i) => d.setBigUint64(x + 4 + 8 * i, BigInt(v), true));
      }
      this.emit(h);
    }
    const cdSize = this.offset - cdStart;
    const n = this.central.length;
    const z64 = force || n >= 0xffff || cdStart >= U32 || cdSize >= U32;
    if (z64) {
      const eocd64 = this.offset;
      const r = new Uint8Array(56 + 20);
      const d = dv(r);
      d.setUint32(0, SIG_EOCD64, true);
      d.setBigUint64(4, 44n, true);
      d.setUint16(12, (3 << 8) | 45, true);
      d.setUint16(14, 45, true);
      d.setBigUint64(24, BigInt(n), true);
      d.setBigUint64(32, BigInt(n), true);
      d.setBigUint64(40, BigInt(cdSize), true);
      d.setBigUint64(48, BigInt(cdStart), true);
      d.setUint32(56, SIG_LOC64, true);
      d.setBigUint64(64, BigInt(eocd64), true);
      d.setUint32(72, 1, true);
      this.emit(r);
    }
    const e = new Uint8Array(22);
    const d = dv(e);
    d.setUint32(0, SIG_EOCD, true);
    d.setUint16(8, z64 ? 0xffff : n, true);
    d.setUint16(10, z64 ? 0xffff : n, true);
    d.setUint32(12, z64 ? U32 : cdSize, true);
    d.setUint32(16, z64 ? U32 : cdStart, true);
    this.emit(e);
  }
}

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * The uncompressed bytes of a ZIP entry, piece by piece: a stored entry read `block` bytes at a
 * time, a deflated one inflated as it is read. The entry is checked as {@link ZipReader.read}
 * checks it (size and CRC-32, at the end; inflating past the directory's size stops at once), so
 * an entry of any size passes through a small, fixed amount of memory.
 *
 * @example
 * ```ts
 * const zip = new ZipReader(fileSource("a.npz"), "a.npz");
 * let n = 0;
 * for await (const piece of zipEntryChunks(zip, zip.entries[0])) n += piece.length;
 * zip.close();
 * ```
 */
export async function* zipEntryChunks(
  zip: ZipReader,
  e: ZipEntry,
  block = 1 << 22,
): AsyncGenerator<Uint8Array> {
  const place = `entry '${e.name}'`;
  if (e.flags & 1) throw new LumenError(zip.file, place, "encrypted entries are not supported");
  if (e.method !== 0 && e.method !== 8) {
    throw new LumenError(zip.file, place, `compression method ${e.method} is not supported`);
  }
  const off = zip.dataOffset(e);
  let size = 0, crc = 0;
  const count = (b: Uint8Array) => {
    size += b.length;
    if (size > e.size) {
      throw new LumenError(zip.file, place, `decompresses past the ${e.size} bytes directory says`);
    }
    crc = crc32(b, crc);
    return b;
  };
  const stored = (p: number) => zip.src.read(off + p, Math.min(block, e.compressedSize - p));
  if (e.method === 0) {
    for (let p = 0; p < e.compressedSize; p += block) {
      yield count(stored(p));
      await safePoint();
    }
  } else {
    const inflate = new DecompressionStream("deflate-raw");
    const writer = inflate.writable.getWriter();
    // The stream gives one output piece per input piece, and deflate expands up to 1032×: the
    // compressed bytes go in by slices of block / 1024, so that a piece stays near `block` bytes
    // (a mask of zeros would otherwise come out as one piece of a thousand times the block).
    const slice = Math.max(1024, block >> 10);
    const feed = (async () => {
      for (let p = 0; p < e.compressedSize; p += block) {
        const b = stored(p) as Uint8Array<ArrayBuffer>;
        for (let q = 0; q < b.length; q += slice) await writer.write(b.subarray(q, q + slice));
      }
      await writer.close();
    })();
    feed.catch(() => {}); // a failed write shows as the reader's error below
    const reader = inflate.readable.getReader();
    try {
      for (;;) {
        let r: ReadableStreamReadResult<Uint8Array>;
        try {
          r = await reader.read();
        } catch (err) {
          throw new LumenError(zip.file, place, `invalid deflate data (${zlibMessage(err)})`);
        }
        if (r.done) break;
        yield count(r.value);
        await safePoint();
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  }
  if (size !== e.size) {
    throw new LumenError(
      zip.file,
      place,
      `decompressed to ${size} bytes, directory says ${e.size}`,
    );
  }
  if (crc !== e.crc32) {
    throw new LumenError(
      zip.file,
      place,
      `CRC-32 mismatch (stored ${hex8(e.crc32)}, computed ${hex8(crc)})`,
    );
  }
}
