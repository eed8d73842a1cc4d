/**
 * A hand-written protobuf encoder for the ONNX messages that an exporter needs (ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto), following onnx.proto3 of
 * ONNX 1.12 (IR version 8, opset 17). No dependencies.
 *
 * Messages are built as lists of byte chunks, so that large initializers (raw float32 data)
 * are referenced, not copied, until the final {@link concatChunks} (or a streamed write).
 *
 * @module
 */

/** A protobuf message under construction: byte chunks and their total length. */
export class PbWriter {
  /** The chunks, in order. */
  readonly chunks: Uint8Array[] = [];
  /** Total bytes. */
  length = 0;
  private buf = new Uint8Array(256);
  private pos = 0;

  private flush(): void {
    if (this.pos) {
      this.chunks.push(this.buf.slice(0, this.pos));
      this.pos = 0;
    }
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, 256));
    }
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
    this.length++;
  }

  /** Appends a varint (non-negative integers up to 2^53, or negatives as 10-byte two's complement). */
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    if (typeof v === "number" && v >= 0 && v < 2 ** 31) {
      let n = v;
      while (n >= 0x80) {
        this.byte((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.byte(n);
      return;
    }
    while (x >= 0x80n) {
      this.byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  /** Field key: (field << 3) | wire type. */
  key(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** int64/int32/enum/bool field (wire type 0). */
  int(field: number, v: number | bigint | boolean): void {
    this.key(field, 0);
    this.varint(typeof v === "boolean" ? (v ? 1 : 0) : v);
  }

  /** float field (wire type 5). */
  float(field: number, v: number): void {
    this.key(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.pos, v, true);
    this.pos += 4;
    this.length += 4;
  }

  /** Length-delimited bytes (wire type 2), referenced without copying when large. */
  bytes(field: number, data: Uint8Array): void {
    this.key(field, 2);
    this.varint(data.length);
    this.raw(data);
  }

  /** UTF-8 string field. */
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }

  /** Embedded message field. */
  message(field: number, m: PbWriter): void {
    this.key(field, 2);
    this.varint(m.length);
    this.flush();
    for (const c of m.chunks) this.chunks.push(c);
    this.chunks.push(...m.pendingChunk());
    this.length += m.length;
  }

  /** Packed repeated int64 (wire type 2). */
  packedInts(field: number, vs: readonly (number | bigint)[]): void {
    const w = new PbWriter();
    for (const v of vs) w.varint(v);
    this.key(field, 2);
    this.varint(w.length);
    this.flush();
    for (const c of w.chunks) this.chunks.push(c);
    this.chunks.push(...w.pendingChunk());
    this.length += w.length;
  }

  /** Packed repeated float. */
  packedFloats(field: number, vs: readonly number[]): void {
    const f = new Float32Array(vs);
    this.bytes(field, new Uint8Array(f.buffer));
  }

  /** Appends bytes as they are. */
  raw(data: Uint8Array): void {
    if (data.length <= 64) {
      this.ensure(data.length);
      this.buf.set(data, this.pos);
      this.pos += data.length;
      this.length += data.length;
      return;
    }
    this.flush();
    this.chunks.push(data);
    this.length += data.length;
  }

  /** The not-yet-flushed tail as a chunk list (used when embedding). */
  pendingChunk(): Uint8Array[] {
    return this.pos ? [this.buf.slice(0, this.pos)] : [];
  }

  /** All chunks including the pending tail. */
  allChunks(): Uint8Array[] {
    return [...this.chunks, ...this.pendingChunk()];
  }

  /** The whole message as one array. */
  finish(): Uint8Array {
    return concatChunks(this.allChunks(), this.length);
  }
}

/** Concatenates chunks into one array. */
export function concatChunks(chunks: Uint8Array[], total?: number): Uint8Array {
  const n = total ?? chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// ONNX messages

/** TensorProto.DataType codes. */
export const OnnxDType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;

/** An attribute value: number (int unless `float()`), number[], string, tensor. */
export type OnnxAttr =
  | { kind: "int"; value: number }
  | { kind: "float"; value: number }
  | { kind: "ints"; value: number[] }
  | { kind: "floats"; value: number[] }
  | { kind: "string"; value: string }
  | { kind: "tensor"; value: OnnxTensor };

/** An initializer or constant. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian raw bytes. */
  raw: Uint8Array;
}

/** A node. */
export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, OnnxAttr>;
  domain?: string;
}

/** A graph input/output: name, element type and dims (a string for a symbolic axis). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** null: shape unspecified. */
  dims: (number | string)[] | null;
}

/** A whole model. */
export interface OnnxModel {
  graphName: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  opset: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/** Encodes a TensorProto. */
export function encodeTensor(t: OnnxTensor): PbWriter {
  const w = new PbWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
  return w;
}

function encodeAttr(name: string, a: OnnxAttr): PbWriter {
  const w = new PbWriter();
  w.string(1, name);
  switch (a.kind) {
    case "float":
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case "int":
      w.int(3, a.value);
      w.int(20, 2);
      break;
    case "string":
      w.string(4, a.value);
      w.int(20, 3);
      break;
    case "tensor":
      w.message(5, encodeTensor(a.value));
      w.int(20, 4);
      break;
    case "floats":
      w.packedFloats(7, a.value);
      w.int(20, 6);
      break;
    case "ints":
      w.packedInts(8, a.value);
      w.int(20, 7);
      break;
  }
  return w;
}

function encodeNode(n: OnnxNode): PbWriter {
  const w = new PbWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, a] of Object.entries(n.attrs)) w.message(5, encodeAttr(k, a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeValueInfo(v: OnnxValueInfo): PbWriter {
  const tt = new PbWriter();
  tt.int(1, v.elemType);
  if (v.dims) {
    const shape = new PbWriter();
    for (const d of v.dims) {
      const dim = new PbWriter();
      if (typeof d === "string") dim.string(2, d);
      else dim.int(1, d);
      shape.message(1, dim);
    }
    tt.message(2, shape);
  }
  const type = new PbWriter();
  type.message(1, tt);
  const w = new PbWriter();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

/** Encodes a ModelProto as chunks (join with {@link concatChunks} or write one by one). */
export function encodeModel(m: OnnxModel): PbWriter {
  const g = new PbWriter();
  for (const n of m.nodes) g.message(1, encodeNode(n));
  g.string(2, m.graphName);
  for (const t of m.initializers) g.message(5, encodeTensor(t));
  for (const i of m.inputs) g.message(11, encodeValueInfo(i));
  for (const o of m.outputs) g.message(12, encodeValueInfo(o));
  const w = new PbWriter();
  w.int(1, m.irVersion);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, g);
  const ops = new PbWriter();
  ops.string(1, "");
  ops.int(2, m.opset);
  w.message(8, ops);
  for (const [k, v] of Object.entries(m.metadata ?? {})) {
    const e = new PbWriter();
    e.string(1, k);
    e.string(2, v);
    w.message(14, e);
  }
  return w;
}
