/**
 * safetensors: the weights format of Hugging Face (`safetensors` ≥ 0.3), read and written here
 * without dependencies.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, …}`, padded with spaces to a multiple of 8), then the data
 * section; offsets are relative to its start.
 *
 * Reading checks every tensor against the file: a truncated file or a header that does not
 * fit its data is a {@link LumenError} naming the tensor, its dtype and shape and the bytes
 * involved.
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 * const bytes = encodeSafetensors({ w: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } });
 * const { tensors } = decodeSafetensors(bytes);
 * console.log(tensors.get("w")!.data); // Float32Array [1, 2]
 * ```
 * @module
 */
import { f16ToF32 } from "../io/float16.ts";
import { LumenError } from "../run/errors.ts";
import { type DType, DTYPE_SIZE, type NdArray, sizeOf, type TypedArray } from "../io/array.ts";

/** safetensors dtype codes and the NdArray dtype each is read as (F16/BF16 widen to float32). */
const ST_TO_DTYPE: Record<string, { dtype: DType; bytes: number }> = {
  F64: { dtype: "float64", bytes: 8 },
  F32: { dtype: "float32", bytes: 4 },
  F16: { dtype: "float32", bytes: 2 },
  BF16: { dtype: "float32", bytes: 2 },
  I64: { dtype: "int64", bytes: 8 },
  I32: { dtype: "int32", bytes: 4 },
  I16: { dtype: "int16", bytes: 2 },
  I8: { dtype: "int8", bytes: 1 },
  U64: { dtype: "uint64", bytes: 8 },
  U32: { dtype: "uint32", bytes: 4 },
  U16: { dtype: "uint16", bytes: 2 },
  U8: { dtype: "uint8", bytes: 1 },
  BOOL: { dtype: "bool", bytes: 1 },
};

const DTYPE_TO_ST: Record<DType, string> = {
  float64: "F64",
  float32: "F32",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint64: "U64",
  uint32: "U32",
  uint16: "U16",
  uint8: "U8",
  bool: "BOOL",
};

/** One entry of a safetensors header. */
export interface SafetensorsEntry {
  /** safetensors dtype code as stored ("F32", "BF16", …). */
  dtype: string;
  /** Shape. */
  shape: number[];
  /** [begin, end) byte offsets in the data section. */
  data_offsets: [number, number];
}

/** A parsed header: entries by name, metadata, and where the data section starts. */
export interface SafetensorsHeader {
  /** Tensor entries, in header order. */
  entries: Map<string, SafetensorsEntry>;
  /** The `__metadata__` string map ({} when absent). */
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/** The decoded content of a safetensors file. */
export interface Safetensors {
  /** Tensors by name, in header order. */
  tensors: Map<string, NdArray>;
  /** The `__metadata__` string map ({} when absent). */
  metadata: Record<string, string>;
}

function describe(name: string, e: { dtype: string; shape: number[] }): string {
  return `tensor '${name}' (${e.dtype} [${e.shape.join(", ")}])`;
}

/**
 * Parses and validates the header of a safetensors file held in `bytes` (the whole file, or at
 * least its header when `fileSize` gives the full length).
 *
 * @param bytes the file's bytes (at least the first 8 + N)
 * @param file name used in error messages
 * @param fileSize the whole file's size, when `bytes` holds only its start
 */
export function parseSafetensorsHeader(
  bytes: Uint8Array,
  file = "<safetensors>",
  fileSize = bytes.length,
): SafetensorsHeader {
  if (fileSize < 8) {
    throw new LumenError(
      file,
      "header",
      `truncated safetensors file: ${fileSize} bytes, fewer than the 8-byte header length`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(fileSize - 8)) {
    throw new LumenError(
      file,
      "header",
      `truncated safetensors file (or not safetensors): the header length is ${n64} bytes but ` +
        `the file has only ${fileSize - 8} bytes after the length field`,
    );
  }
  const n = Number(n64);
  if (bytes.length < 8 + n) {
    throw new LumenError(
      file,
      "header",
      `need ${8 + n} bytes to read the header, got ${bytes.length}`,
    );
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new LumenError(
      file,
      "header",
      `not a safetensors file: header is not JSON (${(e as Error).message})`,
    );
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new LumenError(file, "header", "not a safetensors file: header is not a JSON object");
  }
  const dataLen = fileSize - 8 - n;
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === "__metadata__") {
      if (v !== null && typeof v === "object") metadata = v as Record<string, string>;
      continue;
    }
    const e = v as SafetensorsEntry;
    if (
      e === null || typeof e !== "object" || typeof e.dtype !== "string" ||
      !Array.isArray(e.shape) ||
      !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2
    ) {
      throw new LumenError(file, `header: '${name}'`, "entry lacks dtype, shape or data_offsets");
    }
    const info = ST_TO_DTYPE[e.dtype];
    if (!info) {
      throw new LumenError(file, `header: '${name}'`, `unsupported dtype '${e.dtype}'`);
    }
    const [b, en] = e.data_offsets;
    const need = sizeOf(e.shape) * info.bytes;
    if (!(Number.isInteger(b) && Number.isInteger(en) && b >= 0 && en >= b)) {
      throw new LumenError(file, `header: '${name}'`, `bad data_offsets [${b}, ${en}]`);
    }
    if (en - b !== need) {
      throw new LumenError(
        file,
        `header: '${name}'`,
        `${describe(name, e)} needs ${need} bytes but its data_offsets [${b}, ${en}] span ${
          en - b
        }`,
      );
    }
    if (en > dataLen) {
      throw new LumenError(
        file,
        `tensor '${name}'`,
        `truncated safetensors file: ${describe(name, e)} needs bytes ${b}..${en} of the data ` +
          `section, but the file holds only ${dataLen} data bytes (${fileSize} bytes in all)`,
      );
    }
    spans.push([b, en, name]);
    entries.set(name, { dtype: e.dtype, shape: e.shape.slice(), data_offsets: [b, en] });
  }
  spans.sort((p, q) => p[0] - q[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1]) {
      throw new LumenError(
        file,
        "header",
        `tensors '${spans[i - 1][2]}' and '${spans[i][2]}' overlap in the data section`,
      );
    }
  }
  return { entries, metadata, dataStart: 8 + n };
}

