/**
 * Self-contained HTML reports: a title, run facts, loss curves (inline SVG, from JSON-lines
 * training logs), metric tables and figures (PNG embedded as `data:` URIs, or relative file
 * paths). No scripts, no external fonts or styles: the file opens in any browser, offline.
 *
 * ## Loss records
 * {@link LossRecord} is one line of a JSON-lines training log (lib/run/log.ts). The report reads
 * these fields (names in either spelling; camelCase is the lib/nn trainer's):
 *
 * | field | meaning |
 * |---|---|
 * | `event` | `"step"` (one training step) or `"epoch"` (end of an epoch); other events are ignored. Without `event`, a record with a numeric `step` is a step record, otherwise an epoch record |
 * | `epoch` | epoch number (x axis of epoch curves) |
 * | `step` | global step number (x axis of step curves) |
 * | `loss_d`, `loss_g` (`lossD`, `lossG`, `train_lossD`, `train_loss_g`, …) | training losses of the discriminator and generator |
 * | `val_loss_d`, `val_loss_g` (`val_lossD`, `val_lossG`) | validation losses (epoch records) |
 * | any other numeric field with `loss` in its name | drawn too (e.g. `loss_g_l1` from `lossGL1`) |
 *
 * Non-finite values (written by the log as the strings "NaN", "Infinity") leave gaps.
 *
 * @example
 * ```ts
 * import { htmlReport } from "./html_report.ts";
 * import { readLog } from "../run/log.ts";
 * const html = htmlReport({
 *   title: "NoStripesNet — patch_example",
 *   losses: await readLog("runs/patch_example/train.jsonl"),
 *   sections: [{ heading: "Test metrics", tables: [{ columns: ["metric", "value"], rows: [["psnr", 31.2]] }] }],
 * });
 * await Deno.writeTextFile("report.html", html);
 * ```
 * @module
 */
import { escapeXml, lineChartSvg, PALETTE, type Series } from "./line_chart.ts";
import { writeTextAtomic } from "../run/atomic.ts";

/** One record of a JSON-lines training log (see the module doc for the fields read). */
export interface LossRecord {
  event?: string;
  epoch?: number;
  step?: number;
  loss_d?: number;
  loss_g?: number;
  val_loss_d?: number;
  val_loss_g?: number;
  [field: string]: unknown;
}

/** Loss curves found in a log: per-step and per-epoch series. */
export interface LossCurves {
  step: Series[];
  epoch: Series[];
}

/**
 * A field name in the report's spelling: camelCase → snake_case, `train_` dropped
 * (`train_lossD` → `loss_d`, `lossGL1` → `loss_g_l1`, `val_lossG` → `val_loss_g`).
 * @example `canonicalLossName("val_lossD")` // "val_loss_d"
 */
export function canonicalLossName(name: string): string {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z0-9])/g, "$1_$2")
    .toLowerCase();
  return snake.replace(/^train_/, "");
}

function num(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return undefined;
}

/** Averages a long series into at most `max` points (keeps charts light). */
function thin(x: number[], y: number[], max: number): [number[], number[]] {
  if (x.length <= max) return [x, y];
  const k = Math.ceil(x.length / max);
  const ox: number[] = [], oy: number[] = [];
  for (let i = 0; i < x.length; i += k) {
    let sx = 0, sy = 0, n = 0;
    for (let j = i; j < Math.min(x.length, i + k); j++) {
      if (Number.isFinite(y[j])) (sx += x[j], sy += y[j], n++);
    }
    ox.push(n ? sx / n : x[i]);
    oy.push(n ? sy / n : NaN);
  }
  return [ox, oy];
}

/**
 * Extracts the loss series of a training log (see {@link LossRecord}); step series with more
 * than `maxPoints` points are averaged down.
 * @example `lossCurves(await readLog("train.jsonl")).epoch.map((s) => s.name)` // ["loss_d", …]
 */
