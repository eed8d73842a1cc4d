/**
 * Figures and reports: colormaps, a bitmap font, titled panel grids as PNG, SVG line charts, HTML reports and the headless-Chromium check.
 *
 * @example
 * ```ts
 * import { figurePng, lineChartSvg } from "./mod.ts";
 * ```
 * @module
 */
export * from "./colormap.ts";
export * from "./font.ts";
export * from "./figure.ts";
export * from "./line_chart.ts";
export * from "./html_report.ts";
export * from "./browser_check.ts";
