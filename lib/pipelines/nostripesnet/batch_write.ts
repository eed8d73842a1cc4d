/**
 * Writing a group of files atomically and durably at the cost of about one `fdatasync`: each
 * file goes to a temporary name beside it, all of them are synced at once on the runtime's I/O
 * threads (the file system commits concurrent syncs together), then they are
 * renamed into place in the order given. A file is therefore either absent or complete, and when
 * a later file of the group exists every earlier one does (the rule lib/run/atomic.ts
 * `writeFileAtomicSync` gives one file at a time, with one sync per file). A {@link FileGroup}
 * writes each file as its bytes come (on the calling thread, so that the bytes may be reused at
 * once) and syncs and renames them all at its commit; `writeFilesAtomic` is that for files whose
 * bytes are all at hand.
 *
 * @example
 * ```ts
 * import { FileGroup, writeFilesAtomic } from "./batch_write.ts";
 * await writeFilesAtomic([["a/x.tif", bytesX], ["a/y.tif", bytesY]]);
 * const g = new FileGroup();
 * g.add("a/z.tif", bytesZ);
 * await g.commit();
 * ```
 * @module
 */
import { ioError, tempPathBeside } from "../../run/atomic.ts";

/**
 * Writes `[path, bytes]` pairs (replacing existing files) as the module doc says; the bytes of a
 * file may be given as a list of chunks, written one after the other. On an error the temporary
 * files are removed and the files already renamed stay (each complete).
 *
 * @example
 * ```ts
 * await writeFilesAtomic([["out/a.bin", new Uint8Array(4)]]);
 * ```
 */
export async function writeFilesAtomic(
  files: readonly [string, Uint8Array | readonly Uint8Array[]][],
): Promise<void> {
  const g = new FileGroup();
  try {
    for (const [path, bytes] of files) g.add(path, bytes);
  } catch (e) {
    g.abort();
    throw e;
  }
  await g.commit();
}

/**
 * A group of files written on the calling thread as their bytes come (each to a temporary name
 * beside it, so that the caller may reuse the bytes at once), then made durable and visible
 * together by {@link FileGroup.commit}: the same rule as {@link writeFilesAtomic}, for bytes that
 * live in a buffer about to be overwritten (a kernel's memory).
 *
 * @example
 * ```ts
 * const g = new FileGroup();
 * g.add("a/x.tif", bytesX); // bytesX may change after this
 * g.add("a/y.tif", bytesY);
 * await g.commit();
 * ```
 */
export class FileGroup {
  private readonly open: { tmp: string; path: string; f: Deno.FsFile | null }[] = [];

  /**
   * Writes `bytes` to a temporary file beside `path` (replaced at the commit).
   *
   * @example
   * ```ts
   * group.add("out/a.bin", new Uint8Array(4));
   * ```
   */
  add(path: string, bytes: Uint8Array | readonly Uint8Array[]): void {
    const t = { tmp: tempPathBeside(path), path, f: null as Deno.FsFile | null };
    try {
      t.f = Deno.openSync(t.tmp, { write: true, createNew: true, mode: 0o644 });
      this.open.push(t);
      for (const b of bytes instanceof Uint8Array ? [bytes] : bytes) {
        for (let off = 0; off < b.length;) off += t.f.writeSync(b.subarray(off));
      }
    } catch (e) {
      throw ioError(path, e);
    }
  }

  /**
   * Syncs every file at once on the runtime's I/O threads, then renames them into place in the
   * order added. On an error the temporary files are removed and the files already renamed stay.
   *
   * @example
   * ```ts
   * await group.commit();
   * ```
   */
  async commit(): Promise<void> {
    try {
      const done = await Promise.allSettled(this.open.map((t) => t.f!.syncData()));
      const bad = done.findIndex((d) => d.status === "rejected");
      if (bad >= 0) {
        throw ioError(this.open[bad].path, (done[bad] as PromiseRejectedResult).reason);
      }
      for (const t of this.open) {
        t.f!.close();
        t.f = null;
      }
      for (const t of this.open) {
        try {
          Deno.renameSync(t.tmp, t.path);
        } catch (e) {
          throw ioError(t.path, e);
        }
        t.tmp = "";
      }
    } finally {
      this.abort();
    }
  }

  /**
   * Closes and removes the temporary files not renamed yet.
   *
   * @example
   * ```ts
   * group.abort();
   * ```
   */
  abort(): void {
    for (const t of this.open) {
      try {
        t.f?.close();
      } catch { /* closed */ }
      t.f = null;
      if (t.tmp) {
        try {
          Deno.removeSync(t.tmp);
        } catch { /* never made */ }
        t.tmp = "";
      }
    }
  }
}
