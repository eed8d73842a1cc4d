/**
 * tar and tar.gz described: each member's name, type, size, mode, link target and time, the
 * file count and total size; and a plain gzip file's uncompressed size, streamed.
 *
 * @example
 * ```ts
 * import { describeTar } from "./tar.ts";
 * const d = await describeTar("bundle.tar.gz"); // { arrays: [], compressed, files, totalSize, members }
 * ```
 * @module
 */
import { listTar } from "../tar.ts";
import { streamBytes } from "./bytes.ts";
import { isGzipFile } from "./detect.ts";
import { fmtBytes, showName } from "./text.ts";
import type { Description, Details } from "./types.ts";

/** One member of a described archive. */
export interface TarMember {
  /** Path as stored. */
  name: string;
  /** file, dir, symlink, hardlink, char, block, fifo or other. */
  type: string;
  /** Data bytes. */
  size: number;
  /** Permission bits in octal, "0644". */
  mode: string;
  /** Link target, for links. */
  linkname?: string;
  /** Modification time, seconds since 1970. */
  mtime: number;
}

/** What {@link describeTar} finds. */
export interface TarDetails extends Details {
  /** True for tar.gz. */
  compressed: boolean;
  /** Regular files. */
  files: number;
  /** Bytes of member data. */
  totalSize: number;
  /** Every member, in archive order. */
  members: TarMember[];
}

const TYPE_CHAR: Record<string, string> = {
  file: "-",
  dir: "d",
  symlink: "l",
  hardlink: "h",
  char: "c",
  block: "b",
  fifo: "p",
  other: "?",
};

/**
 * Describes a tar or tar.gz archive (header checksums verified by the reader).
 *
 * @example
 * ```ts
 * (await describeTar("plain.tar")).members[0]; // { name: "vol.nii", type: "file", … }
 * ```
 */
export async function describeTar(path: string): Promise<TarDetails> {
  const entries = await listTar(path);
  const members = entries.map((e) => ({
    name: e.name,
    type: e.type,
    size: e.size,
    mode: "0" + (e.mode & 0o7777).toString(8),
    ...(e.linkname ? { linkname: e.linkname } : {}),
    mtime: e.mtime,
  }));
  return {
    arrays: [],
    compressed: isGzipFile(path),
    files: entries.filter((e) => e.type === "file").length,
    totalSize: entries.reduce((a, e) => a + e.size, 0),
    members,
  };
}

/**
 * Describes a gzip file that holds neither NIfTI nor tar: its uncompressed size, streamed.
 *
 * @example
 * ```ts
 * (await describeGzip("log.gz")).uncompressedBytes; // 1100
 * ```
 */
export async function describeGzip(path: string): Promise<Details> {
  const total = await streamBytes(path, true, () => {});
  return { arrays: [], uncompressedBytes: total };
}

/**
 * The text lines of a tar description: counts, then one `ls -l`-like line per member.
 *
 * @example
 * ```ts
 * tarLines(d); // ["  2 files, 206 B, gzip-compressed", "  - 0640          6  data/a.txt", …]
 * ```
 */
export function tarLines(d: Description): string[] {
  const t = d as Description & TarDetails;
  return [
    `  ${t.files} files, ${fmtBytes(t.totalSize)}${t.compressed ? ", gzip-compressed" : ""}`,
    ...t.members.map((m) =>
      `  ${TYPE_CHAR[m.type] ?? "?"} ${m.mode} ${String(m.size).padStart(10)}  ${showName(m.name)}${
        m.linkname ? ` -> ${m.linkname}` : ""
      }`
    ),
  ];
}
