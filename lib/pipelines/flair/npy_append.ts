/**
 * An NPY file written row block by row block: the header is reserved first (a fixed 256 bytes)
 * and rewritten with the final number of rows on {@link NpyAppender.close}, so a dataset of
 * unknown length streams to disk with one block in memory. Any NumPy descr is accepted
 * (`<f2` for float16, which Lumen's {@link DType} does not name).
 *
 * @example
 * ```ts
 * import { NpyAppender } from "./npy_append.ts";
 * const a = NpyAppender.create("/tmp/x.npy", "|u1", [3]);
 * a.append(new Uint8Array([1, 2, 3]), 1);
 * a.close(); // np.load gives array([[1, 2, 3]], dtype=uint8)
 * ```
 * @module
 */

/** Bytes of the reserved header (magic, version, length, dict padded with spaces, newline). */
export const NPY_HEADER_BYTES = 256;

/**
 * The fixed-size NPY 1.0 header for `descr` and `shape`.
 *
 * @example
 * ```ts
 * import { npyFixedHeader } from "./npy_append.ts";
 * console.log(npyFixedHeader("<f2", [4, 2]).length); // 256
 * ```
 */
export function npyFixedHeader(descr: string, shape: readonly number[]): Uint8Array {
  const s = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${s}, }`;
  const textLen = NPY_HEADER_BYTES - 10;
  if (dict.length + 1 > textLen) throw new RangeError(`NPY header too long for ${s}`);
  const text = dict + " ".repeat(textLen - dict.length - 1) + "\n";
  const out = new Uint8Array(NPY_HEADER_BYTES);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, textLen, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** A C-ordered NPY array of shape (rows, ...tail) grown by appending whole rows. */
export class NpyAppender {
  #file: Deno.FsFile;
  #rows = 0;
  #rowBytes: number;
  #bytes = 0;

  private constructor(
    file: Deno.FsFile,
    readonly descr: string,
    readonly tail: readonly number[],
  ) {
    this.#file = file;
    const item = Number(descr.slice(2));
    this.#rowBytes = tail.reduce((a, b) => a * b, 1) * item;
  }

  /**
   * Creates (replaces) `path` with an empty array of rows shaped `tail`.
   *
   * @example
   * ```ts
   * import { NpyAppender } from "./npy_append.ts";
   * NpyAppender.create("/tmp/m.npy", "<i4", [5]).close();
   * ```
   */
  static create(path: string, descr: string, tail: readonly number[]): NpyAppender {
    const f = Deno.openSync(path, { write: true, create: true, truncate: true });
    writeAll(f, npyFixedHeader(descr, [0, ...tail]));
    return new NpyAppender(f, descr, tail);
  }

  /** Rows written so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends `rows` rows given as their little-endian bytes (or a typed array of them). */
  append(data: ArrayBufferView, rows: number): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.length !== rows * this.#rowBytes) {
      throw new RangeError(`NpyAppender: ${bytes.length} bytes for ${rows} rows`);
    }
    writeAll(this.#file, bytes);
    this.#rows += rows;
    this.#bytes += bytes.length;
  }

  /** Writes the final header and closes the file. */
  close(): void {
    this.#file.seekSync(0, Deno.SeekMode.Start);
    writeAll(this.#file, npyFixedHeader(this.descr, [this.#rows, ...this.tail]));
    this.#file.close();
  }
}

function writeAll(f: Deno.FsFile, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += f.writeSync(b.subarray(off));
}
