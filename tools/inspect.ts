/**
 * `inspect FILE [--json]`: what a scientific file holds.
 *
 * The format is found from the file's first bytes (HDF5/NeXus, TIFF, NPY, NPZ/ZIP, NIfTI-1
 * `.nii`/`.nii.gz`, tar/tar.gz, gzip, PNG, JPEG), and from the name for text formats (CSV/TSV,
 * JSON, JSON lines, YAML). It prints the HDF5 tree with shapes, dtypes, chunks, filters, links
 * and attributes; TIFF pages; NPY/NPZ arrays; the NIfTI header; archive listings. For every
 * numeric array it reports the minimum and maximum, read piece by piece (HDF5 hyperslabs, NPY
 * and NPZ in chunks, TIFF page by page), so a volume need not fit in memory.
 *
 * `--json` prints one JSON document: `{"file", "format", "bytes", "arrays": [{"name", "shape",
 * "dtype", "min", "max", …}], …}` plus per-format details (`tree`, `pages`, `header`,
 * `members`…). Minimum and maximum ignore NaN (counted in `nan`); they are JSON numbers, or the
 * strings "Infinity"/"-Infinity", or decimal strings for 64-bit integers beyond 2^53; null for
 * empty arrays or with `--no-stats`.
 *
 * @module
 */
