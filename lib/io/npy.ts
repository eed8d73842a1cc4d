/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), read and write, and the byte-level
 * helpers the other formats share (dtype ⇄ bytes in either byte order, C ⇄ Fortran order).
 *
 * Reading accepts every numeric dtype Lumen knows (`bool`, `int8`…`uint64`, `float32`,
 * `float64`) in little or big endian, C or Fortran order. The result is always an {@link NdArray}
 * in C order and native (little-endian) byte order, indexed exactly as NumPy indexes the array:
 * a Fortran-ordered file is reordered on read. Writing produces little-endian data in C order, or
 * Fortran order on request, with the smallest header version that fits (1.0 unless the header
 * exceeds 65535 bytes).
 *
 * A wrong header gives a one-line {@link LumenError} naming the byte offset and field, e.g.
 * `a.npy: byte 10, field 'descr': dtype '<c8' is not supported`.
 *
 * @example
 * ```ts
 * import { readNpy, writeNpy } from "./npy.ts";
 * import { ndarray } from "./array.ts";
 * await writeNpy("a.npy", ndarray(new Float32Array([1, 2, 3, 4]), [2, 2]), { overwrite: true });
 * const a = await readNpy("a.npy"); // { dtype: "float32", shape: [2, 2], data: Float32Array }
 * ```
 * @module
 */
import {
  allocTyped,
  type DType,
  DTYPE_SIZE,
  type NdArray,
  sizeOf,
  type TypedArray,
  typedView,
} from "./array.ts";
import { LumenError } from "../run/errors.ts";
import { readInputSync, writeChunksAtomicSync } from "../run/atomic.ts";
import { checkMemory, exactBytes } from "./budget.ts";
import { safePoint } from "../run/interrupt.ts";

// ---------------------------------------------------------------------------------------------
// Shared byte helpers

/** True on a little-endian host (every platform Deno runs on today). */
export const HOST_LITTLE_ENDIAN: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A new zero-filled typed array of `n` elements of `dtype` (lib/io/array.ts). */
export { allocTyped };

/** Reverses the byte order of every `size`-byte element of `b`, in place. */
export function byteswapInPlace(b: Uint8Array, size: number): void {
  if (size === 1) return;
  const n = b.length - (b.length % size);
  for (let i = 0; i < n; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo];
      b[lo] = b[hi];
      b[hi] = t;
    }
  }
}

/**
 * Copies `count` elements of `dtype` stored at `bytes` (any alignment, the given byte order)
 * into a new native typed array.
 */
export function bytesToTyped(
  bytes: Uint8Array,
  dtype: DType,
  count: number,
  littleEndian: boolean,
): TypedArray {
  const size = DTYPE_SIZE[dtype];
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(0, count * size));
  if (littleEndian !== HOST_LITTLE_ENDIAN) byteswapInPlace(copy, size);
  return typedView(dtype, copy.buffer);
}

/**
 * The bytes of a typed array in the requested byte order (little-endian by default). Returns a
 * view without copying when the order is already native.
 */
