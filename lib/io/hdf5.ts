/**
 * HDF5 (and NeXus, which is HDF5) through h5wasm: open for reading or writing, walk the tree
 * (groups, datasets with shape, dtype, chunks and filters, soft and external links, attributes),
 * read whole datasets or hyperslabs (only the selected bytes are read), write chunked,
 * deflate-compressed datasets with attributes.
 *
 * External links are followed by Lumen itself, relative to the directory of the file that holds
 * the link (the NeXus convention; h5wasm's node build reads the real filesystem, and HDF5 would
 * otherwise also try the working directory). The target files stay open while the file is, so
 * repeated hyperslab reads through a link cost no re-open.
 *
 * Errors about the user's input are {@link LumenError}s naming the file: not an HDF5 file,
 * truncated file, missing path (the message lists the paths that do exist nearby), selections
 * out of range, filters h5wasm lacks.
 *
 * @example
 * ```ts
 * import { H5File } from "./hdf5.ts";
 * const f = await H5File.open("scan.nxs");
 * const info = f.dataset("/entry1/tomo_entry/data/data");   // shape, dtype, chunks, filters
 * const frame = f.read("/entry1/tomo_entry/data/data", [5, null, [0, 100]]); // (rows, 100)
 * f.close();
 *
 * const out = await H5File.open("/tmp/out.h5", "w");
 * out.write("/entry/data/volume", frame, { chunks: [64, 100], compression: 4,
 *   attrs: { units: "counts" } });
 * out.close();
 * ```
 * @module
 */
import { f16ToF32 } from "./float16.ts";
import { H5Layout, LayoutProblem } from "./hdf5_layout.ts";
import { DirectDataset, DirectReadError } from "./hdf5_direct.ts";
import { h5wasm } from "../deps.ts";
import { LumenError } from "../run/errors.ts";
import {
  type DType,
  DTYPE_SIZE,
  type NdArray,
  ndarray,
  sizeOf,
  TYPED_ARRAY,
  type TypedArray,
} from "./array.ts";
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve as resolvePath } from "node:path";

// ---------------------------------------------------------------------------------------------
// The parts of h5wasm's Emscripten module used here (its high-level classes copy every read
// twice and resolve external links through HDF5 on every call).

interface H5Meta {
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  vlen: boolean;
  cset?: number;
  shape: number[] | null;
  maxshape: number[] | null;
  chunks: number[] | null;
  total_size: number;
  enum_type?: { members: Record<string, number>; nmembers: number; type: number };
  compound_type?: unknown;
  array_type?: unknown;
  virtual_sources?: { file_name: string; dset_name: string }[];
}

interface H5Mod {
  HEAPU8: Uint8Array;
  MAXIMUM_MEMORY: number;
  H5G_GROUP: number;
  H5G_DATASET: number;
  H5G_TYPE: number;
  _malloc(n: number): number;
  _free(p: number): void;
  open(filename: string, mode: number, track: boolean, lo: number, hi: number): bigint;
  close_file(fid: bigint): number;
  flush(fid: bigint): number;
  H5F_ACC_RDONLY: number;
  H5F_ACC_RDWR: number;
  H5F_ACC_TRUNC: number;
  H5F_ACC_EXCL: number;
  get_type(fid: bigint, path: string): number;
  get_names(fid: bigint, path: string, recursive: boolean): string[];
  get_symbolic_link(fid: bigint, path: string): string | null;
  create_object_reference(fid: bigint, path: string): Uint8Array;
  get_external_link(fid: bigint, path: string): { filename?: string; obj_path?: string };
  get_dataset_metadata(fid: bigint, path: string): H5Meta;
  get_dataset_filters(
    fid: bigint,
    path: string,
  ): { id: number; name: string; cd_values: number[] }[];
  get_dataset_data(
    fid: bigint,
    path: string,
    count: bigint[] | null,
    offset: bigint[] | null,
    stride: bigint[] | null,
    ptr: bigint,
  ): number;
  set_dataset_data(
    fid: bigint,
    path: string,
    count: bigint[] | null,
    offset: bigint[] | null,
    stride: bigint[] | null,
    ptr: bigint,
  ): number;
  resize_dataset(fid: bigint, path: string, shape: bigint[]): number;
  get_attribute_names(fid: bigint, path: string): string[];
  get_attribute_metadata(fid: bigint, path: string, name: string): H5Meta;
  delete_attribute(fid: bigint, path: string, name: string): number;
  create_group(fid: bigint, path: string, track: boolean): number;
  create_soft_link(fid: bigint, target: string, name: string): number;
  create_external_link(fid: bigint, file: string, target: string, name: string): number;
  activate_throwing_error_handler(): number;
  deactivate_throwing_error_handler(): number;
}

// h5wasm's high-level classes, used for attributes and dataset creation (type conversions).
// deno-lint-ignore no-explicit-any
type HlClass = any;

const H5T_INTEGER = 0, H5T_FLOAT = 1, H5T_STRING = 3, H5T_ENUM = 8;

let mod: H5Mod | null = null;

/**
 * Waits for h5wasm's module (once per process).
 *
 * Emscripten copies the whole environment into the module at start-up (`for (x in process.env)`),
 * which would make every HDF5 tool need unscoped `--allow-env`. That start-up begins when h5wasm
 * is imported, so lib/deps.ts hides the environment from it from the start (lib/io/h5wasm_env.ts;
 * HDF5 reads none of it for plain file access), and tools run with `--allow-read`/`--allow-write`
 * alone.
 */
async function h5mod(): Promise<H5Mod> {
  if (!mod) mod = (await h5wasm.ready) as unknown as H5Mod;
  return mod;
}

/**
 * Runs a synchronous HDF5 call with `Date.now()` pinned to 0. HDF5 stamps object headers with the
 * time Emscripten's `time()` gives, which reads `Date.now()`; pinning it during every call that
 * writes makes a file's bytes depend on its content only (same seed → same bytes). Synchronous,
 * so no other code ever sees the pinned clock.
 */
function atEpoch<T>(fn: () => T): T {
  const now = Date.now;
  Date.now = () => 0;
  try {
    return fn();
  } finally {
    Date.now = now;
  }
}

/** The last, most specific line of an HDF5 error stack ("truncated file: eof = …"). */
function hdf5Reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg.split("\n");
  let reason = "";
  for (const l of lines) {
    const m = l.match(/#\d+: .* in [\w.]+\(\): (.*)$/);
    if (m) reason = m[1].trim();
  }
  if (/Requires write access to "?\/tmp\/tmpfile_/.test(msg)) {
    // HDF5 prints its error stack through a temporary file, which --allow-read alone forbids
    return "HDF5 rejected the file as corrupt (its detailed reason needs a temporary file: " +
      "run with --allow-write=/tmp to see it)";
  }
  return reason || lines.find((l) => l.trim())?.trim() || "HDF5 error";
}

/** Runs h5wasm calls with HDF5's error stack turned into one LumenError (and not printed). */
function guarded<T>(file: string, place: string, what: string, fn: () => T): T {
  const M = mod!;
  M.activate_throwing_error_handler();
  try {
    return fn();
  } catch (e) {
    if (e instanceof LumenError) throw e;
    throw new LumenError(file, place, `${what}: ${hdf5Reason(e)}`);
  } finally {
    M.deactivate_throwing_error_handler();
  }
}

// ---------------------------------------------------------------------------------------------
// Public types

/** An attribute value as read: strings, numbers (bigint for 64-bit integers beyond 2^53),
 * booleans (h5py bool), string lists, or an NdArray for numeric arrays. */
