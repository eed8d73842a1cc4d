/**
 * tar and tar.gz archives: listing and safe extraction.
 *
 * The reader understands ustar (with its name prefix), pax extended headers (`path`, `linkpath`,
 * `size`, `mtime`…, per file and global), GNU long names and long link names (`L`/`K`) and GNU
 * base-256 numbers, and verifies every header's checksum.
 *
 * Archives are read as a stream (gunzipped as they are read, lib/io/tar_scan.ts), so memory
 * stays small whatever the members' sizes. {@link extractTar} first reads and checks the whole
 * archive, and writes nothing if any member is unsafe: an absolute path, a `..` component, a symlink whose target (followed through the
 * archive's other symlinks) leaves the destination, a hardlink to anything but a regular file
 * earlier in the archive, or a member inside a symlinked directory. It then extracts into a
 * temporary directory beside the destination (creating the destination's parent directories if
 * needed) and renames that into place, so a failure never
 * leaves a half-extracted tree. Device files and FIFOs are skipped (and reported); modes are
 * filtered as Python's tarfile `data` filter does: setuid, setgid and sticky bits and group and
 * world write are dropped (a 1777 directory becomes 755, a 666 file 644); owners are not
 * restored. Deno lets a process create symlinks only
 * with unscoped `--allow-read` and `--allow-write`; without them an archive holding symlinks is
 * refused up front (one line, nothing written).
 *
 * @example
 * ```ts
 * import { extractTar, listTar } from "./tar.ts";
 * for (const e of await listTar("data.tar.gz")) console.log(e.type, e.name, e.size);
 * const r = await extractTar("data.tar.gz", "data"); // { files: 12, dirs: 3, … }
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";
import { dirname } from "node:path";
import { buildDirAtomic, ioError } from "../run/atomic.ts";
import { scanTarFile, type TarEntry, type TarEntryType, TarScanner } from "./tar_scan.ts";

export { isTarHeader, type TarEntry, type TarEntryType } from "./tar_scan.ts";

/** What {@link extractTar} did. */
export interface TarExtractResult {
  /** Regular files written. */
  files: number;
  /** Directories created (explicit members). */
  dirs: number;
  /** Symlinks created. */
  symlinks: number;
  /** Hardlinks created. */
  hardlinks: number;
  /** Bytes of file data written. */
  bytes: number;
  /** Members skipped, with the reason (device files, FIFOs…). */
  skipped: string[];
}

/**
 * Parses an uncompressed tar archive held in memory, verifying header checksums.
 * `file` names the archive in errors: `a.tar: header at byte 1536: checksum mismatch (…)`.
 *
 * @example
 * ```ts
 * const entries = parseTar(await Deno.readFile("a.tar"), "a.tar");
 * ```
 */
export function parseTar(bytes: Uint8Array, file = "<tar>"): TarEntry[] {
  const entries: TarEntry[] = [];
  const s = new TarScanner(file, { entry: (e) => entries.push(e) });
  s.push(bytes);
  s.finish();
  return entries;
}

/**
 * Lists the members of a tar or tar.gz archive (checksums verified). The archive is read as a
 * stream (gunzipped as it is read), so memory stays small whatever the members' sizes.
 *
 * @example
 * ```ts
 * const entries = await listTar("scan.tar.gz");
 * ```
 */
export async function listTar(path: string): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  await scanTarFile(path, { entry: (e) => entries.push(e) });
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Safety checks

/** Splits a member path into components, refusing absolute paths and `..`. */
function components(name: string, file: string, what: string, member = name): string[] {
  const place = `member '${member}'`;
  if (name.startsWith("/")) {
    throw new LumenError(file, place, `${what} is an absolute path; refusing to extract`);
  }
  const parts = name.split("/").filter((c) => c !== "" && c !== ".");
  if (parts.includes("..")) {
    throw new LumenError(file, place, `${what} contains '..'; refusing to extract`);
  }
  return parts;
}

/**
 * Resolves a path (components relative to the destination) through the archive's symlinks;
 * null if it leaves the destination.
 */
function resolveInside(
  parts: string[],
  symlinks: Map<string, string>,
  depth = 0,
): string[] | null {
  if (depth > 40) return null;
  const out: string[] = [];
  for (const c of parts) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    out.push(c);
    const target = symlinks.get(out.join("/"));
    if (target !== undefined) {
      if (target.startsWith("/")) return null;
      out.pop();
      const r = resolveInside([...out, ...target.split("/")], symlinks, depth + 1);
      if (r === null) return null;
      out.length = 0;
      out.push(...r);
    }
  }
  return out;
}