export function typedToBytes(data: TypedArray, littleEndian = true): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndian === HOST_LITTLE_ENDIAN) return view;
  const copy = view.slice();
  byteswapInPlace(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

/**
 * Reorders the elements of an array of `shape` between C order (last axis fastest) and Fortran
 * order (first axis fastest). `toC` true: `src` is in Fortran order and the result in C order.
 */
export function reorder<T extends TypedArray>(src: T, shape: readonly number[], toC: boolean): T {
  const nd = shape.length;
  const n = src.length;
  const dst = new (src.constructor as { new (n: number): T })(n);
  if (nd < 2 || n === 0) {
    dst.set(src as never);
    return dst;
  }
  // Element (x, m, z) with x the first axis, z the last and m the middle axes: its C offset is
  // (x * M + mC) * b + z and its Fortran offset x + a * (mF + M * z), where mC / mF number the
  // middle index in C / Fortran order. For each m, transpose the (x, z) plane in cache-sized tiles.
  const a = shape[0], b = shape[nd - 1];
  const mids = shape.slice(1, nd - 1);
  const M = mids.reduce((p, d) => p * d, 1);
  const fStride: number[] = [];
  for (let k = 0, s = 1; k < mids.length; k++) (fStride.push(s), (s *= mids[k]));
  const idx = new Array<number>(mids.length).fill(0);
  const s = src as unknown as Float64Array, d = dst as unknown as Float64Array;
  const Mb = M * b, aM = a * M, T = 64;
  let mF = 0;
  for (let mC = 0; mC < M; mC++) {
    const cBase = mC * b, fBase = a * mF;
    for (let z0 = 0; z0 < b; z0 += T) {
      const z1 = Math.min(b, z0 + T);
      for (let x0 = 0; x0 < a; x0 += T) {
        const x1 = Math.min(a, x0 + T);
        if (toC) {
          for (let x = x0; x < x1; x++) {
            const co = x * Mb + cBase, fo = x + fBase;
            for (let z = z0; z < z1; z++) d[co + z] = s[fo + z * aM];
          }
        } else {
          for (let x = x0; x < x1; x++) {
            const co = x * Mb + cBase, fo = x + fBase;
            for (let z = z0; z < z1; z++) d[fo + z * aM] = s[co + z];
          }
        }
      }
    }
    // Next middle index in C order (last middle axis fastest), tracking its Fortran number.
    for (let k = mids.length - 1; k >= 0; k--) {
      idx[k]++;
      mF += fStride[k];
      if (idx[k] < mids[k]) break;
      mF -= fStride[k] * mids[k];
      idx[k] = 0;
    }
  }
  return dst;
}

// ---------------------------------------------------------------------------------------------
// NPY

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The parsed header of a .npy file. */
export interface NpyHeader {
  /** Format version, e.g. [1, 0]. */
  version: [number, number];
  /** The dtype string as written, e.g. "<f4". */
  descr: string;
  /** Lumen's dtype name. */
  dtype: DType;
  /** True when the data is little-endian (always true for 1-byte types). */
  littleEndian: boolean;
  /** True when the data is in Fortran (column-major) order. */
  fortranOrder: boolean;
  /** The array shape. */
  shape: number[];
  /** Byte offset of the data from the start of the file. */
  dataOffset: number;
}

const DESCR_KIND: Record<string, DType> = {
  b1: "bool",
  i1: "int8",
  u1: "uint8",
  i2: "int16",
  u2: "uint16",
  i4: "int32",
  u4: "uint32",
  i8: "int64",
  u8: "uint64",
  f4: "float32",
  f8: "float64",
};

/** The NPY descr of a dtype in little-endian order ("<f4", "|u1", "|b1"…). */
export function npyDescr(dtype: DType): string {
  switch (dtype) {
    case "bool":
      return "|b1";
    case "int8":
      return "|i1";
    case "uint8":
      return "|u1";
    default: {
      const k = Object.entries(DESCR_KIND).find(([, d]) => d === dtype)![0];
      return `<${k}`;
    }
  }
}

/** Parses an NPY descr ("<f4", ">i2", "|b1", "?") into a dtype and byte order. */
export function parseDescr(descr: string): { dtype: DType; littleEndian: boolean } | null {
  if (descr === "?") return { dtype: "bool", littleEndian: true };
  const m = /^([<>|=]?)([biuf])(\d+)$/.exec(descr);
  if (!m) return null;
  const dtype = DESCR_KIND[m[2] + m[3]];
  if (!dtype) return null;
  const order = m[1];
  if (DTYPE_SIZE[dtype] === 1) return { dtype, littleEndian: true };
  if (order === "|") return null;
  return { dtype, littleEndian: order !== ">" ? true : false };
}

type PyValue = string | boolean | number[] | { list: true };

/** A tiny parser for the Python dict literal of an NPY header, reporting byte offsets. */
class HeaderParser {
  pos = 0;
  constructor(readonly text: string, readonly base: number, readonly file: string) {}

  fail(problem: string, field = "", at = this.pos): never {
    const place = field ? `byte ${this.base + at}, field '${field}'` : `byte ${this.base + at}`;
    throw new LumenError(this.file, place, problem);
  }

  /** Skips Python's whitespace (space, tab, newlines, form feed), not other spaces. */
  ws() {
    while (this.pos < this.text.length && /[ \t\n\r\f]/.test(this.text[this.pos])) this.pos++;
  }

  expect(ch: string, what: string, field = "") {
    this.ws();
    if (this.text[this.pos] !== ch) {
      const found = this.pos < this.text.length ? `'${this.text[this.pos]}'` : "end of header";
      this.fail(`header dict: expected ${what}, found ${found}`, field);
    }
    this.pos++;
  }

  str(field = ""): string {
    this.ws();
    const q = this.text[this.pos];
    if (q !== "'" && q !== '"') this.fail("header dict: expected a quoted string", field);
    const end = this.text.indexOf(q, this.pos + 1);
    if (end < 0) this.fail("header dict: unterminated string", field);
    const s = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }

  value(field: string): PyValue {
    this.ws();
    const c = this.text[this.pos];
    if (c === "'" || c === '"') return this.str(field);
    if (this.text.startsWith("True", this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith("False", this.pos)) {
      this.pos += 5;
      return false;
    }
    if (c === "(") {
      this.pos++;
      const out: number[] = [];
      for (;;) {
        this.ws();
        if (this.text[this.pos] === ")") {
          this.pos++;
          return out;
        }
        const m = /^(\d+)L?/.exec(this.text.slice(this.pos));
        if (!m) this.fail("header dict: expected a non-negative integer in the shape tuple", field);
        if (!Number.isSafeInteger(Number(m[1]))) {
          this.fail(`header dict: shape dimension ${m[1]} is beyond 2^53; corrupt header?`, field);
        }
        out.push(Number(m[1]));
        this.pos += m[0].length;
        this.ws();
        if (this.text[this.pos] === ",") this.pos++;
        else if (this.text[this.pos] !== ")") {
          this.fail("header dict: expected ',' or ')' in the shape tuple", field);
        }
      }
    }
    if (c === "[") return { list: true };
    return this.fail("header dict: unexpected value", field);
  }

  dict(): Map<string, { value: PyValue; at: number }> {
    const out = new Map<string, { value: PyValue; at: number }>();
    this.expect("{", "'{'");
    for (;;) {
      this.ws();
      if (this.text[this.pos] === "}") {
        this.pos++;
        break;
      }
      const key = this.str();
      this.expect(":", "':'", key);
      this.ws();
      const at = this.pos;
      out.set(key, { value: this.value(key), at });
      this.ws();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] !== "}") this.fail("header dict: expected ',' or '}'", key);
    }
    return out;
  }
}

