/**
 * A tar stream read piece by piece: {@link TarScanner} takes the archive's bytes in pieces of
 * any size and reports each member's header, then its data as it passes, so a member of any size
 * goes through a fixed amount of memory. {@link scanTarFile} feeds it from a file, gunzipped as
 * it is read when the file is gzip (by magic or by name). Every header's checksum is verified.
 *
 * The headers understood: ustar (with its name prefix), pax extended headers (`path`,
 * `linkpath`, `size`, `mtime`…, per file and global), GNU long names and long link names
 * (`L`/`K`) and GNU base-256 numbers.
 *
 * @example
 * ```ts
 * import { scanTarFile } from "./tar_scan.ts";
 * let bytes = 0;
 * await scanTarFile("data.tar.gz", { entry: (e) => console.log(e.name), data: (_, b) => bytes += b.length });
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";
import { safePoint } from "../run/interrupt.ts";
import { readInput } from "../run/atomic.ts";
import { gunzipStream } from "./zip.ts";

/** Member kinds. */
export type TarEntryType =
  | "file"
  | "dir"
  | "symlink"
  | "hardlink"
  | "char"
  | "block"
  | "fifo"
  | "other";

/** One member of a tar archive. */
export interface TarEntry {
  /** Path as stored (after pax/GNU long-name and ustar prefix handling). */
  name: string;
  /** Member kind. */
  type: TarEntryType;
  /** The raw type flag character. */
  typeflag: string;
  /** Data size in bytes (0 for links and directories). */
  size: number;
  /** Permission bits. */
  mode: number;
  /** Modification time, seconds since 1970. */
  mtime: number;
  /** Link target, for symlinks and hardlinks. */
  linkname: string;
  /** Owner ids and names. */
  uid: number;
  /** Group id. */
  gid: number;
  /** Owner name. */
  uname: string;
  /** Group name. */
  gname: string;
  /** Byte offset of the member's (last) header in the uncompressed archive. */
  headerOffset: number;
  /** Byte offset of its data. */
  dataOffset: number;
}

/** What a {@link TarScanner} reports. */
export interface TarScanHandlers {
  /** A member's header (long names and pax records applied). */
  entry?(e: TarEntry): void;
  /** A piece of a regular member's data, in order (a view: copy it to keep it). */
  data?(e: TarEntry, piece: Uint8Array): void;
  /** A regular member's data is complete (also for empty members). */
  end?(e: TarEntry): void;
}

/** The largest pax or GNU long-name record accepted (1 MiB). */
export const TAR_MAX_META = 1 << 20;

const dec = new TextDecoder();

function cstr(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return dec.decode(b.subarray(off, end));
}

/** A numeric header field, exactly (octal, or GNU base-256 for large or negative values). */
function numExact(
  b: Uint8Array,
  off: number,
  len: number,
  file: string,
  place: string,
  field: string,
): bigint {
  if (b[off] & 0x80) {
    // GNU base-256: big-endian two's complement in the remaining bits.
    let v = BigInt(b[off] & 0x7f);
    const neg = (b[off] & 0x40) !== 0;
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(b[off + i]);
    if (neg) v -= 1n << BigInt(8 * len - 1);
    return v;
  }
  const s = cstr(b, off, len).trim();
  if (s === "") return 0n;
  if (!/^[0-7]+$/.test(s)) {
    throw new LumenError(file, place, `bad ${field} field '${s}' (expected octal digits)`);
  }
  return BigInt("0o" + s);
}

function num(
  b: Uint8Array,
  off: number,
  len: number,
  file: string,
  place: string,
  field: string,
): number {
  return Number(numExact(b, off, len, file, place, field));
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case "0":
    case "\0":
    case "7":
    case "":
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "3":
      return "char";
    case "4":
      return "block";
    case "5":
    case "D":
      return "dir";
    case "6":
      return "fifo";
    default:
      return "other";
  }
}

