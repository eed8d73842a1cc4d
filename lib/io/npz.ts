/**
 * NumPy `.npz` archives: a ZIP of `.npy` entries, stored (`np.savez`) or deflated
 * (`np.savez_compressed`), ZIP64 included.
 *
 * Array names are the entry names without `.npy`, as `np.load(...)[name]` uses them. Entries that
 * are not NPY files are listed by {@link listNpz} but not returned by {@link readNpz}.
 * {@link appendNpz} adds (or, with `overwrite`, replaces) one array and copies every other entry's
 * stored bytes unchanged, writing the new archive beside the old one and renaming it into place.
 *
 * @example
 * ```ts
 * import { readNpz, writeNpz, appendNpz } from "./npz.ts";
 * import { ndarray } from "./array.ts";
 * await writeNpz("a.npz", { x: ndarray(new Float32Array(4), [2, 2]) }, { compress: true });
 * await appendNpz("a.npz", "y", ndarray(new Int32Array([1, 2]), [2]));
 * const arrays = await readNpz("a.npz"); // Map { "x" => …, "y" => … }
 * ```
 * @module
 */
import { type DType, type NdArray } from "./array.ts";
import { LumenError } from "../run/errors.ts";
import { ioError, pathExists, readInputSync, tempPathBeside, writeAllSync } from "../run/atomic.ts";
import {
  decodeNpy,
  encodeNpyChunks,
  type NpyReadOptions,
  type NpyWriteOptions,
  parseNpyHeader,
} from "./npy.ts";
import {
  type ByteSource,
  fileSource,
  memorySource,
  type ZipEntry,
  zipEntryChunks,
  ZipReader,
  ZipWriter,
} from "./zip.ts";

/** What {@link listNpz} reports per entry. */
export interface NpzEntryInfo {
  /** Array name (entry name without ".npy"). */
  name: string;
  /** The entry name in the ZIP. */
  entry: string;
  /** True for deflated entries. */
  compressed: boolean;
  /** Bytes stored / uncompressed. */
  compressedSize: number;
  /** Uncompressed bytes. */
  size: number;
  /** Array shape and dtype, where the entry is an NPY file. */
  shape?: number[];
  /** Lumen dtype name. */
  dtype?: DType;
  /** True when the NPY data is in Fortran order. */
  fortranOrder?: boolean;
  /** NPY dtype as written ("<f4", ">i2"…). */
  descr?: string;
}

function arrayName(entry: string): string {
  return entry.endsWith(".npy") ? entry.slice(0, -4) : entry;
}

function openZip(path: string): ZipReader {
  let src: ByteSource;
  try {
    src = fileSource(path);
  } catch {
    readInputSync(path); // throws the proper LumenError (not found, directory…)
    throw new LumenError(path, "", "cannot read");
  }
  try {
    return new ZipReader(src, path);
  } catch (e) {
    src.close();
    throw e;
  }
}

function isNpy(b: Uint8Array): boolean {
  return b.length >= 6 && b[0] === 0x93 && b[1] === 0x4e && b[2] === 0x55 && b[3] === 0x4d;
}

function decodeEntries(
  zip: ZipReader,
  file: string,
  opts: NpyReadOptions,
): Map<string, NdArray> {
  const out = new Map<string, NdArray>();
  for (const e of zip.entries) {
    if (e.name.endsWith("/")) continue;
    const bytes = zip.read(e, opts.maxMemory);
    if (!isNpy(bytes)) continue;
    out.set(arrayName(e.name), decodeNpy(bytes, `${file}: ${e.name}`, opts));
  }
  return out;
}

/**
 * Decodes an NPZ archive held in memory into a Map from array name to array (C order).
 * Errors name the archive and, for a bad array, the entry: `a.npz: x.npy: byte 10, …`.
 */
export function decodeNpz(
  bytes: Uint8Array,
  file = "<npz>",
  opts: NpyReadOptions = {},
): Map<string, NdArray> {
  return decodeEntries(new ZipReader(memorySource(bytes), file), file, opts);
}

/**
 * Reads every array of an NPZ file (entries are read one at a time from the file); each member
 * is checked against the memory budget (`maxMemory`) before it is inflated and decoded.
 */
export function readNpz(path: string, opts: NpyReadOptions = {}): Promise<Map<string, NdArray>> {
  return Promise.resolve().then(() => {
    const zip = openZip(path);
    try {
      return decodeEntries(zip, path, opts);
    } finally {
      zip.close();
    }
  });
}

