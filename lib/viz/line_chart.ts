/**
 * Line charts as self-contained SVG text (for loss curves in HTML reports): axes with 1-2-5
 * ticks, optional log-scale y, a legend, gaps where values are not finite. No fonts or scripts
 * are loaded; the SVG can be inlined in HTML or written as a `.svg` file.
 *
 * @example
 * ```ts
 * import { lineChartSvg } from "./line_chart.ts";
 * const svg = lineChartSvg([
 *   { name: "loss_g", x: [1, 2, 3], y: [5, 3, 2] },
 *   { name: "val_loss_g", x: [1, 2, 3], y: [6, 4, 3], dashed: true },
 * ], { title: "generator loss", xLabel: "epoch" });
 * ```
 * @module
 */

/** One line. */
export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** CSS colour (default from a colour-blind-safe palette). */
  color?: string;
  dashed?: boolean;
  /** Draw a dot at each point (default: when there are at most 60 points). */
  markers?: boolean;
}

/** Options of {@link lineChartSvg}. */
export interface LineChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Pixels (default 640 × 320). */
  width?: number;
  height?: number;
  /** Log-scale y (non-positive values are left out). */
  logY?: boolean;
  /** x values are whole numbers (epochs, steps): ticks only at integers. */
  integerX?: boolean;
}

/** Okabe–Ito colours. */
export const PALETTE: readonly string[] = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#F0E442",
  "#000000",
];

/**
 * Escapes text for XML/HTML content and attributes.
 * @example `escapeXml("a < b & c")` // "a &lt; b &amp; c"
 */
export function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * "Nice" tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k), about `n` of them.
 * @example `niceTicks(0, 1, 5)` // [0, 0.2, 0.4, 0.6, 0.8, 1]
 */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
    out.push(Number((k * step).toPrecision(12)));
  }
  return out;
}

function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
  return String(Number(v.toPrecision(4)));
}

/**
 * The chart as SVG text.
 * @example `lineChartSvg([{ name: "loss", x: [0, 1], y: [1, 0.5] }])`
 */
export function lineChartSvg(series: readonly Series[], o: LineChartOptions = {}): string {
  const W = o.width ?? 640, H = o.height ?? 320;
  const left = 64, right = 16, top = o.title ? 34 : 14, bottom = o.xLabel ? 48 : 34;
  const legendH = series.length > 0 ? 20 * Math.ceil(series.length / 3) : 0;
  const pw = W - left - right, ph = H - top - bottom - legendH;
  const ty = (v: number) => (o.logY ? Math.log10(v) : v);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of series) {
    for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) {
      const x = s.x[i], y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (o.logY && !(y > 0))) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, ty(y));
      y1 = Math.max(y1, ty(y));
    }
  }
  const empty = !(x0 <= x1);
  if (empty) (x0 = 0, x1 = 1, y0 = 0, y1 = 1);
  if (x0 === x1) (x0 -= 0.5, x1 += 0.5);
  if (y0 === y1) (y0 -= Math.abs(y0) * 0.1 || 0.5, y1 += Math.abs(y1) * 0.1 || 0.5);
  const padY = (y1 - y0) * 0.05;
  y0 -= padY;
  y1 += padY;
  const sx = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => top + ph - ((y - y0) / (y1 - y0)) * ph;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="sans-serif" font-size="12" role="img"${
        o.title ? ` aria-label="${escapeXml(o.title)}"` : ""
      }>`,
  );
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  if (o.title) {
    parts.push(
      `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${
        escapeXml(o.title)
      }</text>`,
    );
  }
  // grid and ticks
  let xt = niceTicks(x0, x1, 6).filter((v) => v >= x0 && v <= x1);
  if (o.integerX) {
    xt = xt.filter(Number.isInteger);
    if (!xt.length) xt = [Math.round((x0 + x1) / 2)];
  }
  let yt: number[];
  if (o.logY) {
    yt = [];
    for (let k = Math.ceil(y0); k <= Math.floor(y1); k++) yt.push(k);
    if (yt.length < 2) yt = niceTicks(y0, y1, 4);
  } else yt = niceTicks(y0, y1, 5).filter((v) => v >= y0 && v <= y1);
  for (const v of xt) {
    parts.push(
      `<line x1="${f(sx(v))}" y1="${top}" x2="${f(sx(v))}" y2="${top + ph}" stroke="#e4e4e4"/>`,
      `<text x="${f(sx(v))}" y="${top + ph + 16}" text-anchor="middle">${fmtTick(v)}</text>`,
    );
  }
  for (const v of yt) {
    const label = o.logY ? fmtTick(10 ** v) : fmtTick(v);
    parts.push(
      `<line x1="${left}" y1="${f(sy(v))}" x2="${left + pw}" y2="${f(sy(v))}" stroke="#e4e4e4"/>`,
      `<text x="${left - 6}" y="${f(sy(v) + 4)}" text-anchor="end">${label}</text>`,
    );
  }
  parts.push(
    `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
  );
  if (o.xLabel) {
    parts.push(
      `<text x="${left + pw / 2}" y="${top + ph + 34}" text-anchor="middle">${
        escapeXml(o.xLabel)
      }</text>`,
    );
  }
  if (o.yLabel) {
    parts.push(
      `<text x="14" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${
        top + ph / 2
      })">${escapeXml(o.yLabel)}</text>`,
    );
  }
  if (empty) {
    parts.push(
      `<text x="${left + pw / 2}" y="${
        top + ph / 2
      }" text-anchor="middle" fill="#888">no data</text>`,
    );
  }
  // lines
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const segs: string[] = [];
    let cur = "";
    const pts: [number, number][] = [];
    for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) {
      const x = s.x[i], y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (o.logY && !(y > 0))) {
        if (cur) segs.push(cur);
        cur = "";
        continue;
      }
      const p = `${f(sx(x))},${f(sy(ty(y)))}`;
      cur += cur ? ` L${p}` : `M${p}`;
      pts.push([sx(x), sy(ty(y))]);
    }
    if (cur) segs.push(cur);
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    for (const d of segs) {
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${dash}/>`);
    }
    if (s.markers ?? pts.length <= 60) {
      for (const [x, y] of pts) {
        parts.push(`<circle cx="${f(x)}" cy="${f(y)}" r="2.5" fill="${color}"/>`);
      }
    }
    // legend entry
    const lx = left + (k % 3) * Math.floor(pw / 3), ly = H - legendH + 14 + 20 * Math.floor(k / 3);
    parts.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${
        ly - 4
      }" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 28}" y="${ly}">${escapeXml(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
