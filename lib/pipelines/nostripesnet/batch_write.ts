/**
 * Writing a group of files atomically and durably at the cost of about one `fdatasync`: each
 * file goes to a temporary name beside it, all of them are written and synced at once on the
 * runtime's I/O threads (the file system commits concurrent syncs together), then they are
 * renamed into place in the order given. A
 * file is therefore either absent or complete, and when a later file of the group exists every
 * earlier one does (the rule lib/run/atomic.ts `writeFileAtomicSync` gives one file at a time,
 * with one sync per file).
 *
 * @example
 * ```ts
 * import { writeFilesAtomic } from "./batch_write.ts";
 * await writeFilesAtomic([["a/x.tif", bytesX], ["a/y.tif", bytesY]]);
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
  // opening, writing and syncing run on the runtime's I/O threads, so that the calling thread
  // goes on with its work meanwhile
  const open: { tmp: string; f: Deno.FsFile | null; path: string }[] = files.map(([path]) => ({
    tmp: tempPathBeside(path),
    f: null,
    path,
  }));
  const writeOne = async (t: (typeof open)[number], bytes: Uint8Array | readonly Uint8Array[]) => {
    try {
      t.f = await Deno.open(t.tmp, { write: true, createNew: true, mode: 0o644 });
      for (const b of bytes instanceof Uint8Array ? [bytes] : bytes) {
        for (let off = 0; off < b.length;) off += await t.f.write(b.subarray(off));
      }
      await t.f.syncData();
    } catch (e) {
      if (!t.f) t.tmp = ""; // never made
      throw ioError(t.path, e);
    }
  };
  try {
    const done = await Promise.allSettled(open.map((t, i) => writeOne(t, files[i][1])));
    const failed = done.find((d) => d.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    for (const t of open) {
      t.f!.close();
      t.f = null;
    }
    for (const t of open) {
      try {
        await Deno.rename(t.tmp, t.path);
      } catch (e) {
        throw ioError(t.path, e);
      }
      t.tmp = "";
    }
  } finally {
    for (const t of open) {
      try {
        t.f?.close();
      } catch { /* closed */ }
      if (t.tmp) {
        try {
          Deno.removeSync(t.tmp);
        } catch { /* never made */ }
      }
    }
  }
}
