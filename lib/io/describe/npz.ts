/**
 * NPZ and other ZIP archives described: the members (size, compressed size, method) and each
 * `.npy` member as an array, streamed through (inflated as it is read, CRC-32 checked; other
 * stored or deflated members are read through for their CRC-32 too). An
 * archive whose members are all `.npy` files is "npz", any other "zip".
 *
 * @example
 * ```ts
 * import { describeZip } from "./npz.ts";
 * const d = await describeZip("arrays.npz", {}); // { format: "npz", arrays, members }
 * ```
 * @module
 */
import { fileSource, zipEntryChunks, ZipReader } from "../zip.ts";
import { describeNpyStream } from "./npy.ts";
import { BLOCK } from "./stats.ts";
import type { ArrayInfo, DescribeOptions, Details } from "./types.ts";

/** One member of a described archive. */
export interface ZipMember {
  /** Entry name. */
  name: string;
  /** Uncompressed bytes. */
  size: number;
  /** Bytes stored. */
  compressedSize: number;
  /** "stored", "deflated" or "method N". */
  method: string;
}

/** What {@link describeZip} finds. */
export interface ZipDetails extends Details {
  /** "npz" when every member is an NPY file. */
  format: "npz" | "zip";
  /** The members, in directory order. */
  members: ZipMember[];
}

/**
 * Describes a ZIP or NPZ archive.
 *
 * @example
 * ```ts
 * (await describeZip("a.npz", {})).arrays.map((a) => a.name); // ["x", "y"]
 * ```
 */
export async function describeZip(path: string, opts: DescribeOptions): Promise<ZipDetails> {
  const src = fileSource(path);
  let zip: ZipReader;
  try {
    zip = new ZipReader(src, path);
  } catch (e) {
    src.close();
    throw e;
  }
  try {
    const members = zip.entries.map((e) => ({
      name: e.name,
      size: e.size,
      compressedSize: e.compressedSize,
      method: e.method === 0 ? "stored" : e.method === 8 ? "deflated" : `method ${e.method}`,
    }));
    const arrays: ArrayInfo[] = [];
    for (const e of zip.entries) {
      if (!e.name.endsWith(".npy")) {
        // other members are read through too, for their CRC-32 (stored or deflated ones)
        const readable = (e.method === 0 || e.method === 8) && !(e.flags & 1);
        if (readable) { for await (const _ of zipEntryChunks(zip, e, BLOCK * 4)) { /* CRC */ } }
        else zip.dataOffset(e); // its local header, at least
        continue;
      }
      const chunks = zipEntryChunks(zip, e, BLOCK * 4);
      const info = await describeNpyStream(chunks, `${path}: ${e.name}`, e.name.slice(0, -4), opts);
      arrays.push({ ...info, compressed: e.method === 8 });
    }
    const npz = members.length > 0 && members.every((m) => m.name.endsWith(".npy"));
    return { format: npz ? "npz" : "zip", arrays, members };
  } finally {
    zip.close();
  }
}
