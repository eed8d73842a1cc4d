/**
 * tar and tar.gz archives: listing and safe extraction.
 *
 * The reader understands ustar (with its name prefix), pax extended headers (`path`, `linkpath`,
 * `size`, `mtime`…, per file and global), GNU long names and long link names (`L`/`K`) and GNU
 * base-256 numbers, and verifies every header's checksum.
 *
 * {@link extractTar} first reads and checks the whole archive, and writes nothing if any member
 * is unsafe: an absolute path, a `..` component, a symlink whose target (followed through the
 * archive's other symlinks) leaves the destination, a hardlink to anything but a regular file
 * earlier in the archive, or a member inside a symlinked directory. It then extracts into a
 * temporary directory beside the destination (creating the destination's parent directories if
 * needed) and renames that into place, so a failure never
 * leaves a half-extracted tree. Device files and FIFOs are skipped (and reported); setuid, setgid
 * and sticky bits are dropped; owners are not restored. Deno lets a process create symlinks only
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
import { buildDirAtomic, ioError, readInput } from "../run/atomic.ts";
import { gunzipChecked, isGzip } from "./zip.ts";

/** Member kinds. */
export type TarEntryType =
  | "file"
  | "dir"
  | "symlink"
  | "hardlink"
  | "char"
  | "block"
  | "fifo"
  | "other";

/** One member of a tar archive. */
export interface TarEntry {
  /** Path as stored (after pax/GNU long-name and ustar prefix handling). */
  name: string;
  /** Member kind. */
  type: TarEntryType;
  /** The raw type flag character. */
  typeflag: string;
  /** Data size in bytes (0 for links and directories). */
  size: number;
  /** Permission bits. */
  mode: number;
  /** Modification time, seconds since 1970. */
  mtime: number;
  /** Link target, for symlinks and hardlinks. */
  linkname: string;
  /** Owner ids and names. */
  uid: number;
  /** Group id. */
  gid: number;
  /** Owner name. */
  uname: string;
  /** Group name. */
  gname: string;
  /** Byte offset of the member's (last) header in the uncompressed archive. */
  headerOffset: number;
  /** Byte offset of its data. */
  dataOffset: number;
}

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

const dec = new TextDecoder();

function cstr(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return dec.decode(b.subarray(off, end));
}

function num(
  b: Uint8Array,
  off: number,
  len: number,
  file: string,
  place: string,
  field: string,
): number {
  if (b[off] & 0x80) {
    // GNU base-256: big-endian two's complement in the remaining bits.
    let v = BigInt(b[off] & 0x7f);
    const neg = (b[off] & 0x40) !== 0;
    for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(b[off + i]);
    if (neg) v -= 1n << BigInt(8 * len - 1);
    return Number(v);
  }
  const s = cstr(b, off, len).trim();
  if (s === "") return 0;
  if (!/^[0-7]+$/.test(s)) {
    throw new LumenError(file, place, `bad ${field} field '${s}' (expected octal digits)`);
  }
  return parseInt(s, 8);
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case "0":
    case "\0":
    case "7":
    case "":
      return "file";
    case "1":
      return "hardlink";
    case "2":
      return "symlink";
    case "3":
      return "char";
    case "4":
      return "block";
    case "5":
    case "D":
      return "dir";
    case "6":
      return "fifo";
    default:
      return "other";
  }
}

