/**
 * One sample of a patch dataset seen as sinograms: which patch files (`<sample>_shift<shift>_
 * <row>_w<p>.tif`) lie where for each detector row, and how the patches tile the sinogram they
 * were cut from (the centre crop of lib/data/patches.ts).
 *
 * @example
 * ```ts
 * import { indexSample, sinogramLayout } from "./sample_index.ts";
 * const idx = indexSample("data", 0, 0);
 * const L = await sinogramLayout(idx);
 * L.nC; // patches across a sinogram
 * ```
 * @module
 */
import { existsSync, readdirSync } from "node:fs";
import { LumenError } from "../../run/errors.ts";
import { readTiff } from "../../io/tiff.ts";

/** A patch file name: sample, shift, row, patch index. */
export const PATCH_NAME_RE = /^(\d{4,})_shift(\d{2,})_(\d{4,})_w(\d{2,})\.tif$/;

/**
 * The parts of a patch file name, or null when it is not one.
 *
 * @example
 * ```ts
 * parsePatchName("0000_shift00_0012_w03.tif"); // { sample: 0, shift: 0, row: 12, patch: 3 }
 * ```
 */
export function parsePatchName(
  name: string,
): { sample: number; shift: number; row: number; patch: number } | null {
  const m = PATCH_NAME_RE.exec(name);
  return m ? { sample: +m[1], shift: +m[2], row: +m[3], patch: +m[4] } : null;
}

/** Where the kinds of one patch lie. */
export interface PatchFiles {
  clean?: string;
  stripe?: string;
  real?: string;
}

/** The patches of one sample: per sinogram row, per patch index. */
export interface SampleIndex {
  dir: string;
  sample: number;
  rows: Map<number, Map<number, PatchFiles>>;
}

/**
 * Indexes `<root>/<sample:04>` (fake_artifacts clean/stripe, real_artifacts stripe).
 *
 * @example
 * ```ts
 * const idx = indexSample("data", 0, 0);
 * idx.rows.get(12)?.get(3)?.clean; // "data/0000/fake_artifacts/clean/0000_shift00_0012_w03.tif"
 * ```
 */
export function indexSample(root: string, sample: number, shift: number): SampleIndex {
  const dir = `${root}/${String(sample).padStart(4, "0")}`;
  if (!existsSync(dir)) throw new LumenError(dir, "", `no such sample folder (--sample ${sample})`);
  const rows: SampleIndex["rows"] = new Map();
  const kinds = [
    ["fake_artifacts/clean", "clean"],
    ["fake_artifacts/stripe", "stripe"],
    ["real_artifacts/stripe", "real"],
  ] as const;
  for (const [sub, kind] of kinds) {
    const d = `${dir}/${sub}`;
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const n = parsePatchName(f);
      if (!n || n.sample !== sample || n.shift !== shift) continue;
      let r = rows.get(n.row);
      if (!r) rows.set(n.row, r = new Map());
      let e = r.get(n.patch);
      if (!e) r.set(n.patch, e = {});
      e[kind] = `${d}/${f}`;
    }
  }
  if (!rows.size) {
    throw new LumenError(dir, "", `holds no patches of sample ${sample}, shift ${shift}`);
  }
  return { dir, sample, rows };
}

/**
 * A uint16 patch file as its data and shape.
 *
 * @example
 * ```ts
 * const { data, shape } = await readPatchU16("data/0000/fake_artifacts/clean/0000_shift00_0000_w00.tif");
 * ```
 */
export async function readPatchU16(
  path: string,
): Promise<{ data: Uint16Array; shape: [number, number] }> {
  const a = await readTiff(path);
  if (a.dtype !== "uint16" || a.shape.length !== 2) {
    throw new LumenError(path, "", `expected a 2-D uint16 patch, found ${a.dtype} [${a.shape}]`);
  }
  return { data: a.data as Uint16Array, shape: [a.shape[0], a.shape[1]] };
}

/** How patches of ph × pw tile an angles × cols sinogram (nA × nC of them, centred). */
export interface SinogramLayout {
  ph: number;
  pw: number;
  angles: number;
  cols: number;
  nA: number;
  nC: number;
  offA: number;
  offC: number;
}

/**
 * The layout of a sample's sinograms: the patch size from its first patch, the sinogram size
 * given (`--sino-size`) or one row of patches.
 *
 * @example
 * ```ts
 * const L = await sinogramLayout(idx, [1801, 2560]);
 * ```
 */