export function lossCurves(records: readonly LossRecord[], maxPoints = 1500): LossCurves {
  const acc: Record<"step" | "epoch", Map<string, [number[], number[]]>> = {
    step: new Map(),
    epoch: new Map(),
  };
  for (const r of records) {
    if (!r || typeof r !== "object") continue;
    const kind = r.event === "epoch"
      ? "epoch"
      : r.event === "step"
      ? "step"
      : r.event !== undefined
      ? null
      : typeof r.step === "number"
      ? "step"
      : "epoch";
    if (!kind) continue;
    const x = kind === "step" ? num(r.step) : num(r.epoch);
    if (x === undefined || !Number.isFinite(x)) continue;
    for (const [k, v] of Object.entries(r)) {
      if (!/loss/i.test(k)) continue;
      const y = num(v);
      if (y === undefined) continue;
      const name = canonicalLossName(k);
      let s = acc[kind].get(name);
      if (!s) acc[kind].set(name, s = [[], []]);
      s[0].push(x);
      s[1].push(y);
    }
  }
  const out: LossCurves = { step: [], epoch: [] };
  for (const kind of ["step", "epoch"] as const) {
    for (const [name, [x, y]] of acc[kind]) {
      const [tx, ty] = kind === "step" ? thin(x, y, maxPoints) : [x, y];
      out[kind].push({ name, x: tx, y: ty, dashed: name.startsWith("val_") });
    }
  }
  return out;
}

/** Which network a loss belongs to: "g", "d" or "" (other). */
function lossGroup(name: string): "g" | "d" | "" {
  if (/(^|_)loss_g($|_)/.test(name)) return "g";
  if (/(^|_)loss_d($|_)/.test(name)) return "d";
  return "";
}

/**
 * Loss charts (SVG) of a training log: generator, discriminator and other losses, per step and
 * per epoch (training solid, validation dashed). Empty when the log has no losses.
 * @example `lossChartsSvg(records)` // ["<svg …", …]
 */
export function lossChartsSvg(records: readonly LossRecord[]): string[] {
  const c = lossCurves(records);
  const out: string[] = [];
  const names = { g: "Generator", d: "Discriminator", "": "Other" } as const;
  for (const kind of ["epoch", "step"] as const) {
    for (const g of ["g", "d", ""] as const) {
      const series = c[kind].filter((s) => lossGroup(s.name) === g);
      if (!series.length) continue;
      // a validation curve takes the colour of its training curve (and is dashed)
      const bases = [...new Set(series.map((s) => s.name.replace(/^val_/, "")))];
      for (const s of series) {
        s.color = PALETTE[bases.indexOf(s.name.replace(/^val_/, "")) % PALETTE.length];
      }
      out.push(lineChartSvg(series, {
        title: `${names[g]} loss per ${kind}`,
        xLabel: kind,
        yLabel: "loss",
        integerX: true,
        width: 560,
        height: 300,
      }));
    }
  }
  return out;
}

/** A figure in a report: PNG bytes (embedded) or a path relative to the report. */
export interface ReportImage {
  title?: string;
  caption?: string;
  png?: Uint8Array;
  src?: string;
  alt?: string;
  /** Display width in CSS pixels (default: natural, at most the page width). */
  width?: number;
}

/** A table of values; numbers are shown with `digits` significant digits (default 6). */
export interface ReportTable {
  title?: string;
  columns: readonly string[];
  rows: readonly (readonly (string | number | null | undefined)[])[];
  caption?: string;
  digits?: number;
}

/** A section of a report. */
export interface ReportSection {
  heading: string;
  /** Plain text; blank lines separate paragraphs. */
  text?: string;
  tables?: readonly ReportTable[];
  images?: readonly ReportImage[];
  /** Inline SVG documents (e.g. from lineChartSvg). */
  svgs?: readonly string[];
}

/** Options of {@link htmlReport}. */
export interface HtmlReportOptions {
  title: string;
  subtitle?: string;
  /** Run facts shown under the title (model, dataset, date…). */
  meta?: Readonly<Record<string, string | number>>;
  /** A training log: its loss curves make the first section. */
  losses?: readonly LossRecord[];
  sections?: readonly ReportSection[];
  /** Text at the bottom (e.g. the command line). */
  footer?: string;
}

/**
 * Base64 of bytes (for `data:` URIs).
 * @example `base64(new Uint8Array([1, 2, 3]))` // "AQID"
 */
export function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function cell(v: string | number | null | undefined, digits: number): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "–";
    if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a >= 1e6 || a < 1e-4)
      ? v.toExponential(digits - 1)
      : String(Number(v.toPrecision(digits)));
  }
  return escapeXml(v);
}

