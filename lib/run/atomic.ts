/**
 * Atomic file and directory output, and input reading with the error convention.
 *
 * Every file Lumen writes goes first to a temporary name in the same directory and is then
 * renamed into place, so a reader never sees half a file and a failure never leaves one behind.
 * Directories are built under a temporary name beside their destination and renamed in place
 * when complete. Nothing is replaced unless the caller says so (`overwrite`); otherwise the error
 * is `PATH: exists; pass --overwrite`.
 *
 * Temporary names are `.NAME.<pid>-<random>.tmp` (files) and `.NAME.<pid>-<random>.partial`
 * (directories), beside the destination.
 *
 * @example
 * ```ts
 * import { writeFileAtomic, writeTextAtomic, buildDirAtomic } from "./atomic.ts";
 * await writeFileAtomic("out/a.bin", new Uint8Array([1, 2, 3]));
 * await writeTextAtomic("out/a.txt", "hello\n", { overwrite: true });
 * await buildDirAtomic("out/run1", async (tmp) => {
 *   await Deno.writeTextFile(`${tmp}/log.txt`, "ok\n");
 * });
 * ```
 * @module
 */
import { basename, dirname, join } from "node:path";
import { LumenError } from "./errors.ts";
import { onAbort } from "./main.ts";

/** Options of the atomic writers. */
export interface AtomicWriteOptions {
  /** Replace an existing file or directory (default false: refuse with "exists; pass --overwrite"). */
  overwrite?: boolean;
  /** Permission bits of a new file (default 0o644, less the umask). */
  mode?: number;
  /** Flush the data to disk before the rename (default true). */
  fsync?: boolean;
}

let counter = 0;

/** A temporary path beside `path` (same directory), ending in `suffix`. Not created. */
export function tempPathBeside(path: string, suffix = ".tmp"): string {
  const rnd = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  counter = (counter + 1) % 1e9;
  return join(dirname(path), `.${basename(path)}.${Deno.pid}-${rnd}${counter}${suffix}`);
}

/** True when something (file, directory or link, even a dangling one) exists at `path`. */
export function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function existsError(path: string): LumenError {
  return new LumenError(path, "", "exists; pass --overwrite");
}

/** The names {@link tempPathBeside} makes: `.<name>.<pid>-<random><counter><suffix>`. */
const TEMP_NAME = /^\..+\.\d+-[0-9a-z]+(\.tmp|\.partial)(\.[a-z0-9]+)?$/;

/**
 * Removes the temporary files and folders that an earlier run killed without clean-up (SIGKILL,
 * a crash) left under `dir`, so that a resumed output holds only complete files. Returns how
 * many were removed.
 *
 * @example
 * ```ts
 * removeStaleTemps("data/0000"); // 2 (".0000_shift00_0003_w01.tif.4711-k3x9.tmp", …)
 * ```
 */
export function removeStaleTemps(dir: string): number {
  let n = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return 0;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (TEMP_NAME.test(e.name)) {
      Deno.removeSync(path, { recursive: true });
      n++;
    } else if (e.isDirectory) n += removeStaleTemps(path);
  }
  return n;
}

/**
 * Refuses, before any work, to replace outputs that exist: one line naming the first one and
 * `--overwrite` (and what else to do, `hint`). Nothing happens with `overwrite`.
 *
 * @example
 * ```ts
 * refuseExisting([`${out}/m.metrics.json`, `${out}/m.metrics.csv`], f.overwrite, "or choose another --name");
 * ```
 */
export function refuseExisting(
  paths: readonly string[],
  overwrite: boolean,
  hint = "",
): void {
  if (overwrite) return;
  for (const p of paths) {
    if (pathExists(p)) {
      throw new LumenError(
        p,
        "",
        `exists; pass --overwrite to replace it${hint ? `, ${hint}` : ""}`,
      );
    }
  }
}

