/**
 * A file's bytes as the describers read them: the first bytes (plain or gunzipped), bytes at an
 * offset, and the whole file as a stream of pieces (plain or gunzipped). Errors are one line
 * naming the file.
 *
 * @example
 * ```ts
 * import { readHead, streamBytes } from "./bytes.ts";
 * const head = readHead("scan.nxs", 8);
 * const total = await streamBytes("a.gz", true, (piece) => {});
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { safePoint } from "../../run/interrupt.ts";
import { type ByteSource, gunzipStream } from "../zip.ts";

/**
 * The first `n` bytes of a file (fewer where it is shorter).
 *
 * @example
 * ```ts
 * readHead("a.npy", 6); // 93 4e 55 4d 50 59
 * ```
 */
export function readHead(path: string, n: number): Uint8Array {
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

/**
 * `n` bytes of a file from byte `at` (fewer at its end).
 *
 * @example
 * ```ts
 * readAt("user_block.h5", 512, 8);
 * ```
 */
export function readAt(path: string, at: number, n: number): Uint8Array {
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

function gzipError(path: string, at: number, e: unknown): LumenError {
  const m = e instanceof LumenError
    ? e.problem.replace(/^invalid gzip data \((.*)\)$/, "$1")
    : (e as Error).message;
  return new LumenError(path, `byte ${at} (uncompressed)`, `corrupt gzip data (${m})`);
}

/** A file's pieces, gunzipped (every gzip member, as gzip and Python do) when `gz`. */
function pieces(f: Deno.FsFile, path: string, gz: boolean): AsyncIterable<Uint8Array> {
  return gz ? gunzipStream(f.readable, path) : f.readable;
}

/**
 * The first `n` decompressed bytes of a gzip file (fewer where it is shorter). Data that cannot
 * be gunzipped gives null, or, with `strict`, the one-line error naming the byte.
 *
 * @example
 * ```ts
 * const head = await gunzipHead("t1.nii.gz", 348);
 * ```
 */
export async function gunzipHead(
  path: string,
  n: number,
  strict = false,
): Promise<Uint8Array | null> {
  const f = await Deno.open(path, { read: true });
  const out: Uint8Array[] = [];
  let got = 0;
  try {
    for await (const value of pieces(f, path, true)) {
      out.push(value);
      got += value.length;
      if (got >= n) break;
    }
  } catch (e) {
    if (strict && got < n) throw gzipError(path, got, e);
    if (got === 0) return null;
  } finally {
    try {
      f.close();
    } catch { /* closed with its stream */ }
  }
  const all = new Uint8Array(got);
  let o = 0;
  for (const c of out) all.set(c, o), o += c.length;
  return all.subarray(0, n);
}

/**
 * Streams a file's bytes, gunzipped when `gz`, to `push`; returns the byte count. Corrupt gzip
 * data is one line naming the uncompressed byte where it broke.
 *
 * @example
 * ```ts
 * const bytes = await streamBytes("a.gz", true, () => {}); // uncompressed size
 * ```
 */
export async function streamBytes(
  path: string,
  gz: boolean,
  push: (b: Uint8Array) => void,
): Promise<number> {
  const f = await Deno.open(path, { read: true });
  let total = 0;
  try {
    for await (const chunk of pieces(f, path, gz)) {
      total += chunk.length;
      push(chunk);
      await safePoint();
    }
  } catch (e) {
    if (e instanceof LumenError && e.place !== "gzip") throw e;
    throw gzipError(path, total, e);
  } finally {
    try {
      f.close();
    } catch { /* closed with its stream */ }
  }
  return total;
}

/**
 * The bytes of a {@link ByteSource} from `from`, `block` bytes at a time.
 *
 * @example
 * ```ts
 * for (const piece of sourceChunks(fileSource("a.npy"), 0, 1 << 24)) use(piece);
 * ```
 */
export function* sourceChunks(
  src: ByteSource,
  from: number,
  block: number,
): Generator<Uint8Array> {
  for (let off = from; off < src.size; off += block) {
    yield src.read(off, Math.min(block, src.size - off));
  }
}
