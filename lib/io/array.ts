/**
 * The plain n-dimensional array that the file formats exchange: a typed array in C (row-major)
 * order, its shape and its dtype name (NumPy's names).
 *
 * @example
 * ```ts
 * import { ndarray } from "./array.ts";
 * const a = ndarray(new Float32Array(6), [2, 3]);
 * console.log(a.dtype, a.shape); // "float32" [2, 3]
 * ```
 * @module
 */

/** NumPy dtype names that Lumen's formats read and write. */
export type DType =
  | "bool"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float32"
  | "float64";

/** The typed array that holds each dtype (bool as Uint8Array of 0/1). */
export type TypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** An n-dimensional array: data in C order, shape, dtype. */
export interface NdArray<T extends TypedArray = TypedArray> {
  /** Element type. */
  dtype: DType;
  /** Extent of each axis; [] for a scalar. */
  shape: number[];
  /** The elements in C (row-major) order; length = product of shape. */
  data: T;
}

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Record<DType, number> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
};

/** The dtype name of a typed array (Uint8Array → "uint8"). */
export function dtypeOf(data: TypedArray): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof BigInt64Array) return "int64";
  return "uint64";
}

/** Product of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Wraps a typed array as an NdArray, checking that the shape matches its length.
 *
 * @example
 * ```ts
 * const a = ndarray(new Uint16Array(4), [2, 2]);
 * ```
 */
export function ndarray<T extends TypedArray>(data: T, shape: number[], dtype?: DType): NdArray<T> {
  const n = sizeOf(shape);
  if (n !== data.length) {
    throw new RangeError(`shape [${shape}] holds ${n} elements, data has ${data.length}`);
  }
  return { data, shape, dtype: dtype ?? dtypeOf(data) };
}

/** A typed-array constructor of one dtype. */
export type TypedArrayConstructor = new (
  buffer: ArrayBufferLike,
  byteOffset?: number,
  length?: number,
) => TypedArray;

/** The typed array that holds each dtype (bool as Uint8Array): the one table of the code base. */
export const TYPED_ARRAY: Record<DType, TypedArrayConstructor> = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
} as unknown as Record<DType, TypedArrayConstructor>;

/**
 * A new zero-filled typed array of `n` elements of `dtype`.
 *
 * @example
 * ```ts
 * allocTyped("uint16", 4); // Uint16Array(4)
 * ```
 */
export function allocTyped(dtype: DType, n: number): TypedArray {
  const C = TYPED_ARRAY[dtype] as unknown as new (n: number) => TypedArray;
  return new C(n);
}

/**
 * `n` elements of `dtype` viewed in place at `byteOffset` of `buffer` (aligned for the dtype).
 *
 * @example
 * ```ts
 * typedView("float32", bytes.buffer, bytes.byteOffset, bytes.length / 4);
 * ```
 */
export function typedView(
  dtype: DType,
  buffer: ArrayBufferLike,
  byteOffset = 0,
  n?: number,
): TypedArray {
  const len = n ?? (buffer.byteLength - byteOffset) / DTYPE_SIZE[dtype];
  return new TYPED_ARRAY[dtype](buffer, byteOffset, len);
}
