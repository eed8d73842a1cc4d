/**
 * Reads files written by `torch.save` (NoStripesNet's `<name>_<epoch>.tar` checkpoints and any
 * other state dicts) without Python: the zip container of PyTorch ≥ 1.6 (stored or deflated
 * entries, zip64) and the older single-stream format (`_use_new_zipfile_serialization=False`),
 * with a minimal unpickler that understands what `torch.save` writes (dicts, OrderedDicts,
 * lists, tuples, numbers, strings, tensors, parameters, storages, `torch.Size`).
 *
 * Python values map to JS as: dict/OrderedDict → `Map`, list → array, tuple → array (frozen),
 * int → number (or bigint beyond 2^53), float → number, str → string, bytes → Uint8Array,
 * None → null, bool → boolean, tensor → {@link TorchTensor}; anything else becomes a
 * {@link PyObject} naming its class, so that unknown entries never stop a load.
 *
 * @example
 * ```ts
 * import { loadTorchCheckpoint, stateDict } from "./torch_checkpoint.ts";
 * const ckpt = await loadTorchCheckpoint("model_100.tar");
 * const gen = stateDict(ckpt, "gen_state_dict"); // Map<"down1.0.weight", NdArray<Float32Array>>
 * ```
 * @module
 */
import { f16ToF32 } from "../io/float16.ts";
import { inflateRawSync } from "node:zlib";
import { LumenError } from "../run/errors.ts";
import type { DType, NdArray, TypedArray } from "../io/array.ts";

/** A storage: one flat typed buffer that tensors view. */
export interface TorchStorage {
  /** Element type (torch naming: "float32", "float16", "bfloat16", "int64", …). */
  dtype: string;
  /** Number of elements. */
  numel: number;
  /** Raw little-endian bytes. */
  bytes: Uint8Array;
}

/** A tensor as pickled by torch: a strided view of a storage. */
export interface TorchTensor {
  readonly kind: "tensor";
  /** Element type (torch naming). */
  dtype: string;
  /** Shape. */
  shape: number[];
  /** Strides in elements. */
  stride: number[];
  /** Offset into the storage, in elements. */
  offset: number;
  /** The storage. */
  storage: TorchStorage;
  /** requires_grad as saved. */
  requiresGrad: boolean;
  /** True for an `nn.Parameter`. */
  isParameter: boolean;
}

/** An object of a class this reader does not model: its class and constructor data. */
export interface PyObject {
  readonly kind: "object";
  /** "module.name" of its class or factory. */
  cls: string;
  /** Arguments given to it (REDUCE/NEWOBJ), if any. */
  args: unknown[];
  /** State set by BUILD, if any. */
  state?: unknown;
}

/** A reference to a Python global (class or function) not otherwise modelled. */
interface PyGlobal {
  readonly kind: "global";
  module: string;
  name: string;
}

/** True when `v` is a tensor read from a torch file. */
export function isTorchTensor(v: unknown): v is TorchTensor {
  return typeof v === "object" && v !== null && (v as TorchTensor).kind === "tensor";
}

// ---------------------------------------------------------------------------------------------
// zip

interface ZipEntry {
  name: string;
  method: number;
  compSize: number;
  size: number;
  localOffset: number;
}

