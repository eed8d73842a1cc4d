/**
 * NoStripesNet's figures (network/patch_visualizer.py `plot_all`, `plot_all_raw`): sinograms
 * side by side (e.g. clean / stripe / model output) over their filtered back-projection
 * reconstructions, with shared display ranges so the columns compare.
 *
 * Reconstructions come from lib/tomo/fbp.ts, or are passed in already made. Wide sinograms are
 * binned for the reconstruction (`reconBin` adjacent columns averaged and every `reconBin`-th
 * angle kept; default: the smallest bin that gives ≤ 512 columns), which keeps a 1801×2560
 * sinogram to seconds. Reconstruct from data whose background (air) is near 0, e.g. the
 * sinogram in [0, 1] (uint16 / 65535), not in [−1, 1].
 *
 * @example
 * ```ts
 * import { sinogramFigure } from "./figures.ts";
 * const { png } = sinogramFigure([
 *   { title: "clean", data: clean }, { title: "stripe", data: stripe },
 *   { title: "model output", data: output },
 * ], { shape: [1801, 2560], title: "sinogram 1000" });
 * await Deno.writeFile("sino_1000.png", png);
 * ```
 * @module
 */
import { fbp, type FbpOptions } from "../../tomo/fbp.ts";
import { LumenError } from "../../run/errors.ts";
import { type ColormapName, resolveRange, type ValueRange } from "../../viz/colormap.ts";
import { displaySize, type FigureOptions, figurePng, type Panel } from "../../viz/figure.ts";

/** One column of the figure. */
export interface SinogramImage {
  /** Column title, e.g. "clean", "stripe", "model output". */
  title: string;
  /** The sinogram, angles × columns. */
  data: Float32Array;
  /** Its reconstruction (square, `reconShape`), when already made. */
  recon?: Float32Array;
}

/** Options of {@link sinogramFigure}. */
export interface SinogramFigureOptions {
  /** Sinogram shape [angles, columns]. */
  shape: readonly [number, number];
  /** Figure title. */
  title?: string;
  /** Reconstruct and show the second row (default true). */
  reconstruct?: boolean;
  /** Options of the reconstruction (angles, center, filter); default: evenly over [0, π). */
  fbp?: FbpOptions;
  /** Column binning for the reconstruction (default ⌈columns / 512⌉). */
  reconBin?: number;
  /** Side of given reconstructions (default: inferred from their length). */
  reconShape?: readonly [number, number];
  /** Display size of the sinograms [h, w] (default: `displaySize`, narrow ones scaled up). */
  sinoSize?: readonly [number, number];
  /** Display side of the reconstructions (default ≤ 384). */
  reconSize?: number;
  /** Sinogram range: "shared" (default: min/max of the first) or per panel. */
  sinoRange?: ValueRange | "shared";
  /** Reconstruction range: "shared" (default: 0.5–99.5 percentiles of the first) or per panel. */
  reconRange?: ValueRange | "shared";
  /** Default "gray". */
  colormap?: ColormapName;
  /** Layout and text options. */
  figure?: FigureOptions;
}

/**
 * Bins a sinogram for a faster reconstruction: `bin` columns averaged, every `bin`-th angle.
 * @example `binSinogram(sino, 1801, 2560, 5)` // { data, angles: 361, cols: 512, … }
 */
export function binSinogram(
  sino: Float32Array,
  angles: number,
  cols: number,
  bin: number,
): { data: Float32Array; angles: number; cols: number; angleIndex: number[] } {
  if (bin <= 1) {
    return { data: sino, angles, cols, angleIndex: Array.from({ length: angles }, (_, i) => i) };
  }
  const oc = Math.floor(cols / bin);
  const angleIndex: number[] = [];
  for (let a = 0; a < angles; a += bin) angleIndex.push(a);
  const out = new Float32Array(angleIndex.length * oc);
  angleIndex.forEach((a, i) => {
    for (let c = 0; c < oc; c++) {
      let s = 0;
      for (let k = 0; k < bin; k++) s += sino[a * cols + c * bin + k];
      out[i * oc + c] = s / bin;
    }
  });
  return { data: out, angles: angleIndex.length, cols: oc, angleIndex };
}

/**
 * Reconstructs a sinogram by filtered back-projection after binning (see the module doc).
 * Angles default to evenly over [0, π) for all `angles` rows (before binning).
 * Returns the slice and its side.
 * @example `reconstructBinned(sino, 1801, 2560)` // { image, size: 512 }
 */