function tableHtml(t: ReportTable): string {
  const d = t.digits ?? 6;
  const head = t.columns.map((c) => `<th>${escapeXml(c)}</th>`).join("");
  const body = t.rows.map((r) =>
    `<tr>${
      r.map((v) => `<td${typeof v === "number" ? ' class="num"' : ""}>${cell(v, d)}</td>`)
        .concat(Array(Math.max(0, t.columns.length - r.length)).fill("<td></td>"))
        .slice(0, Math.max(t.columns.length, r.length)).join("")
    }</tr>`
  ).join("\n");
  return `<figure class="table">${t.title ? `<h3>${escapeXml(t.title)}</h3>` : ""}<table>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table>${t.caption ? `<figcaption>${escapeXml(t.caption)}</figcaption>` : ""}</figure>`;
}

function imageHtml(im: ReportImage): string {
  const src = im.png ? `data:image/png;base64,${base64(im.png)}` : im.src ?? "";
  const alt = escapeXml(im.alt ?? im.title ?? im.caption ?? "figure");
  const w = im.width ? ` width="${im.width}"` : "";
  const cap = [
    im.title ? `<b>${escapeXml(im.title)}</b>` : "",
    im.caption ? escapeXml(im.caption) : "",
  ]
    .filter(Boolean).join(" — ");
  return `<figure><img src="${escapeXml(src)}" alt="${alt}"${w}>${
    cap ? `<figcaption>${cap}</figcaption>` : ""
  }</figure>`;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a1a1a;background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
h3{font-size:1em;margin:8px 0}.sub{color:#555;margin:0 0 12px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:.9em}
dl.meta dt{color:#555}dl.meta dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
table{border-collapse:collapse;font-size:.9em;background:#fff}
th,td{border:1px solid #ddd;padding:4px 10px;text-align:left}th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums;font-family:ui-monospace,monospace}
figure{margin:12px 0;display:inline-block;vertical-align:top;max-width:100%}
figure img{max-width:100%;height:auto;border:1px solid #ddd;background:#fff}
figcaption{font-size:.85em;color:#444;margin-top:4px}
.charts svg{max-width:100%;height:auto;margin:6px 6px 6px 0;border:1px solid #ddd}
footer{margin-top:40px;font-size:.8em;color:#666;white-space:pre-wrap;font-family:ui-monospace,monospace}
`;

/**
 * The report as one HTML document.
 * @example `htmlReport({ title: "run 1", sections: [{ heading: "notes", text: "…" }] })`
 */
export function htmlReport(o: HtmlReportOptions): string {
  const out: string[] = [];
  out.push(
    `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeXml(o.title)}</title>
<style>${CSS}</style></head>
<body><main>
<h1>${escapeXml(o.title)}</h1>`,
  );
  if (o.subtitle) out.push(`<p class="sub">${escapeXml(o.subtitle)}</p>`);
  if (o.meta && Object.keys(o.meta).length) {
    out.push(
      `<dl class="meta">${
        Object.entries(o.meta).map(([k, v]) =>
          `<dt>${escapeXml(k)}</dt><dd>${escapeXml(String(v))}</dd>`
        ).join("")
      }</dl>`,
    );
  }
  const sections: ReportSection[] = [];
  if (o.losses) {
    const svgs = lossChartsSvg(o.losses);
    sections.push({
      heading: "Training losses",
      svgs,
      text: svgs.length ? undefined : "The training log holds no loss values.",
    });
  }
  sections.push(...(o.sections ?? []));
  for (const s of sections) {
    out.push(`<section><h2>${escapeXml(s.heading)}</h2>`);
    if (s.text) {
      for (const p of s.text.split(/\n\s*\n/)) out.push(`<p>${escapeXml(p.trim())}</p>`);
    }
    for (const t of s.tables ?? []) out.push(tableHtml(t));
    if (s.svgs?.length) out.push(`<div class="charts">${s.svgs.join("\n")}</div>`);
    for (const im of s.images ?? []) out.push(imageHtml(im));
    out.push(`</section>`);
  }
  if (o.footer) out.push(`<footer>${escapeXml(o.footer)}</footer>`);
  out.push(`</main></body></html>\n`);
  return out.join("\n");
}

/**
 * Writes a report atomically (refusing to replace a file unless `overwrite`).
 * @example `await writeHtmlReport("out/report.html", { title: "run" }, { overwrite: true })`
 */
export async function writeHtmlReport(
  path: string,
  o: HtmlReportOptions,
  w: { overwrite?: boolean } = {},
): Promise<void> {
  await writeTextAtomic(path, htmlReport(o), { overwrite: w.overwrite });
}
