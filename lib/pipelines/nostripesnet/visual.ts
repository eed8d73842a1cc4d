/**
 * The figures of `visualize` (NoStripesNet's `patch_visualizer.py`): a sinogram with simulated
 * stripes as clean / stripe / model output over their reconstructions, a sinogram with real
 * stripes as raw / Vo's sorting / model output, and test patches with their error.
 *
 * The patches of one sinogram go through the generator as one batch (batch-norm statistics of
 * a batch, as in training). Patches with real stripes are shown as recorded in all three columns
 * of a simulated-stripe figure (the original left them black, which spoils the reconstructions).
 *
 * @example
 * ```ts
 * import { fakeRowFigure } from "./visual.ts";
 * const { png, ran } = await fakeRowFigure(net.gen, idx, L, 12, { fbp: { angles: theta } });
 * ```
 * @module
 */
import { basename } from "node:path";
import { fromUint16 } from "../../data/patches.ts";
import type { FbpOptions } from "../../tomo/fbp.ts";
import { removeStripeBasedSorting } from "../../tomo/vo_sorting.ts";
import { displaySize, figurePng, type Panel } from "../../viz/figure.ts";
import { sinogramFigure } from "./figures.ts";
import { inpaintBatch } from "./model.ts";
import type { PatchUNet } from "./patch_unet.ts";
import { type PatchPair, stripeMask } from "./patch_loader.ts";
import {
  putPatch,
  readPatchU16,
  type SampleIndex,
  type SinogramLayout,
  takePatch,
} from "./sample_index.ts";
import { maskRow, type StripeMask } from "./stripe_mask.ts";

/** How sinogram figures reconstruct. */
export interface RowFigureOptions {
  fbp: FbpOptions;
  /** Column binning for the reconstruction (default ⌈columns/512⌉). */
  reconBin?: number;
}

/** The [0, 1] values of a uint16 patch. */
function unit(u: Uint16Array): Float32Array {
  return Float32Array.from(u, (v) => v / 65535);
}

/**
 * Clean / stripe / model output of one sinogram with simulated stripes.
 *
 * @example
 * ```ts
 * const { png } = await fakeRowFigure(gen, idx, L, 12, { fbp: {} });
 * ```
 */
export async function fakeRowFigure(
  gen: PatchUNet,
  idx: SampleIndex,
  L: SinogramLayout,
  row: number,
  o: RowFigureOptions,
): Promise<{ png: Uint8Array; ran: number }> {
  const n = L.angles * L.cols;
  const clean = new Float32Array(n), stripe = new Float32Array(n), out = new Float32Array(n);
  const pairs: { p: number; xs: Float32Array; mask: Float32Array }[] = [];
  for (const [p, e] of idx.rows.get(row)!) {
    if (e.clean && e.stripe) {
      const c = await readPatchU16(e.clean), s = await readPatchU16(e.stripe);
      const cm = fromUint16(c.data), sm = fromUint16(s.data);
      pairs.push({ p, xs: sm, mask: stripeMask(cm, sm) });
      putPatch(clean, L, p, unit(c.data));
      putPatch(stripe, L, p, unit(s.data));
    } else if (e.real) {
      const r = unit((await readPatchU16(e.real)).data);
      for (const dst of [clean, stripe, out]) putPatch(dst, L, p, r);
    }
  }
  const ys = await inpaintBatch(gen, pairs.map((q) => q.xs), pairs.map((q) => q.mask), [
    L.ph,
    L.pw,
  ]);
  pairs.forEach((q, i) => putPatch(out, L, q.p, ys[i].map((v) => (v + 1) / 2)));
  const { png } = sinogramFigure([
    { title: "clean", data: clean },
    { title: "stripe", data: stripe },
    { title: "model output", data: out },
  ], { shape: [L.angles, L.cols], title: `Sinogram ${row}`, fbp: o.fbp, reconBin: o.reconBin });
  return { png, ran: pairs.length };
}

/**
 * Raw / Vo's sorting (/ model output where the stripe mask is given) of one sinogram with real
 * stripes; the model replaces only the real-stripe patches that the mask marks.
 *
 * @example
 * ```ts
 * const { png, caption } = await realRowFigure(gen, idx, L, 40, mask, { fbp: {} }, 31);
 * ```
 */