/** Reads one array of an NPZ file; the error lists the names that exist when it is missing. */
export function readNpzArray(
  path: string,
  name: string,
  opts: NpyReadOptions = {},
): Promise<NdArray> {
  return Promise.resolve().then(() => {
    const zip = openZip(path);
    try {
      const e = zip.get(`${name}.npy`) ?? zip.get(name);
      if (!e) {
        const names = zip.entries.map((x) => arrayName(x.name)).join(", ");
        throw new LumenError(
          path,
          name,
          `no such array (the archive holds: ${names || "nothing"})`,
        );
      }
      return decodeNpy(zip.read(e, opts.maxMemory), `${path}: ${e.name}`, opts);
    } finally {
      zip.close();
    }
  });
}

/**
 * Lists the entries of an NPZ file with the shape and dtype of each array (headers only: a
 * deflated member is inflated only as far as its NPY header).
 */
export async function listNpz(path: string): Promise<NpzEntryInfo[]> {
  await Promise.resolve();
  const zip = openZip(path);
  try {
    const out: NpzEntryInfo[] = [];
    for (const e of zip.entries) {
      const info: NpzEntryInfo = {
        name: arrayName(e.name),
        entry: e.name,
        compressed: e.method === 8,
        compressedSize: e.compressedSize,
        size: e.size,
      };
      if (e.method === 0 && e.size >= 10) {
        const head = zip.src.read(zip.dataOffset(e), Math.min(e.size, 65536 + 12));
        if (isNpy(head)) Object.assign(info, npyInfo(head, `${path}: ${e.name}`));
      } else if (e.name.endsWith(".npy")) {
        const head = await entryHead(zip, e, 65536 + 12);
        if (isNpy(head)) Object.assign(info, npyInfo(head, `${path}: ${e.name}`));
      }
      out.push(info);
    }
    return out;
  } finally {
    zip.close();
  }
}

/** The first `n` uncompressed bytes of an entry (fewer where it is shorter). */
async function entryHead(zip: ZipReader, e: ZipEntry, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  for await (const piece of zipEntryChunks(zip, e, 1 << 16)) {
    parts.push(piece);
    got += piece.length;
    if (got >= n) break;
  }
  const all = new Uint8Array(got);
  let o = 0;
  for (const p of parts) all.set(p, o), o += p.length;
  return all;
}

function npyInfo(bytes: Uint8Array, file: string) {
  const h = parseNpyHeader(bytes, file);
  return { shape: h.shape, dtype: h.dtype, fortranOrder: h.fortranOrder, descr: h.descr };
}

/** Options of {@link writeNpz}. */
export interface NpzWriteOptions extends NpyWriteOptions {
  /** Deflate the entries, as np.savez_compressed does (default false, as np.savez). */
  compress?: boolean;
  /** Replace an existing file (default false). */
  overwrite?: boolean;
  /** Write ZIP64 extra fields for every entry, as NumPy does (default false). */
  forceZip64?: boolean;
}

/** Streams a new archive to a temporary file beside `path`, then renames it in place. */
function writeArchive(
  path: string,
  overwrite: boolean,
  fill: (w: ZipWriter) => void,
  forceZip64 = false,
): void {
  if (!overwrite && pathExists(path)) throw new LumenError(path, "", "exists; pass --overwrite");
  const tmp = tempPathBeside(path);
  let f: Deno.FsFile | undefined;
  try {
    f = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o644 });
    const file = f;
    const w = new ZipWriter((b) => writeAllSync(file, b), { forceZip64 });
    fill(w);
    w.finish();
    f.syncDataSync();
    f.close();
    f = undefined;
    if (overwrite) Deno.renameSync(tmp, path);
    else {
      try {
        Deno.linkSync(tmp, path);
        Deno.removeSync(tmp);
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists) throw e;
        Deno.renameSync(tmp, path);
      }
    }
  } catch (e) {
    try {
      f?.close();
    } catch { /* closed */ }
    try {
      Deno.removeSync(tmp);
    } catch { /* absent */ }
    throw ioError(path, e);
  }
}

function entriesOf(arrays: Record<string, NdArray> | Map<string, NdArray>): [string, NdArray][] {
  return arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
}

/**
 * Writes arrays to an NPZ file (atomically): stored like `np.savez`, or deflated like
 * `np.savez_compressed` with `compress`.
 *
 * @example
 * ```ts
 * await writeNpz("out.npz", new Map([["proj", arr]]), { compress: true, overwrite: true });
 * ```
 */