/** Decodes one entry's bytes (a copy, aligned) into a typed array. */
function decodeEntry(raw: Uint8Array, stDtype: string): TypedArray {
  const copy = raw.slice();
  const buf = copy.buffer;
  switch (stDtype) {
    case "F64":
      return new Float64Array(buf);
    case "F32":
      return new Float32Array(buf);
    case "F16": {
      const h = new Uint16Array(buf);
      const out = new Float32Array(h.length);
      for (let i = 0; i < h.length; i++) out[i] = f16ToF32(h[i]);
      return out;
    }
    case "BF16": {
      const h = new Uint16Array(buf);
      const u = new Uint32Array(h.length);
      for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
      return new Float32Array(u.buffer);
    }
    case "I64":
      return new BigInt64Array(buf);
    case "I32":
      return new Int32Array(buf);
    case "I16":
      return new Int16Array(buf);
    case "I8":
      return new Int8Array(buf);
    case "U64":
      return new BigUint64Array(buf);
    case "U32":
      return new Uint32Array(buf);
    case "U16":
      return new Uint16Array(buf);
    default:
      return copy; // U8, BOOL
  }
}

/**
 * Decodes a whole safetensors file.
 *
 * @param bytes the file's bytes
 * @param file name used in error messages
 * @throws LumenError for a truncated file or an inconsistent header, naming the tensor
 */
export function decodeSafetensors(bytes: Uint8Array, file = "<safetensors>"): Safetensors {
  const h = parseSafetensorsHeader(bytes, file);
  const tensors = new Map<string, NdArray>();
  for (const [name, e] of h.entries) {
    const raw = bytes.subarray(h.dataStart + e.data_offsets[0], h.dataStart + e.data_offsets[1]);
    tensors.set(name, {
      dtype: ST_TO_DTYPE[e.dtype].dtype,
      shape: e.shape.slice(),
      data: decodeEntry(raw, e.dtype),
    });
  }
  return { tensors, metadata: h.metadata };
}

/**
 * Encodes tensors (and optional string metadata) as a safetensors file. Tensors are stored in
 * the order given, contiguously; the header is padded with spaces to a multiple of 8.
 *
 * @param tensors name → array (a Map keeps its order; an object its key order)
 * @param metadata string → string, stored as `__metadata__`
 */
export function encodeSafetensors(
  tensors: Map<string, NdArray> | Record<string, NdArray>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new TypeError(`safetensors metadata '${k}' must be a string`);
      }
    }
    header.__metadata__ = metadata;
  }
  // Contiguous data (the reference implementation rejects gaps); readers copy, so alignment
  // of each tensor does not matter.
  let off = 0;
  const placed: Array<[number, NdArray]> = [];
  for (const [name, a] of list) {
    const n = sizeOf(a.shape);
    if (n !== a.data.length) {
      throw new RangeError(
        `tensor '${name}': shape [${a.shape}] holds ${n} elements, data has ${a.data.length}`,
      );
    }
    const bytes = n * DTYPE_SIZE[a.dtype];
    header[name] = {
      dtype: DTYPE_TO_ST[a.dtype],
      shape: a.shape,
      data_offsets: [off, off + bytes],
    };
    placed.push([off, a]);
    off += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  const base = 8 + json.length;
  for (const [o, a] of placed) {
    const d = a.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), base + o);
  }
  return out;
}

/** Reads a safetensors file from disk. */
export async function readSafetensors(path: string): Promise<Safetensors> {
  return decodeSafetensors(await Deno.readFile(path), path);
}

/** Writes tensors to a safetensors file (through a temporary file, renamed into place). */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, NdArray> | Record<string, NdArray>,
  metadata?: Record<string, string>,
): Promise<void> {
  const tmp = `${path}.tmp`;
  await Deno.writeFile(tmp, encodeSafetensors(tensors, metadata));
  await Deno.rename(tmp, path);
}
