/**
 * The provenance record of every artifact Lumen writes: which tool and version made it, from
 * which git commit, with which arguments and seed, from which inputs (sha256), and an identifier.
 *
 * **Determinism.** The same seed must give the same bytes, so the record has two forms:
 *
 * - the *embedded* form ({@link embedProvenance}, canonical JSON) that may live inside an artifact
 *   (an HDF5 attribute, an NPZ entry, a checkpoint header). It holds no time and no random
 *   number: its `uuid` is derived from the rest of the record (tool, version, commit, arguments,
 *   seed, input hashes; an RFC 9562 version-8 UUID built from their SHA-256), so the same
 *   computation on the same inputs gets the same uuid and the same bytes;
 * - the *sidecar* `<artifact>.prov.json` ({@link writeProvenance}) that adds `created`, the
 *   wall-clock time of the run. Only the sidecar differs between two identical runs.
 *
 * **Commit.** Read from the `.git` folder of the checkout this module was loaded from (HEAD, refs,
 * packed-refs; worktrees too) with read permission only, never by running git. It is "unknown"
 * when the module was loaded by URL or from a bundle, when there is no checkout, or when reading
 * it is not permitted (no prompt is ever shown).
 *
 * @example
 * ```ts
 * import { makeProvenance, writeProvenance } from "./provenance.ts";
 * const prov = await makeProvenance({ tool: "mask", args: { _: ["scan.nxs"] }, seed: 0,
 *   inputs: ["scan.nxs"] });
 * // … write out/mask.h5, embedding embedProvenance(prov) as an attribute …
 * await writeProvenance("out/mask.h5", prov); // out/mask.h5.prov.json
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { LumenError } from "./errors.ts";
import { VERSION } from "../version.ts";
import { writeTextAtomic } from "./atomic.ts";

/** Schema tag of the record. */
export const PROVENANCE_SCHEMA = "lumen.provenance/1";

/** How an input was hashed. */
export type HashMode = "sha256" | "sha256-sampled" | "sha256-tree";

/** One input of an artifact. */
export interface InputHash {
  /** The path as the tool was given it. */
  path: string;
  /** Size in bytes (for a folder: all its files). */
  bytes: number;
  /**
   * `sha256`: of the whole file. `sha256-sampled` (fast mode, big files): of the size (8 bytes,
   * little-endian) followed by 4 MiB at the start, the middle and the end. `sha256-tree` (a
   * folder): of the lines `<sha256 of file>  <relative path>\n`, sorted by path, as `sha256sum`
   * prints them.
   */
  hash: HashMode;
  /** Hex digest. */
  sha256: string;
}

/** The provenance record. */
export interface Provenance {
  /** Always {@link PROVENANCE_SCHEMA}. */
  schema: string;
  /** The tool that wrote the artifact. */
  tool: string;
  /** Lumen's version. */
  version: string;
  /** Git commit of the checkout, or "unknown". */
  commit: string;
  /** The arguments that determine the output (see `provenanceArgs` in flags.ts). */
  args: unknown;
  /** The random seed, or null when the tool uses none. */
  seed: number | null;
  /** Inputs and their hashes, in the order given. */
  inputs: InputHash[];
  /** Derived from all the fields above: the same computation gives the same uuid. */
  uuid: string;
  /** ISO-8601 time of the run: in sidecars only, never inside an artifact. */
  created?: string;
}

/** What {@link makeProvenance} needs. */
export interface ProvenanceInit {
  tool: string;
  /** Arguments that determine the output; use `provenanceArgs(meta, flags)`. */
  args: unknown;
  seed?: number | null;
  /**
   * Input files or folders; hashed here. `{ path, name }` hashes `path` but records `name` (an
   * input read from a temporary place that will be found under another name).
   */
  inputs?: readonly (string | { path: string; name: string })[];
  /**
   * Fast hashing: `true` samples every file (see {@link InputHash}), a number samples files of at
   * least that many bytes. Default: whole files.
   */
  fast?: boolean | number;
  /** Override the detected commit (tests, merges of shards made elsewhere). */
  commit?: string;
  /** Override the version (tests). */
  version?: string;
}

const SAMPLE = 4 << 20;

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** JSON with object keys sorted at every level and no whitespace. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => {
    if (typeof v === "bigint") return v.toString();
    if (v && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
    }
    return v;
  });
}