export async function sinogramLayout(
  idx: SampleIndex,
  sinoSize: readonly number[] = [],
): Promise<SinogramLayout> {
  const first = [...idx.rows.values()][0].values().next().value!;
  const { shape: [ph, pw] } = await readPatchU16((first.clean ?? first.real ?? first.stripe)!);
  const maxP = Math.max(...[...idx.rows.values()].flatMap((r) => [...r.keys()])) + 1;
  let angles = ph, cols = pw * maxP;
  if (sinoSize.length) {
    if (sinoSize.length !== 2) {
      throw new LumenError("--sino-size", sinoSize.join(","), "expected H,W");
    }
    [angles, cols] = sinoSize;
  }
  const nA = Math.floor(angles / ph), nC = Math.floor(cols / pw);
  if (nA < 1 || nC < 1 || nA * nC < maxP) {
    throw new LumenError(
      "--sino-size",
      `${angles},${cols}`,
      `${maxP} patches of ${ph}×${pw} do not fit a ${angles}×${cols} sinogram`,
    );
  }
  return {
    ph,
    pw,
    angles,
    cols,
    nA,
    nC,
    offA: Math.floor((angles - nA * ph) / 2),
    offC: Math.floor((cols - nC * pw) / 2),
  };
}

/**
 * Writes patch `p` into its place of a sinogram.
 *
 * @example
 * ```ts
 * putPatch(sino, L, 3, patch);
 * ```
 */
export function putPatch(
  dst: Float32Array,
  L: SinogramLayout,
  p: number,
  patch: Float32Array,
): void {
  const r0 = L.offA + Math.floor(p / L.nC) * L.ph, c0 = L.offC + (p % L.nC) * L.pw;
  for (let y = 0; y < L.ph; y++) {
    dst.set(patch.subarray(y * L.pw, (y + 1) * L.pw), (r0 + y) * L.cols + c0);
  }
}

/**
 * Reads patch `p` out of a sinogram (or a mask sinogram).
 *
 * @example
 * ```ts
 * const patch = takePatch(sino, L, 3);
 * ```
 */
export function takePatch(
  src: Float32Array | Uint8Array,
  L: SinogramLayout,
  p: number,
): Float32Array {
  const r0 = L.offA + Math.floor(p / L.nC) * L.ph, c0 = L.offC + (p % L.nC) * L.pw;
  const out = new Float32Array(L.ph * L.pw);
  for (let y = 0; y < L.ph; y++) {
    for (let x = 0; x < L.pw; x++) out[y * L.pw + x] = src[(r0 + y) * L.cols + c0 + x];
  }
  return out;
}

/**
 * Up to `k` values spread evenly over `xs` (first and last included).
 *
 * @example
 * ```ts
 * spread([1, 2, 3, 4, 5, 6, 7], 3); // [1, 4, 7]
 * ```
 */
export function spread(xs: readonly number[], k: number): number[] {
  return xs.length <= k
    ? [...xs]
    : Array.from({ length: k }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (k - 1 || 1))]);
}

/** Rows with a simulated-stripe pair, and rows with real stripes. */
export function rowKinds(idx: SampleIndex): { fake: number[]; real: number[] } {
  const all = [...idx.rows.keys()].sort((a, b) => a - b);
  return {
    fake: all.filter((r) => [...idx.rows.get(r)!.values()].some((e) => e.clean && e.stripe)),
    real: all.filter((r) => [...idx.rows.get(r)!.values()].some((e) => e.real)),
  };
}

/**
 * The sinograms to draw: the rows asked for (each must exist), split into those with a
 * simulated-stripe pair and those with real stripes; by default 3 and 2 spread over the sample.
 *
 * @example
 * ```ts
 * const { fake, real } = chooseRows(idx, [], true); // 3 simulated, 2 real
 * ```
 */
export function chooseRows(
  idx: SampleIndex,
  asked: readonly number[],
  withReal: boolean,
): { fake: number[]; real: number[] } {
  for (const r of asked) {
    if (!idx.rows.has(r)) {
      throw new LumenError(
        "--sinograms",
        String(r),
        `sample ${idx.sample} has no patches of sinogram ${r}`,
      );
    }
  }
  const kinds = rowKinds(idx);
  const pick = (rows: number[], k: number) =>
    asked.length ? asked.filter((r) => rows.includes(r)) : spread(rows, k);
  return { fake: pick(kinds.fake, 3), real: withReal ? pick(kinds.real, 2) : [] };
}

/**
 * Projection angles in radians, evenly from 0 to `lastDeg` (default 180° for an odd count, as
 * 1801 projections over 0–180°, else 180·(n−1)/n).
 *
 * @example
 * ```ts
 * projectionAngles(1801).at(-1); // π
 * ```
 */
export function projectionAngles(n: number, lastDeg?: number): number[] {
  const last = lastDeg ?? (n % 2 === 1 ? 180 : (180 * (n - 1)) / n);
  return Array.from({ length: n }, (_, a) => (n > 1 ? (last * a) / (n - 1) : 0) * Math.PI / 180);
}
