/**
 * Which patches of every sinogram have stripes, read from a stripe-mask archive in one streamed
 * pass: the entry is inflated a few MiB at a time and searched for ones, so memory holds one
 * flag per patch instead of the whole mask (10 GB for a 2160 × 1801 × 2560 scan). Gives what
 * `cleanPatchesOfRow(loadStripeMask(…), row, grid)` gives, with the same checks and errors.
 *
 * @example
 * ```ts
 * import { loadPatchFlags, patchFlagsClean } from "./mask_flags.ts";
 * const flags = await loadPatchFlags("stripe_masks.npz", { scan: "119617.nxs", grid });
 * const clean = patchFlagsClean(flags, 100); // one boolean per patch of sinogram 100
 * ```
 * @module
 */
import { LumenError } from "../../run/errors.ts";
import { readInputSync } from "../../run/atomic.ts";
import { fileSource, zipEntryChunks, ZipReader } from "../../io/zip.ts";
import { parseNpyHeader } from "../../io/npy.ts";
import type { PatchGrid } from "../../data/patches.ts";
import { checkMaskEntry, chooseKey, type LoadStripeMaskOptions } from "./stripe_mask.ts";

/** Stripe flags of every patch of every sinogram of a scan. */
export interface PatchFlags {
  /** The archive and entry they came from. */
  file: string;
  key: string;
  /** The mask's (angles, rows, columns). */
  shape: [number, number, number];
  /** The patch grid of the sinograms. */
  grid: PatchGrid;
  /** rows × grid.count: 1 where the patch has a stripe. */
  dirty: Uint8Array;
}

/**
 * Reads the flags (see the module doc). `o.grid` is the sinograms' patch grid.
 *
 * @example
 * ```ts
 * const flags = await loadPatchFlags("m.npz", { key: "mscan", shape: [1801, 8, 2560], grid });
 * ```
 */
export async function loadPatchFlags(
  file: string,
  o: LoadStripeMaskOptions & { grid: PatchGrid },
): Promise<PatchFlags> {
  const key = await chooseKey(file, o);
  let src;
  try {
    src = fileSource(file);
  } catch {
    readInputSync(file); // throws the proper LumenError (not found, directory…)
    throw new LumenError(file, "", "cannot read");
  }
  const zip = new ZipReader(src, file);
  try {
    const e = zip.get(`${key}.npy`) ?? zip.get(key);
    if (!e) {
      const names = zip.entries.map((x) => x.name.replace(/\.npy$/, "")).join(", ");
      throw new LumenError(file, key, `no such array (the archive holds: ${names || "nothing"})`);
    }
    const g = o.grid;
    let head = new Uint8Array(0), shape: [number, number, number] | null = null;
    let dirty = new Uint8Array(0), pos = 0, R = 0, C = 0;
    const c0 = g.offCols, c1 = g.offCols + g.nCols * g.width;
    const a0 = g.offAngles, a1 = g.offAngles + g.nAngles * g.height;
    /** Marks the patches holding a one in `b`, the data bytes [pos, pos + b.length). */
    const scan = (b: Uint8Array) => {
      if (!zeroOne(b)) b = b.map((v) => v ? 1 : 0);
      let k = b.indexOf(1);
      while (k !== -1) {
        const at = pos + k, seg = Math.floor(at / C), col = at - seg * C;
        const a = Math.floor(seg / R), row = seg - a * R;
        let next = (seg + 1) * C;
        if (a >= a0 && a < a1 && col >= c0 && col < c1) {
          const pc = Math.floor((col - c0) / g.width);
          dirty[row * g.count + Math.floor((a - a0) / g.height) * g.nCols + pc] = 1;
          next = seg * C + c0 + (pc + 1) * g.width;
        } else if (col < c0) next = seg * C + c0;
        k = next - pos < b.length ? b.indexOf(1, next - pos) : -1;
      }
      pos += b.length;
    };
    for await (const piece of zipEntryChunks(zip, e, 1 << 22)) {
      if (shape) {
        scan(piece);
        continue;
      }
      const all = new Uint8Array(head.length + piece.length);
      all.set(head), all.set(piece, head.length);
      head = all;
      let h;
      try {
        h = parseNpyHeader(head, `${file}: ${e.name}`);
      } catch (err) {
        if (head.length < 65536 + 12) continue; // the header may go on in the next piece
        throw err;
      }
      checkMaskEntry(file, key, h.dtype, h.shape, o);
      if (h.fortranOrder) throw new LumenError(file, key, "a Fortran-order mask is not supported");
      shape = [h.shape[0], h.shape[1], h.shape[2]];
      if (shape[0] !== g.angles || shape[2] !== g.cols) {
        throw new RangeError(`loadPatchFlags: mask ${shape}, grid ${g.angles}×${g.cols}`);
      }
      [R, C] = [shape[1], shape[2]];
      dirty = new Uint8Array(R * g.count);
      scan(head.subarray(h.dataOffset));
    }
    if (!shape) throw new LumenError(file, key, "not an NPY array");
    if (pos !== shape[0] * shape[1] * shape[2]) {
      throw new LumenError(
        file,
        key,
        `holds ${pos} mask bytes, its shape needs ${shape.join("×")}`,
      );
    }
    return { file, key, shape, grid: g, dirty };
  } finally {
    zip.close();
  }
}

/**
 * Which patches of sinogram `row` are clean (no stripe), one boolean per patch.
 *
 * @example
 * ```ts
 * patchFlagsClean(flags, 0); // [true, true, false, …]
 * ```
 */
export function patchFlagsClean(f: PatchFlags, row: number): boolean[] {
  const rows = f.shape[1], n = f.grid.count;
  if (!Number.isInteger(row) || row < 0 || row >= rows) {
    throw new LumenError(f.file, f.key, `has ${rows} rows; row ${row} is outside`);
  }
  return Array.from(f.dirty.subarray(row * n, (row + 1) * n), (d) => d === 0);
}

/** True when every byte is 0 or 1. */
function zeroOne(d: Uint8Array): boolean {
  let i = 0;
  if (d.byteOffset % 4 === 0) {
    const u = new Uint32Array(d.buffer, d.byteOffset, d.length >> 2);
    let any = 0; // branch-free: or every word, test once
    for (let k = 0; k < u.length; k++) any |= u[k];
    if ((any & 0xfefefefe) !== 0) return false;
    i = u.length << 2;
  }
  for (; i < d.length; i++) if (d[i] > 1) return false;
  return true;
}