interface Planned {
  entry: TarEntry;
  path: string; // normalized, relative to dest
  target?: string; // symlink target as stored / hardlink target normalized
}

/**
 * Checks every member before anything is written; returns the members to extract, or throws a
 * LumenError naming the first unsafe member.
 */
export function planTarExtraction(entries: TarEntry[], file = "<tar>"): {
  plan: Planned[];
  skipped: string[];
} {
  const plan: Planned[] = [];
  const skipped: string[] = [];
  const kinds = new Map<string, TarEntryType>();
  const symlinks = new Map<string, string>();
  const files = new Set<string>();
  for (const e of entries) {
    const place = `member '${e.name}'`;
    const parts = components(e.name, file, "path");
    const path = parts.join("/");
    if (path === "") {
      if (e.type === "dir") continue; // "./"
      throw new LumenError(file, place, "empty path");
    }
    if (["char", "block", "fifo", "other"].includes(e.type)) {
      skipped.push(`${e.name} (${e.type === "other" ? `type '${e.typeflag}'` : e.type})`);
      continue;
    }
    const prev = kinds.get(path);
    if (
      prev !== undefined && prev !== e.type && !(prev === "file" && e.type === "hardlink") &&
      !(prev === "hardlink" && e.type === "file")
    ) {
      throw new LumenError(file, place, `appears both as ${prev} and as ${e.type}`);
    }
    kinds.set(path, e.type);
    if (e.type === "symlink") {
      if (e.linkname === "") throw new LumenError(file, place, "symlink with an empty target");
      if (e.linkname.startsWith("/")) {
        throw new LumenError(
          file,
          place,
          `symlink to absolute path '${e.linkname}' points outside the destination`,
        );
      }
      symlinks.set(path, e.linkname);
      plan.push({ entry: e, path, target: e.linkname });
    } else if (e.type === "hardlink") {
      const tparts = components(e.linkname, file, `hardlink target '${e.linkname}'`, e.name);
      const target = tparts.join("/");
      if (!files.has(target)) {
        throw new LumenError(
          file,
          place,
          `hardlink target '${e.linkname}' is not a regular file earlier in the archive`,
        );
      }
      files.add(path);
      plan.push({ entry: e, path, target });
    } else {
      if (e.type === "file") files.add(path);
      plan.push({ entry: e, path });
    }
  }
  // Symlink targets, followed through the archive's symlinks, must stay inside.
  for (const [path, target] of symlinks) {
    const parent = path.split("/").slice(0, -1);
    if (resolveInside([...parent, ...target.split("/")], symlinks) === null) {
      throw new LumenError(
        file,
        `member '${plan.find((p) => p.path === path)!.entry.name}'`,
        `symlink to '${target}' points outside the destination`,
      );
    }
  }
  // Nothing may be written through a symlink.
  for (const p of plan) {
    const parts = p.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const pre = parts.slice(0, i).join("/");
      if (symlinks.has(pre)) {
        throw new LumenError(
          file,
          `member '${p.entry.name}'`,
          `lies under symlink '${pre}'; refusing to write through a link`,
        );
      }
      const k = kinds.get(pre);
      if (k !== undefined && k !== "dir") {
        throw new LumenError(file, `member '${p.entry.name}'`, `parent '${pre}' is a ${k}`);
      }
    }
  }
  return { plan, skipped };
}

// ---------------------------------------------------------------------------------------------
// Extraction

/** True when this process may create symlinks (Deno requires unscoped read and write). */
function mayCreateSymlinks(): boolean {
  try {
    return Deno.permissions.querySync({ name: "write" }).state === "granted" &&
      Deno.permissions.querySync({ name: "read" }).state === "granted";
  } catch {
    return true;
  }
}

/** Options of {@link extractTar}. */
export interface TarExtractOptions {
  /** Replace an existing destination (default false: refuse). */
  overwrite?: boolean;
  /** Restore modification times (default true). */
  mtimes?: boolean;
}

