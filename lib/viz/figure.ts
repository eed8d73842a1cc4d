/**
 * Raster figures: float images (Float32Array + shape) through a colormap, laid out as a grid of
 * titled panels with optional colour bars and a figure title, returned as RGB bytes or PNG.
 * Text uses the built-in bitmap font (font.ts); PNG encoding is lib/io/png.ts.
 *
 * Each panel is shown at its own size, or resampled to `size` (area averaging when shrinking,
 * nearest neighbour when enlarging), or shrunk to fit `maxPanelSize` keeping its aspect.
 *
 * @example
 * ```ts
 * import { figurePng } from "./figure.ts";
 * const png = figurePng([
 *   { data: clean, shape: [1801, 256], title: "clean", size: [400, 256] },
 *   { data: stripe, shape: [1801, 256], title: "stripe", size: [400, 256] },
 * ], { title: "sinogram 12", columns: 2 });
 * await Deno.writeFile("fig.png", png);
 * ```
 * @module
 */
import { type NdArray, ndarray } from "../io/array.ts";
import { encodePng } from "../io/png.ts";
import { LumenError } from "../run/errors.ts";
import {
  colorize,
  colormapLut,
  type ColormapName,
  resolveRange,
  type Rgb,
  type ValueRange,
} from "./colormap.ts";
import { drawText, textHeight, textWidth } from "./font.ts";

/** One image of a figure. */
export interface Panel {
  /** h·w values, row-major. */
  data: ArrayLike<number>;
  /** [h, w]. */
  shape: readonly [number, number];
  /** Drawn centred above the image. */
  title?: string;
  /** Default "gray". */
  colormap?: ColormapName;
  /** Display range (default "minmax" of this panel). */
  range?: ValueRange;
  /** Display size [h, w] in pixels (resampled); default: native, shrunk to maxPanelSize. */
  size?: readonly [number, number];
  /** Draw a colour bar with the range's ends to the right of the image. */
  colorbar?: boolean;
}

/** Options of {@link renderFigure}. */
export interface FigureOptions {
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Figure title, centred at the top. */
  title?: string;
  /** Longest side of a panel without `size` (default 512). */
  maxPanelSize?: number;
  /** Scale of panel titles and labels (default 2; the font is 5×7 at scale 1). */
  textScale?: number;
  /** Scale of the figure title (default 3). */
  titleScale?: number;
  /** Space around and between panels in pixels (default 12). */
  gap?: number;
  /** Default white. */
  background?: Rgb;
  /** Text and frame colour (default near-black). */
  foreground?: Rgb;
}

function axisWeights(
  n: number,
  on: number,
): { idx: Int32Array; w: Float64Array; start: Int32Array } {
  // For each output i, the input pixels and weights it averages (area) or copies (nearest).
  const start = new Int32Array(on + 1);
  const idx: number[] = [], w: number[] = [];
  const s = n / on;
  for (let i = 0; i < on; i++) {
    start[i] = idx.length;
    if (on >= n) {
      idx.push(Math.min(n - 1, Math.floor((i + 0.5) * s)));
      w.push(1);
      continue;
    }
    const a = i * s, b = (i + 1) * s;
    for (let k = Math.floor(a); k < Math.min(n, Math.ceil(b)); k++) {
      const ov = Math.min(b, k + 1) - Math.max(a, k);
      if (ov > 0) (idx.push(k), w.push(ov / s));
    }
  }
  start[on] = idx.length;
  return { idx: Int32Array.from(idx), w: Float64Array.from(w), start };
}

/**
 * Resamples an h×w image to oh×ow: area averaging along an axis that shrinks, nearest
 * neighbour along one that grows. NaN propagates.
 * @example `resample(sino, 1801, 256, 400, 256)`
 */
export function resample(
  data: ArrayLike<number>,
  h: number,
  w: number,
  oh: number,
  ow: number,
): Float64Array {
  if (!(oh >= 1 && ow >= 1)) throw new LumenError("resample", `${oh}×${ow}`, "size must be ≥ 1");
  const ax = axisWeights(w, ow), ay = axisWeights(h, oh);
  const tmp = new Float64Array(h * ow);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < ow; c++) {
      let s = 0;
      for (let k = ax.start[c]; k < ax.start[c + 1]; k++) s += data[r * w + ax.idx[k]] * ax.w[k];
      tmp[r * ow + c] = s;
    }
  }
  const out = new Float64Array(oh * ow);
  for (let r = 0; r < oh; r++) {
    for (let k = ay.start[r]; k < ay.start[r + 1]; k++) {
      const src = ay.idx[k] * ow, wt = ay.w[k];
      for (let c = 0; c < ow; c++) out[r * ow + c] += tmp[src + c] * wt;
    }
  }
  return out;
}