/** Turns an OS error from writing `path` into a one-line LumenError. */
export function ioError(path: string, e: unknown, doing = "cannot write"): LumenError {
  if (e instanceof LumenError) return e;
  if (e instanceof Deno.errors.NotFound) {
    return new LumenError(path, "", `${doing}: directory ${dirname(path)} does not exist`);
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return new LumenError(path, "", `${doing}: permission denied`);
  }
  if (e instanceof Deno.errors.AlreadyExists) return existsError(path);
  if (e instanceof Deno.errors.IsADirectory) {
    return new LumenError(path, "", `${doing}: is a directory`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new LumenError(path, "", `${doing}: ${msg}`);
}

/**
 * Moves the finished temporary file `tmp` to `path`: a plain rename when overwriting, otherwise a
 * hard link (which fails if `path` appeared meanwhile) followed by removing `tmp`.
 */
function commit(tmp: string, path: string, overwrite: boolean): void {
  if (overwrite) {
    Deno.renameSync(tmp, path);
    return;
  }
  try {
    Deno.linkSync(tmp, path);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw existsError(path);
    // File systems without hard links: check, then rename (a small race, no partial file).
    if (pathExists(path)) throw existsError(path);
    Deno.renameSync(tmp, path);
    return;
  }
  Deno.removeSync(tmp);
}

/**
 * Writes `chunks` to `path` atomically (synchronous). Chunks are written one after the other, so
 * large outputs need not be joined in memory first.
 */
export function writeChunksAtomicSync(
  path: string,
  chunks: Iterable<Uint8Array>,
  opts: AtomicWriteOptions = {},
): void {
  const overwrite = opts.overwrite ?? false;
  if (!overwrite && pathExists(path)) throw existsError(path);
  const tmp = tempPathBeside(path);
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(tmp, { write: true, createNew: true, mode: opts.mode ?? 0o644 });
    for (const chunk of chunks) writeAllSync(file, chunk);
    if (opts.fsync ?? true) file.syncDataSync();
    file.close();
    file = undefined;
    commit(tmp, path, overwrite);
  } catch (e) {
    try {
      file?.close();
    } catch { /* already closed */ }
    try {
      Deno.removeSync(tmp);
    } catch { /* never created */ }
    throw ioError(path, e);
  }
}

/** Writes every byte of `bytes` to an open file. */
export function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory, flushed, then
 * renamed into place. Refuses to replace an existing `path` unless `overwrite`.
 *
 * @example
 * ```ts
 * await writeFileAtomic("result.npy", bytes, { overwrite: true });
 * ```
 */
export function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  return Promise.resolve().then(() => writeChunksAtomicSync(path, [bytes], opts));
}

/** Synchronous {@link writeFileAtomic}. */
export function writeFileAtomicSync(
  path: string,
  bytes: Uint8Array,
  opts: AtomicWriteOptions = {},
): void {
  writeChunksAtomicSync(path, [bytes], opts);
}

/** Writes UTF-8 `text` to `path` atomically (see {@link writeFileAtomic}). */
export function writeTextAtomic(
  path: string,
  text: string,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  return writeFileAtomic(path, new TextEncoder().encode(text), opts);
}

/** Synchronous {@link writeTextAtomic}. */
export function writeTextAtomicSync(path: string, text: string, opts: AtomicWriteOptions = {}) {
  writeFileAtomicSync(path, new TextEncoder().encode(text), opts);
}

/**
 * Builds a directory under a temporary name beside `dest`, then renames it to `dest`.
 *
 * `build` receives the temporary directory (already created, empty) and fills it. If it throws,
 * the temporary directory is removed and nothing appears at `dest`. If `dest` exists, this refuses
 * unless `overwrite`, in which case the old tree is moved aside, the new one renamed in, and the
 * old one removed (restored if the rename fails).
 *
 * @example
 * ```ts
 * await buildDirAtomic("runs/r1", async (tmp) => {
 *   await Deno.writeTextFile(`${tmp}/a.txt`, "a\n");
 * });
 * ```
 */
export async function buildDirAtomic<T>(
  dest: string,
  build: (tmpDir: string) => Promise<T> | T,
  opts: { overwrite?: boolean } = {},
): Promise<T> {
  const overwrite = opts.overwrite ?? false;
  if (!overwrite && pathExists(dest)) throw existsError(dest);
  const tmp = tempPathBeside(dest, ".partial");
  try {
    Deno.mkdirSync(tmp, { mode: 0o755 });
  } catch (e) {
    throw ioError(dest, e, "cannot create directory");
  }
  let result: T;
  // an interrupt while building removes the temporary folder
  const forget = onAbort(() => Deno.removeSync(tmp, { recursive: true }));
  try {
    result = await build(tmp);
    renameDirInPlace(tmp, dest, overwrite);
    forget();
  } catch (e) {
    forget();
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch { /* gone already */ }
    throw e instanceof LumenError ? e : ioError(dest, e, "cannot create directory");
  }
  return result;
}

function renameDirInPlace(tmp: string, dest: string, overwrite: boolean): void {
  if (!pathExists(dest)) {
    try {
      Deno.renameSync(tmp, dest);
    } catch (e) {
      if (pathExists(dest) && !overwrite) throw existsError(dest);
      throw e;
    }
    return;
  }
  if (!overwrite) throw existsError(dest);
  const old = tempPathBeside(dest, ".old");
  Deno.renameSync(dest, old);
  try {
    Deno.renameSync(tmp, dest);
  } catch (e) {
    Deno.renameSync(old, dest);
    throw e;
  }
  Deno.removeSync(old, { recursive: true });
}

/**
 * Reads a whole input file, turning "not found", "is a directory" and "permission denied" into a
 * one-line LumenError.
 */
export function readInputSync(path: string): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new LumenError(path, "", "no such file");
    if (e instanceof Deno.errors.PermissionDenied) {
      throw new LumenError(path, "", "cannot read: permission denied");
    }
    if (e instanceof Deno.errors.IsADirectory) {
      throw new LumenError(path, "", "is a directory, expected a file");
    }
    throw new LumenError(path, "", `cannot read: ${e instanceof Error ? e.message : e}`);
  }
}

/** Async {@link readInputSync}. */
export function readInput(path: string): Promise<Uint8Array> {
  return Promise.resolve().then(() => readInputSync(path));
}