function readZipDirectory(b: Uint8Array, file: string): Map<string, ZipEntry> | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 22 || dv.getUint32(0, true) !== 0x04034b50) return null;
  // end of central directory: scan back over a possible comment (≤ 65535 bytes)
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new LumenError(
      file,
      "zip",
      `truncated torch checkpoint: a zip archive (${b.length} bytes) without its central directory`,
    );
  }
  let count = dv.getUint16(eocd + 10, true);
  let cdOff = dv.getUint32(eocd + 16, true);
  if ((count === 0xffff || cdOff === 0xffffffff) && eocd >= 20) {
    const loc = eocd - 20;
    if (dv.getUint32(loc, true) === 0x07064b50) {
      const z64 = Number(dv.getBigUint64(loc + 8, true));
      if (z64 + 56 > b.length || dv.getUint32(z64, true) !== 0x06064b50) {
        throw new LumenError(file, "zip", "corrupt zip64 end-of-directory record");
      }
      count = Number(dv.getBigUint64(z64 + 32, true));
      cdOff = Number(dv.getBigUint64(z64 + 48, true));
    }
  }
  const out = new Map<string, ZipEntry>();
  let p = cdOff;
  const dec = new TextDecoder();
  for (let k = 0; k < count; k++) {
    if (p + 46 > b.length || dv.getUint32(p, true) !== 0x02014b50) {
      throw new LumenError(file, "zip", `corrupt central directory at byte ${p}`);
    }
    const method = dv.getUint16(p + 10, true);
    let compSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let localOffset = dv.getUint32(p + 42, true);
    const name = dec.decode(b.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) (size = Number(dv.getBigUint64(q, true))), (q += 8);
        if (compSize === 0xffffffff) (compSize = Number(dv.getBigUint64(q, true))), (q += 8);
        if (localOffset === 0xffffffff) localOffset = Number(dv.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    out.set(name, { name, method, compSize, size, localOffset });
    p = eEnd + commentLen;
  }
  return out;
}

function zipData(b: Uint8Array, e: ZipEntry, file: string): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lo = e.localOffset;
  if (lo + 30 > b.length || dv.getUint32(lo, true) !== 0x04034b50) {
    throw new LumenError(file, e.name, `corrupt zip: no local header at byte ${lo}`);
  }
  const start = lo + 30 + dv.getUint16(lo + 26, true) + dv.getUint16(lo + 28, true);
  if (start + e.compSize > b.length) {
    throw new LumenError(
      file,
      e.name,
      `truncated torch checkpoint: entry needs bytes ${start}..${start + e.compSize}, ` +
        `the file has ${b.length}`,
    );
  }
  const raw = b.subarray(start, start + e.compSize);
  if (e.method === 0) return raw;
  if (e.method === 8) return new Uint8Array(inflateRawSync(raw));
  throw new LumenError(file, e.name, `unsupported zip compression method ${e.method}`);
}

// ---------------------------------------------------------------------------------------------
// pickle

const STORAGE_DTYPES: Record<string, string> = {
  FloatStorage: "float32",
  DoubleStorage: "float64",
  HalfStorage: "float16",
  BFloat16Storage: "bfloat16",
  LongStorage: "int64",
  IntStorage: "int32",
  ShortStorage: "int16",
  CharStorage: "int8",
  ByteStorage: "uint8",
  BoolStorage: "bool",
};

const ELEM_BYTES: Record<string, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

type Persistent = (pid: unknown) => unknown;