import { defineTool } from "../lib/run/flags.ts";
import { runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";
import { type DType, DTYPE_SIZE, type NdArray, sizeOf, type TypedArray } from "../lib/io/array.ts";
import { bytesToTyped, parseNpyHeader } from "../lib/io/npy.ts";
import { fileSource, ZipReader } from "../lib/io/zip.ts";
import { H5File, type H5Node } from "../lib/io/hdf5.ts";
import { TiffDocument } from "../lib/io/tiff.ts";
import { dtypeOfNifti, niftiAffine, parseNiftiHeader } from "../lib/io/nifti.ts";
import { listTar } from "../lib/io/tar.ts";
import { decodePng } from "../lib/io/png.ts";
import { decodeJpeg, jpegFrameInfo } from "../lib/io/jpeg.ts";
import { decodeText, parseCsv } from "../lib/io/csv.ts";
import { parseJson } from "../lib/io/json.ts";
import { parseYaml } from "../lib/io/yaml.ts";

// ---------------------------------------------------------------------------------------------
// The report

/** A JSON-safe number: finite numbers as numbers, the rest as strings. */
export type JsonNumber = number | string | null;

/** One numeric array (dataset, page stack, NPY entry, image, volume). */
export interface ArrayInfo {
  /** Dataset path, entry name, "data", "page 3"… */
  name: string;
  shape: number[];
  /** NumPy dtype name. */
  dtype: string;
  /** Minimum ignoring NaN; null when empty or not computed. */
  min: JsonNumber;
  /** Maximum ignoring NaN. */
  max: JsonNumber;
  /** Number of NaN elements (floats only, when any). */
  nan?: number;
  /** Anything else worth knowing (chunks, filters, order, attributes…). */
  [extra: string]: unknown;
}

/** What {@link inspectFile} returns (and `--json` prints). */
export interface Report {
  file: string;
  /** hdf5, tiff, npy, npz, zip, nifti, tar, gzip, png, jpeg, csv, json, jsonl, yaml. */
  format: string;
  /** File size. */
  bytes: number;
  arrays: ArrayInfo[];
  [details: string]: unknown;
}

/** Options of {@link inspectFile}. */
export interface InspectOptions {
  /** Compute min/max (default true). */
  stats?: boolean;
}

/** Elements per piece when streaming statistics (×itemsize bytes in memory at once). */
const BLOCK = 1 << 22;

// ---------------------------------------------------------------------------------------------
// Streaming min/max

/** Running minimum/maximum over typed arrays fed piece by piece; NaN is counted, not compared. */
export class MinMax {
  #min: number | bigint | null = null;
  #max: number | bigint | null = null;
  #nan = 0;
  /** Elements seen. */
  count = 0;

  /** Folds in one piece. */
  add(data: TypedArray): void {
    const n = data.length;
    this.count += n;
    if (n === 0) return;
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
      let lo = this.#min as bigint | null ?? data[0], hi = this.#max as bigint | null ?? data[0];
      for (let i = 0; i < n; i++) {
        const v = data[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      this.#min = lo, this.#max = hi;
      return;
    }
    const a = data as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
    let lo = (this.#min as number | null) ?? Infinity;
    let hi = (this.#max as number | null) ?? -Infinity;
    let nan = 0;
    let seen = this.#min !== null;
    for (let i = 0; i < n; i++) {
      const v = a[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (v !== v) nan++;
    }
    if (nan < n) seen = true;
    this.#nan += nan;
    if (seen) this.#min = lo, this.#max = hi;
  }

  /** The result as JSON-safe values. */
  result(): { min: JsonNumber; max: JsonNumber; nan?: number } {
    const out: { min: JsonNumber; max: JsonNumber; nan?: number } = {
      min: jsonNumber(this.#min),
      max: jsonNumber(this.#max),
    };
    if (this.#nan) out.nan = this.#nan;
    return out;
  }
}

/** A number as JSON can hold it (see the module doc). */
export function jsonNumber(v: number | bigint | null): JsonNumber {
  if (v === null) return null;
  if (typeof v === "bigint") {
    return v >= BigInt(-Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  return Number.isFinite(v) ? v : String(v);
}

/**
 * Folds raw element bytes (in `littleEndian` order) into a MinMax, keeping the odd bytes of an
 * element cut between two pieces for the next piece.
 */
class ByteStats {
  readonly mm = new MinMax();
  #carry = new Uint8Array(0);
  constructor(readonly dtype: DType, readonly littleEndian: boolean) {}
  push(bytes: Uint8Array): void {
    const size = DTYPE_SIZE[this.dtype];
    let b = bytes;
    if (this.#carry.length) {
      b = new Uint8Array(this.#carry.length + bytes.length);
      b.set(this.#carry);
      b.set(bytes, this.#carry.length);
    }
    const n = Math.floor(b.length / size);
    if (n) this.mm.add(bytesToTyped(b, this.dtype, n, this.littleEndian));
    this.#carry = b.slice(n * size);
  }
}

function statsOf(arr: NdArray): ReturnType<MinMax["result"]> {
  const mm = new MinMax();
  mm.add(arr.data);
  return mm.result();
}

const NO_STATS = { min: null, max: null };

// ---------------------------------------------------------------------------------------------
// Format detection

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x);
const ascii = (b: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...b.subarray(from, Math.min(to, b.length)));

function readHead(path: string, n: number): Uint8Array {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new LumenError(path, "", "no such file");
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new LumenError(path, "", "cannot read: permission denied");
    }
    throw new LumenError(path, "", `cannot read: ${(e as Error).message}`);
  }
  try {
    const buf = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const r = f.readSync(buf.subarray(off));
      if (r === null || r === 0) break;
      off += r;
    }
    return buf.subarray(0, off);
  } finally {
    f.close();
  }
}

/** The first `n` decompressed bytes of a gzip file (or fewer), or null when it is not valid. */
async function gunzipHead(path: string, n: number): Promise<Uint8Array | null> {
  const f = await Deno.open(path, { read: true });
  const out: Uint8Array[] = [];
  let got = 0;
  try {
    const reader = f.readable.pipeThrough(new DecompressionStream("gzip")).getReader();
    try {
      while (got < n) {
        const { value, done } = await reader.read();
        if (done) break;
        out.push(value);
        got += value.length;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  } catch {
    if (got === 0) return null;
  }
  const all = new Uint8Array(got);
  let o = 0;
  for (const c of out) all.set(c, o), o += c.length;
  return all.subarray(0, n);
}

function isTarHeader(b: Uint8Array): boolean {
  if (b.length < 512) return false;
  if (ascii(b, 257, 262) === "ustar") return true;
  // v7 tar: checksum field must match
  const stored = parseInt(ascii(b, 148, 156).replace(/\0.*$/, "").trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i];
  return sum === stored;
}

function isNiftiHeader(b: Uint8Array): boolean {
  if (b.length < 348) return false;
  const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = d.getInt32(0, true) === 348, be = d.getInt32(0, false) === 348;
  const magic = ascii(b, 344, 348);
  return (le || be) && (magic === "n+1\0" || magic === "ni1\0");
}

/** The format of a file, from its first bytes and, for text formats, its name. */
export async function detectFormat(path: string): Promise<string> {
  let st: Deno.FileInfo;
  try {
    st = Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new LumenError(path, "", "no such file");
    throw new LumenError(path, "", `cannot read: ${(e as Error).message}`);
  }
  if (st.isDirectory) throw new LumenError(path, "", "is a directory, expected a file");
  const head = readHead(path, 4096);
  const lower = path.toLowerCase();
  const HDF5 = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  if (startsWith(head, HDF5)) return "hdf5";
  if (
    head.length >= 4 && (ascii(head, 0, 4) === "II*\0" || ascii(head, 0, 4) === "MM\0*" ||
      ascii(head, 0, 4) === "II+\0" || ascii(head, 0, 4) === "MM\0+")
  ) return "tiff";
  if (startsWith(head, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return "npy";
  if (ascii(head, 0, 4) === "PK\x03\x04" || ascii(head, 0, 4) === "PK\x05\x06") return "zip";
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "png";
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "jpeg";
  if (isNiftiHeader(head)) return "nifti";
  if (isTarHeader(head)) return "tar";
  if (startsWith(head, [0x1f, 0x8b])) {
    const inner = await gunzipHead(path, 512);
    if (inner && isNiftiHeader(inner)) return "nifti";
    if (inner && isTarHeader(inner)) return "tar";
    return "gzip";
  }
  // HDF5 with a user block: the signature sits at 512, 1024, 2048…
  const size = st.size;
  for (let at = 512; at + 8 <= size && at <= 1 << 20; at *= 2) {
    const b = at + 8 <= head.length ? head.subarray(at) : readAt(path, at, 8);
    if (startsWith(b, HDF5)) return "hdf5";
  }
  if (/\.(csv|tsv)$/.test(lower)) return "csv";
  if (/\.(jsonl|ndjson)$/.test(lower)) return "jsonl";
  if (/\.json$/.test(lower)) return "json";
  if (/\.ya?ml$/.test(lower)) return "yaml";
  if (/\.(h5|hdf5|hdf|nxs|nx5)$/.test(lower)) {
    throw new LumenError(path, "byte 0", "not an HDF5 file (no HDF5 signature)");
  }
  // A name that promises a binary format whose signature is missing: let that format's reader
  // say what is wrong.
  for (const [re, fmt] of EXTENSIONS) if (re.test(lower)) return fmt;
  const shown = Array.from(head.subarray(0, 8), (x) => x.toString(16).padStart(2, "0")).join(" ");
  throw new LumenError(
    path,
    "byte 0",
    `unknown format (first bytes: ${shown || "none, empty file"})`,
  );
}

const EXTENSIONS: [RegExp, string][] = [
  [/\.nii(\.gz)?$/, "nifti"],
  [/\.tiff?$/, "tiff"],
  [/\.npy$/, "npy"],
  [/\.npz$/, "zip"],
  [/\.(tar|tar\.gz|tgz)$/, "tar"],
  [/\.png$/, "png"],
  [/\.jpe?g$/, "jpeg"],
];

function readAt(path: string, at: number, n: number): Uint8Array {
  const f = Deno.openSync(path, { read: true });
  try {
    f.seekSync(at, Deno.SeekMode.Start);
    const b = new Uint8Array(n);
    const r = f.readSync(b) ?? 0;
    return b.subarray(0, r);
  } finally {
    f.close();
  }
}

// ---------------------------------------------------------------------------------------------
// HDF5

/** Calls `visit(offset, count)` for blocks of at most `limit` elements covering `shape`. */
export function forEachBlock(
  shape: readonly number[],
  chunks: readonly number[] | null,
  limit: number,
  visit: (offset: number[], count: number[]) => void,
): void {
  const rank = shape.length;
  if (rank === 0 || sizeOf(shape) === 0) return visit(shape.map(() => 0), [...shape]);
  const rec = (axis: number, offset: number[], count: number[]) => {
    const inner = sizeOf(shape.slice(axis + 1));
    if (inner <= limit || axis === rank - 1) {
      let step = Math.max(1, Math.floor(limit / inner));
      const c = chunks?.[axis];
      if (c && step >= c) step -= step % c; // whole chunks along this axis
      for (let i = 0; i < shape[axis]; i += step) {
        const n = Math.min(step, shape[axis] - i);
        visit([...offset, i, ...shape.slice(axis + 1).map(() => 0)], [
          ...count,
          n,
          ...shape.slice(axis + 1),
        ]);
      }
      return;
    }
    for (let i = 0; i < shape[axis]; i++) rec(axis + 1, [...offset, i], [...count, 1]);
  };
  rec(0, [], []);
}

function attrsJson(attrs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = valueJson(v);
  return out;
}

function valueJson(v: unknown): unknown {
  if (typeof v === "bigint") return jsonNumber(v);
  if (typeof v === "number") return jsonNumber(v);
  if (v && typeof v === "object" && "data" in v && "shape" in v && "dtype" in v) {
    const a = v as NdArray;
    const n = a.data.length;
    const shown = Array.from(
      a.data.subarray(0, 16) as ArrayLike<number | bigint>,
      (x) => jsonNumber(x),
    );
    return n <= 16 && a.shape.length <= 1 ? shown : { shape: a.shape, dtype: a.dtype, head: shown };
  }
  return v;
}

async function inspectHdf5(path: string, opts: InspectOptions): Promise<Partial<Report>> {
  const f = await H5File.open(path, "r");
  try {
    const nodes = f.walk("/");
    const rootAttrs = attrsJson(f.attrs("/"));
    const arrays: ArrayInfo[] = [];
    const tree: Record<string, unknown>[] = [];
    const datasetEntry = (n: Extract<H5Node, { kind: "dataset" }>, shownPath: string) => {
      const numeric = !["string", "compound", "enum", "other"].includes(n.dtype);
      const entry: Record<string, unknown> = {
        path: shownPath,
        kind: "dataset",
        shape: n.shape,
        dtype: n.dtype,
        chunks: n.chunks,
        maxshape: n.maxshape,
        filters: n.filters.map((x) => x.name + (x.values.length ? `(${x.values.join(",")})` : "")),
        attrs: attrsJson(n.attrs),
      };
      if (n.file !== f.absPath && n.file !== f.path) entry.file = n.file;
      // small values are worth showing: scalars and short strings
      if (sizeOf(n.shape) === 1 || (n.dtype === "string" && sizeOf(n.shape) <= 4)) {
        try {
          entry.value = valueJson(f.readValue(shownPath));
        } catch { /* an unreadable value is not an error of the file as a whole */ }
      }
      tree.push(entry);
      if (!numeric) return;
      let st: ReturnType<MinMax["result"]> = NO_STATS;
      let readError: string | undefined;
      if (opts.stats ?? true) {
        const mm = new MinMax();
        try {
          forEachBlock(n.shape, n.chunks, BLOCK, (offset, count) => {
            const sel = offset.map((o, i) => [o, o + count[i]] as [number, number]);
            mm.add(f.read(shownPath, n.shape.length ? sel : undefined).data);
          });
          st = mm.result();
        } catch (e) {
          // one unreadable dataset (a filter h5wasm lacks…) does not hide the rest of the file
          if (!(e instanceof LumenError)) throw e;
          readError = e.problem;
        }
      }
      arrays.push({
        name: shownPath,
        shape: n.shape,
        dtype: n.dtype === "float16" ? "float16" : n.dtype,
        ...st,
        chunks: n.chunks,
        compression: n.compression,
        ...(readError ? { error: readError } : {}),
      });
    };
    for (const n of nodes) {
      if (n.kind === "group") {
        tree.push({ path: n.path, kind: "group", attrs: attrsJson(n.attrs) });
      } else if (n.kind === "dataset") {
        datasetEntry(n, n.path);
      } else {
        const e: Record<string, unknown> = { path: n.path, kind: n.kind, target: n.target };
        if (n.kind === "externallink") e.targetFile = n.targetFile;
        if (!n.resolved) e.broken = true;
        else e.resolvesTo = n.resolved.kind;
        tree.push(e);
        // External links to datasets are listed with their data (the scan's projections live
        // behind one in DIAD files); soft links point inside the file, already listed.
        if (n.kind === "externallink" && n.resolved?.kind === "dataset") {
          datasetEntry(n.resolved, n.path);
          tree.pop();
        }
      }
    }
    return { arrays, attrs: rootAttrs, tree };
  } finally {
    f.close();
  }
}

// ---------------------------------------------------------------------------------------------
// NPY / NPZ

/** Feeds an NPY byte stream: parses the header once enough bytes are in, then streams data. */
class NpyStream {
  #head = new Uint8Array(0);
  #stats: ByteStats | null = null;
  header: ReturnType<typeof parseNpyHeader> | null = null;
  #need = 10;
  constructor(readonly file: string, readonly stats: boolean) {}

  push(b: Uint8Array): void {
    if (this.header) {
      this.#stats?.push(b);
      return;
    }
    const h = new Uint8Array(this.#head.length + b.length);
    h.set(this.#head);
    h.set(b, this.#head.length);
    this.#head = h;
    if (h.length >= 12 && this.#need === 10) {
      const dv = new DataView(h.buffer, h.byteOffset);
      this.#need = h[6] === 1 ? 10 + dv.getUint16(8, true) : 12 + dv.getUint32(8, true);
    }
    if (h.length >= this.#need && h.length >= 12) {
      this.header = parseNpyHeader(h, this.file);
      if (this.stats) {
        this.#stats = new ByteStats(this.header.dtype, this.header.littleEndian);
        this.#stats.push(h.subarray(this.header.dataOffset));
      }
      this.#head = new Uint8Array(0);
    }
  }

  /** Shape, dtype, order and stats; checks the data length. */
  finish(total: number): ArrayInfo {
    if (!this.header) this.header = parseNpyHeader(this.#head, this.file); // throws the reason
    const h = this.header;
    const need = sizeOf(h.shape) * DTYPE_SIZE[h.dtype];
    if (total - h.dataOffset < need) {
      throw new LumenError(
        this.file,
        `byte ${h.dataOffset}`,
        `data truncated: shape (${h.shape.join(", ")}) of ${h.descr} needs ${need} bytes, found ${
          total - h.dataOffset
        }`,
      );
    }
    const st = this.#stats ? this.#stats.mm.result() : NO_STATS;
    if (this.#stats && this.#stats.mm.count > sizeOf(h.shape)) {
      // trailing bytes after the array: recompute on the exact length is not worth it; note it
    }
    return {
      name: "",
      shape: h.shape,
      dtype: h.dtype,
      ...st,
      order: h.fortranOrder ? "F" : "C",
      descr: h.descr,
    };
  }
}

function inspectNpy(path: string, opts: InspectOptions): Partial<Report> {
  const src = fileSource(path);
  try {
    const s = new NpyStream(path, opts.stats ?? true);
    const head = src.read(0, Math.min(src.size, 65536 + 12));
    s.push(head);
    if (!s.header) s.finish(src.size); // throws
    const h = s.header!;
    const end = h.dataOffset + sizeOf(h.shape) * DTYPE_SIZE[h.dtype];
    for (let off = head.length; off < Math.min(end, src.size); off += BLOCK * 4) {
      s.push(src.read(off, Math.min(BLOCK * 4, end - off)));
    }
    const info = s.finish(src.size);
    info.name = "";
    return { arrays: [{ ...info, name: pathBase(path) }] };
  } finally {
    src.close();
  }
}

async function inspectZip(path: string, opts: InspectOptions): Promise<Partial<Report>> {
  const src = fileSource(path);
  let zip: ZipReader;
  try {
    zip = new ZipReader(src, path);
  } catch (e) {
    src.close();
    throw e;
  }
  try {
    const members = zip.entries.map((e) => ({
      name: e.name,
      size: e.size,
      compressedSize: e.compressedSize,
      method: e.method === 0 ? "stored" : e.method === 8 ? "deflated" : `method ${e.method}`,
    }));
    const arrays: ArrayInfo[] = [];
    for (const e of zip.entries) {
      if (!e.name.endsWith(".npy")) continue;
      const where = `${path}: ${e.name}`;
      const s = new NpyStream(where, opts.stats ?? true);
      const off = zip.dataOffset(e);
      if (e.method === 0) {
        for (let p = 0; p < e.compressedSize; p += BLOCK * 4) {
          s.push(src.read(off + p, Math.min(BLOCK * 4, e.compressedSize - p)));
        }
      } else if (e.method === 8) {
        let total = 0;
        const ds = new DecompressionStream("deflate-raw");
        const writer = ds.writable.getWriter();
        const feed = (async () => {
          for (let p = 0; p < e.compressedSize; p += BLOCK) {
            await writer.write(
              src.read(off + p, Math.min(BLOCK, e.compressedSize - p)) as Uint8Array<ArrayBuffer>,
            );
          }
          await writer.close();
        })();
        try {
          for await (const chunk of ds.readable) {
            total += chunk.length;
            s.push(chunk);
          }
          await feed;
        } catch (err) {
          if (err instanceof LumenError) throw err;
          throw new LumenError(path, e.name, `corrupt deflate data (${(err as Error).message})`);
        }
        if (total !== e.size) {
          throw new LumenError(
            path,
            e.name,
            `inflates to ${total} bytes, directory says ${e.size}`,
          );
        }
      } else {
        throw new LumenError(path, e.name, `unsupported compression method ${e.method}`);
      }
      const info = s.finish(e.size);
      arrays.push({ ...info, name: e.name.slice(0, -4), compressed: e.method === 8 });
    }
    const format = members.length > 0 && members.every((m) => m.name.endsWith(".npy"))
      ? "npz"
      : "zip";
    return { format, arrays, members };
  } finally {
    zip.close();
  }
}

// ---------------------------------------------------------------------------------------------
// TIFF

async function inspectTiff(path: string, opts: InspectOptions): Promise<Partial<Report>> {
  const doc = new TiffDocument(await Deno.readFile(path), path);
  const info = doc.info;
  const pages = info.pages.map((p) => ({
    index: p.index,
    shape: p.shape,
    dtype: p.dtype,
    compression: TIFF_COMPRESSION[p.compression] ?? String(p.compression),
    ...(p.predictor !== 1 ? { predictor: p.predictor } : {}),
    ...(p.tile ? { tile: p.tile } : {}),
    ...(p.description ? { description: p.description } : {}),
  }));
  // Pages of equal shape and dtype form one stack (as tifffile's first series); otherwise each
  // page is its own array.
  const same = info.pages.every((p) =>
    p.dtype === info.pages[0].dtype && p.shape.join() === info.pages[0].shape.join()
  );
  const arrays: ArrayInfo[] = [];
  const stats = opts.stats ?? true;
  if (same && info.pages.length > 0) {
    const mm = new MinMax();
    if (stats) { for (let i = 0; i < doc.pageCount; i++) mm.add(doc.page(i).data); }
    const p0 = info.pages[0];
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
        ...(stats ? statsOf(doc.page(i)) : NO_STATS),
      });
    }
  }
  return { arrays, byteOrder: info.littleEndian ? "little" : "big", bigTiff: info.bigTiff, pages };
}

const TIFF_COMPRESSION: Record<number, string> = {
  1: "none",
  5: "lzw",
  8: "deflate",
  32946: "deflate",
  32773: "packbits",
  7: "jpeg",
  50000: "zstd",
};

// ---------------------------------------------------------------------------------------------
// PNG, JPEG

async function inspectPng(path: string, opts: InspectOptions): Promise<Partial<Report>> {
  const img = decodePng(await Deno.readFile(path), path);
  const st = opts.stats ?? true ? statsOf(img) : NO_STATS;
  return {
    arrays: [{ name: "image", shape: img.shape, dtype: img.dtype, ...st }],
    image: { ...img.info },
  };
}

async function inspectJpeg(path: string, opts: InspectOptions): Promise<Partial<Report>> {
  const bytes = await Deno.readFile(path);
  const frame = jpegFrameInfo(bytes);
  const img = decodeJpeg(bytes, path);
  const st = opts.stats ?? true ? statsOf(img) : NO_STATS;
  return {
    arrays: [{ name: "image", shape: img.shape, dtype: img.dtype, ...st }],
    image: { ...frame },
  };
}

// ---------------------------------------------------------------------------------------------
// Text formats

async function inspectText(
  path: string,
  format: string,
  opts: InspectOptions,
): Promise<Partial<Report>> {
  const text = decodeText(await Deno.readFile(path), path);
  if (format === "json") return { arrays: [], content: describeValue(parseJson(text, path)) };
  if (format === "yaml") return { arrays: [], content: describeValue(parseYaml(text, path)) };
  if (format === "jsonl") {
    const keys = new Set<string>();
    let records = 0;
    text.split("\n").forEach((line, i) => {
      if (!line.trim()) return;
      const o = parseJson(line, `${path}: line ${i + 1}`);
      if (o && typeof o === "object") Object.keys(o).forEach((k) => keys.add(k));
      records++;
    });
    return { arrays: [], records, keys: [...keys] };
  }
  // CSV / TSV: header, row count, numeric columns' min/max
  const delimiter = path.toLowerCase().endsWith(".tsv") ? "\t" : ",";
  const rows = parseCsv(text, path, { delimiter }).filter((r) => r.some((c) => c !== ""));
  if (rows.length === 0) return { arrays: [], rows: 0, columns: [] };
  const numeric = (s: string) => s.trim() !== "" && Number.isFinite(Number(s));
  const hasHeader = rows.length > 1 && !rows[0].every(numeric);
  const header = hasHeader ? rows[0] : rows[0].map((_, i) => `column ${i}`);
  const body = hasHeader ? rows.slice(1) : rows;
  const columns = header.map((name, j) => {
    const vals = body.map((r) => r[j] ?? "");
    const nums = vals.filter(numeric).map(Number);
    const col: Record<string, unknown> = {
      name,
      type: nums.length === vals.length && vals.length ? "number" : "text",
    };
    if (col.type === "number" && (opts.stats ?? true)) {
      col.min = nums.reduce((x, y) => Math.min(x, y));
      col.max = nums.reduce((x, y) => Math.max(x, y));
    }
    return col;
  });
  return { arrays: [], rows: body.length, header: hasHeader, columns };
}

function describeValue(v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) {
    return {
      type: "array",
      length: v.length,
      ...(v.length && depth < 2 ? { first: describeValue(v[0], depth + 1) } : {}),
    };
  }
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (depth >= 2) return { type: "object", keys };
    return {
      type: "object",
      keys: Object.fromEntries(
        keys.map((k) => [k, describeValue((v as Record<string, unknown>)[k], depth + 1)]),
      ),
    };
  }
  return v === null ? "null" : typeof v;
}

// ---------------------------------------------------------------------------------------------
// Entry points

function pathBase(p: string): string {
  return p.replace(/^.*\//, "");
}

/** Inspects one file: its format, arrays (with min/max) and per-format details. */
export async function inspectFile(path: string, opts: InspectOptions = {}): Promise<Report> {
  const format = await detectFormat(path);
  const info = await Deno.stat(path);
  let part: Partial<Report>;
  switch (format) {
    case "hdf5":
      part = await inspectHdf5(path, opts);
      break;
    case "npy":
      part = inspectNpy(path, opts);
      break;
    case "zip":
      part = await inspectZip(path, opts);
      break;
    case "tiff":
      part = await inspectTiff(path, opts);
      break;
    case "png":
      part = await inspectPng(path, opts);
      break;
    case "jpeg":
      part = await inspectJpeg(path, opts);
      break;
    case "csv":
    case "json":
    case "jsonl":
    case "yaml":
      part = await inspectText(path, format, opts);
      break;
    case "nifti":
      part = await inspectNifti(path, opts);
      break;
    case "tar":
      part = await inspectTar(path);
      break;
    case "gzip":
      part = await inspectGzip(path);
      break;
    default:
      throw new LumenError(path, "", `inspecting ${format} files is not supported yet`);
  }
  return {
    file: path,
    format: part.format as string ?? format,
    bytes: info.size,
    ...part,
    arrays: part.arrays ?? [],
  } as Report;
}

/** Streams a file's bytes from `offset`, gunzipped when `gz`, to `push`; returns the byte count. */
async function streamBytes(
  path: string,
  gz: boolean,
  push: (b: Uint8Array) => void,
): Promise<number> {
  const f = await Deno.open(path, { read: true });
  let total = 0;
  const stream = gz ? f.readable.pipeThrough(new DecompressionStream("gzip")) : f.readable;
  try {
    for await (const chunk of stream) {
      total += chunk.length;
      push(chunk);
    }
  } catch (e) {
    if (e instanceof LumenError) throw e;
    throw new LumenError(
      path,
      `byte ${total} (uncompressed)`,
      `corrupt gzip data (${(e as Error).message})`,
    );
  }
  return total;
}

async function inspectNifti(path: string, opts: InspectOptions): Promise<Partial<Report>> {
  const gz = startsWith(readHead(path, 2), [0x1f, 0x8b]);
  const head = gz ? (await gunzipHead(path, 352)) ?? new Uint8Array(0) : readHead(path, 352);
  const { header: h, littleEndian } = parseNiftiHeader(head, path);
  if (h.magic !== "n+1") {
    throw new LumenError(path, "magic (byte 344)", `expected 'n+1', found '${h.magic}'`);
  }
  const nd = h.dim[0];
  if (!(nd >= 1 && nd <= 7)) {
    throw new LumenError(path, "dim[0] (byte 40)", `number of dimensions ${nd} is not in 1..7`);
  }
  const shape = h.dim.slice(1, nd + 1);
  const dtype = dtypeOfNifti(h.datatype);
  if (!dtype) {
    throw new LumenError(path, "datatype (byte 70)", `unsupported datatype code ${h.datatype}`);
  }
  const offset = Math.max(352, Math.floor(h.vox_offset));
  const need = sizeOf(shape) * DTYPE_SIZE[dtype];
  const bs = new ByteStats(dtype, littleEndian);
  const stats = opts.stats ?? true;
  let pos = 0;
  const total = await streamBytes(path, gz, (b) => {
    // only the data bytes [offset, offset + need)
    const lo = Math.max(0, offset - pos), hi = Math.min(b.length, offset + need - pos);
    if (stats && hi > lo) bs.push(b.subarray(lo, hi));
    pos += b.length;
  });
  if (total < offset + need) {
    throw new LumenError(
      path,
      `vox_offset ${offset}`,
      `data truncated: ${shape.join("×")} ${dtype} needs ${need} bytes, found ${
        Math.max(0, total - offset)
      }`,
    );
  }
  const st = stats ? bs.mm.result() : NO_STATS;
  const arr: ArrayInfo = { name: "data", shape, dtype, ...st };
  const slope = h.scl_slope, inter = h.scl_inter;
  if (
    slope !== 0 && Number.isFinite(slope) && (slope !== 1 || inter !== 0) &&
    typeof st.min === "number" &&
    typeof st.max === "number"
  ) {
    const a = st.min * slope + inter, b = st.max * slope + inter;
    arr.scaledMin = Math.min(a, b);
    arr.scaledMax = Math.max(a, b);
  }
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    header[k] = typeof v === "number"
      ? jsonNumber(v)
      : Array.isArray(v)
      ? v.map((x) => jsonNumber(x))
      : v;
  }
  let affine: unknown = null;
  try {
    affine = niftiAffine(h, path).map((row) => row.map((x) => jsonNumber(x)));
  } catch (e) {
    if (!(e instanceof LumenError)) throw e;
    affine = `invalid: ${e.problem}`;
  }
  return {
    arrays: [arr],
    compressed: gz,
    byteOrder: littleEndian ? "little" : "big",
    header,
    affine,
  };
}

const TAR_TYPE_CHAR: Record<string, string> = {
  file: "-",
  dir: "d",
  symlink: "l",
  hardlink: "h",
  char: "c",
  block: "b",
  fifo: "p",
  other: "?",
};

async function inspectTar(path: string): Promise<Partial<Report>> {
  const entries = await listTar(path);
  const members = entries.map((e) => ({
    name: e.name,
    type: e.type,
    size: e.size,
    mode: "0" + (e.mode & 0o7777).toString(8),
    ...(e.linkname ? { linkname: e.linkname } : {}),
    mtime: e.mtime,
  }));
  return {
    arrays: [],
    compressed: startsWith(readHead(path, 2), [0x1f, 0x8b]),
    files: entries.filter((e) => e.type === "file").length,
    totalSize: entries.reduce((a, e) => a + e.size, 0),
    members,
  };
}

async function inspectGzip(path: string): Promise<Partial<Report>> {
  const total = await streamBytes(path, true, () => {});
  return { arrays: [], uncompressedBytes: total };
}

// ---------------------------------------------------------------------------------------------
// Text output

function fmtNum(v: JsonNumber): string {
  if (v === null) return "-";
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6
    ? String(Number(v.toPrecision(6)))
    : v.toExponential(4);
}

function fmtBytes(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0, x = n;
  while (x >= 1024 && i < u.length - 1) x /= 1024, i++;
  return i ? `${x.toFixed(1)} ${u[i]}` : `${n} B`;
}

function fmtArray(a: ArrayInfo): string {
  const parts = [`${a.dtype} (${a.shape.join(", ")})`];
  if (a.min !== null || a.max !== null) parts.push(`min ${fmtNum(a.min)} max ${fmtNum(a.max)}`);
  if (a.nan) parts.push(`${a.nan} NaN`);
  if (a.error) parts.push(`(unreadable: ${a.error})`);
  return parts.join("  ");
}

/** A name as shown in text: JSON-quoted when it holds control characters or spaces at its ends. */
function showName(name: string): string {
  // deno-lint-ignore no-control-regex
  return /[\x00-\x1f\x7f]|^\s|\s$/.test(name) ? JSON.stringify(name) : name;
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 3) + "..." : s;
}

function fmtAttrs(attrs: unknown, indent: string): string[] {
  if (!attrs || typeof attrs !== "object") return [];
  return Object.entries(attrs as Record<string, unknown>).map(([k, v]) => {
    return `${indent}@${showName(k)} = ${clip(JSON.stringify(v) ?? String(v), 80)}`;
  });
}

/** The human-readable form of a report. */
export function formatReport(r: Report): string {
  const lines = [`${r.file}: ${r.format}, ${fmtBytes(r.bytes)}`];
  const byName = new Map(r.arrays.map((a) => [a.name, a]));
  if (r.format === "hdf5") {
    lines.push(...fmtAttrs(r.attrs, "  "));
    for (const n of r.tree as Record<string, unknown>[]) {
      const path = n.path as string;
      const depth = path.split("/").length - 2;
      const ind = "  ".repeat(depth + 1);
      const name = showName(path.split("/").pop() || "/");
      if (n.kind === "group") {
        lines.push(`${ind}${name}/`);
        lines.push(...fmtAttrs(n.attrs, ind + "    "));
      } else if (n.kind === "dataset") {
        const a = byName.get(path);
        const extra: string[] = [];
        if (n.chunks) extra.push(`chunks (${(n.chunks as number[]).join(", ")})`);
        if ((n.filters as string[]).length) extra.push((n.filters as string[]).join(" "));
        if (n.file) extra.push(`in ${n.file}`);
        const desc = n.value !== undefined
          ? `${n.dtype} (${(n.shape as number[]).join(", ")}) = ${
            clip(JSON.stringify(n.value), 60)
          }`
          : a
          ? fmtArray(a)
          : `${n.dtype} (${(n.shape as number[]).join(", ")})`;
        lines.push(`${ind}${name}  ${desc}${extra.length ? "  " + extra.join("  ") : ""}`);
        lines.push(...fmtAttrs(n.attrs, ind + "    "));
      } else {
        const where = n.kind === "externallink" ? `${n.targetFile}:${n.target}` : `${n.target}`;
        const a = byName.get(path);
        lines.push(
          `${ind}${name} -> ${where}${n.broken ? "  (broken)" : ""}${a ? "  " + fmtArray(a) : ""}`,
        );
      }
    }
    return lines.join("\n") + "\n";
  }
  for (const a of r.arrays) {
    const extra = Object.entries(a).filter(([k]) =>
      !["name", "shape", "dtype", "min", "max", "nan"].includes(k)
    )
      .map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : v}`);
    lines.push(`  ${a.name}  ${fmtArray(a)}${extra.length ? "  " + extra.join("  ") : ""}`);
  }
  if (r.format === "tar") {
    const ms = r.members as {
      name: string;
      type: string;
      size: number;
      mode: string;
      linkname?: string;
    }[];
    lines.push(
      `  ${r.files} files, ${fmtBytes(r.totalSize as number)}${
        r.compressed ? ", gzip-compressed" : ""
      }`,
    );
    for (const m of ms) {
      const link = m.linkname ? ` -> ${m.linkname}` : "";
      lines.push(
        `  ${TAR_TYPE_CHAR[m.type] ?? "?"} ${m.mode} ${String(m.size).padStart(10)}  ${
          showName(m.name)
        }${link}`,
      );
    }
    return lines.join("\n") + "\n";
  }
  if (r.format === "tiff") {
    const pages = r.pages as {
      index: number;
      shape: number[];
      dtype: string;
      compression: string;
      description?: string;
    }[];
    lines.push(
      `  ${r.byteOrder}-endian${r.bigTiff ? " BigTIFF" : ""}, ${pages.length} page${
        pages.length === 1 ? "" : "s"
      }`,
    );
    const key = (p: (typeof pages)[0]) =>
      `(${p.shape.join(", ")}) ${p.dtype}, compression ${p.compression}`;
    for (let i = 0; i < pages.length;) {
      let j = i + 1;
      while (j < pages.length && key(pages[j]) === key(pages[i]) && !pages[j].description) j++;
      lines.push(`    page${j - i > 1 ? `s ${i}–${j - 1}` : ` ${i}`}: ${key(pages[i])}`);
      if (pages[i].description) {
        lines.push(
          `      page ${i} description: ${clip(JSON.stringify(pages[i].description), 100)}`,
        );
      }
      i = j;
    }
    return lines.join("\n") + "\n";
  }
  if (r.format === "nifti") {
    const h = r.header as Record<string, unknown>;
    const keys = [
      "dim",
      "pixdim",
      "datatype",
      "bitpix",
      "vox_offset",
      "scl_slope",
      "scl_inter",
      "xyzt_units",
      "qform_code",
      "sform_code",
      "descrip",
      "intent_code",
    ];
    for (const k of keys) lines.push(`  ${k}: ${JSON.stringify(h[k])}`);
    lines.push(`  affine: ${JSON.stringify(r.affine)}`);
    lines.push(`  byte order ${r.byteOrder}${r.compressed ? ", gzip-compressed" : ""}`);
    return lines.join("\n") + "\n";
  }
  for (const [k, v] of Object.entries(r)) {
    if (["file", "format", "bytes", "arrays"].includes(k)) continue;
    if (Array.isArray(v)) {
      lines.push(`  ${k}: ${v.length}`);
      for (const item of v.slice(0, 200)) {
        lines.push(`    ${typeof item === "object" ? JSON.stringify(item) : item}`);
      }
      if (v.length > 200) lines.push(`    … ${v.length - 200} more`);
    } else lines.push(`  ${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  }
  return lines.join("\n") + "\n";
}

/** JSON indented by two spaces, with arrays of plain values (shapes, min/max lists) on one line. */
export function prettyJson(value: unknown, indent = ""): string {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== "object")) return JSON.stringify(value);
    const inner = indent + "  ";
    return `[\n${value.map((v) => inner + prettyJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const inner = indent + "  ";
    const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`);
    return `{\n${body.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The tool's description. */
export const meta = defineTool({
  name: "inspect",
  summary: "prints what a scientific file holds",
  permissions: ["--allow-read", "--allow-env=LOG_TOKENS,LOG_STREAM"],
  task: "inspect",
  args: [{
    name: "FILE",
    help: "HDF5/NeXus, TIFF, NPY, NPZ, NIfTI, tar(.gz), PNG, JPEG, CSV, JSON, YAML",
  }],
  flags: {
    json: { type: "boolean", help: "print one JSON document instead of text" },
    stats: { type: "boolean", default: true, help: "compute min/max of every array" },
  },
  description:
    `--allow-env=LOG_TOKENS,LOG_STREAM is for YAML files: the yaml package reads those two variables.`,
  examples: ["scan.nxs", "volume.tif --json", "big.h5 --no-stats"],
});

if (import.meta.main) {
  await runTool(meta, async (f) => {
    const report = await inspectFile(f._[0], { stats: f.stats });
    const out = f.json ? prettyJson(report) + "\n" : formatReport(report);
    const bytes = new TextEncoder().encode(out);
    for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
  });
}