function parsePax(data: Uint8Array, file: string, place: string): Map<string, string> {
  const out = new Map<string, string>();
  let p = 0;
  while (p < data.length) {
    let sp = p;
    while (sp < data.length && data[sp] !== 0x20) sp++;
    const len = parseInt(dec.decode(data.subarray(p, sp)), 10);
    if (!(len > 0) || p + len > data.length) {
      if (data[p] === 0) break;
      throw new LumenError(file, place, "malformed pax extended header record");
    }
    const rec = dec.decode(data.subarray(sp + 1, p + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    p += len;
  }
  return out;
}

/**
 * Parses an uncompressed tar archive held in memory, verifying header checksums.
 * `file` names the archive in errors: `a.tar: header at byte 1536: checksum mismatch (…)`.
 */
export function parseTar(bytes: Uint8Array, file = "<tar>"): TarEntry[] {
  const entries: TarEntry[] = [];
  let p = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax: Map<string, string> | null = null;
  const global = new Map<string, string>();
  while (p + 512 <= bytes.length) {
    const h = bytes.subarray(p, p + 512);
    if (h.every((x) => x === 0)) break; // end-of-archive marker
    const place = `header at byte ${p}`;
    const stored = num(h, 148, 8, file, place, "checksum");
    let unsigned = 0, signed = 0;
    for (let i = 0; i < 512; i++) {
      const v = i >= 148 && i < 156 ? 0x20 : h[i];
      unsigned += v;
      signed += v > 127 ? v - 256 : v;
    }
    if (stored !== unsigned && stored !== signed) {
      throw new LumenError(
        file,
        place,
        `checksum mismatch (stored ${stored}, computed ${unsigned}); not a tar archive or corrupt`,
      );
    }
    const flag = String.fromCharCode(h[156]);
    const magic = cstr(h, 257, 6);
    const ustar = magic === "ustar" && h[262] === 0; // POSIX ustar (GNU writes "ustar  ")
    let name = cstr(h, 0, 100);
    if (ustar) {
      const prefix = cstr(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let size = num(h, 124, 12, file, place, "size");
    const ext = pax ? new Map([...global, ...pax]) : global;
    if (ext.has("size")) size = Number(ext.get("size"));
    if (!(size >= 0) || !Number.isSafeInteger(size)) {
      throw new LumenError(file, place, `bad size ${size}`);
    }
    const dataOffset = p + 512;
    if (dataOffset + size > bytes.length) {
      throw new LumenError(
        file,
        `member '${longName ?? ext.get("path") ?? name}' (${place})`,
        `data (${size} bytes) runs past the end of the archive; truncated?`,
      );
    }
    const data = bytes.subarray(dataOffset, dataOffset + size);
    const next = dataOffset + Math.ceil(size / 512) * 512;
    if (flag === "L") {
      longName = cstr(data, 0, data.length);
      p = next;
      continue;
    }
    if (flag === "K") {
      longLink = cstr(data, 0, data.length);
      p = next;
      continue;
    }
    if (flag === "x") {
      pax = parsePax(data, file, place);
      p = next;
      continue;
    }
    if (flag === "g") {
      for (const [k, v] of parsePax(data, file, place)) global.set(k, v);
      p = next;
      continue;
    }
    if (flag === "S") {
      throw new LumenError(file, `member '${name}'`, "GNU sparse files are not supported");
    }
    if (flag === "V") {
      p = next;
      continue;
    }
    const type = typeOf(flag);
    const hasData = type === "file" || type === "other";
    let fullName = ext.get("path") ?? longName ?? name;
    if (type === "dir" && fullName.length > 1) fullName = fullName.replace(/\/+$/, "") || "/";
    entries.push({
      name: fullName,
      type,
      typeflag: flag === "\0" ? "0" : flag,
      size: hasData ? size : 0,
      mode: num(h, 100, 8, file, place, "mode"),
      mtime: ext.has("mtime") ? Number(ext.get("mtime")) : num(h, 136, 12, file, place, "mtime"),
      linkname: ext.get("linkpath") ?? longLink ?? cstr(h, 157, 100),
      uid: ext.has("uid") ? Number(ext.get("uid")) : num(h, 108, 8, file, place, "uid"),
      gid: ext.has("gid") ? Number(ext.get("gid")) : num(h, 116, 8, file, place, "gid"),
      uname: ext.get("uname") ?? cstr(h, 265, 32),
      gname: ext.get("gname") ?? cstr(h, 297, 32),
      headerOffset: p,
      dataOffset,
    });
    longName = longLink = null;
    pax = null;
    p = hasData ? next : dataOffset + Math.ceil(size / 512) * 512;
  }
  if (p < bytes.length && p + 512 > bytes.length && bytes.subarray(p).some((x) => x !== 0)) {
    throw new LumenError(file, `byte ${p}`, "truncated header at the end of the archive");
  }
  return entries;
}

/** The tar bytes of an archive file, gunzipped if it is gzip (by magic or by name). */
async function archiveBytes(path: string): Promise<Uint8Array> {
  const raw = await readInput(path);
  if (isGzip(raw) || /\.(tgz|gz)$/i.test(path)) return gunzipChecked(raw, path);
  return raw;
}

/**
 * Lists the members of a tar or tar.gz archive (checksums verified).
 *
 * @example
 * ```ts
 * const entries = await listTar("scan.tar.gz");
 * ```
 */
export async function listTar(path: string): Promise<TarEntry[]> {
  return parseTar(await archiveBytes(path), path);
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
 * `overwrite`). All members are checked first; then the tree is built under a temporary name
 * beside `dest` and renamed into place. On any error nothing is left at `dest` or beside it.
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
  const bytes = await archiveBytes(archive);
  const entries = parseTar(bytes, archive);
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
  await buildDirAtomic(dest, (tmp) => {
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
    for (const p of plan) {
      const abs = `${tmp}/${p.path}`;
      const e = p.entry;
      switch (e.type) {
        case "dir":
          Deno.mkdirSync(abs, { recursive: true, mode: 0o755 });
          dirModes.push([abs, e.mode & 0o777, e.mtime]);
          result.dirs++;
          break;
        case "file": {
          ensureParent(p.path);
          removeIfPresent(abs);
          Deno.writeFileSync(abs, bytes.subarray(e.dataOffset, e.dataOffset + e.size), {
            mode: 0o600,
          });
          Deno.chmodSync(abs, e.mode & 0o777);
          times.push([abs, e.mtime]);
          result.files++;
          result.bytes += e.size;
          break;
        }
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

/**
 * True when a 512-byte block looks like a tar header: the ustar magic, or (v7 tar) a checksum
 * field that matches the block.
 *
 * @example
 * ```ts
 * isTarHeader((await Deno.readFile("a.tar")).subarray(0, 512)); // true
 * ```
 */
export function isTarHeader(block: Uint8Array): boolean {
  if (block.length < 512) return false;
  if (cstr(block, 257, 5) === "ustar") return true;
  const stored = parseInt(cstr(block, 148, 8).trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let unsigned = 0, signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : block[i];
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}