/**
 * A compact label for a number (3 significant digits, exponent form when very large or small).
 * @example `formatNumber(0.000123)` // "1.23e-4"
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = v.toExponential(2).split("e");
    return `${m.replace(/\.?0+$/, "")}e${Number(e)}`;
  }
  return String(Number(v.toPrecision(3)));
}

interface Laid {
  p: Panel;
  h: number;
  w: number;
  lo: number;
  hi: number;
  /** Width of the colour bar block (0 without). */
  cbw: number;
  labels: [string, string];
}

const CBAR_GAP = 4, CBAR_W = 10, CBAR_LABEL_GAP = 3;

/**
 * Renders panels as one RGB image (h, w, 3) uint8.
 * @example `renderFigure([{ data, shape: [64, 64], title: "x" }]).shape` // [h, w, 3]
 */
export function renderFigure(panels: readonly Panel[], o: FigureOptions = {}): NdArray<Uint8Array> {
  if (!panels.length) throw new LumenError("figure", "", "no panels");
  const cols = Math.max(1, Math.min(o.columns ?? panels.length, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const ts = Math.max(1, Math.round(o.textScale ?? 2));
  const fs = Math.max(1, Math.round(o.titleScale ?? 3));
  const gap = o.gap ?? 12;
  const maxSide = o.maxPanelSize ?? 512;
  const bg = o.background ?? [255, 255, 255];
  const fg = o.foreground ?? [20, 20, 20];
  const labelScale = Math.max(1, ts - 1);

  const laid: Laid[] = panels.map((p, i) => {
    const [h0, w0] = p.shape;
    if (!(h0 >= 1 && w0 >= 1) || p.data.length !== h0 * w0) {
      throw new LumenError(
        "figure",
        `panel ${i}${p.title ? ` (${p.title})` : ""}`,
        `${p.data.length} values for shape [${p.shape}]`,
      );
    }
    let h = h0, w = w0;
    if (p.size) [h, w] = p.size;
    else if (Math.max(h0, w0) > maxSide) {
      const k = maxSide / Math.max(h0, w0);
      h = Math.max(1, Math.round(h0 * k));
      w = Math.max(1, Math.round(w0 * k));
    }
    const [lo, hi] = resolveRange(p.data, p.range ?? "minmax");
    const labels: [string, string] = [formatNumber(hi), formatNumber(lo)];
    const cbw = p.colorbar
      ? CBAR_GAP + CBAR_W + CBAR_LABEL_GAP +
        Math.max(textWidth(labels[0], labelScale), textWidth(labels[1], labelScale))
      : 0;
    return { p, h, w, lo, hi, cbw, labels };
  });

  const titleH = (l: Laid) => (l.p.title ? textHeight(ts) + 6 : 0);
  const colW = new Array(cols).fill(0), rowH = new Array(rows).fill(0);
  laid.forEach((l, i) => {
    const c = i % cols, r = Math.floor(i / cols);
    colW[c] = Math.max(colW[c], l.w + 2 + l.cbw, l.p.title ? textWidth(l.p.title, ts) : 0);
    rowH[r] = Math.max(rowH[r], titleH(l) + l.h + 2);
  });
  const figTitleH = o.title ? textHeight(fs) + gap : 0;
  let W = gap + colW.reduce((a, b) => a + b + gap, 0);
  if (o.title) W = Math.max(W, textWidth(o.title, fs) + 2 * gap);
  const H = gap + figTitleH + rowH.reduce((a, b) => a + b + gap, 0);
  const rgb = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    (rgb[3 * i] = bg[0], rgb[3 * i + 1] = bg[1], rgb[3 * i + 2] = bg[2]);
  }
  const fill = (x0: number, y0: number, w: number, h: number, c: Rgb) => {
    for (let y = Math.max(0, y0); y < Math.min(H, y0 + h); y++) {
      for (let x = Math.max(0, x0); x < Math.min(W, x0 + w); x++) {
        const k = (y * W + x) * 3;
        rgb[k] = c[0];
        rgb[k + 1] = c[1];
        rgb[k + 2] = c[2];
      }
    }
  };
  if (o.title) {
    drawText(rgb, W, H, o.title, (W - textWidth(o.title, fs)) / 2, gap, { scale: fs, color: fg });
  }

  let y = gap + figTitleH;
  for (let r = 0; r < rows; r++) {
    let x = gap;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      if (i >= laid.length) break;
      const l = laid[i];
      const blockW = l.w + 2 + l.cbw;
      const x0 = x + Math.floor((colW[c] - blockW) / 2);
      if (l.p.title) {
        const tw = textWidth(l.p.title, ts);
        drawText(rgb, W, H, l.p.title, x + (colW[c] - tw) / 2, y, { scale: ts, color: fg });
      }
      const y0 = y + titleH(l);
      // frame, then the image inside it
      fill(x0, y0, l.w + 2, l.h + 2, [128, 128, 128]);
      const [h0, w0] = l.p.shape;
      const shown = l.h === h0 && l.w === w0 ? l.p.data : resample(l.p.data, h0, w0, l.h, l.w);
      const img = colorize(shown, [l.h, l.w], { colormap: l.p.colormap, range: [l.lo, l.hi] });
      for (let yy = 0; yy < l.h; yy++) {
        const dst = ((y0 + 1 + yy) * W + x0 + 1) * 3;
        rgb.set(img.data.subarray(yy * l.w * 3, (yy + 1) * l.w * 3), dst);
      }
      if (l.p.colorbar) {
        const bx = x0 + l.w + 2 + CBAR_GAP;
        const lut = colormapLut(l.p.colormap ?? "gray");
        fill(bx, y0, CBAR_W, l.h + 2, [128, 128, 128]);
        for (let yy = 0; yy < l.h; yy++) {
          const k = Math.min(255, Math.floor(((l.h - 1 - yy) / Math.max(1, l.h - 1)) * 256));
          fill(bx + 1, y0 + 1 + yy, CBAR_W - 2, 1, [lut[3 * k], lut[3 * k + 1], lut[3 * k + 2]]);
        }
        const lx = bx + CBAR_W + CBAR_LABEL_GAP;
        drawText(rgb, W, H, l.labels[0], lx, y0, { scale: labelScale, color: fg });
        drawText(rgb, W, H, l.labels[1], lx, y0 + l.h + 2 - textHeight(labelScale), {
          scale: labelScale,
          color: fg,
        });
      }
      x += colW[c] + gap;
    }
    y += rowH[r] + gap;
  }
  return ndarray(rgb, [H, W, 3]);
}