function parsePax(data: Uint8Array, file: string, place: string): Map<string, string> {
  const out = new Map<string, string>();
  const bad = (why: string) =>
    new LumenError(file, place, `malformed pax extended header record (${why})`);
  let p = 0;
  // records "LEN KEY=VALUE\n", LEN counting the whole record; a NUL ends them (as tarfile reads)
  while (p < data.length && data[p] !== 0) {
    let sp = p;
    while (sp < data.length && data[sp] >= 0x30 && data[sp] <= 0x39) sp++;
    if (sp === p || data[sp] !== 0x20) throw bad(`at byte ${p}: no length`);
    const len = parseInt(dec.decode(data.subarray(p, sp)), 10);
    if (len < 5 || p + len > data.length) throw bad(`length ${len} at byte ${p}`);
    if (data[p + len - 1] !== 0x0a) throw bad(`record at byte ${p} does not end in a newline`);
    const rec = dec.decode(data.subarray(sp + 1, p + len - 1));
    const eq = rec.indexOf("=");
    if (eq <= 0) throw bad(`record at byte ${p} has no 'key=value'`);
    out.set(rec.slice(0, eq), rec.slice(eq + 1));
    p += len;
  }
  return out;
}

/** The checksum of a header block, unsigned and signed (as old tars computed it). */
function checksums(h: Uint8Array): [number, number] {
  let unsigned = 0, signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return [unsigned, signed];
}

/**
 * True when a 512-byte block looks like a tar header: the ustar magic, or (v7 tar) a checksum
 * field that matches the block.
 *
 * @example
 * ```ts
 * isTarHeader((await Deno.readFile("a.tar")).subarray(0, 512)); // true
 * ```
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  if (cstr(block, 257, 5) === "ustar") return true;
  const stored = parseInt(cstr(block, 148, 8).trim(), 8);
  if (!Number.isFinite(stored)) return false;
  const [unsigned, signed] = checksums(block);
  return stored === unsigned || stored === signed;
}

type Mode = "header" | "data" | "meta" | "skip" | "done";

/**
 * Reads a tar stream pushed in pieces of any size. Errors are one-line LumenErrors naming the
 * archive and the header's byte offset; a member cut short is reported by {@link finish}.
 *
 * @example
 * ```ts
 * const names: string[] = [];
 * const s = new TarScanner("a.tar", { entry: (e) => names.push(e.name) });
 * s.push(await Deno.readFile("a.tar"));
 * s.finish();
 * ```
 */
export class TarScanner {
  /** Bytes consumed so far (the offset in the uncompressed archive). */
  pos = 0;
  private mode: Mode = "header";
  private head = new Uint8Array(512);
  private fill = 0;
  private left = 0; // data/meta bytes still to come
  private pad = 0; // padding to skip after them
  private cur: TarEntry | null = null;
  private report = false; // whether the data being read is a regular member's
  private metaBuf: Uint8Array | null = null;
  private metaFlag = "";
  private metaPlace = "";
  private paxPad = false; // the padding after a pax header: its first byte must be NUL
  private pending = ""; // name of the member whose data is being read, for errors
  private pendingPlace = "";
  private longName: string | null = null;
  private longLink: string | null = null;
  private pax: Map<string, string> | null = null;
  private readonly global = new Map<string, string>();

  /**
   * @param file the archive's name in errors
   * @param on what to call for each header, data piece and member end
   */
  constructor(readonly file: string, readonly on: TarScanHandlers = {}) {}

  /** True once the end-of-archive marker (a zero block) has been read. */
  get done(): boolean {
    return this.mode === "done";
  }