export function writeNpz(
  path: string,
  arrays: Record<string, NdArray> | Map<string, NdArray>,
  opts: NpzWriteOptions = {},
): Promise<void> {
  return Promise.resolve().then(() =>
    writeArchive(path, opts.overwrite ?? false, (w) => {
      for (const [name, arr] of entriesOf(arrays)) {
        w.add(`${name}.npy`, encodeNpyChunks(arr, opts), { compress: opts.compress });
      }
    }, opts.forceZip64)
  );
}

/** Encodes arrays as NPZ bytes in memory. */
export function encodeNpz(
  arrays: Record<string, NdArray> | Map<string, NdArray>,
  opts: Omit<NpzWriteOptions, "overwrite"> = {},
): Uint8Array {
  const parts: Uint8Array[] = [];
  const w = new ZipWriter((b) => parts.push(b.slice()), { forceZip64: opts.forceZip64 });
  for (const [name, arr] of entriesOf(arrays)) {
    w.add(`${name}.npy`, encodeNpyChunks(arr, opts), { compress: opts.compress });
  }
  w.finish();
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** Options of {@link appendNpz}. */
export interface NpzAppendOptions extends NpyWriteOptions {
  /** Replace an entry of the same name (default false: refuse). */
  overwrite?: boolean;
  /** Deflate the new entry; default: deflate if any existing entry is deflated. */
  compress?: boolean;
}

/**
 * Adds the array `name` to the NPZ file at `path` (creating the file if absent). Every other
 * entry is copied as stored (no recompression, same CRC and timestamps). The new archive is
 * written beside the old one and renamed in place, so a failure leaves the old file untouched.
 * An entry of the same name is refused unless `overwrite`, which replaces it where it stood.
 *
 * @example
 * ```ts
 * await appendNpz("scan.npz", "angles", angles);
 * await appendNpz("scan.npz", "angles", fixed, { overwrite: true });
 * ```
 */
export function appendNpz(
  path: string,
  name: string,
  array: NdArray,
  opts: NpzAppendOptions = {},
): Promise<void> {
  return Promise.resolve().then(() => {
    const chunks = encodeNpyChunks(array, opts);
    putEntry(path, name, opts.overwrite ?? false, (w, entry, compress) => {
      w.add(entry, chunks, { compress: opts.compress ?? compress });
    });
  });
}

/** An entry deflated elsewhere: the CRC-32 and size of its NPY bytes, and the deflated pieces. */
export interface DeflatedNpy {
  crc32: number;
  size: number;
  data: Uint8Array[];
}

/**
 * {@link appendNpz} for an entry already deflated (raw deflate of its `.npy` bytes), e.g. one too
 * large to hold uncompressed that was deflated as it was made.
 *
 * @example
 * ```ts
 * appendDeflatedNpy("masks.npz", "m119617", { crc32, size, data: parts }, false);
 * ```
 */
export function appendDeflatedNpy(
  path: string,
  name: string,
  entry: DeflatedNpy,
  overwrite: boolean,
): void {
  putEntry(path, name, overwrite, (w, n) => {
    w.addRaw({ name: n, method: 8, crc32: entry.crc32, size: entry.size, data: entry.data });
  });
}

/**
 * Writes the archive at `path` with the entry `name` added by `add` (in place of one of the same
 * name when `overwrite`, else refused), every other entry copied as stored. `add` is told
 * whether the archive already holds deflated entries.
 */
function putEntry(
  path: string,
  name: string,
  overwrite: boolean,
  add: (w: ZipWriter, entry: string, compress: boolean) => void,
): void {
  const entry = name.endsWith(".npy") ? name : `${name}.npy`;
  if (!pathExists(path)) {
    writeArchive(path, false, (w) => add(w, entry, false));
    return;
  }
  const zip = openZip(path);
  try {
    const old = zip.entries.find((e) => e.name === entry);
    if (old && !overwrite) throw new LumenError(path, entry, "entry exists; pass --overwrite");
    const compress = zip.entries.some((e) => e.method === 8);
    writeArchive(path, true, (w) => {
      let placed = false;
      for (const e of zip.entries) {
        if (e === old) {
          add(w, entry, compress);
          placed = true;
          continue;
        }
        w.addRaw({
          name: e.name,
          method: e.method,
          crc32: e.crc32,
          size: e.size,
          data: zip.raw(e),
          dosTime: e.dosTime,
          dosDate: e.dosDate,
          externalAttr: e.externalAttr,
        });
      }
      if (!placed) add(w, entry, compress);
    });
  } finally {
    zip.close();
  }
}