/** The longest NPY header read (1 MiB; numpy's own headers are under 100 bytes per dimension). */
export const NPY_MAX_HEADER = 1 << 20;

/** Options of {@link decodeNpy} and {@link readNpy}. */
export interface NpyReadOptions {
  /** Memory budget in bytes (default: the process-wide one, see lib/io/budget.ts). */
  maxMemory?: number;
}

/**
 * Parses the header of an NPY file held in `bytes` (at least the header must be present).
 * `file` names the file in error messages.
 */
export function parseNpyHeader(bytes: Uint8Array, file = "<npy>"): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new LumenError(file, "byte 0", "not an NPY file (missing \\x93NUMPY magic)");
  }
  const major = bytes[6], minor = bytes[7];
  if (![1, 2, 3].includes(major) || minor !== 0) {
    throw new LumenError(file, "byte 6", `unsupported NPY format version ${major}.${minor}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number, start: number;
  if (major === 1) {
    hlen = dv.getUint16(8, true);
    start = 10;
  } else {
    if (bytes.length < 12) throw new LumenError(file, "byte 8", "header length field truncated");
    hlen = dv.getUint32(8, true);
    start = 12;
  }
  if (hlen > NPY_MAX_HEADER) {
    throw new LumenError(
      file,
      "byte 8",
      `header length ${hlen} is over the ${NPY_MAX_HEADER}-byte limit; corrupt or hostile file?`,
    );
  }
  if (start + hlen > bytes.length) {
    throw new LumenError(
      file,
      "byte 8",
      `header length ${hlen} runs past the end of the file (${bytes.length} bytes)`,
    );
  }
  const raw = bytes.subarray(start, start + hlen);
  const text = major === 3 ? new TextDecoder().decode(raw) : latin1(raw);
  const p = new HeaderParser(text, start, file);
  const dict = p.dict();
  p.ws();
  if (p.pos < text.length) {
    p.fail(`garbage after the header dict ('${text[p.pos]}' in its padding); corrupt file?`);
  }
  for (const key of ["descr", "fortran_order", "shape"]) {
    if (!dict.has(key)) p.fail(`header dict has no '${key}' key`, key, 0);
  }
  for (const key of dict.keys()) {
    if (!["descr", "fortran_order", "shape"].includes(key)) {
      p.fail(`header dict has an unexpected key '${key}'`, key, dict.get(key)!.at);
    }
  }
  const d = dict.get("descr")!;
  if (typeof d.value !== "string") {
    p.fail("structured dtypes are not supported (descr is a list)", "descr", d.at);
  }
  const parsed = parseDescr(d.value as string);
  if (!parsed) p.fail(`dtype '${d.value}' is not supported`, "descr", d.at);
  const fo = dict.get("fortran_order")!;
  if (typeof fo.value !== "boolean") p.fail("expected True or False", "fortran_order", fo.at);
  const sh = dict.get("shape")!;
  if (!Array.isArray(sh.value)) p.fail("expected a tuple of integers", "shape", sh.at);
  return {
    version: [major, minor],
    descr: d.value as string,
    dtype: parsed!.dtype,
    littleEndian: parsed!.littleEndian,
    fortranOrder: fo.value as boolean,
    shape: sh.value as number[],
    dataOffset: start + hlen,
  };
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 8192)));
  }
  return s;
}

/**
 * Decodes a whole NPY file held in memory into a C-ordered, native-endian NdArray.
 *
 * @example
 * ```ts
 * const a = decodeNpy(await Deno.readFile("a.npy"), "a.npy");
 * ```
 */
export function decodeNpy(
  bytes: Uint8Array,
  file = "<npy>",
  opts: NpyReadOptions = {},
): NdArray {
  const h = parseNpyHeader(bytes, file);
  const n = sizeOf(h.shape);
  checkNpyLength(h, bytes.length - h.dataOffset, file);
  checkNpyMemory(h, file, opts.maxMemory);
  let data = bytesToTyped(bytes.subarray(h.dataOffset), h.dtype, n, h.littleEndian);
  if (h.fortranOrder && h.shape.length > 1) data = reorder(data, h.shape, true);
  return { dtype: h.dtype, shape: h.shape.slice(), data };
}

/**
 * Refuses, before allocating, an array whose decoded size (twice that for Fortran order, which
 * is reordered through a copy) exceeds the memory budget.
 */
function checkNpyMemory(h: NpyHeader, file: string, limit?: number): void {
  const copies = h.fortranOrder && h.shape.length > 1 ? 2 : 1;
  const need = exactBytes(h.shape, DTYPE_SIZE[h.dtype], copies);
  checkMemory(file, "header", `shape (${h.shape.join(", ")}) of ${h.descr}`, need, limit);
}

/** Refuses data shorter than the header's shape and dtype need (`have` bytes after it). */
function checkNpyLength(h: NpyHeader, have: number, file: string): void {
  const need = sizeOf(h.shape) * DTYPE_SIZE[h.dtype];
  if (have < need) {
    throw new LumenError(
      file,
      `byte ${h.dataOffset}`,
      `data truncated: shape (${h.shape.join(", ")}) of ${h.descr} needs ${
        exactBytes(h.shape, DTYPE_SIZE[h.dtype])
      } bytes, found ${have}`,
    );
  }
}

/** Bytes the header takes (magic to newline) once the first 12 bytes are known, else null. */
function npyHeaderEnd(head: Uint8Array): number | null {
  if (head.length < 12) return null;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return head[6] === 1 ? 10 + dv.getUint16(8, true) : 12 + dv.getUint32(8, true);
}

/**
 * Reads an NPY byte stream piece by piece: parses the header as soon as its bytes are in, hands
 * the data bytes (exactly those the header declares, in the file's byte order and element
 * order) to `onData` as they come, and refuses a stream too short for its shape at the end.
 * Memory holds one piece at a time, whatever the array's size.
 *
 * @example
 * ```ts
 * let n = 0;
 * const h = await streamNpy([await Deno.readFile("a.npy")], "a.npy", (b) => n += b.length);
 * // h.shape, h.dtype, h.littleEndian; n === h.shape product × itemsize
 * ```
 */
export async function streamNpy(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  file = "<npy>",
  onData: (bytes: Uint8Array, header: NpyHeader) => void = () => {},
): Promise<NpyHeader> {
  const parts: Uint8Array[] = [];
  let held = 0, end = 0, header: NpyHeader | null = null, need = 0, got = 0;
  const joined = () => {
    const all = new Uint8Array(held);
    let o = 0;
    for (const p of parts) all.set(p, o), o += p.length;
    return all;
  };
  for await (const chunk of chunks) {
    let piece = chunk;
    if (!header) {
      parts.push(chunk);
      held += chunk.length;
      if (held < Math.max(12, end)) continue;
      const head = joined();
      parts.splice(0, parts.length, head);
      if (!end) {
        // a wrong magic or version throws here, before more of a foreign stream is held
        if (MAGIC.some((b, i) => head[i] !== b) || ![1, 2, 3].includes(head[6])) {
          parseNpyHeader(head, file);
        }
        end = npyHeaderEnd(head)!;
        if (end - 12 > NPY_MAX_HEADER) parseNpyHeader(head, file); // refuses the length
        if (held < end) continue;
      }
      header = parseNpyHeader(head, file);
      need = sizeOf(header.shape) * DTYPE_SIZE[header.dtype];
      piece = head.subarray(header.dataOffset);
      parts.length = 0;
    }
    const take = Math.min(piece.length, need - got);
    if (take > 0) onData(piece.subarray(0, take), header);
    got += piece.length;
    await safePoint();
  }
  if (!header) header = parseNpyHeader(joined(), file); // too short: throws the reason
  checkNpyLength(header, got, file);
  return header;
}

/** Options of {@link encodeNpy} and {@link writeNpy}. */
export interface NpyWriteOptions {
  /** Store the data in Fortran order (header `fortran_order: True`). Default false. */
  fortranOrder?: boolean;
  /** Force a header version (1, 2 or 3); default the smallest that fits. */
  version?: 1 | 2 | 3;
}

/** The header bytes (magic through the newline) of an NPY file for `arr`. */
export function npyHeaderBytes(
  dtype: DType,
  shape: readonly number[],
  opts: NpyWriteOptions = {},
): Uint8Array {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${npyDescr(dtype)}', 'fortran_order': ${
    opts.fortranOrder ? "True" : "False"
  }, 'shape': ${shapeStr}, }`;
  let version = opts.version ?? 1;
  const padded = (pre: number) => {
    const total = pre + dict.length + 1;
    return dict + " ".repeat((64 - (total % 64)) % 64) + "\n";
  };
  let text = padded(10);
  if (version === 1 && text.length > 0xffff) {
    if (opts.version === 1) throw new RangeError("NPY header too long for version 1.0");
    version = 2;
  }
  if (version !== 1) text = padded(12);
  const pre = version === 1 ? 10 : 12;
  const out = new Uint8Array(pre + text.length);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  return out;
}

/** The data bytes (little-endian, C or Fortran order) of `arr`. */
function npyDataBytes(arr: NdArray, fortranOrder: boolean): Uint8Array {
  checkArray(arr);
  const data = fortranOrder && arr.shape.length > 1
    ? reorder(arr.data, arr.shape, false)
    : arr.data;
  return typedToBytes(data, true);
}

function checkArray(arr: NdArray): void {
  const n = sizeOf(arr.shape);
  if (arr.data.length !== n) {
    throw new RangeError(`shape [${arr.shape}] holds ${n} elements, data has ${arr.data.length}`);
  }
  if (arr.data.BYTES_PER_ELEMENT !== DTYPE_SIZE[arr.dtype]) {
    throw new RangeError(`dtype ${arr.dtype} does not match a ${arr.data.constructor.name}`);
  }
}

/** The header and data chunks of an NPY file (for streaming writers). */
export function encodeNpyChunks(arr: NdArray, opts: NpyWriteOptions = {}): Uint8Array[] {
  const data = npyDataBytes(arr, opts.fortranOrder ?? false);
  return [npyHeaderBytes(arr.dtype, arr.shape, opts), data];
}

/**
 * Encodes an array as NPY bytes (little-endian; C order unless `fortranOrder`).
 *
 * @example
 * ```ts
 * const bytes = encodeNpy(ndarray(new Int16Array([1, -2]), [2]));
 * ```
 */
export function encodeNpy(arr: NdArray, opts: NpyWriteOptions = {}): Uint8Array {
  const [h, d] = encodeNpyChunks(arr, opts);
  const out = new Uint8Array(h.length + d.length);
  out.set(h);
  out.set(d, h.length);
  return out;
}

/**
 * Reads an NPY file into a C-ordered NdArray (see {@link decodeNpy}). The header is read and
 * checked (length, memory budget) before the data: a file too large for the budget is refused
 * without reading it.
 *
 * @example
 * ```ts
 * const a = await readNpy("a.npy", { maxMemory: 2 ** 30 });
 * ```
 */
export async function readNpy(path: string, opts: NpyReadOptions = {}): Promise<NdArray> {
  await Promise.resolve();
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(path, { read: true });
  } catch {
    return decodeNpy(readInputSync(path), path, opts); // the proper LumenError (not found…)
  }
  let head: Uint8Array, size: number;
  try {
    size = f.statSync().size;
    head = readSome(f, Math.min(size, 12));
    const end = npyHeaderEnd(head);
    if (end !== null && end <= size && end - 12 <= NPY_MAX_HEADER) {
      head = new Uint8Array([...head, ...readSome(f, end - head.length)]);
    }
  } catch {
    return decodeNpy(readInputSync(path), path, opts); // a directory…: the proper LumenError
  } finally {
    f.close();
  }
  const h = parseNpyHeader(head, path);
  checkNpyLength(h, size - h.dataOffset, path);
  checkNpyMemory(h, path, opts.maxMemory);
  return decodeNpy(readInputSync(path), path, opts);
}

/** Up to `n` more bytes from an open file. */
function readSome(f: Deno.FsFile, n: number): Uint8Array {
  const buf = new Uint8Array(Math.max(0, n));
  let off = 0;
  while (off < buf.length) {
    const r = f.readSync(buf.subarray(off));
    if (r === null || r === 0) break;
    off += r;
  }
  return buf.subarray(0, off);
}

/**
 * Writes an NPY file atomically; refuses to replace an existing file unless `overwrite`.
 *
 * @example
 * ```ts
 * await writeNpy("f.npy", arr, { fortranOrder: true, overwrite: true });
 * ```
 */
export function writeNpy(
  path: string,
  arr: NdArray,
  opts: NpyWriteOptions & { overwrite?: boolean } = {},
): Promise<void> {
  return Promise.resolve().then(() =>
    writeChunksAtomicSync(path, encodeNpyChunks(arr, opts), { overwrite: opts.overwrite })
  );
}
