/**
 * The blocks of detector rows data_generator reads at once: at most `chunkSize` rows (the
 * original's `--chunk-size`) and at most `maxBytes` of float32 sinograms, with every boundary on
 * a multiple of the dataset's chunk extent along the rows (so that no stored chunk is read, and
 * inflated, twice). When one chunk holds more rows than those bounds allow, blocks are
 * `min(chunkSize, rows within maxBytes)` rows, as a file without row chunking is read.
 *
 * @example
 * ```ts
 * import { rowBlocks } from "./row_blocks.ts";
 * rowBlocks([0, 20], { chunkSize: 243, chunkRows: 8, rowBytes: 1 << 20, maxBytes: 12 << 20 });
 * // [[0, 8], [8, 16], [16, 20]]
 * ```
 * @module
 */

/** Bounds of {@link rowBlocks}. */
export interface RowBlockOptions {
  /** Rows read at once, at most. */
  chunkSize: number;
  /** The stored chunk's extent along the rows (1 or the rows' count when not chunked). */
  chunkRows: number;
  /** Bytes of one row's sinogram (angles × cols × 4). */
  rowBytes: number;
  /** Bytes of one block, at most (default 256 MiB; one row at least). */
  maxBytes?: number;
}

/**
 * `[start, stop)` blocks covering `[r0, r1)` (see the module doc).
 *
 * @example
 * ```ts
 * rowBlocks([5, 30], { chunkSize: 16, chunkRows: 8, rowBytes: 4 }); // [[5, 16], [16, 30]]
 * ```
 */
export function rowBlocks([r0, r1]: [number, number], o: RowBlockOptions): [number, number][] {
  const byMemory = Math.max(1, Math.floor((o.maxBytes ?? 256 << 20) / Math.max(1, o.rowBytes)));
  const most = Math.max(1, Math.min(o.chunkSize, byMemory));
  const cr = Math.max(1, o.chunkRows);
  const step = most >= cr ? Math.floor(most / cr) * cr : most;
  const out: [number, number][] = [];
  for (let a = r0; a < r1;) {
    const b = Math.min(r1, (Math.floor(a / step) + 1) * step);
    out.push([a, b]);
    a = b;
  }
  return out;
}