export function reconstructBinned(
  sino: Float32Array,
  angles: number,
  cols: number,
  o: { bin?: number; fbp?: FbpOptions } = {},
): { image: Float32Array; size: number } {
  const bin = Math.max(1, Math.round(o.bin ?? Math.ceil(cols / 512)));
  const b = binSinogram(sino, angles, cols, bin);
  const f = o.fbp ?? {};
  let theta: number[];
  if (f.angles) {
    if (f.angles.length !== angles) {
      throw new LumenError("fbp", "angles", `${f.angles.length} angles for ${angles} projections`);
    }
    theta = b.angleIndex.map((i) => f.angles![i]);
  } else {
    theta = b.angleIndex.map((i) => (Math.PI * i) / angles);
  }
  // binned column j covers columns j·bin … j·bin + bin − 1: x → (x + 0.5)/bin − 0.5
  const center = ((f.center ?? Math.floor(cols / 2)) + 0.5) / bin - 0.5;
  const size = f.size === undefined ? b.cols : Math.max(1, Math.round(f.size / bin));
  const image = fbp(b.data, b.angles, b.cols, {
    ...f,
    angles: theta,
    degrees: f.angles ? f.degrees : false,
    center,
    size,
  });
  // binned pixels are `bin` times larger: per-pixel attenuation scales back by 1/bin
  if (bin > 1) { for (let i = 0; i < image.length; i++) image[i] /= bin; }
  return { image, size };
}

/**
 * The figure: one column per image, sinograms on top, reconstructions below, shared ranges.
 * Returns the PNG and the panels and reconstructions it used.
 * @example `sinogramFigure([{ title: "clean", data }], { shape: [181, 128] }).png`
 */
export function sinogramFigure(
  images: readonly SinogramImage[],
  o: SinogramFigureOptions,
): { png: Uint8Array; panels: Panel[]; recons: Float32Array[]; reconSide: number } {
  const [angles, cols] = o.shape;
  if (!images.length) throw new LumenError("figure", "", "no sinograms");
  for (const im of images) {
    if (im.data.length !== angles * cols) {
      throw new LumenError(
        "figure",
        im.title,
        `${im.data.length} values for a ${angles}×${cols} sinogram`,
      );
    }
  }
  const [sh, sw] = o.sinoSize ?? displaySize([angles, cols]);
  const sinoRange = o.sinoRange ?? "shared";
  const shared = (r: ValueRange | "shared", data: ArrayLike<number>, dflt: ValueRange) =>
    r === "shared" ? resolveRange(data, dflt) : undefined;
  const sr = shared(sinoRange, images[0].data, "minmax");
  const panels: Panel[] = images.map((im) => ({
    data: im.data,
    shape: [angles, cols],
    title: im.title,
    colormap: o.colormap,
    range: sr ?? (sinoRange as ValueRange),
    size: [sh, sw],
  }));
  const recons: Float32Array[] = [];
  let side = 0;
  if (o.reconstruct ?? true) {
    for (const im of images) {
      if (im.recon) {
        const s = o.reconShape ?? [Math.round(Math.sqrt(im.recon.length)), 0];
        side = s[0];
        if (side * side !== im.recon.length && !o.reconShape) {
          throw new LumenError("figure", im.title, "reconstruction is not square: give reconShape");
        }
        recons.push(im.recon);
      } else {
        const r = reconstructBinned(im.data, angles, cols, { bin: o.reconBin, fbp: o.fbp });
        side = r.size;
        recons.push(r.image);
      }
    }
    const reconRange = o.reconRange ?? "shared";
    const rr = shared(reconRange, recons[0], { percentile: [0.5, 99.5] });
    const rs = Math.min(side, o.reconSize ?? 384);
    const rshape = o.reconShape ?? [side, side] as const;
    recons.forEach((r, i) =>
      panels.push({
        data: r,
        shape: [rshape[0], rshape[1] || rshape[0]],
        title: `${images[i].title} (FBP)`,
        colormap: o.colormap,
        range: rr ?? (reconRange as ValueRange),
        size: [rs, rs],
      })
    );
  }
  const png = figurePng(panels, { columns: images.length, title: o.title, ...o.figure });
  return { png, panels, recons, reconSide: side };
}