/**
 * A name-based UUID: SHA-256 of `text`, first 16 bytes, with the version (8, RFC 9562's custom
 * version) and variant bits set.
 */
export function uuidFrom(text: string): string {
  const b = new Uint8Array(createHash("sha256").update(text).digest()).subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function readAt(f: Deno.FsFile, pos: number, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  await f.seek(pos, Deno.SeekMode.Start);
  let off = 0;
  while (off < n) {
    const r = await f.read(buf.subarray(off));
    if (r === null) break;
    off += r;
  }
  return buf.subarray(0, off);
}

/** SHA-256 of a file, streamed (`sampled`: of its size and three 4 MiB samples). */
export async function hashFile(
  path: string,
  sampled = false,
): Promise<{ bytes: number; sha256: string; hash: HashMode }> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (e) {
    throw new LumenError(path, "", `cannot read input (${(e as Error).name})`);
  }
  try {
    const size = (await f.stat()).size;
    const h = createHash("sha256");
    if (sampled && size > 3 * SAMPLE) {
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(size), true);
      h.update(len);
      for (const pos of [0, Math.floor(size / 2 - SAMPLE / 2), size - SAMPLE]) {
        h.update(await readAt(f, pos, SAMPLE));
      }
      return { bytes: size, sha256: h.digest("hex"), hash: "sha256-sampled" };
    }
    const buf = new Uint8Array(1 << 22);
    for (let n = await f.read(buf); n !== null; n = await f.read(buf)) h.update(buf.subarray(0, n));
    return { bytes: size, sha256: h.digest("hex"), hash: "sha256" };
  } finally {
    f.close();
  }
}

async function listFiles(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(rel ? `${dir}/${rel}` : dir)) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await listFiles(dir, r));
    else if (e.isFile) out.push(r);
  }
  return out;
}

/** Hashes one input file or folder. `fast` as in {@link ProvenanceInit}. */
export async function hashInput(path: string, fast: boolean | number = false): Promise<InputHash> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (e) {
    throw new LumenError(path, "", `cannot read input (${(e as Error).name})`);
  }
  const sample = (n: number) => fast === true || (typeof fast === "number" && n >= fast);
  if (!info.isDirectory) {
    return { path, ...await hashFile(path, sample(info.size)) };
  }
  const files = (await listFiles(path)).sort();
  let bytes = 0;
  const lines: string[] = [];
  for (const rel of files) {
    const size = (await Deno.stat(`${path}/${rel}`)).size;
    const r = await hashFile(`${path}/${rel}`, sample(size));
    bytes += r.bytes;
    lines.push(`${r.sha256}  ${rel}\n`);
  }
  const sha256 = createHash("sha256").update(lines.join("")).digest("hex");
  return { path, bytes, hash: "sha256-tree", sha256 };
}

function canRead(path: string): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path }).state === "granted";
  } catch {
    return false;
  }
}

function readText(path: string): string | null {
  if (!canRead(path)) return null;
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return null;
  }
}

let commitCache: string | undefined;

/**
 * The git commit of the checkout that holds this module, read from `.git` (no `git` process), or
 * "unknown". `start`: the folder to search upwards from (default: this module's folder).
 */
export function gitCommit(start?: string): string {
  if (start === undefined && commitCache !== undefined) return commitCache;
  let result = "unknown";
  try {
    let dir = start ??
      (import.meta.url.startsWith("file:")
        ? decodeURIComponent(new URL(".", import.meta.url).pathname).replace(/\/$/, "")
        : "");
    while (dir) {
      const dotGit = `${dir}/.git`;
      const asFile = readText(dotGit);
      let gitDir: string | null = null;
      if (asFile !== null && asFile.startsWith("gitdir:")) {
        const p = asFile.slice(7).trim();
        gitDir = p.startsWith("/") ? p : `${dir}/${p}`;
      } else if (readText(`${dotGit}/HEAD`) !== null) {
        gitDir = dotGit;
      }
      if (gitDir) {
        result = resolveHead(gitDir) ?? "unknown";
        break;
      }
      const up = dir.replace(/\/[^/]*$/, "");
      if (up === dir) break;
      dir = up;
    }
  } catch {
    result = "unknown";
  }
  if (start === undefined) commitCache = result;
  return result;
}