/** Decodes one pickle stream starting at `pos`; returns the value and the position after STOP. */
function unpickle(
  b: Uint8Array,
  pos: number,
  persistentLoad: Persistent,
  file: string,
): { value: unknown; end: number } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const dec = new TextDecoder();
  let p = pos;
  const need = (n: number) => {
    if (p + n > b.length) {
      throw new LumenError(
        file,
        "pickle",
        `truncated torch checkpoint: pickle stream ends at byte ${b.length}`,
      );
    }
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new LumenError(file, "pickle", "corrupt pickle: MARK missing");
    return stack.splice(m);
  };
  const readLine = (): string => {
    let q = p;
    while (q < b.length && b[q] !== 0x0a) q++;
    const s = dec.decode(b.subarray(p, q));
    p = q + 1;
    return s;
  };
  const readLong = (n: number): number | bigint => {
    need(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[p + i]);
    if (b[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    p += n;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const setItems = (d: unknown, items: unknown[]) => {
    if (d instanceof Map) {
      for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
    } else if (typeof d === "object" && d !== null && (d as PyObject).kind === "object") {
      const o = d as PyObject;
      const m = o.state instanceof Map ? o.state : (o.state = new Map());
      for (let i = 0; i < items.length; i += 2) {
        (m as Map<unknown, unknown>).set(items[i], items[i + 1]);
      }
    } else {
      throw new LumenError(file, "pickle", "corrupt pickle: SETITEMS on a non-dict");
    }
  };
  for (;;) {
    need(1);
    const op = b[p++];
    switch (op) {
      case 0x80: // PROTO
        p += 1;
        break;
      case 0x95: // FRAME
        p += 8;
        break;
      case 0x2e: // STOP
        return { value: stack.pop(), end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(stack[stack.length - 1]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(b[p++]);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(dv.getUint16(p, true));
        p += 2;
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(p, true));
        p += 4;
        break;
      case 0x8a: { // LONG1
        need(1);
        const n = b[p++];
        stack.push(readLong(n));
        break;
      }
      case 0x8b: { // LONG4
        need(4);
        const n = dv.getInt32(p, true);
        p += 4;
        stack.push(readLong(n));
        break;
      }
      case 0x49: { // INT
        const s = readLine();
        stack.push(s === "01" ? true : s === "00" ? false : Number(s));
        break;
      }
      case 0x4c: // LONG
        stack.push(Number(readLine().replace(/L$/, "")));
        break;
      case 0x46: // FLOAT
        stack.push(Number(readLine()));
        break;
      case 0x47: // BINFLOAT
        need(8);
        stack.push(dv.getFloat64(p, false));
        p += 8;
        break;
      case 0x58: { // BINUNICODE
        need(4);
        const n = dv.getUint32(p, true);
        p += 4;
        need(n);
        stack.push(dec.decode(b.subarray(p, p + n)));
        p += n;
        break;
      }
      case 0x8c: { // SHORT_BINUNICODE
        need(1);
        const n = b[p++];
        need(n);
        stack.push(dec.decode(b.subarray(p, p + n)));
        p += n;
        break;
      }
      case 0x8d: { // BINUNICODE8
        need(8);
        const n = Number(dv.getBigUint64(p, true));
        p += 8;
        need(n);
        stack.push(dec.decode(b.subarray(p, p + n)));
        p += n;
        break;
      }
      case 0x56: // UNICODE
        stack.push(readLine());
        break;
      case 0x53: { // STRING
        const s = readLine();
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x54: // BINSTRING
      case 0x42: { // BINBYTES
        need(4);
        const n = dv.getUint32(p, true);
        p += 4;
        need(n);
        const raw = b.slice(p, p + n);
        p += n;
        stack.push(op === 0x54 ? dec.decode(raw) : raw);
        break;
      }
      case 0x55: // SHORT_BINSTRING
      case 0x43: { // SHORT_BINBYTES
        need(1);
        const n = b[p++];
        need(n);
        const raw = b.slice(p, p + n);
        p += n;
        stack.push(op === 0x55 ? dec.decode(raw) : raw);
        break;
      }
      case 0x8e: { // BINBYTES8
        need(8);
        const n = Number(dv.getBigUint64(p, true));
        p += 8;
        need(n);
        stack.push(b.slice(p, p + n));
        p += n;
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x85:
        stack.push(Object.freeze([stack.pop()]));
        break;
      case 0x86: {
        const y = stack.pop(), x = stack.pop();
        stack.push(Object.freeze([x, y]));
        break;
      }
      case 0x87: {
        const z = stack.pop(), y = stack.pop(), x = stack.pop();
        stack.push(Object.freeze([x, y, z]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(Object.freeze(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const v = stack.pop();
        (stack[stack.length - 1] as unknown[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const l = stack[stack.length - 1];
        if (Array.isArray(l)) l.push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const m = new Map();
        for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
        stack.push(m);
        break;
      }
      case 0x73: { // SETITEM
        const v = stack.pop(), k = stack.pop();
        setItems(stack[stack.length - 1], [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(stack[stack.length - 1], items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = stack[stack.length - 1] as Set<unknown>;
        for (const x of items) s.add(x);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x67: // GET
        stack.push(memo.get(Number(readLine())));
        break;
      case 0x68: // BINGET
        need(1);
        stack.push(memo.get(b[p++]));
        break;
      case 0x6a: // LONG_BINGET
        need(4);
        stack.push(memo.get(dv.getUint32(p, true)));
        p += 4;
        break;
      case 0x70: // PUT
        memo.set(Number(readLine()), stack[stack.length - 1]);
        break;
      case 0x71: // BINPUT
        need(1);
        memo.set(b[p++], stack[stack.length - 1]);
        break;
      case 0x72: // LONG_BINPUT
        need(4);
        memo.set(dv.getUint32(p, true), stack[stack.length - 1]);
        p += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, stack[stack.length - 1]);
        break;
      case 0x63: { // GLOBAL
        const module = readLine();
        const name = readLine();
        stack.push(makeGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = stack.pop() as string, module = stack.pop() as string;
        stack.push(makeGlobal(module, name));
        break;
      }
      case 0x52: { // REDUCE
        const args = stack.pop() as unknown[];
        const f = stack.pop();
        stack.push(call(f, args, file));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = stack.pop() as unknown[];
        const cls = stack.pop();
        stack.push(call(cls, args, file));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        stack.pop();
        const args = stack.pop() as unknown[];
        const cls = stack.pop();
        stack.push(call(cls, args, file));
        break;
      }
      case 0x62: { // BUILD
        const state = stack.pop();
        const obj = stack[stack.length - 1];
        if (typeof obj === "object" && obj !== null && (obj as PyObject).kind === "object") {
          (obj as PyObject).state = state;
        }
        // state of an OrderedDict (its _metadata) or of a tensor: not needed
        break;
      }
      case 0x50: // PERSID
        stack.push(persistentLoad(readLine()));
        break;
      case 0x51: // BINPERSID
        stack.push(persistentLoad(stack.pop()));
        break;
      default:
        throw new LumenError(
          file,
          "pickle",
          `unsupported pickle opcode 0x${op.toString(16)} at byte ${p - 1}`,
        );
    }
  }
}

function makeGlobal(module: string, name: string): PyGlobal {
  return { kind: "global", module, name };
}

function call(f: unknown, args: unknown[], file: string): unknown {
  const g = f as PyGlobal;
  if (typeof g !== "object" || g === null || g.kind !== "global") {
    return { kind: "object", cls: "?", args: [...args] } as PyObject;
  }
  const qual = `${g.module}.${g.name}`;
  switch (qual) {
    case "collections.OrderedDict":
    case "builtins.dict":
    case "__builtin__.dict":
      return new Map(args.length ? (args[0] as Iterable<[unknown, unknown]>) : []);
    case "builtins.list":
      return args.length ? [...(args[0] as unknown[])] : [];
    case "builtins.set":
    case "__builtin__.set":
    case "builtins.frozenset":
      return new Set(args.length ? (args[0] as unknown[]) : []);
    case "torch.Size":
      return Object.freeze([...(args[0] as number[])]);
    case "torch._utils._rebuild_tensor":
    case "torch._utils._rebuild_tensor_v2": {
      const [storage, offset, size, stride, requiresGrad] = args as [
        TorchStorage,
        number,
        number[],
        number[],
        boolean | undefined,
      ];
      if (!storage || typeof (storage as TorchStorage).dtype !== "string") {
        throw new LumenError(file, "pickle", "corrupt torch checkpoint: tensor without storage");
      }
      return {
        kind: "tensor",
        dtype: storage.dtype,
        shape: [...size],
        stride: [...stride],
        offset,
        storage,
        requiresGrad: !!requiresGrad,
        isParameter: false,
      } as TorchTensor;
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state": {
      const t = args[0] as TorchTensor;
      if (isTorchTensor(t)) return { ...t, requiresGrad: !!args[1], isParameter: true };
      return t;
    }
    case "torch._tensor._rebuild_from_type_v2":
    case "torch._tensor._rebuild_from_type": {
      const [func, , fargs] = args as [unknown, unknown, unknown[]];
      return call(func, fargs, file);
    }
    default: {
      if (g.module === "torch" && STORAGE_DTYPES[g.name]) return g; // storage type in a pid
      if (g.module === "torch" && ELEM_BYTES[g.name] !== undefined) return g; // torch.float32
      return { kind: "object", cls: qual, args: [...args] } as PyObject;
    }
  }
}

function storageDtype(t: unknown, file: string): string {
  const g = t as PyGlobal;
  if (g && g.kind === "global") {
    const d = STORAGE_DTYPES[g.name] ?? (ELEM_BYTES[g.name] !== undefined ? g.name : undefined);
    if (d) return d;
    throw new LumenError(file, "pickle", `unsupported storage type ${g.module}.${g.name}`);
  }
  throw new LumenError(file, "pickle", "corrupt torch checkpoint: bad storage type");
}

// ---------------------------------------------------------------------------------------------
// public API

/** The root object of a torch file (usually a `Map`) and the container it came in. */
export interface TorchFile {
  /** The unpickled root object. */
  root: unknown;
  /** "zip" (PyTorch ≥ 1.6) or "legacy". */
  format: "zip" | "legacy";
}

/**
 * Decodes the bytes of a file written by `torch.save`.
 *
 * @param bytes the whole file
 * @param file name used in errors
 * @throws LumenError for a truncated or corrupt file, or a format this reader does not know
 */
export function readTorchFile(bytes: Uint8Array, file = "<torch>"): TorchFile {
  const zip = readZipDirectory(bytes, file);
  if (zip) {
    let pkl: ZipEntry | undefined;
    for (const e of zip.values()) {
      if (e.name === "data.pkl" || e.name.endsWith("/data.pkl")) {
        pkl = e;
        break;
      }
    }
    if (!pkl) {
      throw new LumenError(file, "zip", "not a torch checkpoint: no data.pkl in the archive");
    }
    const prefix = pkl.name.slice(0, pkl.name.length - "data.pkl".length);
    const storages = new Map<string, TorchStorage>();
    const persistent: Persistent = (pid) => {
      const t = pid as unknown[];
      if (!Array.isArray(t) || t[0] !== "storage") {
        throw new LumenError(file, "pickle", "unsupported persistent id in data.pkl");
      }
      const dtype = storageDtype(t[1], file);
      const key = String(t[2]);
      const numel = Number(t[4]);
      let s = storages.get(key);
      if (!s) {
        const entry = zip.get(`${prefix}data/${key}`);
        if (!entry) {
          throw new LumenError(
            file,
            `${prefix}data/${key}`,
            "truncated or corrupt torch checkpoint: storage entry missing from the archive",
          );
        }
        const bytesNeeded = numel * ELEM_BYTES[dtype];
        const data = zipData(bytes, entry, file);
        if (data.length < bytesNeeded) {
          throw new LumenError(
            file,
            entry.name,
            `storage of ${numel} ${dtype} needs ${bytesNeeded} bytes, the entry has ${data.length}`,
          );
        }
        s = { dtype, numel, bytes: data };
        storages.set(key, s);
      }
      return s;
    };
    const { value } = unpickle(zipData(bytes, pkl, file), 0, persistent, file);
    return { root: value, format: "zip" };
  }
  return readLegacy(bytes, file);
}

function readLegacy(bytes: Uint8Array, file: string): TorchFile {
  if (bytes.length < 2 || bytes[0] !== 0x80) {
    throw new LumenError(
      file,
      "",
      "not a torch checkpoint (neither a zip archive nor a pickle stream)",
    );
  }
  const noPid: Persistent = () => {
    throw new LumenError(file, "pickle", "unexpected persistent id");
  };
  const magic = unpickle(bytes, 0, noPid, file);
  const MAGIC = 0x1950a86a20f9469cfc6cn;
  if (typeof magic.value !== "bigint" || magic.value !== MAGIC) {
    throw new LumenError(file, "", "not a torch checkpoint: a pickle without torch's magic number");
  }
  const proto = unpickle(bytes, magic.end, noPid, file);
  const sys = unpickle(bytes, proto.end, noPid, file);
  type Pending = { dtype: string; key: string; numel: number; view?: [string, number, number] };
  const roots = new Map<string, TorchStorage>();
  const pending: Array<{ s: TorchStorage; key: string; off: number }> = [];
  const persistent: Persistent = (pid) => {
    const t = pid as unknown[];
    if (!Array.isArray(t) || t[0] !== "storage") {
      throw new LumenError(file, "pickle", "unsupported persistent id");
    }
    const info: Pending = {
      dtype: storageDtype(t[1], file),
      key: String(t[2]),
      numel: Number(t[4]),
    };
    let root = roots.get(info.key);
    if (!root) {
      root = { dtype: info.dtype, numel: info.numel, bytes: new Uint8Array(0) };
      roots.set(info.key, root);
    }
    const view = t[5] as [string, number, number] | null;
    if (view) {
      // a view of a root storage: resolved after the data is read
      const v: TorchStorage = {
        dtype: info.dtype,
        numel: Number(view[2]),
        bytes: new Uint8Array(0),
      };
      pending.push({ s: v, key: info.key, off: Number(view[1]) });
      return v;
    }
    return root;
  };
  const main = unpickle(bytes, sys.end, persistent, file);
  const keys = unpickle(bytes, main.end, noPid, file);
  let p = keys.end;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const k of keys.value as string[]) {
    const s = roots.get(String(k));
    if (p + 8 > bytes.length) {
      throw new LumenError(file, `storage ${k}`, `truncated torch checkpoint at byte ${p}`);
    }
    const n = Number(dv.getBigInt64(p, true));
    p += 8;
    const eb = ELEM_BYTES[s?.dtype ?? "uint8"];
    if (p + n * eb > bytes.length) {
      throw new LumenError(
        file,
        `storage ${k}`,
        `truncated torch checkpoint: storage needs bytes ${p}..${
          p + n * eb
        }, the file has ${bytes.length}`,
      );
    }
    if (s) {
      s.bytes = bytes.subarray(p, p + n * eb);
      s.numel = n;
    }
    p += n * eb;
  }
  for (const v of pending) {
    const root = roots.get(v.key)!;
    const eb = ELEM_BYTES[root.dtype];
    v.s.bytes = root.bytes.subarray(v.off * eb, (v.off + v.s.numel) * eb);
  }
  return { root: main.value, format: "legacy" };
}

/** Reads a `torch.save` file from disk. */
export async function loadTorchCheckpoint(path: string): Promise<TorchFile> {
  return readTorchFile(await Deno.readFile(path), path);
}

/**
 * Materialises a tensor as a C-ordered NdArray (following its strides and offset). float16 and
 * bfloat16 widen to float32; with `float32: true` every floating type becomes float32.
 */
export function tensorToNdArray(t: TorchTensor, opts: { float32?: boolean } = {}): NdArray {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const eb = ELEM_BYTES[t.dtype];
  const src = t.storage.bytes;
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  // element index → storage element offset through strides (a fast path for contiguous data)
  const nd = t.shape.length;
  let contiguous = true;
  for (let d = nd - 1, acc = 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== acc) contiguous = false;
    acc *= t.shape[d];
  }
  const idx = new Float64Array(n);
  if (contiguous) {
    for (let i = 0; i < n; i++) idx[i] = t.offset + i;
  } else {
    const cur = new Array<number>(nd).fill(0);
    let off = t.offset;
    for (let i = 0; i < n; i++) {
      idx[i] = off;
      for (let d = nd - 1; d >= 0; d--) {
        cur[d]++;
        off += t.stride[d];
        if (cur[d] < t.shape[d]) break;
        off -= t.stride[d] * t.shape[d];
        cur[d] = 0;
      }
    }
  }
  let maxIdx = 0;
  for (let i = 0; i < n; i++) if (idx[i] > maxIdx) maxIdx = idx[i];
  if (n && (maxIdx + 1) * eb > src.length) {
    throw new RangeError(
      `tensor [${t.shape}] (${t.dtype}) reads beyond its storage of ${t.storage.numel} elements`,
    );
  }
  if (contiguous && t.dtype === "float32") {
    const start = src.byteOffset + t.offset * 4;
    const copy = src.buffer.slice(start, start + n * 4) as ArrayBuffer;
    return { dtype: "float32", shape: [...t.shape], data: new Float32Array(copy) };
  }
  let data: TypedArray;
  let dtype: DType;
  const rd = (
    get: (o: number) => number,
    arr: Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array,
  ) => {
    for (let i = 0; i < n; i++) arr[i] = get(idx[i] * eb);
    return arr;
  };
  switch (t.dtype) {
    case "float32":
      data = rd((o) => dv.getFloat32(o, true), new Float32Array(n));
      dtype = "float32";
      break;
    case "float64":
      if (opts.float32) {
        data = rd((o) => dv.getFloat64(o, true), new Float32Array(n));
        dtype = "float32";
      } else {
        data = rd((o) => dv.getFloat64(o, true), new Float64Array(n));
        dtype = "float64";
      }
      break;
    case "float16":
      data = rd((o) => f16ToF32(dv.getUint16(o, true)), new Float32Array(n));
      dtype = "float32";
      break;
    case "bfloat16": {
      const tmp = new DataView(new ArrayBuffer(4));
      data = rd((o) => {
        tmp.setUint32(0, dv.getUint16(o, true) << 16, true);
        return tmp.getFloat32(0, true);
      }, new Float32Array(n));
      dtype = "float32";
      break;
    }
    case "int64": {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = dv.getBigInt64(idx[i] * eb, true);
      data = a;
      dtype = "int64";
      break;
    }
    case "int32":
      data = rd((o) => dv.getInt32(o, true), new Int32Array(n));
      dtype = "int32";
      break;
    case "int16":
      data = rd((o) => dv.getInt16(o, true), new Int16Array(n));
      dtype = "int16";
      break;
    case "int8":
      data = rd((o) => dv.getInt8(o), new Int8Array(n));
      dtype = "int8";
      break;
    case "bool":
      data = rd((o) => dv.getUint8(o), new Uint8Array(n));
      dtype = "bool";
      break;
    default:
      data = rd((o) => dv.getUint8(o), new Uint8Array(n));
      dtype = "uint8";
  }
  return { dtype, shape: [...t.shape], data };
}

/** A tensor's value as a JS number (it must hold exactly one element). */
export function tensorItem(t: TorchTensor): number {
  const a = tensorToNdArray(t, { float32: false });
  if (a.data.length !== 1) throw new RangeError(`tensor [${t.shape}] is not a scalar`);
  return Number(a.data[0]);
}

/**
 * The named tensors of a state dict inside a torch file, as float32 (integer tensors kept as
 * they are): `stateDict(ckpt, "gen_state_dict")`. With no key, the root itself must be the
 * state dict. A `module.` prefix (DataParallel/DDP) is removed.
 *
 * @throws LumenError when the key is absent (listing the keys present) or not a state dict
 */
export function stateDict(f: TorchFile, key?: string, file = "<torch>"): Map<string, NdArray> {
  let sd: unknown = f.root;
  if (key !== undefined) {
    if (!(f.root instanceof Map)) {
      throw new LumenError(file, key, "the checkpoint's root is not a dict");
    }
    if (!f.root.has(key)) {
      throw new LumenError(
        file,
        key,
        `no such entry; the checkpoint holds: ${[...f.root.keys()].map(String).join(", ")}`,
      );
    }
    sd = f.root.get(key);
  }
  if (!(sd instanceof Map)) throw new LumenError(file, key ?? "", "not a state dict");
  const out = new Map<string, NdArray>();
  const allModule = [...sd.keys()].every((k) => String(k).startsWith("module."));
  for (const [k, v] of sd) {
    if (!isTorchTensor(v)) continue;
    const name = allModule ? String(k).slice(7) : String(k);
    out.set(name, tensorToNdArray(v, { float32: true }));
  }
  return out;
}
