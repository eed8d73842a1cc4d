/**
 * A minimal ustar writer (regular files and their folders, mtime 0, mode 0644/0755) for the
 * NSW demo's archives; lib/io/tar reads them back.
 *
 * @example
 * ```ts
 * import { tarBytes } from "./tar_write.ts";
 * import { gzip } from "../../io/zip.ts";
 * Deno.writeFileSync("a.tar.gz", gzip(tarBytes([{ name: "a/b.txt", data: new Uint8Array(1) }])));
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";

/** One file of an archive. */
export interface TarFile {
  /** Path inside the archive (`/`-separated, relative). */
  name: string;
  data: Uint8Array;
}

function header(name: string, size: number, type: "0" | "5"): Uint8Array {
  const h = new Uint8Array(512);
  const enc = new TextEncoder();
  let prefix = "", base = name;
  if (enc.encode(name).length > 100) {
    const cut = name.lastIndexOf("/", 154);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || enc.encode(base).length > 100) {
      throw new LumenError(name, "", "name too long for ustar");
    }
  }
  const put = (s: string, at: number) => h.set(enc.encode(s), at);
  put(base, 0);
  put(type === "5" ? "0000755\0" : "0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(size.toString(8).padStart(11, "0") + "\0", 124);
  put("00000000000\0", 136);
  put("        ", 148);
  put(type, 156);
  put("ustar\u000000", 257);
  put(prefix, 345);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

/**
 * The tar bytes of `files` (folders added before their first file, in order).
 *
 * @example
 * ```ts
 * tarBytes([{ name: "d/x.txt", data: new TextEncoder().encode("x") }]).length; // 2048
 * ```
 */
export function tarBytes(files: readonly TarFile[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const dirs = new Set<string>();
  for (const f of files) {
    const segs = f.name.split("/");
    for (let i = 1; i < segs.length; i++) {
      const d = segs.slice(0, i).join("/") + "/";
      if (!dirs.has(d)) {
        dirs.add(d);
        parts.push(header(d, 0, "5"));
      }
    }
    parts.push(header(f.name, f.data.length, "0"));
    parts.push(f.data);
    const pad = (512 - (f.data.length % 512)) % 512;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(1024));
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
