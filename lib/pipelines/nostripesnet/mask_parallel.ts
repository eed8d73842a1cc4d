/**
 * generate_mask on every core with memory bounded by a slab: the detector rows are split into
 * one contiguous share per worker (mask_worker.ts; each reads its own rows and their halos from
 * the scan), the mask planes they post are written to a spill file beside the archive, and the
 * archive entry is then streamed from it in C order (angles, rows, columns), deflated piece by
 * piece as `np.savez_compressed` stores it. The resident memory is the workers' slabs, one block
 * of angles and the deflated entry; the spill file (one byte per voxel) is removed at the end.
 * Same bits as {@link maskScan} then `appendNpz`.
 *
 * @example
 * ```ts
 * import { maskScanToArchive } from "./mask_parallel.ts";
 * const { ones } = await maskScanToArchive({ path: "119617.nxs", scanOptions: {}, shape,
 *   detect, merge, archive: "masks.npz", entry: "m119617", overwrite: false });
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import zlib from "node:zlib";
import type { OpenScanOptions } from "../../io/nexus.ts";
import { npyHeaderBytes } from "../../io/npy.ts";
import { crc32 } from "../../io/zip.ts";
import type { Progress } from "../../run/progress.ts";
import { safePoint } from "../../run/interrupt.ts";
import { tempPathBeside } from "../../run/atomic.ts";
import { onAbort } from "../../run/main.ts";
import type { DetectParams, MergeParams, Shape3 } from "../../tomo/stripes.ts";
import { type MaskJob, runMaskJob } from "./mask_worker.ts";
import { appendDeflatedNpy, type DeflatedNpy } from "../../io/npz.ts";

/** Options of {@link maskScanToArchive}. */
export interface ParallelMaskOptions {
  path: string;
  scanOptions: OpenScanOptions;
  shape: Shape3;
  detect: DetectParams;
  merge: MergeParams;
  archive: string;
  /** Array name in the archive. */
  entry: string;
  overwrite: boolean;
  /** Output rows per kernel call (default 4). */
  slabRows?: number;
  /** Workers (default: the number of cores, at most one per row). */
  workers?: number;
  /** Bytes of mask gathered per block for zlib (default 16 MiB; whole angles, at least one). */
  deflateBlockBytes?: number;
  /** Bytes per write to zlib (default 1 MiB; a multiple of 64 KiB, see `DEFLATE_PIECE`). */
  deflatePieceBytes?: number;
  bar?: Progress;
}

/** Ones in a 0/1 byte array. */
function countOnes(m: Uint8Array): number {
  let s = 0, i = 0;
  const n4 = m.length >> 2;
  if (m.byteOffset % 4 === 0) {
    const u = new Uint32Array(m.buffer, m.byteOffset, n4);
    for (; i < n4; i++) s += Math.imul(u[i], 0x01010101) >>> 24;
    i = n4 << 2;
  }
  for (; i < m.length; i++) s += m[i];
  return s;
}

/** Runs the workers; each slab of mask planes goes to `put` as it arrives. */
function runWorkers(
  o: ParallelMaskOptions,
  put: (y0: number, y1: number, mask: Uint8Array) => void,
): Promise<void> {
  const R = o.shape[1];
  const n = Math.max(1, Math.min(o.workers ?? navigator.hardwareConcurrency ?? 1, R));
  const workers: Worker[] = [];
  const jobs: Promise<void>[] = [];
  for (let w = 0; w < n; w++) {
    const rows: [number, number] = [Math.floor((R * w) / n), Math.floor((R * (w + 1)) / n)];
    const job: MaskJob = {
      path: o.path,
      scanOptions: o.scanOptions,
      rows,
      detect: o.detect,
      merge: o.merge,
      slabRows: o.slabRows ?? 4,
    };
    // a worker that cannot start (e.g. a bundle without the worker module) leaves its share to
    // this thread; one that fails after posting slabs fails the run
    let posted = false;
    const pool: ArrayBuffer[] = [];
    const inProcess = () =>
      runMaskJob(job, (m) => {
        const d = m as { y0: number; y1: number; mask: Uint8Array };
        put(d.y0, d.y1, d.mask);
        pool.push(d.mask.buffer as ArrayBuffer);
      }, pool);
    let worker: Worker;
    try {
      worker = new Worker(new URL("./mask_worker.ts", import.meta.url), { type: "module" });
    } catch {
      jobs.push(inProcess());
      continue;
    }
    workers.push(worker);
    jobs.push(
      new Promise<void>((resolve, reject) => {
        const fail = (msg: string) => {
          if (posted) reject(new Error(msg));
          else inProcess().then(resolve, reject);
        };
        worker.onmessage = (e) => {
          const d = e.data;
          if (d.error) fail(d.error);
          else if (d.done) resolve();
          else {
            posted = true;
            put(d.y0, d.y1, d.mask);
            // the buffer goes back to the worker for a later slab
            worker.postMessage({ recycle: d.mask.buffer }, [d.mask.buffer]);
          }
        };
        worker.onerror = (e) => {
          e.preventDefault();
          worker.terminate();
          fail(e.message);
        };
      }),
    );
    worker.postMessage(job);
  }
  return Promise.all(jobs).then(() => {}).finally(() => workers.forEach((w) => w.terminate()));
}