  /** Takes the next piece of the archive. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.mode !== "done") {
      const rest = chunk.length - i;
      if (this.mode === "header") {
        const n = Math.min(512 - this.fill, rest);
        this.head.set(chunk.subarray(i, i + n), this.fill);
        this.fill += n;
        i += n;
        this.pos += n;
        if (this.fill === 512) {
          this.fill = 0;
          this.header(this.pos - 512);
        }
      } else if (this.mode === "data" || this.mode === "meta") {
        const n = Math.min(this.left, rest);
        const piece = chunk.subarray(i, i + n);
        if (this.mode === "data") {
          if (this.report) this.on.data?.(this.cur!, piece);
        } else this.metaBuf!.set(piece, this.metaBuf!.length - this.left);
        this.left -= n;
        i += n;
        this.pos += n;
        if (this.left === 0) this.afterData();
      } else {
        const n = Math.min(this.pad, rest);
        if (this.paxPad && n > 0) {
          // tarfile reads a pax header's records on into its padding, up to a NUL
          this.paxPad = false;
          if (chunk[i] !== 0) {
            throw new LumenError(
              this.file,
              this.metaPlace,
              `malformed pax extended header (byte ${chunk[i]} after its records, not NUL)`,
            );
          }
        }
        this.pad -= n;
        i += n;
        this.pos += n;
        if (this.pad === 0) this.mode = "header";
      }
    }
  }

  /** Ends the stream: refuses a member cut short or a partial header with data in it. */
  finish(): void {
    if ((this.mode === "data" || this.mode === "meta") && this.left > 0) {
      const size = this.mode === "data" ? this.cur!.size : this.metaBuf!.length;
      throw new LumenError(
        this.file,
        `member '${this.pending}' (${this.pendingPlace})`,
        `data (${size} bytes) runs past the end of the archive; truncated?`,
      );
    }
    if (this.mode === "skip" && this.pad > 0) {
      throw new LumenError(
        this.file,
        `member '${this.pending}' (${this.pendingPlace})`,
        `the archive ends inside the padding after its data (${this.pad} bytes short); truncated?`,
      );
    }
    if (
      this.mode === "header" && this.fill > 0 && this.head.subarray(0, this.fill).some((x) => x)
    ) {
      throw new LumenError(
        this.file,
        `byte ${this.pos - this.fill}`,
        "truncated header at the end of the archive",
      );
    }
  }

  private afterData(): void {
    if (this.mode === "data") {
      if (this.report) this.on.end?.(this.cur!);
      this.report = false;
      this.cur = null;
    } else {
      const data = this.metaBuf!;
      this.metaBuf = null;
      if (this.metaFlag === "L") this.longName = cstr(data, 0, data.length);
      else if (this.metaFlag === "K") this.longLink = cstr(data, 0, data.length);
      else if (this.metaFlag === "x") this.pax = parsePax(data, this.file, this.metaPlace);
      else for (const [k, v] of parsePax(data, this.file, this.metaPlace)) this.global.set(k, v);
    }
    this.paxPad = this.mode === "meta" && (this.metaFlag === "x" || this.metaFlag === "g");
    this.mode = this.pad > 0 ? "skip" : "header";
  }