export async function realRowFigure(
  gen: PatchUNet,
  idx: SampleIndex,
  L: SinogramLayout,
  row: number,
  mask: StripeMask | null,
  o: RowFigureOptions,
  voSize: number,
): Promise<{ png: Uint8Array; caption: string }> {
  const raw = new Float32Array(L.angles * L.cols);
  const realPatches: number[] = [];
  for (const [p, e] of idx.rows.get(row)!) {
    const src = e.real ?? e.clean;
    if (!src) continue;
    putPatch(raw, L, p, unit((await readPatchU16(src)).data));
    if (e.real) realPatches.push(p);
  }
  const vo = removeStripeBasedSorting(raw, L.angles, L.cols, { size: voSize });
  const columns = [{ title: "raw", data: raw }, { title: "Vo sorting", data: vo }];
  let caption = `real stripes; Vo's sorting with a window of ${voSize}`;
  if (mask) {
    const m = maskRow(mask, row);
    const out = raw.slice();
    const ps = [...idx.rows.get(row)!.keys()];
    const masks = ps.map((p) => takePatch(m, L, p).map((v) => (v ? 1 : 0)));
    const xs = ps.map((p) => takePatch(raw, L, p).map((v) => v * 2 - 1));
    const ys = await inpaintBatch(gen, xs, masks, [L.ph, L.pw]);
    let ran = 0;
    ps.forEach((p, i) => {
      if (!realPatches.includes(p) || !masks[i].some((v) => v !== 0)) return;
      putPatch(out, L, p, ys[i].map((v) => (v + 1) / 2));
      ran++;
    });
    columns.push({ title: "model output", data: out });
    caption += `; the model ran on ${ran} patch${ran === 1 ? "" : "es"} (mask ${
      basename(mask.file)
    })`;
  } else caption += "; give --mask to run the model on them";
  const { png } = sinogramFigure(columns, {
    shape: [L.angles, L.cols],
    title: `Sinogram ${row} (real stripes)`,
    fbp: o.fbp,
    reconBin: o.reconBin,
  });
  return { png, caption };
}

/**
 * Test pairs as stripe / output / clean / |output − clean| (values in [−1, 1]); narrow patches
 * are scaled up to stay readable.
 *
 * @example
 * ```ts
 * const png = await testPatchesFigure(gen, pairs, split.test.slice(0, 4));
 * ```
 */
export async function testPatchesFigure(
  gen: PatchUNet,
  pairs: readonly PatchPair[],
  indices: readonly number[],
): Promise<Uint8Array | null> {
  if (!indices.length) return null;
  const cs: Float32Array[] = [], ss: Float32Array[] = [];
  let shape: [number, number] = [0, 0];
  for (const i of indices) {
    const c = await readPatchU16(pairs[i].clean);
    shape = c.shape;
    cs.push(fromUint16(c.data));
    ss.push(fromUint16((await readPatchU16(pairs[i].stripe)).data));
  }
  const ys = await inpaintBatch(gen, ss, cs.map((c, j) => stripeMask(c, ss[j])), shape);
  const size = displaySize(shape, { maxWidth: 192 });
  const panels: Panel[] = [];
  for (const [j, i] of indices.entries()) {
    const c = cs[j], s = ss[j], y = ys[j];
    const err = y.map((v, k) => Math.abs(v - c[k]));
    // "0000/0000_shift00_0012_w03.tif" → "0012_w03"
    const t = pairs[i].name.replace(/^.*_(\d+_w\d+)\.tif$/, "$1");
    panels.push(
      { data: s, shape, title: `${t} stripe`, range: [-1, 1], size },
      { data: y, shape, title: "model output", range: [-1, 1], size },
      { data: c, shape, title: "clean", range: [-1, 1], size },
      { data: err, shape, title: "|output - clean|", colormap: "magma", colorbar: true, size },
    );
  }
  return figurePng(panels, { columns: 4, title: "Test patches", textScale: 1, titleScale: 2 });
}