/**
 * Renders panels (see {@link renderFigure}) and encodes the figure as PNG bytes.
 * @example `await Deno.writeFile("f.png", figurePng([{ data, shape: [h, w], title: "clean" }]))`
 */
export function figurePng(panels: readonly Panel[], o: FigureOptions = {}): Uint8Array {
  return encodePng(renderFigure(panels, o));
}

/**
 * One image as PNG, no decorations: colormap, range and optional display size.
 * @example `imagePng(recon, [256, 256], { colormap: "gray", range: { percentile: [1, 99] } })`
 */
export function imagePng(
  data: ArrayLike<number>,
  shape: readonly [number, number],
  o: { colormap?: ColormapName; range?: ValueRange; size?: readonly [number, number] } = {},
): Uint8Array {
  const [h, w] = shape;
  const range = resolveRange(data, o.range ?? "minmax");
  const [oh, ow] = o.size ?? shape;
  const shown = oh === h && ow === w ? data : resample(data, h, w, oh, ow);
  return encodePng(colorize(shown, [oh, ow], { colormap: o.colormap, range }));
}

/**
 * The display size [h, w] of an image in a figure: narrow images are scaled up by a whole
 * factor to at least `minWidth` columns (a 26-column detector stays readable), wide ones shrunk
 * to `maxWidth`, and the height is kept at most twice the width (sinograms are tall).
 *
 * @example
 * ```ts
 * displaySize([3001, 26]); // [260, 130]
 * displaySize([1801, 2560]); // [768, 384]
 * ```
 */
export function displaySize(
  shape: readonly [number, number],
  o: { minWidth?: number; maxWidth?: number } = {},
): [number, number] {
  const [h, w] = shape;
  const minW = o.minWidth ?? 128, maxW = o.maxWidth ?? 384;
  const factor = w < minW ? Math.ceil(minW / w) : 1;
  const dw = factor > 1 ? w * factor : Math.min(w, maxW);
  return [Math.max(1, Math.min(h * factor, 2 * dw)), dw];
}
