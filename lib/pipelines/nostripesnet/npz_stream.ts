/**
 * Adding an already deflated `.npy` entry to an `.npz` archive, as lib/io/npz.ts `appendNpz`
 * does for an array in memory (every other entry copied as stored, an entry of the same name
 * replaced where it stood, the new archive written beside the old one and renamed into place):
 * for entries too large to hold uncompressed, deflated as they are made.
 *
 * @example
 * ```ts
 * import { appendDeflatedNpy } from "./npz_stream.ts";
 * appendDeflatedNpy("masks.npz", "m119617", { crc32, size, data: parts }, false);
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { ioError, pathExists, tempPathBeside, writeAllSync } from "../../run/atomic.ts";
import { fileSource, ZipReader, ZipWriter } from "../../io/zip.ts";

/** A deflated entry: the CRC-32 and size of its uncompressed bytes, and the deflated pieces. */
export interface DeflatedEntry {
  crc32: number;
  size: number;
  data: Uint8Array[];
}

function writeArchive(path: string, overwrite: boolean, fill: (w: ZipWriter) => void): void {
  const tmp = tempPathBeside(path);
  let f: Deno.FsFile | undefined;
  try {
    f = Deno.openSync(tmp, { write: true, createNew: true, mode: 0o644 });
    const file = f;
    const w = new ZipWriter((b) => writeAllSync(file, b));
    fill(w);
    w.finish();
    f.syncDataSync();
    f.close();
    f = undefined;
    if (overwrite) Deno.renameSync(tmp, path);
    else {
      Deno.linkSync(tmp, path);
      Deno.removeSync(tmp);
    }
  } catch (e) {
    try {
      f?.close();
    } catch { /* closed */ }
    try {
      Deno.removeSync(tmp);
    } catch { /* absent */ }
    throw ioError(path, e);
  }
}

/**
 * Adds (or with `overwrite` replaces) the array `name` of the archive at `path` (created when
 * absent) from its deflated NPY bytes.
 *
 * @example
 * ```ts
 * appendDeflatedNpy("masks.npz", "m119617", entry, true);
 * ```
 */
export function appendDeflatedNpy(
  path: string,
  name: string,
  e: DeflatedEntry,
  overwrite: boolean,
): void {
  const entry = name.endsWith(".npy") ? name : `${name}.npy`;
  const raw = { name: entry, method: 8, crc32: e.crc32, size: e.size, data: e.data };
  if (!pathExists(path)) {
    writeArchive(path, false, (w) => w.addRaw(raw));
    return;
  }
  const zip = new ZipReader(fileSource(path), path);
  try {
    const old = zip.entries.find((x) => x.name === entry);
    if (old && !overwrite) throw new LumenError(path, entry, "entry exists; pass --overwrite");
    writeArchive(path, true, (w) => {
      let placed = false;
      for (const x of zip.entries) {
        if (x === old) {
          w.addRaw(raw);
          placed = true;
          continue;
        }
        w.addRaw({
          name: x.name,
          method: x.method,
          crc32: x.crc32,
          size: x.size,
          data: zip.raw(x),
          dosTime: x.dosTime,
          dosDate: x.dosDate,
          externalAttr: x.externalAttr,
        });
      }
      if (!placed) w.addRaw(raw);
    });
  } finally {
    zip.close();
  }
}
