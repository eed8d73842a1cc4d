/**
 * NPZ files with numpy unicode string arrays (`<U…`, UTF-32) beside numeric ones, as diffsims XL's
 * notebooks write and read `phases` (`np.load(f)["phases"]` gives `array(['pb', …], dtype='<U7')`).
 * lib/io/npz.ts keeps to numeric dtypes; this writer adds the string entries, and
 * {@link readNpzStrings} reads one back.
 *
 * @example
 * ```ts
 * import { readNpzStrings, writeNpzText } from "./npz_text.ts";
 * import { ndarray } from "../../io/array.ts";
 * await writeNpzText("p.npz", { pred: ndarray(new Float32Array(6), [1, 2, 3]), phases: ["a", "b", "c"] });
 * readNpzStrings("p.npz", "phases"); // ["a", "b", "c"]
 * ```
 * @module
 */
import type { NdArray } from "../../io/array.ts";
import { npyDescr, typedToBytes } from "../../io/npy.ts";
import { fileSource, ZipReader, ZipWriter } from "../../io/zip.ts";
import { writeFileAtomic } from "../../run/atomic.ts";
import { LumenError } from "../../run/errors.ts";

function header(descr: string, shape: readonly number[]): Uint8Array {
  const sh = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${sh}, }`;
  const total = 10 + h.length + 1;
  h += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + h.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  out[8] = h.length & 0xff;
  out[9] = h.length >> 8;
  for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
  return out;
}

/**
 * NPY bytes of a string list (`<U{longest}`).
 * @example
 * ```ts
 * Deno.writeFileSync("phases.npy", unicodeNpy(["pb", "pbi2"]));
 * ```
 */
export function unicodeNpy(strings: readonly string[]): Uint8Array {
  const cps = strings.map((s) => [...s].map((c) => c.codePointAt(0)!));
  const w = Math.max(1, ...cps.map((c) => c.length));
  const data = new Uint32Array(strings.length * w);
  cps.forEach((c, i) => data.set(c, i * w));
  const h = header(`<U${w}`, [strings.length]);
  const out = new Uint8Array(h.length + data.byteLength);
  out.set(h);
  out.set(new Uint8Array(data.buffer), h.length);
  return out;
}

/**
 * NPY bytes of a numeric array.
 * @example
 * ```ts
 * numericNpy(ndarray(new Float32Array(3), [3])).length; // 128 + 12
 * ```
 */
export function numericNpy(a: NdArray): Uint8Array {
  const h = header(npyDescr(a.dtype), a.shape);
  const d = typedToBytes(a.data);
  const out = new Uint8Array(h.length + d.length);
  out.set(h);
  out.set(d, h.length);
  return out;
}

/**
 * Writes an NPZ (atomically) of numeric arrays and string lists.
 * @example
 * ```ts
 * await writeNpzText("p.npz", { pred: ndarray(new Float32Array(2), [1, 1, 2]), phases: ["a", "b"] });
 * ```
 */
export async function writeNpzText(
  path: string,
  entries: Record<string, NdArray | readonly string[]>,
): Promise<void> {
  const parts: Uint8Array[] = [];
  const w = new ZipWriter((b) => parts.push(b.slice()));
  for (const [k, v] of Object.entries(entries)) {
    w.add(`${k}.npy`, Array.isArray(v) ? unicodeNpy(v) : numericNpy(v as NdArray));
  }
  w.finish();
  const n = parts.reduce((s, p) => s + p.length, 0);
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  await writeFileAtomic(path, all, { overwrite: true });
}

/**
 * Reads a `<U…` string array of an NPZ.
 * @example
 * ```ts
 * readNpzStrings("roi_probability_pred.npz", "phases"); // ["pb", "cspbbr3", "pbi2"]
 * ```
 */
export function readNpzStrings(path: string, name: string): string[] {
  const z = new ZipReader(fileSource(path), path);
  try {
    const e = z.get(`${name}.npy`);
    if (!e) throw new LumenError(path, name, "missing");
    const b = z.read(e);
    const hl = b[8] | (b[9] << 8);
    const h = new TextDecoder().decode(b.subarray(10, 10 + hl));
    const m = /'descr':\s*'<U(\d+)'.*'shape':\s*\((\d+),?\)/.exec(h);
    if (!m) throw new LumenError(path, name, `not a 1-D unicode array (${h.trim()})`);
    const w = Number(m[1]), n = Number(m[2]);
    const body = b.slice(10 + hl);
    const u = new Uint32Array(body.buffer, body.byteOffset, n * w);
    return Array.from(
      { length: n },
      (_, i) => String.fromCodePoint(...[...u.subarray(i * w, (i + 1) * w)].filter((c) => c !== 0)),
    );
  } finally {
    z.close();
  }
}