  private header(p: number): void {
    const h = this.head;
    const file = this.file;
    if (h.every((x) => x === 0)) {
      this.mode = "done"; // end-of-archive marker
      return;
    }
    const place = `header at byte ${p}`;
    const stored = num(h, 148, 8, file, place, "checksum");
    const [unsigned, signed] = checksums(h);
    if (stored !== unsigned && stored !== signed) {
      throw new LumenError(
        file,
        place,
        `checksum mismatch (stored ${stored}, computed ${unsigned}); not a tar archive or corrupt`,
      );
    }
    const flag = String.fromCharCode(h[156]);
    const magic = cstr(h, 257, 6);
    const ustar = magic === "ustar" && h[262] === 0; // POSIX ustar (GNU writes "ustar  ")
    let name = cstr(h, 0, 100);
    if (ustar) {
      const prefix = cstr(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let exact = numExact(h, 124, 12, file, place, "size");
    const ext = this.pax ? new Map([...this.global, ...this.pax]) : this.global;
    if (ext.has("size")) {
      const v = ext.get("size")!.trim();
      if (!/^\d+$/.test(v)) throw new LumenError(file, place, `bad size '${v}' in its pax header`);
      exact = BigInt(v);
    }
    if (exact < 0n || exact > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new LumenError(file, place, `bad size ${exact} (beyond 2^53 bytes, or negative)`);
    }
    const size = Number(exact);
    this.pending = this.longName ?? ext.get("path") ?? name;
    this.pendingPlace = place;
    const dataOffset = p + 512;
    const padded = Math.ceil(size / 512) * 512;
    if (flag === "L" || flag === "K" || flag === "x" || flag === "g") {
      if (size > TAR_MAX_META) {
        throw new LumenError(
          file,
          place,
          `${flag === "L" || flag === "K" ? "GNU long name" : "pax"} record of ${size} bytes ` +
            `is over the ${TAR_MAX_META}-byte limit; corrupt or hostile archive?`,
        );
      }
      this.metaBuf = new Uint8Array(size);
      this.metaFlag = flag;
      this.metaPlace = place;
      this.begin("meta", size, padded - size);
      return;
    }
    if (flag === "S") {
      throw new LumenError(file, `member '${name}'`, "GNU sparse files are not supported");
    }
    if (flag === "V") {
      this.begin("skip", 0, padded);
      return;
    }
    const type = typeOf(flag);
    const hasData = type === "file" || type === "other";
    let fullName = ext.get("path") ?? this.longName ?? name;
    if (type === "dir" && fullName.length > 1) fullName = fullName.replace(/\/+$/, "") || "/";
    const e: TarEntry = {
      name: fullName,
      type,
      typeflag: flag === "\0" ? "0" : flag,
      size: hasData ? size : 0,
      mode: num(h, 100, 8, file, place, "mode"),
      mtime: ext.has("mtime") ? Number(ext.get("mtime")) : num(h, 136, 12, file, place, "mtime"),
      linkname: ext.get("linkpath") ?? this.longLink ?? cstr(h, 157, 100),
      uid: ext.has("uid") ? Number(ext.get("uid")) : num(h, 108, 8, file, place, "uid"),
      gid: ext.has("gid") ? Number(ext.get("gid")) : num(h, 116, 8, file, place, "gid"),
      uname: ext.get("uname") ?? cstr(h, 265, 32),
      gname: ext.get("gname") ?? cstr(h, 297, 32),
      headerOffset: p,
      dataOffset,
    };
    this.longName = this.longLink = null;
    this.pax = null;
    this.on.entry?.(e);
    // a link's or directory's size field, if any, is skipped (it must still be in the archive)
    this.report = hasData;
    this.cur = hasData ? e : { ...e, size };
    this.begin("data", size, padded - size);
    if (size === 0 && hasData) {
      this.on.end?.(e);
      this.report = false;
      this.cur = null;
    }
  }

  private begin(mode: Mode, left: number, pad: number): void {
    this.mode = left > 0 ? mode : pad > 0 ? "skip" : "header";
    this.left = left;
    this.pad = pad;
  }
}

/**
 * Scans a tar or tar.gz file (gunzipped as it is read when it starts with the gzip magic or is
 * named `.gz`/`.tgz`), yielding to the event loop between pieces ({@link safePoint}). Stops
 * reading a plain tar at its end marker; a gzip stream is read to its end so that corrupt gzip
 * data is reported.
 *
 * @example
 * ```ts
 * const names: string[] = [];
 * await scanTarFile("a.tar.gz", { entry: (e) => names.push(e.name) });
 * ```
 */
export async function scanTarFile(path: string, on: TarScanHandlers): Promise<void> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (e) {
    await readInput(path); // the proper LumenError (not found, permission…)
    throw e;
  }
  const scanner = new TarScanner(path, on);
  const magic = new Uint8Array(2);
  let got: number;
  try {
    got = await f.read(magic) ?? 0;
    await f.seek(0, Deno.SeekMode.Start);
  } catch (e) {
    f.close();
    await readInput(path); // a directory…: the proper LumenError
    throw e;
  }
  if (got === 0) {
    f.close();
    throw new LumenError(path, "byte 0", "empty file (0 bytes), not a tar archive");
  }
  const gz = (got === 2 && magic[0] === 0x1f && magic[1] === 0x8b) || /\.(tgz|gz)$/i.test(path);
  if (gz && !(got === 2 && magic[0] === 0x1f && magic[1] === 0x8b)) {
    f.close();
    throw new LumenError(path, "byte 0", "invalid gzip data (no gzip magic 1f 8b)");
  }
  const stream: AsyncIterable<Uint8Array> = gz ? gunzipStream(f.readable, path) : f.readable;
  try {
    for await (const piece of stream) {
      if (!scanner.done) scanner.push(piece);
      else if (!gz) break;
      await safePoint();
    }
  } catch (e) {
    if (e instanceof LumenError) throw e;
    throw new LumenError(path, "", `cannot read: ${(e as Error).message}`);
  } finally {
    try {
      f.close();
    } catch { /* closed with its stream */ }
  }
  scanner.finish();
}