export type AttrValue = string | number | bigint | boolean | string[] | NdArray | null;

/** An attribute value to write: as {@link AttrValue}, or a plain number list or typed array.
 * Integers are written as int64 and other numbers as float64 (as h5py does); booleans as uint8. */
export type AttrInput = AttrValue | number[] | TypedArray;

/** A filter in a dataset's pipeline. */
export interface H5Filter {
  /** HDF5 filter id (1 deflate, 2 shuffle, 3 fletcher32, 32001 blosc, 32004 lz4, …). */
  id: number;
  /** Name stored in the file, or the registered name. */
  name: string;
  /** Client data values (deflate: [level]). */
  values: number[];
}

/** What a dataset holds. */
export interface H5DatasetInfo {
  /** Discriminant. */
  kind: "dataset";
  /** Path as asked (in the file opened). */
  path: string;
  /** The file that holds the data (differs from the opened one behind an external link). */
  file: string;
  /** Path inside `file`. */
  localPath: string;
  /** Extent of each axis ([] for a scalar); beyond 2^53 the nearest double (see exactShape). */
  shape: number[];
  /** The extents read exactly from the dataspace message, where one is beyond 2^53. */
  exactShape?: bigint[];
  /** NumPy dtype name; also "float16", "string", "compound", "enum", "other". */
  dtype: DType | "float16" | "string" | "compound" | "enum" | "other";
  /** Bytes per element. */
  itemsize: number;
  /** Chunk shape, or null for contiguous/compact storage. */
  chunks: number[] | null;
  /** Maximum shape (-1 for unlimited axes). */
  maxshape: number[];
  /** The filter pipeline, in order. */
  filters: H5Filter[];
  /** h5py's name for the compression filter ("gzip", "lzf", "szip", "blosc", …) or null. */
  compression: string | null;
  /** Deflate level (gzip), else null. */
  compressionLevel: number | null;
  /** Attributes. */
  attrs: Record<string, AttrValue>;
}

/** A group. */
export interface H5GroupInfo {
  /** Discriminant. */
  kind: "group";
  /** Path as asked. */
  path: string;
  /** The file that holds the group. */
  file: string;
  /** Path inside `file`. */
  localPath: string;
  /** Attributes. */
  attrs: Record<string, AttrValue>;
}

/** A soft or external link (as seen in the tree walk), with what it resolves to. */
export interface H5LinkInfo {
  /** Discriminant. */
  kind: "softlink" | "externallink";
  /** Where the link is. */
  path: string;
  /** Target path (inside `targetFile` for external links). */
  target: string;
  /** External links: the file name as stored. */
  targetFile?: string;
  /** External links: the file name resolved against the linking file's directory. */
  resolvedFile?: string;
  /** The object it points at, or null when the link is broken. */
  resolved: H5DatasetInfo | H5GroupInfo | null;
}

/** One entry of {@link H5File.walk}. */
export type H5Node = H5DatasetInfo | H5GroupInfo | H5LinkInfo;

/**
 * A selection along each axis: `null` (all), an index (the axis is dropped from the result),
 * `[start, stop]` or `[start, stop, step]` (stop exclusive; negative values count from the end).
 */
export type H5Selection = (number | null | [number, number] | [number, number, number])[];

/** Options of {@link H5File.write} and {@link H5File.createDataset}. */
export interface H5WriteOptions {
  /** Chunk shape; `true` picks one (as h5py does); default: contiguous unless compressed. */
  chunks?: number[] | true;
  /** Deflate ("gzip") level 0–9, or "gzip" for level 4. Implies chunks. */
  compression?: number | "gzip" | null;
  /** Attributes to set on the dataset. */
  attrs?: Record<string, AttrInput>;
}