function resolveHead(gitDir: string): string | null {
  const head = readText(`${gitDir}/HEAD`)?.trim();
  if (!head) return null;
  if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(head)) return head;
  const m = /^ref:\s*(\S+)$/.exec(head);
  if (!m) return null;
  const ref = m[1];
  const common = readText(`${gitDir}/commondir`)?.trim();
  const commonDir = common ? (common.startsWith("/") ? common : `${gitDir}/${common}`) : gitDir;
  for (const d of [gitDir, commonDir]) {
    const loose = readText(`${d}/${ref}`)?.trim();
    if (loose && /^[0-9a-f]{40}/.test(loose)) return loose;
  }
  const packed = readText(`${commonDir}/packed-refs`);
  if (packed) {
    for (const line of packed.split("\n")) {
      const [sha, name] = line.trim().split(/\s+/);
      if (name === ref && /^[0-9a-f]{40}/.test(sha)) return sha;
    }
  }
  return null; // an unborn branch
}

/** Builds the record (without `created`): hashes the inputs and derives the uuid. */
export async function makeProvenance(init: ProvenanceInit): Promise<Provenance> {
  const inputs: InputHash[] = [];
  for (const p of init.inputs ?? []) {
    const [path, name] = typeof p === "string" ? [p, p] : [p.path, p.name];
    inputs.push({ ...await hashInput(path, init.fast ?? false), path: name });
  }
  const body = {
    schema: PROVENANCE_SCHEMA,
    tool: init.tool,
    version: init.version ?? VERSION,
    commit: init.commit ?? gitCommit(),
    args: init.args ?? null,
    seed: init.seed ?? null,
    inputs,
  };
  return { ...body, uuid: uuidFrom(canonicalJson(body)) };
}

/**
 * The form of the record that may live inside an artifact: canonical JSON without `created`.
 * Deterministic: the same record gives the same string.
 */
export function embedProvenance(record: Provenance): string {
  const { created: _created, ...rest } = record;
  return canonicalJson(rest);
}

/** The sidecar path of an artifact: `<artifact>.prov.json`. */
export function sidecarPath(artifactPath: string): string {
  return `${artifactPath}.prov.json`;
}

/**
 * Writes `<artifact>.prov.json`: the record plus `created` (now, unless the record has one),
 * pretty-printed, replaced atomically (temporary file, then rename). Returns the sidecar path.
 */
export async function writeProvenance(artifactPath: string, record: Provenance): Promise<string> {
  const path = sidecarPath(artifactPath);
  const full = { ...record, created: record.created ?? new Date().toISOString() };
  await writeTextAtomic(path, JSON.stringify(full, null, 2) + "\n", { overwrite: true });
  return path;
}

/** Reads and checks `<artifact>.prov.json` (throws LumenError when absent or malformed). */
export async function readProvenance(artifactPath: string): Promise<Provenance> {
  const path = sidecarPath(artifactPath);
  let rec: Provenance;
  try {
    rec = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    throw new LumenError(path, "", `cannot read provenance (${(e as Error).message})`);
  }
  return checkProvenance(rec, path);
}

/** Parses an embedded record (the string of {@link embedProvenance}) and checks it. */
export function parseProvenance(text: string, where = "provenance"): Provenance {
  let rec: Provenance;
  try {
    rec = JSON.parse(text);
  } catch (e) {
    throw new LumenError(where, "", `not JSON (${(e as Error).message})`);
  }
  return checkProvenance(rec, where);
}

function checkProvenance(rec: Provenance, where: string): Provenance {
  if (!rec || typeof rec !== "object" || rec.schema !== PROVENANCE_SCHEMA) {
    throw new LumenError(where, "schema", `not a ${PROVENANCE_SCHEMA} record`);
  }
  for (const k of ["tool", "version", "commit", "uuid"] as const) {
    if (typeof rec[k] !== "string") throw new LumenError(where, k, "missing or not a string");
  }
  if (!Array.isArray(rec.inputs)) throw new LumenError(where, "inputs", "missing");
  const { uuid, created: _c, ...body } = rec;
  if (uuidFrom(canonicalJson(body)) !== uuid) {
    throw new LumenError(where, "uuid", "does not match the record (edited?)");
  }
  return rec;
}
