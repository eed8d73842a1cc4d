/**
 * Writing a group of files atomically and durably at the cost of about one `fdatasync`: each
 * file goes to a temporary name beside it, all of them are synced at once (the file system
 * commits concurrent syncs together), then they are renamed into place in the order given. A
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
import { ioError, tempPathBeside, writeAllSync } from "../../run/atomic.ts";

/**
 * Writes `[path, bytes]` pairs (replacing existing files) as the module doc says; on an error
 * the temporary files are removed and the files already renamed stay (each complete).
 *
 * @example
 * ```ts
 * await writeFilesAtomic([["out/a.bin", new Uint8Array(4)]]);
 * ```
 */
export async function writeFilesAtomic(files: readonly [string, Uint8Array][]): Promise<void> {
  const open: { tmp: string; f: Deno.FsFile | null; path: string }[] = [];
  try {
    for (const [path, bytes] of files) {
      const t = { tmp: tempPathBeside(path), f: null as Deno.FsFile | null, path };
      open.push(t);
      try {
        t.f = Deno.openSync(t.tmp, { write: true, createNew: true, mode: 0o644 });
        writeAllSync(t.f, bytes);
      } catch (e) {
        throw ioError(path, e);
      }
    }
    await Promise.all(
      open.map((t) => t.f!.syncData().catch((e) => Promise.reject(ioError(t.path, e)))),
    );
    for (const t of open) {
      t.f!.close();
      t.f = null;
    }
    for (const t of open) {
      try {
        Deno.renameSync(t.tmp, t.path);
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