// ---------------------------------------------------------------------------------------------
// Helpers

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the file carries the HDF5 signature at byte 0, 512, 1024, 2048, … */
function hasSignature(path: string, size: number): boolean {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      if (readSync(fd, buf, 0, 8, off) === 8 && SIGNATURE.every((b, i) => buf[i] === b)) {
        return true;
      }
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * The superblock's end-of-file address made absolute, where the file is shorter than that
 * ([size, stored end]); null otherwise. Read before HDF5 opens the file, because HDF5's own
 * report of a truncated file needs a temporary file, which `--allow-read` alone forbids.
 */
function truncatedAt(path: string, size: number): [number, number] | null {
  const fd = openSync(path, "r");
  try {
    const buf = new Uint8Array(64);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      const n = readSync(fd, buf, 0, 64, off);
      if (n < 8 || !SIGNATURE.every((b, i) => buf[i] === b)) continue;
      const dv = new DataView(buf.buffer);
      const v = buf[8];
      const o = v >= 2 ? buf[9] : buf[13];
      const at = v >= 2 ? 12 : v === 1 ? 28 : 24; // base address
      if (o !== 8 && o !== 4) return null;
      const addr = (p: number) =>
        o === 8 ? Number(dv.getBigUint64(p, true)) : dv.getUint32(p, true);
      if (at + 3 * o > n) return null;
      const full = o === 8 ? 2 ** 64 - 1 : 2 ** 32 - 1;
      const base = addr(at), eof = addr(at + 2 * o);
      if (eof >= full || base >= full) return null;
      return base + eof > size ? [size, base + eof] : null;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

function normPath(p: string): string {
  const parts = p.split("/").filter((s) => s && s !== ".");
  return "/" + parts.join("/");
}

function join(group: string, name: string): string {
  return group === "/" ? `/${name}` : `${group}/${name}`;
}

function dtypeOfMeta(m: H5Meta): H5DatasetInfo["dtype"] {
  if (m.type === H5T_INTEGER) {
    const s = m.signed ? "int" : "uint";
    if ([1, 2, 4, 8].includes(m.size)) return `${s}${m.size * 8}` as DType;
    return "other";
  }
  if (m.type === H5T_FLOAT) {
    if (m.size === 4) return "float32";
    if (m.size === 8) return "float64";
    if (m.size === 2) return "float16";
    return "other";
  }
  if (m.type === H5T_ENUM) {
    const mem = m.enum_type?.members ?? {};
    const keys = Object.keys(mem);
    if (keys.length === 2 && mem.FALSE === 0 && mem.TRUE === 1 && m.size === 1) return "bool";
    return "enum";
  }
  if (m.type === H5T_STRING) return "string";
  if (m.type === 6) return "compound";
  return "other";
}

/** The dtype that a read returns (float16 widens to float32; enums read as their integers). */
function readDtype(m: H5Meta): DType | null {
  const d = dtypeOfMeta(m);
  if (d === "float16") return "float32";
  if (d === "enum") {
    const s = m.signed ? "int" : "uint";
    return [1, 2, 4, 8].includes(m.size) ? `${s}${m.size * 8}` as DType : null;
  }
  if (d === "string" || d === "compound" || d === "other") return null;
  return d;
}

const H5WASM_DTYPE: Record<DType, string> = {
  bool: "<B",
  int8: "<b",
  uint8: "<B",
  int16: "<h",
  uint16: "<H",
  int32: "<i",
  uint32: "<I",
  int64: "<q",
  uint64: "<Q",
  float32: "<f",
  float64: "<d",
};

const FILTER_NAMES: Record<number, string> = {
  1: "gzip",
  2: "shuffle",
  3: "fletcher32",
  4: "szip",
  5: "nbit",
  6: "scaleoffset",
  307: "bzip2",
  32000: "lzf",
  32001: "blosc",
  32004: "lz4",
  32008: "bitshuffle",
  32015: "zstd",
  32026: "blosc2",
};
/** Filters h5wasm's core build decodes (deflate, shuffle, fletcher32, nbit, scaleoffset). */
const BUILTIN_FILTERS = new Set([1, 2, 3, 5, 6]);
const COMPRESSORS = new Set([1, 4, 307, 32000, 32001, 32004, 32008, 32015, 32026]);

/** h5py's chunk guess: a chunk near 8 KiB–1 MiB, halving axes in turn. */
export function guessChunks(shape: readonly number[], itemsize: number): number[] {
  if (shape.length === 0) return [];
  const chunks = shape.map((d) => Math.max(1, d));
  const total = sizeOf(chunks) * itemsize;
  const target = Math.min(1 << 20, Math.max(8192, 16384 * 2 ** Math.log10(total / (1 << 20))));
  let i = 0;
  for (let guard = 0; guard < 10000; guard++) {
    const bytes = sizeOf(chunks) * itemsize;
    if (bytes < target || (Math.abs(bytes - target) / target < 0.5 && bytes < 1 << 20)) break;
    if (sizeOf(chunks) === 1) break;
    const ax = i % chunks.length;
    chunks[ax] = Math.ceil(chunks[ax] / 2);
    i++;
  }
  return chunks;
}

// ---------------------------------------------------------------------------------------------

interface Handle {
  /** Absolute file name. */
  name: string;
  fid: bigint;
}

interface Resolved {
  h: Handle;
  /** Path inside h. */
  local: string;
  /** H5G object type there. */
  type: number;
}

/**
 * An open HDF5 file. Paths are absolute inside the file (a leading "/" may be omitted).
 * Not thread-safe (h5wasm is synchronous); close it when done.
 */
export class H5File {
  /** The file as named by the caller. */
  readonly path: string;
  /** Its absolute path. */
  readonly absPath: string;
  /** "r" read-only, "a" read/write, "w" created (truncated), "x" created (must not exist). */
  readonly mode: "r" | "a" | "w" | "x";
  private readonly M: H5Mod;
  private readonly root: Handle;
  private readonly linked = new Map<string, Handle>();
  private readonly resolvedCache = new Map<string, Resolved | null>();
  private readonly namesCache = new Map<string, string[]>();
  private readonly metaCache = new Map<string, H5Meta>();
  private readonly layouts = new Map<string, H5Layout | null>();
  private readonly directs = new Map<string, DirectDataset | string>();
  /** Bytes that {@link withHyperslab} reads through the direct path go to, kept between calls. */
  private hyperslabBuf = new Uint8Array(0);
  private readonly directReads: boolean;
  private closed = false;

  private constructor(
    path: string,
    abs: string,
    mode: H5File["mode"],
    M: H5Mod,
    fid: bigint,
    direct: boolean,
  ) {
    this.path = path;
    this.absPath = abs;
    this.mode = mode;
    this.M = M;
    this.root = { name: abs, fid };
    this.directReads = direct && mode === "r";
  }

  /**
   * Opens (or creates) an HDF5 file.
   *
   * @param path the file
   * @param mode "r" (default), "a" read/write, "w" create or truncate, "x" create, must not exist
   * @param opts `direct: false` reads every dataset through HDF5 (default: uncompressed datasets
   *   of a file opened "r" are read with positioned reads, lib/io/hdf5_direct.ts)
   * @throws LumenError when the file is missing, not HDF5, truncated or otherwise unreadable
   */
  static async open(
    path: string,
    mode: H5File["mode"] = "r",
    opts: { direct?: boolean } = {},
  ): Promise<H5File> {
    const M = await h5mod();
    const abs = resolvePath(path);
    if (mode === "r" || mode === "a") {
      if (!existsSync(abs)) throw new LumenError(path, "", "no such file");
      const st = statSync(abs);
      if (!st.isFile()) throw new LumenError(path, "", "not a regular file");
      if (st.size < 8 || !hasSignature(abs, st.size)) {
        throw new LumenError(path, "", `not an HDF5 file (no HDF5 signature; ${st.size} bytes)`);
      }
      const cut = truncatedAt(abs, st.size);
      if (cut) {
        throw new LumenError(
          path,
          "",
          `truncated HDF5 file: it has ${cut[0]} bytes, its superblock says ${cut[1]}`,
        );
      }
    } else if (mode === "x" && existsSync(abs)) {
      throw new LumenError(path, "", "already exists");
    }
    const access = {
      r: M.H5F_ACC_RDONLY,
      a: M.H5F_ACC_RDWR,
      w: M.H5F_ACC_TRUNC,
      x: M.H5F_ACC_EXCL,
    }[mode];
    M.activate_throwing_error_handler();
    let fid: bigint;
    try {
      fid = atEpoch(() => M.open(abs, access, false, -1, -1));
    } catch (e) {
      const reason = hdf5Reason(e);
      const m = reason.match(/truncated file: eof = (\d+).*stored_eof = (\d+)/);
      if (m) {
        throw new LumenError(
          path,
          "",
          `truncated HDF5 file: it has ${m[1]} bytes, its superblock says ${m[2]}`,
        );
      }
      throw new LumenError(path, "", `cannot open as HDF5 (${mode}): ${reason}`);
    } finally {
      M.deactivate_throwing_error_handler();
    }
    if (fid < 0n) throw new LumenError(path, "", `cannot open as HDF5 (${mode})`);
    return new H5File(path, abs, mode, M, fid, opts.direct ?? true);
  }

  /**
   * The files this one has read so far: itself, then every file opened through its external
   * links (absolute paths), so that a provenance record can hash all the data behind a read.
   *
   * @example
   * ```ts
   * const f = await H5File.open("k11-18014.nxs");
   * f.read("/entry/imaging/data"); // an external link into k11-18014-imaging.h5
   * f.filesRead(); // ["/…/k11-18014.nxs", "/…/k11-18014-imaging.h5"]
   * ```
   */
  filesRead(): string[] {
    return [this.root.name, ...this.linked.keys()];
  }

  /** Closes the file and every file opened through its external links. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.linked.values()) this.M.close_file(h.fid);
    this.linked.clear();
    for (const l of this.layouts.values()) l?.close();
    this.layouts.clear();
    this.directs.clear();
    this.M.close_file(this.root.fid);
  }

  /** Writes buffered changes to disk. */
  flush(): void {
    this.M.flush(this.root.fid);
  }

  private live(): void {
    if (this.closed) throw new LumenError(this.path, "", "file is closed");
  }

  private names(h: Handle, group: string): string[] {
    const key = `${h.name}\0${group}`;
    let n = this.namesCache.get(key);
    if (!n) {
      n = guarded(
        this.path,
        group,
        "cannot list group",
        () => this.M.get_names(h.fid, group, false),
      );
      this.namesCache.set(key, n);
    }
    return n;
  }

  private openLinked(from: Handle, filename: string, linkPath: string): Handle {
    const abs = isAbsolute(filename) ? filename : resolvePath(dirname(from.name), filename);
    if (abs === this.root.name) return this.root;
    let h = this.linked.get(abs);
    if (h) return h;
    if (!existsSync(abs)) {
      throw new LumenError(
        this.path,
        linkPath,
        `external link to ${filename}: ${abs} does not exist (links resolve relative to the linking file)`,
      );
    }
    const M = this.M;
    const fid = guarded(
      this.path,
      linkPath,
      `cannot open external link target ${abs}`,
      () => M.open(abs, M.H5F_ACC_RDONLY, false, -1, -1),
    );
    h = { name: abs, fid };
    this.linked.set(abs, h);
    return h;
  }

  /**
   * Follows a path through soft and external links to the object it names, or null where some
   * component does not exist. Every resolved prefix is cached.
   */
  private resolve(path: string): Resolved | null {
    const key = normPath(path);
    if (this.resolvedCache.has(key)) return this.resolvedCache.get(key)!;
    const M = this.M;
    let comps = key.split("/").filter(Boolean);
    let h = this.root;
    let cur = "/";
    let type = M.H5G_GROUP;
    let result: Resolved | null = null;
    let hops = 0;
    outer: {
      for (let i = 0; i < comps.length; i++) {
        if (type !== M.H5G_GROUP) break outer;
        const name = comps[i];
        if (!this.names(h, cur).includes(name)) break outer;
        const p = join(cur, name);
        const ext = guarded(this.path, p, "cannot read link", () => M.get_external_link(h.fid, p));
        if (ext && ext.filename !== undefined) {
          if (++hops > 40) throw new LumenError(this.path, key, "too many levels of links");
          h = this.openLinked(h, ext.filename, p);
          comps = [...(ext.obj_path ?? "/").split("/").filter(Boolean), ...comps.slice(i + 1)];
          cur = "/";
          type = M.H5G_GROUP;
          i = -1;
          continue;
        }
        const soft = guarded(this.path, p, "cannot read link", () => M.get_symbolic_link(h.fid, p));
        if (soft) {
          if (++hops > 40) throw new LumenError(this.path, key, "too many levels of links");
          const target = soft.startsWith("/") ? soft : join(cur, soft);
          comps = [...target.split("/").filter(Boolean), ...comps.slice(i + 1)];
          cur = "/";
          type = M.H5G_GROUP;
          i = -1;
          continue;
        }
        cur = p;
        type = guarded(this.path, p, "cannot read object", () => M.get_type(h.fid, p));
        if (type < 0) break outer;
      }
      result = { h, local: cur, type };
    }
    this.resolvedCache.set(key, result);
    return result;
  }

  /** True when `path` names an existing group or dataset (following links). */
  has(path: string): boolean {
    this.live();
    return this.resolve(path) !== null;
  }

  /** True when `path` names a dataset. */
  isDataset(path: string): boolean {
    this.live();
    const r = this.resolve(path);
    return r !== null && r.type === this.M.H5G_DATASET;
  }

  /** True when `path` names a group. */
  isGroup(path: string): boolean {
    this.live();
    const r = this.resolve(path);
    return r !== null && r.type === this.M.H5G_GROUP;
  }

  /** The names in a group (links included, not followed). */
  list(group = "/"): string[] {
    this.live();
    const r = this.resolve(group);
    if (!r || r.type !== this.M.H5G_GROUP) throw this.missing(group, "group");
    return [...this.names(r.h, r.local)];
  }

  /**
   * Every path that exists under `group` (recursively; links listed, not followed), for error
   * messages and listings.
   */
  paths(group = "/"): string[] {
    this.live();
    const r = this.resolve(group);
    if (!r || r.type !== this.M.H5G_GROUP) return [];
    const rel = guarded(
      this.path,
      group,
      "cannot list group",
      () => this.M.get_names(r.h.fid, r.local, true),
    );
    const base = normPath(group);
    return rel.map((n) => join(base, n)).sort();
  }

  /** The error for a path that does not exist, listing the paths nearby. */
  private missing(path: string, what: "dataset" | "group" | "dataset or group"): LumenError {
    const key = normPath(path);
    const comps = key.split("/").filter(Boolean);
    let anc = "/";
    for (let i = comps.length - 1; i >= 1; i--) {
      const a = "/" + comps.slice(0, i).join("/");
      if (this.isGroup(a)) {
        anc = a;
        break;
      }
    }
    let all = this.paths(anc);
    if (all.length === 0 && anc !== "/") all = this.paths("/");
    const want = comps[comps.length - 1] ?? "";
    const score = (p: string) => {
      const base = p.slice(p.lastIndexOf("/") + 1);
      let s = 0;
      if (base === want) s += 100;
      else if (base.toLowerCase().includes(want.toLowerCase())) s += 50;
      const pc = p.split("/").filter(Boolean);
      for (const c of pc) if (comps.includes(c)) s += 10;
      return s - pc.length;
    };
    const limit = 40;
    const shown = all.length > limit
      ? [...all].sort((a, b) => score(b) - score(a) || (a < b ? -1 : 1)).slice(0, limit).sort()
      : all;
    const more = all.length > shown.length ? ` … and ${all.length - shown.length} more` : "";
    const where = anc === "/" ? "in the file" : `under ${anc}`;
    return new LumenError(
      this.path,
      key,
      `no such ${what}; paths ${where}: ${shown.join(", ") || "(none)"}${more}`,
    );
  }

  private meta(r: Resolved): H5Meta {
    const key = `${r.h.name}\0${r.local}`;
    let m = this.metaCache.get(key);
    if (!m) {
      m = guarded(
        this.path,
        r.local,
        "cannot read dataset",
        () => this.M.get_dataset_metadata(r.h.fid, r.local),
      );
      this.metaCache.set(key, m);
    }
    return m;
  }

  private resolveDataset(path: string): Resolved {
    this.live();
    const r = this.resolve(path);
    if (!r) throw this.missing(path, "dataset");
    if (r.type !== this.M.H5G_DATASET) {
      throw new LumenError(this.path, normPath(path), "is a group, not a dataset");
    }
    return r;
  }

  /** The layout of a handle's file (lib/io/hdf5_layout.ts), or null where it has none. */
  private layout(h: Handle): H5Layout | null {
    if (!this.layouts.has(h.name)) this.layouts.set(h.name, H5Layout.open(h.name));
    return this.layouts.get(h.name)!;
  }

  /** The address of an object's header (its object reference), or null. */
  private address(h: Handle, local: string): bigint | null {
    try {
      const ref = this.M.create_object_reference(h.fid, local);
      let a = 0n;
      for (let i = ref.length - 1; i >= 0; i--) a = (a << 8n) | BigInt(ref[i]);
      return a;
    } catch {
      return null;
    }
  }

  /**
   * Checks an object's header in the bytes (lib/io/hdf5_layout.ts): damage that h5wasm's HDF5
   * skips without a word (an attribute it leaves out, a continuation block cut at the end of the
   * file, a group's B-tree or name heap out of bounds) is one LumenError.
   */
  private checkObject(h: Handle, local: string, shownPath: string, names: number): void {
    const lay = this.layout(h);
    const addr = lay ? this.address(h, local) : null;
    if (!lay || addr === null) return;
    const c = lay.check(addr);
    if (c.problem) {
      throw new LumenError(
        this.path,
        shownPath,
        `damaged object header: ${c.problem}; corrupt file?`,
      );
    }
    if (!c.dense && c.attributes > names) {
      throw new LumenError(
        this.path,
        shownPath,
        `damaged object header: it holds ${c.attributes} attribute messages, HDF5 reads ${names}; corrupt file?`,
      );
    }
  }

  private attrsAt(h: Handle, local: string, shownPath: string): Record<string, AttrValue> {
    const M = this.M;
    const names = guarded(
      this.path,
      shownPath,
      "cannot list attributes",
      () => M.get_attribute_names(h.fid, local),
    );
    this.checkObject(h, local, shownPath, names.length);
    const out: Record<string, AttrValue> = {};
    for (const n of names) out[n] = this.readAttrAt(h, local, n, shownPath);
    return out;
  }

  private readAttrAt(h: Handle, local: string, name: string, shownPath: string): AttrValue {
    const M = this.M;
    return guarded(this.path, `${shownPath}@${name}`, "cannot read attribute", () => {
      const meta = M.get_attribute_metadata(h.fid, local, name);
      if (!meta.shape) return null;
      const obj: HlClass = new (h5wasm as HlClass).Group(h.fid, local);
      const v = obj.get_attribute(name, false);
      return convertAttr(v, meta);
    });
  }

  /** Attributes of a group or dataset. */
  attrs(path: string): Record<string, AttrValue> {
    this.live();
    const r = this.resolve(path);
    if (!r) throw this.missing(path, "dataset or group");
    return this.attrsAt(r.h, r.local, normPath(path));
  }

  /** One attribute (undefined when absent). */
  attr(path: string, name: string): AttrValue | undefined {
    this.live();
    const r = this.resolve(path);
    if (!r) throw this.missing(path, "dataset or group");
    const names = this.M.get_attribute_names(r.h.fid, r.local);
    if (!names.includes(name)) return undefined;
    return this.readAttrAt(r.h, r.local, name, normPath(path));
  }

  /** Shape, dtype, chunks, filters and attributes of a dataset. */
  dataset(path: string): H5DatasetInfo {
    const r = this.resolveDataset(path);
    return this.datasetInfo(r, normPath(path));
  }

  private datasetInfo(r: Resolved, shownPath: string): H5DatasetInfo {
    const m = this.meta(r);
    const raw = guarded(
      this.path,
      shownPath,
      "cannot read filters",
      () => this.M.get_dataset_filters(r.h.fid, r.local),
    );
    const filters = raw.map((f) => ({
      id: f.id,
      name: FILTER_NAMES[f.id] ?? f.name,
      values: [...f.cd_values],
    }));
    const comp = filters.find((f) => COMPRESSORS.has(f.id));
    const exact = (m.shape ?? []).some((d) => d > Number.MAX_SAFE_INTEGER)
      ? this.exactDims(r, shownPath)
      : undefined;
    return {
      kind: "dataset",
      path: shownPath,
      file: r.h.name,
      localPath: r.local,
      shape: [...(m.shape ?? [])],
      ...(exact ? { exactShape: exact } : {}),
      dtype: dtypeOfMeta(m),
      itemsize: m.size,
      chunks: m.chunks ? [...m.chunks] : null,
      maxshape: (m.maxshape ?? m.shape ?? []).map((d) => (d > Number.MAX_SAFE_INTEGER ? -1 : d)),
      filters,
      compression: comp ? FILTER_NAMES[comp.id] ?? comp.name : null,
      compressionLevel: comp?.id === 1 ? (comp.values[0] ?? null) : null,
      attrs: this.attrsAt(r.h, r.local, shownPath),
    };
  }

  /**
   * A dataset's dimensions read from its dataspace message as BigInts (h5wasm gives doubles,
   * which round beyond 2^53), or a LumenError where they cannot be read.
   */
  private exactDims(r: Resolved, shownPath: string): bigint[] {
    const lay = this.layout(r.h);
    const addr = lay ? this.address(r.h, r.local) : null;
    let dims: bigint[] | null = null;
    try {
      dims = lay && addr !== null ? lay.dims(addr) : null;
    } catch (e) {
      if (!(e instanceof LayoutProblem)) throw e;
    }
    if (!dims) {
      throw new LumenError(
        this.path,
        shownPath,
        "a dimension is beyond 2^53 and its dataspace message cannot be read exactly",
      );
    }
    return dims;
  }

  /** A group's attributes and where it lives. */
  group(path: string): H5GroupInfo {
    this.live();
    const r = this.resolve(path);
    if (!r || r.type !== this.M.H5G_GROUP) throw this.missing(path, "group");
    const p = normPath(path);
    return {
      kind: "group",
      path: p,
      file: r.h.name,
      localPath: r.local,
      attrs: this.attrsAt(r.h, r.local, p),
    };
  }

  /** Shape of a dataset. */
  shape(path: string): number[] {
    return [...(this.meta(this.resolveDataset(path)).shape ?? [])];
  }

  /** dtype of a dataset (as {@link H5DatasetInfo.dtype}). */
  dtype(path: string): H5DatasetInfo["dtype"] {
    return dtypeOfMeta(this.meta(this.resolveDataset(path)));
  }

  /**
   * The whole tree below `group`, depth first, sorted by name: groups, datasets, and links with
   * what they resolve to. External links are followed into their files (relative to the linking
   * file); soft links to groups are listed, not descended (no cycles). `beat` is called after
   * each entry (a caller that watches for progress, such as describe's HDF5 worker, sees it).
   */
  walk(group = "/", beat?: () => void): H5Node[] {
    this.live();
    const M = this.M;
    const r0 = this.resolve(group);
    if (!r0 || r0.type !== M.H5G_GROUP) throw this.missing(group, "group");
    const out: H5Node[] = [];
    // Each object is visited once, by address (as h5py's visit does): hard links may form cycles.
    const seen = new Set<string>();
    const firstVisit = (h: Handle, local: string): boolean => {
      let key: string;
      try {
        const ref = M.create_object_reference(h.fid, local);
        key = `${h.name}:${Array.from(ref, (b) => b.toString(16).padStart(2, "0")).join("")}`;
      } catch {
        key = `${h.name}:${local}`;
      }
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    };
    firstVisit(r0.h, r0.local);
    const visit = (h: Handle, local: string, shown: string, depth: number) => {
      if (depth > 64) return;
      const names = [...this.names(h, local)].sort();
      for (const n of names) {
        beat?.();
        const lp = join(local, n);
        const sp = join(shown, n);
        const ext = guarded(
          this.path,
          sp,
          "cannot read link",
          () => M.get_external_link(h.fid, lp),
        );
        const soft = ext?.filename === undefined
          ? guarded(this.path, sp, "cannot read link", () => M.get_symbolic_link(h.fid, lp))
          : null;
        if (ext?.filename !== undefined || soft) {
          let resolved: H5DatasetInfo | H5GroupInfo | null = null;
          let r: Resolved | null = null;
          try {
            r = this.resolve(sp);
          } catch (e) {
            if (!(e instanceof LumenError)) throw e;
          }
          if (r) {
            resolved = r.type === M.H5G_DATASET ? this.datasetInfo(r, sp) : {
              kind: "group",
              path: sp,
              file: r.h.name,
              localPath: r.local,
              attrs: this.attrsAt(r.h, r.local, sp),
            };
          }
          const link: H5LinkInfo = ext?.filename !== undefined
            ? {
              kind: "externallink",
              path: sp,
              target: ext.obj_path ?? "/",
              targetFile: ext.filename,
              resolvedFile: isAbsolute(ext.filename)
                ? ext.filename
                : resolvePath(dirname(h.name), ext.filename),
              resolved,
            }
            : { kind: "softlink", path: sp, target: soft!, resolved };
          out.push(link);
          // External links into groups are walked (they cannot form cycles within one file).
          if (
            ext?.filename !== undefined && r && r.type === M.H5G_GROUP && firstVisit(r.h, r.local)
          ) {
            visit(r.h, r.local, sp, depth + 1);
          }
          continue;
        }
        const t = guarded(this.path, sp, "cannot read object", () => M.get_type(h.fid, lp));
        const r: Resolved = { h, local: lp, type: t };
        if ((t === M.H5G_GROUP || t === M.H5G_DATASET) && !firstVisit(h, lp)) continue;
        if (t === M.H5G_GROUP) {
          out.push({
            kind: "group",
            path: sp,
            file: h.name,
            localPath: lp,
            attrs: this.attrsAt(h, lp, sp),
          });
          visit(h, lp, sp, depth + 1);
        } else if (t === M.H5G_DATASET) {
          out.push(this.datasetInfo(r, sp));
        }
      }
    };
    visit(r0.h, r0.local, normPath(group), 0);
    return out;
  }

  /**
   * Hyperslab parameters of a selection against a shape (or a LumenError naming both).
   * Returns offset/count/stride per axis, and the shape of the result (indexed axes dropped).
   */
  private hyperslab(path: string, shape: number[], sel: H5Selection | undefined) {
    const n = shape.length;
    if (sel && sel.length > n) {
      throw new LumenError(
        this.path,
        path,
        `selection has ${sel.length} axes, dataset shape is [${shape}]`,
      );
    }
    const offset: number[] = [],
      count: number[] = [],
      stride: number[] = [],
      outShape: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = sel?.[i] ?? null;
      const d = shape[i];
      if (s === null) {
        offset.push(0), count.push(d), stride.push(1), outShape.push(d);
      } else if (typeof s === "number") {
        const k = s < 0 ? d + s : s;
        if (!Number.isInteger(k) || k < 0 || k >= d) {
          throw new LumenError(
            this.path,
            path,
            `index ${s} out of range for axis ${i} of shape [${shape}]`,
          );
        }
        offset.push(k), count.push(1), stride.push(1);
      } else {
        let [a, b, st = 1] = s;
        if (a < 0) a += d;
        if (b < 0) b += d;
        if (
          !Number.isInteger(a) || !Number.isInteger(b) || !Number.isInteger(st) || st < 1 ||
          a < 0 || b > d || a > b
        ) {
          throw new LumenError(
            this.path,
            path,
            `range [${s.join(", ")}] out of range for axis ${i} of shape [${shape}]`,
          );
        }
        const c = Math.ceil((b - a) / st);
        offset.push(a), count.push(c), stride.push(st), outShape.push(c);
      }
    }
    return { offset, count, stride, outShape };
  }

  /**
   * Reads a dataset, or the hyperslab `sel` of it, into an NdArray (float16 widens to float32,
   * h5py bools read as dtype "bool"). Only the selected data are read from disk (whole chunks
   * where the dataset is compressed).
   */
  read(path: string, sel?: H5Selection): NdArray {
    const r = this.resolveDataset(path);
    const p = normPath(path);
    const m = this.meta(r);
    const dt = readDtype(m);
    if (!dt) {
      throw new LumenError(this.path, p, `dtype ${dtypeOfMeta(m)} is not numeric (use readValue)`);
    }
    const shape = m.shape ?? [];
    const hs = this.hyperslab(p, shape, sel);
    const n = sizeOf(hs.count);
    const bytes = this.readBytes(r, p, m, hs, n);
    let data: TypedArray;
    if (dtypeOfMeta(m) === "float16") {
      const h = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = f16ToF32(h[i]);
      data = f;
    } else {
      data = new TYPED_ARRAY[dt](bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
    }
    return ndarray(data, hs.outShape, dt);
  }

  /**
   * Reads a hyperslab into h5wasm's heap and calls `use` with a transient byte view of it (valid
   * only during the call; no copy is made). For streaming kernels that copy the bytes on
   * themselves. Offsets/counts are per axis, unit stride.
   *
   * @returns what `use` returns
   */
  withHyperslab<T>(
    path: string,
    offset: number[],
    count: number[],
    use: (bytes: Uint8Array, dtype: DType, itemsize: number) => T,
  ): T {
    const r = this.resolveDataset(path);
    const p = normPath(path);
    const m = this.meta(r);
    const dt = readDtype(m);
    if (!dt || dtypeOfMeta(m) === "float16") {
      throw new LumenError(this.path, p, `dtype ${dtypeOfMeta(m)} cannot be streamed`);
    }
    const shape = m.shape ?? [];
    const sel: H5Selection = offset.map((o, i) => [o, o + count[i]] as [number, number]);
    const hs = this.hyperslab(p, shape, sel);
    const n = sizeOf(hs.count);
    const nbytes = n * m.size;
    const M = this.M;
    if (n === 0) return use(new Uint8Array(0), dt, m.size);
    const d = this.direct(r, m);
    if (d) {
      if (this.hyperslabBuf.length < nbytes) this.hyperslabBuf = new Uint8Array(nbytes);
      const buf = this.hyperslabBuf.subarray(0, nbytes);
      this.readDirect(d, p, hs, buf);
      return use(buf, dt, m.size);
    }
    const ptr = this.malloc(nbytes, p);
    try {
      this.readInto(r, p, hs, ptr, shape.length);
      return use(M.HEAPU8.subarray(ptr, ptr + nbytes), dt, m.size);
    } finally {
      M._free(ptr);
    }
  }

  /**
   * How reads of a dataset go: "direct" (positioned reads of its uncompressed chunks or
   * contiguous bytes, lib/io/hdf5_direct.ts) or "hdf5", with the reason (compressed, big-endian,
   * a version 4 chunk index, a file opened for writing…).
   *
   * @example
   * ```ts
   * f.readRoute("/entry1/tomo_entry/data/data"); // { route: "direct" }
   * f.readRoute("/gzipped"); // { route: "hdf5", why: "a filter pipeline (1 filter)" }
   * ```
   */
  readRoute(path: string): { route: "direct" } | { route: "hdf5"; why: string } {
    const r = this.resolveDataset(path);
    const d = this.direct(r, this.meta(r));
    if (d) return { route: "direct" };
    const why = this.directs.get(`${r.h.name}\0${r.local}`);
    return {
      route: "hdf5",
      why: typeof why === "string" ? why : "direct reads are off (or the file is open for writing)",
    };
  }

  /** The direct reader of a dataset, or null where HDF5 reads it (the reason is cached). */
  private direct(r: Resolved, m: H5Meta): DirectDataset | null {
    if (!this.directReads) return null;
    const key = `${r.h.name}\0${r.local}`;
    let d = this.directs.get(key);
    if (d === undefined) {
      const lay = this.layout(r.h);
      const addr = lay ? this.address(r.h, r.local) : null;
      if (!lay || addr === null) d = "no object header address";
      else {
        try {
          d = DirectDataset.of(lay, addr);
        } catch (e) {
          if (!(e instanceof LayoutProblem)) throw e;
          d = `damaged metadata: ${e.message}`;
        }
      }
      const shape = m.shape ?? [];
      if (
        typeof d !== "string" &&
        (d.itemsize !== m.size || d.shape.length !== shape.length ||
          d.shape.some((x, i) => x !== shape[i]) || !readDtype(m))
      ) {
        d = `HDF5 sees shape [${shape}] × ${m.size} bytes, the header [${d.shape}] × ${d.itemsize}`;
      }
      this.directs.set(key, d);
    }
    return typeof d === "string" ? null : d;
  }

  private readDirect(
    d: DirectDataset,
    p: string,
    hs: { offset: number[]; count: number[] },
    dst: Uint8Array,
  ): void {
    try {
      d.read(hs.offset, hs.count, dst);
    } catch (e) {
      if (e instanceof DirectReadError) {
        throw new LumenError(this.path, p, `cannot read: ${e.message}`);
      }
      throw e;
    }
  }

  private malloc(nbytes: number, p: string): number {
    const M = this.M;
    if (nbytes > M.MAXIMUM_MEMORY / 2) {
      throw new LumenError(
        this.path,
        p,
        `selection of ${nbytes} bytes is too large for h5wasm's ${
          M.MAXIMUM_MEMORY / 2 ** 30
        } GiB heap; read it in pieces`,
      );
    }
    const ptr = M._malloc(Math.max(nbytes, 1));
    if (!ptr) throw new LumenError(this.path, p, `h5wasm could not allocate ${nbytes} bytes`);
    return ptr;
  }

  private readInto(
    r: Resolved,
    p: string,
    hs: { offset: number[]; count: number[]; stride: number[] },
    ptr: number,
    rank: number,
  ): void {
    const M = this.M;
    const whole = rank === 0;
    try {
      guarded(this.path, p, "cannot read", () => {
        const st = M.get_dataset_data(
          r.h.fid,
          r.local,
          whole ? null : hs.count.map(BigInt),
          whole ? null : hs.offset.map(BigInt),
          whole ? null : hs.stride.map(BigInt),
          BigInt(ptr),
        );
        if (st < 0) throw new Error(`read failed (status ${st})`);
      });
    } catch (e) {
      // A filter h5wasm's core build lacks (LZF, Blosc, LZ4, Zstd, bitshuffle…): say which.
      const missing = M.get_dataset_filters(r.h.fid, r.local).filter((f) =>
        !BUILTIN_FILTERS.has(f.id)
      );
      if (missing.length) {
        const names = missing.map((f) => `${FILTER_NAMES[f.id] ?? f.name} (filter ${f.id})`);
        throw new LumenError(
          this.path,
          p,
          `compressed with ${
            names.join(", ")
          }, which h5wasm decodes only with the h5wasm-plugins package`,
        );
      }
      throw e;
    }
  }

  private readBytes(
    r: Resolved,
    p: string,
    m: H5Meta,
    hs: { offset: number[]; count: number[]; stride: number[] },
    n: number,
  ): Uint8Array {
    const nbytes = n * m.size;
    if (n === 0) return new Uint8Array(0);
    const d = hs.stride.every((x) => x === 1) ? this.direct(r, m) : null;
    if (d) {
      const out = new Uint8Array(nbytes);
      this.readDirect(d, p, hs, out);
      return out;
    }
    const M = this.M;
    const ptr = this.malloc(nbytes, p);
    try {
      this.readInto(r, p, hs, ptr, (m.shape ?? []).length);
      return M.HEAPU8.slice(ptr, ptr + nbytes);
    } finally {
      M._free(ptr);
    }
  }

  /**
   * Reads any dataset as a plain value: strings (scalar or list), numbers, or an NdArray for
   * numeric arrays. For metadata datasets (names, times, units).
   */
  readValue(path: string): AttrValue {
    const r = this.resolveDataset(path);
    const p = normPath(path);
    const m = this.meta(r);
    if (readDtype(m)) {
      const a = this.read(path);
      return a.shape.length === 0 ? scalarOf(a) : a;
    }
    return guarded(this.path, p, "cannot read", () => {
      const ds: HlClass = new (h5wasm as HlClass).Dataset(r.h.fid, r.local);
      return convertAttr(ds.value, m);
    });
  }

  // ------------------------------------------------------------------------------- writing

  private writable(): void {
    this.live();
    if (this.mode === "r") throw new LumenError(this.path, "", "file is open read-only");
  }

  /** Creates a group and any missing parents (one level at a time); existing ones are kept. */
  createGroup(path: string): void {
    this.writable();
    const comps = normPath(path).split("/").filter(Boolean);
    let cur = "/";
    for (const c of comps) {
      const next = join(cur, c);
      const r = this.resolve(next);
      if (r) {
        if (r.type !== this.M.H5G_GROUP) {
          throw new LumenError(this.path, next, "exists and is not a group");
        }
      } else {
        guarded(
          this.path,
          next,
          "cannot create group",
          () => this.M.create_group(this.root.fid, next, false),
        );
        this.invalidate(cur);
      }
      cur = next;
    }
  }

  private invalidate(group: string): void {
    this.namesCache.delete(`${this.root.name}\0${group}`);
    for (const k of [...this.resolvedCache.keys()]) {
      if (this.resolvedCache.get(k) === null) this.resolvedCache.delete(k);
    }
  }

  private parentOf(path: string): { parent: string; name: string; full: string } {
    const full = normPath(path);
    if (full === "/") throw new LumenError(this.path, full, "cannot write to the root group");
    const i = full.lastIndexOf("/");
    return { parent: full.slice(0, i) || "/", name: full.slice(i + 1), full };
  }

  /**
   * Writes an NdArray as a new dataset (parents created), optionally chunked and
   * deflate-compressed, with attributes. Fails if the path exists.
   */
  write(path: string, arr: NdArray, opts: H5WriteOptions = {}): void {
    this.createDataset(path, arr.shape, arr.dtype, opts, arr);
  }

  /**
   * Creates a dataset of the given shape and dtype (filled with zeros) to be filled piece by
   * piece with {@link H5File.writeSlice}, so that volumes larger than memory can be written.
   * With `data`, writes it at once.
   */
  createDataset(
    path: string,
    shape: number[],
    dtype: DType,
    opts: H5WriteOptions = {},
    data?: NdArray,
  ): void {
    this.writable();
    const { parent, name, full } = this.parentOf(path);
    if (dtype === "bool") {
      throw new LumenError(this.path, full, "bool datasets are not written (use uint8)");
    }
    if (this.resolve(full)) throw new LumenError(this.path, full, "already exists");
    this.createGroup(parent);
    const itemsize = DTYPE_SIZE[dtype];
    let chunks: number[] | null = null;
    const level = opts.compression === "gzip" ? 4 : opts.compression ?? null;
    if (level !== null && (!Number.isInteger(level) || level < 0 || level > 9)) {
      throw new LumenError(this.path, full, `gzip level ${opts.compression} is not 0–9`);
    }
    if (Array.isArray(opts.chunks)) {
      chunks = opts.chunks;
      if (chunks.length !== shape.length || chunks.some((c) => !Number.isInteger(c) || c < 1)) {
        throw new LumenError(this.path, full, `chunks [${chunks}] do not fit shape [${shape}]`);
      }
      chunks = chunks.map((c, i) => Math.min(c, Math.max(1, shape[i])));
    } else if (opts.chunks === true || level !== null || !data) {
      chunks = shape.length ? guessChunks(shape, itemsize) : null;
    }
    if (shape.length === 0) chunks = null;
    const Ctor = TYPED_ARRAY[dtype] as unknown as { new (n: number): TypedArray };
    // Without data: create with one item along the first axis and grow it (so nothing of full
    // size is allocated), as a fixed-size dataset (maxshape = shape).
    const initShape = data
      ? shape
      : shape.length
      ? [Math.min(1, shape[0]), ...shape.slice(1)]
      : shape;
    const init = data ? data.data : new Ctor(sizeOf(initShape));
    if (data && sizeOf(shape) !== data.data.length) {
      throw new LumenError(
        this.path,
        full,
        `data has ${data.data.length} elements, shape [${shape}]`,
      );
    }
    const g: HlClass = new (h5wasm as HlClass).Group(this.root.fid, parent);
    guarded(this.path, full, "cannot create dataset", () => {
      g.create_dataset({
        name,
        data: init,
        shape: initShape,
        maxshape: shape,
        dtype: H5WASM_DTYPE[dtype],
        chunks,
        ...(level !== null ? { compression: "gzip", compression_opts: level } : {}),
      });
    });
    this.invalidate(parent);
    if (!data && shape.length && shape[0] > 0) {
      guarded(
        this.path,
        full,
        "cannot resize dataset",
        () => this.M.resize_dataset(this.root.fid, full, shape.map(BigInt)),
      );
    }
    this.metaCache.delete(`${this.root.name}\0${full}`);
    for (const [k, v] of Object.entries(opts.attrs ?? {})) this.setAttr(full, k, v);
  }

  /** Writes `arr` into an existing dataset at `start` (one index per axis). */
  writeSlice(path: string, start: number[], arr: NdArray): void {
    this.writable();
    const r = this.resolveDataset(path);
    const p = normPath(path);
    const m = this.meta(r);
    const shape = m.shape ?? [];
    if (start.length !== shape.length || arr.shape.length !== shape.length) {
      throw new LumenError(this.path, p, `slice rank does not match shape [${shape}]`);
    }
    const sel: H5Selection = start.map((s, i) => [s, s + arr.shape[i]] as [number, number]);
    const hs = this.hyperslab(p, shape, sel);
    const want = readDtype(m);
    if (want !== arr.dtype) {
      throw new LumenError(
        this.path,
        p,
        `data dtype ${arr.dtype} differs from the dataset's ${want}`,
      );
    }
    const bytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
    const M = this.M;
    const ptr = this.malloc(bytes.byteLength, p);
    try {
      M.HEAPU8.set(bytes, ptr);
      guarded(this.path, p, "cannot write", () => {
        const st = M.set_dataset_data(
          r.h.fid,
          r.local,
          hs.count.map(BigInt),
          hs.offset.map(BigInt),
          hs.stride.map(BigInt),
          BigInt(ptr),
        );
        if (st < 0) throw new Error(`write failed (status ${st})`);
      });
    } finally {
      M._free(ptr);
    }
  }

  /** Sets (replaces) an attribute on a group or dataset. */
  setAttr(path: string, name: string, value: AttrInput): void {
    this.writable();
    const r = this.resolve(path);
    const p = normPath(path);
    if (!r) throw this.missing(path, "dataset or group");
    if (r.h !== this.root) throw new LumenError(this.path, p, "is in another file (external link)");
    const M = this.M;
    const obj: HlClass = r.type === M.H5G_DATASET
      ? new (h5wasm as HlClass).Dataset(r.h.fid, r.local)
      : new (h5wasm as HlClass).Group(r.h.fid, r.local);
    const { data, shape, dtype } = attrPayload(value);
    guarded(this.path, `${p}@${name}`, "cannot write attribute", () => {
      if (M.get_attribute_names(r.h.fid, r.local).includes(name)) {
        M.delete_attribute(r.h.fid, r.local, name);
      }
      obj.create_attribute(name, data, shape, dtype);
    });
  }

  /** Creates a soft link at `path` pointing at `target` (an absolute path in this file). */
  softLink(path: string, target: string): void {
    this.writable();
    const { parent, full } = this.parentOf(path);
    this.createGroup(parent);
    guarded(
      this.path,
      full,
      "cannot create soft link",
      () => this.M.create_soft_link(this.root.fid, target, full),
    );
    this.invalidate(parent);
  }

  /**
   * Creates an external link at `path` to `target` inside `file` (store `file` relative to this
   * file's directory so that the pair can move together).
   */
  externalLink(path: string, file: string, target: string): void {
    this.writable();
    const { parent, full } = this.parentOf(path);
    this.createGroup(parent);
    guarded(
      this.path,
      full,
      "cannot create external link",
      () => this.M.create_external_link(this.root.fid, file, target, full),
    );
    this.invalidate(parent);
  }
}

// Every call that can write to a file runs at the epoch (see atEpoch).
for (
  const name of [
    "close",
    "flush",
    "createGroup",
    "write",
    "createDataset",
    "writeSlice",
    "setAttr",
    "softLink",
    "externalLink",
  ] as const
) {
  const proto = H5File.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const orig = proto[name];
  if (typeof orig !== "function") throw new Error(`H5File.${name} is missing`);
  proto[name] = function (this: H5File, ...a: unknown[]) {
    return atEpoch(() => orig.apply(this, a));
  };
}

function scalarOf(a: NdArray): number | bigint | boolean {
  const v = a.data[0];
  if (a.dtype === "bool") return v !== 0;
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  return v as number;
}

/** Converts h5wasm's attribute/dataset value to an AttrValue. */
function convertAttr(v: unknown, meta: H5Meta): AttrValue {
  const shape = meta.shape ?? [];
  const dt = dtypeOfMeta(meta);
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) {
    return shape.length === 0 && v.length === 1 ? v[0] : v as string[];
  }
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") {
    if (dt === "bool") return v !== 0 && v !== 0n && v !== false;
    if (dt === "float16" && typeof v === "number") return v;
    if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    return v;
  }
  if (ArrayBuffer.isView(v)) {
    const rd = readDtype(meta);
    if (!rd) return null;
    let data = v as TypedArray;
    if (dt === "float16") {
      const u = v as Uint8Array;
      const h = new Uint16Array(u.buffer, u.byteOffset, u.byteLength / 2);
      data = Float32Array.from(h, f16ToF32);
    } else if (dt === "bool" || meta.type === H5T_ENUM) {
      const src = v as unknown as ArrayLike<number>;
      data = (TYPED_ARRAY[rd] as unknown as { from(x: ArrayLike<number>): TypedArray }).from(src);
    }
    if (shape.length === 0) return scalarOf(ndarray(data, [1], rd));
    return ndarray(data, [...shape], rd);
  }
  return null;
}

/** h5wasm create_attribute arguments for a value. */
function attrPayload(
  value: AttrInput,
): { data: unknown; shape: number[] | null; dtype: string | null } {
  if (value === null) throw new Error("null attributes are not written");
  if (typeof value === "string") return { data: value, shape: null, dtype: null };
  if (typeof value === "boolean") {
    return { data: new Uint8Array([value ? 1 : 0]), shape: [], dtype: "<B" };
  }
  if (typeof value === "bigint") {
    return { data: new BigInt64Array([value]), shape: [], dtype: "<q" };
  }
  if (typeof value === "number") {
    return Number.isInteger(value) && Number.isSafeInteger(value)
      ? { data: new BigInt64Array([BigInt(value)]), shape: [], dtype: "<q" }
      : { data: new Float64Array([value]), shape: [], dtype: "<d" };
  }
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === "string")) {
      return { data: value, shape: [value.length], dtype: null };
    }
    const nums = value as number[];
    return nums.every((x) => Number.isSafeInteger(x))
      ? { data: BigInt64Array.from(nums, (x) => BigInt(x)), shape: [nums.length], dtype: "<q" }
      : { data: Float64Array.from(nums), shape: [nums.length], dtype: "<d" };
  }
  if (ArrayBuffer.isView(value)) {
    const ta = value as TypedArray;
    const dt = (Object.keys(TYPED_ARRAY) as DType[]).find((k) =>
      k !== "bool" && ta instanceof TYPED_ARRAY[k]
    )!;
    return { data: ta, shape: [ta.length], dtype: H5WASM_DTYPE[dt] };
  }
  const a = value as NdArray;
  if (a.dtype === "bool") {
    return { data: Uint8Array.from(a.data as Uint8Array), shape: a.shape, dtype: "<B" };
  }
  return { data: a.data, shape: a.shape, dtype: H5WASM_DTYPE[a.dtype] };
}
