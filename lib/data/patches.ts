/**
 * NoStripesNet patch geometry and storage: a sinogram (angles × detector columns) is cut into a
 * grid of patches (default 1801 × 256), centre-cropped where the sizes do not divide; each patch is
 * stored as a uint16 TIFF scaled by the sinogram's range, named
 * `{sample:04}_shift{shift:02}_{row:04}_w{p:02}.tif`.
 *
 * @example
 * ```ts
 * import { patchGrid, extractPatch, patchFileName } from "./patches.ts";
 * const g = patchGrid([1801, 2560], [1801, 256], "scan.nxs");
 * g.count;                        // 10
 * patchFileName(0, 0, 12, 3);     // "0000_shift00_0012_w03.tif"
 * const p = extractPatch(new Float32Array(1801 * 2560), g, 3);
 * ```
 * @module
 */
import { LumenError } from "../run/errors.ts";

/** Where the patches of one sinogram lie. */
export interface PatchGrid {
  /** Sinogram height (angles) and width (detector columns). */
  angles: number;
  cols: number;
  /** Patch height (angles) and width (columns). */
  height: number;
  width: number;
  /** Patches along angles and along columns. */
  nAngles: number;
  nCols: number;
  /** Centre-crop offsets. */
  offAngles: number;
  offCols: number;
  /** Patches per sinogram (`nAngles · nCols`); patch p sits at row ⌊p/nCols⌋, column p mod nCols. */
  count: number;
}

/**
 * The patch grid of a sinogram shape. Throws a LumenError naming `file` when the sinogram is
 * smaller than one patch (the original silently made no patches, e.g. 1800 angles with 1801).
 */
export function patchGrid(
  sino: readonly [number, number],
  patch: readonly [number, number],
  file = "sinogram",
): PatchGrid {
  const [angles, cols] = sino, [height, width] = patch;
  if (!(height >= 1 && width >= 1)) {
    throw new LumenError("--patch-size", `${height},${width}`, "patch sizes must be positive");
  }
  if (angles < height || cols < width) {
    throw new LumenError(
      file,
      `sinogram ${angles}×${cols}`,
      `smaller than one ${height}×${width} patch: choose --patch-size ≤ ${angles},${cols}`,
    );
  }
  const nAngles = Math.floor(angles / height), nCols = Math.floor(cols / width);
  return {
    angles,
    cols,
    height,
    width,
    nAngles,
    nCols,
    offAngles: Math.floor((angles - nAngles * height) / 2),
    offCols: Math.floor((cols - nCols * width) / 2),
    count: nAngles * nCols,
  };
}

/** Copies patch `p` of a sinogram (angles × cols, row-major) into a new array (height × width). */
export function extractPatch<T extends Float32Array | Uint8Array>(
  sino: T,
  g: PatchGrid,
  p: number,
  out?: T,
): T {
  const a0 = g.offAngles + Math.floor(p / g.nCols) * g.height;
  const c0 = g.offCols + (p % g.nCols) * g.width;
  const dst = out ?? (new (sino.constructor as { new (n: number): T })(g.height * g.width));
  for (let a = 0; a < g.height; a++) {
    const src = (a0 + a) * g.cols + c0;
    dst.set(sino.subarray(src, src + g.width) as T, a * g.width);
  }
  return dst;
}

/** Writes a (height × width) patch back into its place in a sinogram. */
export function insertPatch(sino: Float32Array, g: PatchGrid, p: number, patch: Float32Array) {
  const a0 = g.offAngles + Math.floor(p / g.nCols) * g.height;
  const c0 = g.offCols + (p % g.nCols) * g.width;
  for (let a = 0; a < g.height; a++) {
    sino.set(patch.subarray(a * g.width, (a + 1) * g.width), (a0 + a) * g.cols + c0);
  }
}

/** True when any element of patch `p` of a mask sinogram is non-zero (the patch has stripes). */
export function patchHasStripes(mask: Uint8Array, g: PatchGrid, p: number): boolean {
  const a0 = g.offAngles + Math.floor(p / g.nCols) * g.height;
  const c0 = g.offCols + (p % g.nCols) * g.width;
  for (let a = 0; a < g.height; a++) {
    const s = (a0 + a) * g.cols + c0;
    for (let c = 0; c < g.width; c++) if (mask[s + c] !== 0) return true;
  }
  return false;
}

/** `{sample:04}_shift{shift:02}_{row:04}_w{p:02}.tif` as in NoStripesNet. */
export function patchFileName(sample: number, shift: number, row: number, p: number): string {
  const z = (n: number, w: number) => String(n).padStart(w, "0");
  return `${z(sample, 4)}_shift${z(shift, 2)}_${z(row, 4)}_w${z(p, 2)}.tif`;
}

/** Minimum and maximum over several arrays, ignoring NaN (numpy nanmin/nanmax); NaN if all NaN. */
export function nanRange(arrays: readonly Float32Array[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [NaN, NaN];
}

/**
 * NoStripesNet's uint16 storage of a patch: clip to [lo, hi], rescale to [0, 65535] in float32
 * arithmetic exactly as numpy does (`(x − lo) · 65535 / (hi − lo)`), truncate toward zero.
 * NaN becomes 0. A flat range (hi = lo) stores zeros.
 */
export function toUint16(x: Float32Array, lo: number, hi: number): Uint16Array {
  const out = new Uint16Array(x.length);
  const f = Math.fround, flo = f(lo), fhi = f(hi), span = f(fhi - flo);
  if (!(span > 0)) return out;
  for (let i = 0; i < x.length; i++) {
    let v = x[i];
    if (v !== v) continue;
    if (v < flo) v = flo;
    else if (v > fhi) v = fhi;
    const t = f(f(f(v - flo) * 65535) / span);
    out[i] = t >= 65535 ? 65535 : t;
  }
  return out;
}

/**
 * The inverse used by training: uint16 / 65535 → [0, 1] → [−1, 1] (NoStripesNet's transform:
 * ToTensor then Rescale(a=−1, b=1, imin=0, imax=1)), in float32 arithmetic.
 */
export function fromUint16(x: Uint16Array, out = new Float32Array(x.length)): Float32Array {
  const f = Math.fround;
  for (let i = 0; i < x.length; i++) out[i] = f(f(f(x[i] / 65535) * 2) - 1);
  return out;
}
