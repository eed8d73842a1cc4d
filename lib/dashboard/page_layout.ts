/**
 * What every dashboard page shares: the {@link Links} a page links with (local server or static
 * export), the page frame with its inline styles, and number, duration and status formatting.
 *
 * @example
 * ```ts
 * import { page, serverLinks } from "./page_layout.ts";
 * const html = page("Runs", serverLinks(), "<h1>Runs</h1>");
 * ```
 * @module
 */
import { escapeXml as esc } from "../viz/line_chart.ts";
import type { LineageNode } from "./lineage.ts";

export interface Links {
  /** The runs table. */
  index: string;
  /** The lineage page. */
  lineage: string;
  /** A run's page, by run key (see runKey). */
  run(key: string): string;
  /** A file inside root number `root`. */
  file(root: number, rel: string): string;
  /** The log API of a run; absent in a static export (no live updates there). */
  logApi?(key: string): string;
}

/**
 * The links of the local server: `/`, `/lineage`, `/run/<key>`, `/file/<root>/<path>`,
 * `/api/run/<key>/log`.
 * @example `serverLinks().run("0/a.log.jsonl")` // "/run/0/a.log.jsonl"
 */
export function serverLinks(): Links {
  const enc = (p: string) => p.split("/").map(encodeURIComponent).join("/");
  return {
    index: "/",
    lineage: "/lineage",
    run: (key) => `/run/${enc(key)}`,
    file: (root, rel) => `/file/${root}/${enc(rel)}`,
    logApi: (key) => `/api/run/${enc(key)}/log`,
  };
}

/** The dashboard's styles. */
export const CSS = `
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a1a1a;background:#fafafa}
nav{background:#1f2937;color:#fff;padding:8px 24px;display:flex;gap:20px;align-items:center}
nav a{color:#e5e7eb;text-decoration:none;font-weight:600}nav a:hover{color:#fff}nav .brand{color:#93c5fd}
main{max-width:1400px;margin:0 auto;padding:16px 24px}
h1{font-size:1.5em;margin:8px 0}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;font-size:.88em;background:#fff}
th,td{border:1px solid #e2e2e2;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0;position:sticky;top:0;white-space:nowrap}th.sort{cursor:pointer;user-select:none}
th.sort:after{content:" ↕";color:#999}th.asc:after{content:" ↑";color:#000}th.desc:after{content:" ↓";color:#000}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.mono,td.mono{font-family:ui-monospace,monospace;font-size:.92em}
.st{display:inline-block;padding:0 6px;border-radius:8px;font-size:.85em;font-weight:600}
.st-running{background:#dbeafe;color:#1e40af}.st-finished{background:#dcfce7;color:#166534}
.st-failed{background:#fee2e2;color:#991b1b}.st-killed{background:#fef3c7;color:#92400e}
.st-unknown,.st-missing{background:#eee;color:#555}.st-complete{background:#dcfce7;color:#166534}
.bar{display:flex;gap:12px;align-items:center;margin:8px 0;flex-wrap:wrap}
input[type=search]{padding:4px 8px;min-width:280px}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 16px;font-size:.9em}
dl.facts dt{color:#555}dl.facts dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
.fail{background:#fee2e2;border:1px solid #fca5a5;padding:6px 10px;font-family:ui-monospace,monospace;white-space:pre-wrap}
.charts svg{max-width:100%;height:auto;margin:4px 6px 4px 0;border:1px solid #ddd;background:#fff}
figure{display:inline-block;margin:6px;vertical-align:top;max-width:420px}
figure img{max-width:100%;border:1px solid #ddd;background:#fff}figcaption{font-size:.8em;color:#444}
pre{background:#111827;color:#e5e7eb;padding:8px;overflow:auto;max-height:420px;font-size:.8em}
.grid{display:flex;flex-wrap:wrap;gap:3px;margin:6px 0}
.cell{width:22px;height:22px;border-radius:3px;font-size:9px;display:flex;align-items:center;justify-content:center;color:#fff}
.cell.complete{background:#16a34a}.cell.running{background:#2563eb}.cell.failed{background:#dc2626}.cell.missing{background:#9ca3af}
.muted{color:#666;font-size:.85em}.hidden{display:none}
#diff table td{max-width:360px;word-break:break-all}
.lineage svg{border:1px solid #ddd;background:#fff}
.lineage a text{fill:#111}.lineage a:hover rect{stroke-width:3}
`;

/**
 * JSON inside a `<script>` element (no `</script>` can end it early).
 * @example `scriptJson({ a: "</script>" })` // '{"a":"\\u003c/script>"}'
 */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028|\u2029/g, " ");
}

/**
 * A whole dashboard page: the navigation bar, the styles, the body and an optional script.
 * @example `page("Runs", serverLinks(), "<h1>Runs</h1>")`
 */
export function page(title: string, links: Links, body: string, script = ""): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${CSS}</style></head>
<body><nav><span class="brand">Lumen runs</span><a href="${esc(links.index)}">Runs</a>` +
    `<a href="${esc(links.lineage)}">Lineage</a></nav>
<main>
${body}
</main>${script ? `\n<script>\n${script}\n</script>` : ""}
</body></html>
`;
}

/**
 * A number for a table: integers as they are, others with 4 significant digits.
 * @example `fmtNum(0.123456)` // "0.1235"
 */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/**
 * Seconds as `1h02m`, `3m05s`, `4.2 s`.
 * @example `fmtDuration(185)` // "3m05s"
 */
export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return "–";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(sec).padStart(2, "0")}s`;
}

/**
 * A status badge.
 * @example `statusBadge("failed")` // '<span class="st st-failed">failed</span>'
 */
export const statusBadge = (s: string): string => `<span class="st st-${esc(s)}">${esc(s)}</span>`;
/**
 * A commit shortened to 8 hex digits.
 * @example `shortCommit("0123456789" + "0".repeat(30))` // "01234567"
 */
export const shortCommit = (
  c: string | null,
): string => (c ? (/^[0-9a-f]{40}/.test(c) ? c.slice(0, 8) : c) : "–");
/**
 * A lineage node as a link to the run that made it (inputs: plain text with their hash).
 * @example `nodeLink(node, serverLinks())`
 */
export function nodeLink(n: LineageNode, links: Links): string {
  const label = esc(
    n.kind === "run" ? `${n.tool ?? "?"} run: ${n.label}` : `${n.role}: ${n.label}`,
  );
  return n.run
    ? `<a href="${esc(links.run(n.run))}">${label}</a>`
    : `<span title="${esc(n.sha256 ?? "")}">${label}</span>`;
}

/** Options of {@link runPage}. */
