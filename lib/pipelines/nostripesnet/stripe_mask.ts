/**
 * The stripe-mask archive of generate_mask (NoStripesNet's `.npz`, one uint8 array
 * (angles, rows, columns) per scan under `m<scan stem>`): the one loader every tool uses, and the
 * slicer of one detector row's mask sinogram.
 *
 * Only uint8 and bool entries are masks: a float entry (the `<key>_weights` beside each mask)
 * or any other dtype is refused with one line, since reading it as a mask would silently mark
 * every patch clean or striped.
 *
 * @example
 * ```ts
 * import { loadStripeMask, maskRow } from "./stripe_mask.ts";
 * const mask = await loadStripeMask("stripe_masks.npz", { scan: "119617.nxs", shape: [1801, 2160, 2560] });
 * const row = maskRow(mask, 1000); // (angles × columns) 0/1
 * ```
 * @module
 */
import { basename, extname } from "node:path";
import { LumenError } from "../../run/errors.ts";
import { listNpz, readNpzArray } from "../../io/npz.ts";
import type { PatchGrid } from "../../data/patches.ts";

/** A loaded stripe mask: (angles, rows, columns), values 0 or 1. */
export interface StripeMask {
  /** The archive it came from. */
  file: string;
  /** Its entry name. */
  key: string;
  /** (angles, rows, columns). */
  shape: [number, number, number];
  /** Row-major 0/1 values. */
  data: Uint8Array;
}

/** Options of {@link loadStripeMask}. */
export interface LoadStripeMaskOptions {
  /** The entry to read; default `m<stem of scan>`, else the archive's only `m…` entry. */
  key?: string;
  /** The scan the mask belongs to (its stem names the default entry). */
  scan?: string;
  /** The expected (angles, rows, columns); a dimension given as -1 is not checked. */
  shape?: readonly number[];
}

/**
 * The entry name generate_mask gives the mask of a scan: `m` + the file's stem.
 *
 * @example
 * ```ts
 * maskKeyFor("/data/119617.nxs"); // "m119617"
 * ```
 */
export function maskKeyFor(scan: string): string {
  return `m${basename(scan, extname(scan))}`;
}

/** The entry to read: the one asked for, `m<scan stem>`, or the archive's only mask entry. */
export async function chooseKey(file: string, o: LoadStripeMaskOptions): Promise<string> {
  if (o.key) return o.key;
  const names = (await listNpz(file)).map((e) => e.name.replace(/\.npy$/, ""));
  if (o.scan && names.includes(maskKeyFor(o.scan))) return maskKeyFor(o.scan);
  const masks = names.filter((n) => /^m/.test(n) && !n.endsWith("_weights"));
  if (masks.length === 1 && !o.scan) return masks[0];
  throw new LumenError(
    file,
    "",
    o.scan
      ? `holds no entry ${maskKeyFor(o.scan)} for ${basename(o.scan)} (entries: ${
        names.join(", ")
      }); name one with --mask-name`
      : `holds ${masks.length} masks (${masks.join(", ")}): choose one with --mask-name`,
  );
}

/**
 * Refuses an entry that is not a (angles, rows, columns) uint8/bool mask of the expected shape.
 *
 * @example
 * ```ts
 * checkMaskEntry("m.npz", "mscan", "uint8", [1801, 8, 2560], { shape: [1801, 8, 2560] });
 * ```
 */
export function checkMaskEntry(
  file: string,
  key: string,
  dtype: string | undefined,
  shape: readonly number[],
  o: LoadStripeMaskOptions,
): void {
  if (dtype !== "uint8" && dtype !== "bool") {
    throw new LumenError(
      file,
      key,
      `is ${dtype}, not a stripe mask (uint8 or bool)${
        key.endsWith("_weights") ? "; it holds the detection weights beside the mask" : ""
      }; the mask of ${o.scan ? basename(o.scan) : "a scan"} is ${
        o.scan ? maskKeyFor(o.scan) : "m<scan name>"
      }`,
    );
  }
  const want = o.shape ?? [-1, -1, -1];
  if (shape.length !== 3 || want.some((d, i) => d >= 0 && d !== shape[i])) {
    throw new LumenError(
      file,
      key,
      `mask shape (${shape.join(", ")}) does not match the scan's (angles, rows, columns) = (${
        want.map((d) => d < 0 ? "any" : d).join(", ")
      })`,
    );
  }
}