function readFull(f: Deno.FsFile, off: number, dst: Uint8Array): void {
  f.seekSync(off, Deno.SeekMode.Start);
  let got = 0;
  while (got < dst.length) {
    const r = f.readSync(dst.subarray(got));
    if (r === null) throw new Error("mask spill file: unexpected end");
    got += r;
  }
}

/**
 * Bytes per write to zlib: a multiple of 64 KiB (its window buffer, twice the 32 KiB window).
 * Deno's zlib deflates a stream fed in such pieces to the same bytes as the whole input at once
 * (what `appendNpz` writes; tests/pipelines/nostripesnet/mask_direct_test.ts checks it); pieces
 * that end elsewhere (an NPY header, then blocks of whole angles) can give other, equally valid,
 * bytes.
 */
const DEFLATE_PIECE = 1 << 20;

/**
 * The NPY bytes of the (A, R, N) uint8 mask held plane by plane (R × A × N) in `spill`, deflated
 * (zlib level 6, as `deflateRaw` of the whole entry gives) with their CRC-32: gathered in blocks
 * of whole angles (`blockBytes` at most), fed to zlib in pieces of `pieceBytes`.
 */
async function deflateSpill(
  spill: Deno.FsFile,
  shape: Shape3,
  blockBytes = 16 << 20,
  pieceBytes = DEFLATE_PIECE,
): Promise<DeflatedNpy> {
  const [A, R, N] = shape;
  const P = A * N;
  const header = npyHeaderBytes("uint8", [A, R, N]);
  const parts: Uint8Array[] = [];
  const z = zlib.createDeflateRaw({ level: 6 });
  z.on("data", (b: Buffer) => parts.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
  const ended = new Promise<void>((res, rej) => (z.on("end", res), z.on("error", rej)));
  const write = (b: Uint8Array) =>
    new Promise<void>((res, rej) => z.write(b, (e?: Error | null) => (e ? rej(e) : res())));
  // two pieces alternate: one is filled while zlib consumes the other
  const pieces = [new Uint8Array(pieceBytes), new Uint8Array(pieceBytes)];
  const inFlight: (Promise<void> | undefined)[] = [];
  let cur = 0, fill = 0;
  const feed = async (b: Uint8Array) => {
    for (let o = 0; o < b.length;) {
      const n = Math.min(pieceBytes - fill, b.length - o);
      pieces[cur].set(b.subarray(o, o + n), fill);
      fill += n;
      o += n;
      if (fill === pieceBytes) {
        inFlight[cur] = write(pieces[cur]);
        cur ^= 1;
        fill = 0;
        await inFlight[cur];
      }
    }
  };
  let crc = crc32(header);
  await feed(header);
  const kb = Math.max(1, Math.min(A, Math.floor(blockBytes / (R * N))));
  const row = new Uint8Array(kb * N);
  const blockBuf = new Uint8Array(kb * R * N);
  for (let k0 = 0; k0 < A; k0 += kb) {
    const nk = Math.min(kb, A - k0);
    const block = blockBuf.subarray(0, nk * R * N);
    for (let j = 0; j < R; j++) {
      const r = row.subarray(0, nk * N);
      readFull(spill, j * P + k0 * N, r);
      for (let kk = 0; kk < nk; kk++) {
        block.set(r.subarray(kk * N, (kk + 1) * N), (kk * R + j) * N);
      }
    }
    crc = crc32(block, crc);
    await feed(block);
    await safePoint();
  }
  if (fill) inFlight[cur] = write(pieces[cur].subarray(0, fill));
  await Promise.all(inFlight);
  z.end();
  await ended;
  return { crc32: crc, size: header.length + A * R * N, data: parts };
}

/**
 * Makes the stripe mask of a scan on every core and adds it to the archive (see the module doc).
 * Returns the number of stripe voxels and the seconds the detection took.
 *
 * @example
 * ```ts
 * const { ones, seconds } = await maskScanToArchive(o);
 * ```
 */
export async function maskScanToArchive(
  o: ParallelMaskOptions,
): Promise<{ ones: number; seconds: number }> {
  const [A, , N] = o.shape;
  const P = A * N;
  const spillPath = tempPathBeside(o.archive, ".tmp");
  const spill = Deno.openSync(spillPath, { read: true, write: true, createNew: true });
  // a signal ends the tool without unwinding this function: remove the spill file then too
  const forget = onAbort(() => Deno.removeSync(spillPath));
  try {
    let ones = 0;
    const t0 = performance.now();
    await runWorkers(o, (y0, y1, mask) => {
      spill.seekSync(y0 * P, Deno.SeekMode.Start);
      let off = 0;
      while (off < mask.length) off += spill.writeSync(mask.subarray(off));
      ones += countOnes(mask);
      o.bar?.tick(y1 - y0);
    });
    const seconds = (performance.now() - t0) / 1000;
    const entry = await deflateSpill(spill, o.shape, o.deflateBlockBytes, o.deflatePieceBytes);
    appendDeflatedNpy(o.archive, o.entry, entry, o.overwrite);
    return { ones, seconds };
  } finally {
    forget();
    spill.close();
    Deno.removeSync(spillPath);
  }
}