/**
 * Extracts a tar or tar.gz archive into the directory `dest`, which must not exist (unless
 * `overwrite`). All members are checked first (a first pass over the archive); then a second
 * pass streams the members into a tree built under a temporary name beside `dest`, renamed into
 * place at the end. Memory stays small whatever the members' sizes. On any error nothing is
 * left at `dest` or beside it.
 *
 * @example
 * ```ts
 * await extractTar("weights.tar.gz", "models/unet");
 * ```
 */
export async function extractTar(
  archive: string,
  dest: string,
  opts: TarExtractOptions = {},
): Promise<TarExtractResult> {
  const entries = await listTar(archive);
  const { plan, skipped } = planTarExtraction(entries, archive);
  const link = plan.find((p) => p.entry.type === "symlink");
  if (link && !mayCreateSymlinks()) {
    throw new LumenError(
      archive,
      `member '${link.entry.name}'`,
      "creating a symlink needs Deno's unscoped --allow-read and --allow-write",
    );
  }
  const parent = dirname(dest);
  try {
    Deno.mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw ioError(dest, e, "cannot create directory");
  }
  const result: TarExtractResult = {
    files: 0,
    dirs: 0,
    symlinks: 0,
    hardlinks: 0,
    bytes: 0,
    skipped,
  };
  const planned = new Map(plan.map((p) => [p.entry.headerOffset, p]));
  await buildDirAtomic(dest, async (tmp) => {
    const dirModes: [string, number, number][] = [];
    const times: [string, number][] = [];
    const ensureParent = (rel: string) => {
      const i = rel.lastIndexOf("/");
      if (i > 0) Deno.mkdirSync(`${tmp}/${rel.slice(0, i)}`, { recursive: true, mode: 0o755 });
    };
    const removeIfPresent = (abs: string) => {
      try {
        const st = Deno.lstatSync(abs);
        if (!st.isDirectory) Deno.removeSync(abs);
      } catch { /* absent */ }
    };
    let out: Deno.FsFile | null = null;
    const start = (e: TarEntry) => {
      const p = planned.get(e.headerOffset);
      if (!p) return; // skipped (device, FIFO) or "./"
      if (p.entry.name !== e.name || p.entry.type !== e.type || p.entry.size !== e.size) {
        throw new LumenError(archive, `member '${e.name}'`, "the archive changed while extracting");
      }
      const abs = `${tmp}/${p.path}`;
      switch (e.type) {
        case "dir":
          Deno.mkdirSync(abs, { recursive: true, mode: 0o755 });
          dirModes.push([abs, e.mode & 0o755, e.mtime]);
          result.dirs++;
          break;
        case "file":
          ensureParent(p.path);
          removeIfPresent(abs);
          out = Deno.openSync(abs, { write: true, createNew: true, mode: 0o600 });
          break;
        case "symlink":
          ensureParent(p.path);
          removeIfPresent(abs);
          Deno.symlinkSync(p.target!, abs);
          result.symlinks++;
          break;
        case "hardlink":
          ensureParent(p.path);
          removeIfPresent(abs);
          try {
            Deno.linkSync(`${tmp}/${p.target}`, abs);
          } catch {
            Deno.copyFileSync(`${tmp}/${p.target}`, abs);
          }
          result.hardlinks++;
          break;
      }
    };
    const write = (piece: Uint8Array) => {
      for (let o = 0; o < piece.length;) o += out!.writeSync(piece.subarray(o));
    };
    const finish = (e: TarEntry) => {
      const p = planned.get(e.headerOffset);
      if (!p || !out) return;
      out.close();
      out = null;
      const abs = `${tmp}/${p.path}`;
      Deno.chmodSync(abs, e.mode & 0o755);
      times.push([abs, e.mtime]);
      result.files++;
      result.bytes += e.size;
    };
    try {
      await scanTarFile(archive, {
        entry: start,
        data: (_, piece) => out && write(piece),
        end: finish,
      });
    } finally {
      (out as Deno.FsFile | null)?.close();
    }
    if (opts.mtimes ?? true) {
      for (const [abs, t] of times) {
        try {
          Deno.utimeSync(abs, t, t);
        } catch { /* read-only file: keep extraction time */ }
      }
    }
    // Directory modes last (deepest first), keeping them usable by their owner.
    dirModes.sort((a, b) => b[0].length - a[0].length);
    for (const [abs, mode, t] of dirModes) {
      if (opts.mtimes ?? true) Deno.utimeSync(abs, t, t);
      Deno.chmodSync(abs, mode | 0o700);
    }
  }, { overwrite: opts.overwrite });
  return result;
}