/** True when every byte is 0 or 1 (eight bytes at a time where aligned). */
function isZeroOne(d: Uint8Array): boolean {
  let i = 0;
  if (d.byteOffset % 4 === 0) {
    const u = new Uint32Array(d.buffer, d.byteOffset, d.length >> 2);
    for (let k = 0; k + 1 < u.length; k += 2) {
      if (((u[k] | u[k + 1]) & 0xfefefefe) !== 0) return false;
    }
    i = (u.length & ~1) << 2;
  }
  for (; i < d.length; i++) if (d[i] > 1) return false;
  return true;
}

/**
 * Reads a stripe mask from a generate_mask archive, checking its dtype (uint8 or bool) and shape.
 *
 * @example
 * ```ts
 * const m = await loadStripeMask("masks.npz", { key: "m119617", shape: [1801, 2160, 2560] });
 * ```
 * @throws LumenError naming the archive and entry: missing entry, another dtype, wrong shape
 */
export async function loadStripeMask(
  file: string,
  o: LoadStripeMaskOptions = {},
): Promise<StripeMask> {
  const key = await chooseKey(file, o);
  const arr = await readNpzArray(file, key);
  checkMaskEntry(file, key, arr.dtype, arr.shape, o);
  const raw = arr.data as Uint8Array;
  let data = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  if (!isZeroOne(data)) data = data.map((v) => v ? 1 : 0);
  return { file, key, shape: [arr.shape[0], arr.shape[1], arr.shape[2]], data };
}

/**
 * The mask sinogram of one detector row: (angles × columns), 0/1.
 *
 * @example
 * ```ts
 * const m = maskRow(mask, 12);
 * m.length === mask.shape[0] * mask.shape[2];
 * ```
 */
export function maskRow(mask: StripeMask, row: number): Uint8Array {
  const [angles, rows, cols] = mask.shape;
  if (!Number.isInteger(row) || row < 0 || row >= rows) {
    throw new LumenError(mask.file, mask.key, `has ${rows} rows; row ${row} is outside`);
  }
  const out = new Uint8Array(angles * cols);
  for (let a = 0; a < angles; a++) {
    const s = (a * rows + row) * cols;
    out.set(mask.data.subarray(s, s + cols), a * cols);
  }
  return out;
}

/**
 * Which patches of detector row `row` are clean (no stripe in the mask there), for a patch grid
 * of the row's sinogram: what `cleanPatches(grid, maskRow(mask, row))` gives, without copying
 * the row out (each angle's run of the mask is searched for a one, natively).
 *
 * @example
 * ```ts
 * const clean = cleanPatchesOfRow(mask, 5, patchGrid([1801, 2560], [1801, 256]));
 * ```
 */
export function cleanPatchesOfRow(mask: StripeMask, row: number, g: PatchGrid): boolean[] {
  const [angles, rows, cols] = mask.shape;
  if (!Number.isInteger(row) || row < 0 || row >= rows) {
    throw new LumenError(mask.file, mask.key, `has ${rows} rows; row ${row} is outside`);
  }
  if (angles !== g.angles || cols !== g.cols) {
    throw new RangeError(`cleanPatchesOfRow: mask ${angles}×${cols}, grid ${g.angles}×${g.cols}`);
  }
  const clean = new Array<boolean>(g.count).fill(true);
  const c0 = g.offCols, c1 = g.offCols + g.nCols * g.width;
  for (let band = 0; band < g.nAngles; band++) {
    for (let a = g.offAngles + band * g.height; a < g.offAngles + (band + 1) * g.height; a++) {
      const s = (a * rows + row) * cols;
      const seg = mask.data.subarray(s + c0, s + c1);
      let k = seg.indexOf(1);
      while (k !== -1) {
        const pc = Math.floor(k / g.width);
        clean[band * g.nCols + pc] = false;
        k = (pc + 1) * g.width < seg.length ? seg.indexOf(1, (pc + 1) * g.width) : -1;
      }
    }
  }
  return clean;
}
