/**
 * A run's page: facts, metric curves (live through the log API while the run runs), figures and
 * reports, checkpoints, artifacts, the shard grid, lineage neighbours, arguments, provenance and
 * the log tail; and {@link logPayload}, what the log API answers.
 *
 * @example
 * ```ts
 * import { runPage } from "./run_page.ts";
 * import { serverLinks } from "./page_layout.ts";
 * import { readRunDetail } from "./detail.ts";
 * const html = runPage(await readRunDetail(run), ["runs"], serverLinks());
 * ```
 * @module
 */
import { escapeXml as esc, lineChartSvg, PALETTE, type Series } from "../viz/line_chart.ts";
import { lossChartsSvg } from "../viz/html_report.ts";
import { runKey } from "./runs.ts";
import type { RunDetail } from "./detail.ts";
import { type Lineage, neighbours } from "./lineage.ts";
import {
  fmtDuration,
  fmtNum,
  type Links,
  nodeLink,
  page,
  scriptJson,
  statusBadge,
} from "./page_layout.ts";

const SKIP = new Set(["epoch", "step", "batch", "t", "epochs", "steps", "time", "seed", "pid"]);

/**
 * The metric charts of a log: its loss curves (lossChartsSvg of html_report.ts) and a chart of
 * the other numbers of its epoch records (at most 8 of them).
 * @example `metricChartsSvg([{ epoch: 1, loss: 2 }, { epoch: 2, loss: 1 }]).length` // 1
 */
export function metricChartsSvg(records: readonly Record<string, unknown>[]): string[] {
  const out = lossChartsSvg(records);
  const acc = new Map<string, [number[], number[]]>();
  for (const r of records) {
    if (typeof r.epoch !== "number") continue;
    if (
      r.event !== undefined &&
      !["epoch", "lr", "val", "validation", "metrics"].includes(String(r.event))
    ) {
      continue;
    }
    for (const [k, v] of Object.entries(r)) {
      if (SKIP.has(k) || /loss/i.test(k) || typeof v !== "number" || !Number.isFinite(v)) continue;
      if (!acc.has(k) && acc.size >= PALETTE.length) continue;
      if (!acc.has(k)) acc.set(k, [[], []]);
      acc.get(k)![0].push(r.epoch);
      acc.get(k)![1].push(v);
    }
  }
  const series: Series[] = [...acc].filter(([, [x]]) => x.length).map(([name, [x, y]]) => ({
    name,
    x,
    y,
    dashed: name.startsWith("val_"),
  }));
  if (series.length) {
    out.push(lineChartSvg(series, {
      title: "Other metrics per epoch",
      xLabel: "epoch",
      integerX: true,
      width: 560,
      height: 300,
    }));
  }
  return out;
}

/** What the log API returns (and what a run page starts with). */
export interface LogPayload {
  key: string;
  status: string;
  failure: string | null;
  duration: number | null;
  metric: { name: string; value: number } | null;
  /** Number of log records. */
  records: number;
  /** Number of epoch records. */
  epochs: number;
  /** The last epoch record. */
  last: Record<string, unknown> | null;
  charts: string[];
  tail: string[];
}

/**
 * The log API's answer for a run's detail.
 * @example `logPayload(detail, "0/a.log.jsonl").charts.length`
 */
export function logPayload(d: RunDetail, key: string): LogPayload {
  const epochs = d.records.filter((r) =>
    typeof r.epoch === "number" && (r.event === undefined || r.event === "epoch")
  );
  return {
    key,
    status: d.run.status,
    failure: d.run.failure,
    duration: d.run.duration,
    metric: d.run.metric,
    records: d.records.length,
    epochs: epochs.length,
    last: epochs[epochs.length - 1] ?? null,
    charts: metricChartsSvg(d.records),
    tail: d.tail,
  };
}

const RUN_SCRIPT = `
const api = API_URL;
let seen = -1, busy = false;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
async function poll() {
  if (busy) return;
  busy = true;
  try {
    const r = await fetch(api, { cache: "no-store" });
    if (!r.ok) return;
    const p = await r.json();
    document.getElementById("live").textContent = "live: " + p.records + " records, " + p.epochs + " epochs, checked " + new Date().toLocaleTimeString();
    if (p.records !== seen) {
      seen = p.records;
      document.getElementById("charts").innerHTML = p.charts.length ? p.charts.join("\\n") : '<p class="muted">no metric records yet</p>';
      document.getElementById("tail").textContent = p.tail.join("\\n");
      const st = document.getElementById("status");
      st.className = "st st-" + p.status;
      st.textContent = p.status;
      document.getElementById("epochs").textContent = String(p.epochs);
    }
    if (p.status !== "running") clearInterval(timer);
  } catch (_e) {
    document.getElementById("live").textContent = "live: the dashboard does not answer";
  } finally {
    busy = false;
  }
}
const timer = setInterval(poll, POLL_MS);
poll();
`;

export interface RunPageOptions {
  /** The lineage graph (for the run's inputs and outputs). */
  lineage?: Lineage;
  /** Poll interval of the live view (default 2000 ms). */
  pollMs?: number;
}

/**
 * A run's page: facts, metric curves (live through the log API when `links.logApi` exists),
 * figures and reports, checkpoints, artifacts, shards, lineage, arguments, provenance, log tail.
 * @example `runPage(await readRunDetail(run), roots, serverLinks())`
 */
export function runPage(
  d: RunDetail,
  roots: readonly string[],
  links: Links,
  o: RunPageOptions = {},
): string {
  const r = d.run;
  const key = runKey(roots, r);
  const ri = roots.indexOf(r.root);
  const p = logPayload(d, key);
  const file = (rel: string) => links.file(ri, rel);
  const parts: string[] = [];
  parts.push(
    `<h1>${esc(r.tool)} · ${esc(r.name)} <span id="status" class="st st-${r.status}">${
      esc(r.status)
    }</span></h1>`,
  );
  const facts: [string, string][] = [
    ["root", esc(r.root)],
    ["id", esc(r.id)],
    ["start", esc(r.start ?? "–")],
    ["duration", esc(fmtDuration(r.duration))],
    ["key metric", r.metric ? `${esc(r.metric.name)} = ${fmtNum(r.metric.value)}` : "–"],
    ["epochs", `<span id="epochs">${p.epochs}</span>`],
    ["seed", esc(String(r.seed ?? "–"))],
    ["commit", esc(r.commit ?? "–")],
    ["uuid", esc(r.uuid ?? "–")],
  ];
  if (r.log) facts.push(["log", `<a href="${esc(file(r.log))}">${esc(r.log)}</a>`]);
  parts.push(
    `<dl class="facts">${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`,
  );
  if (r.failure) parts.push(`<h2>Failure</h2><div class="fail">${esc(r.failure)}</div>`);
  if (r.log) {
    parts.push(
      `<h2>Metrics</h2><p id="live" class="muted">${
        !links.logApi
          ? "static export: as of the export"
          : r.status === "running"
          ? "live: connecting…"
          : `${r.status}: no live updates`
      }</p><div id="charts" class="charts">${
        p.charts.length ? p.charts.join("\n") : `<p class="muted">no metric records yet</p>`
      }</div>`,
    );
  }
  const images = r.figures.filter((f) => !/\.html?$/i.test(f));
  const reports = r.figures.filter((f) => /\.html?$/i.test(f));
  if (images.length || reports.length) {
    parts.push(`<h2>Figures and reports</h2>`);
    if (reports.length) {
      parts.push(
        `<ul>${
          reports.map((f) => `<li><a class="report" href="${esc(file(f))}">${esc(f)}</a></li>`)
            .join("")
        }</ul>`,
      );
    }
    for (const f of images) {
      parts.push(
        `<figure><a href="${esc(file(f))}"><img src="${esc(file(f))}" alt="${
          esc(f)
        }" loading="lazy"></a><figcaption>${
          esc(f.slice(f.lastIndexOf("/") + 1))
        }</figcaption></figure>`,
      );
    }
  }
  if (r.checkpoints.length || r.artifacts.length) {
    parts.push(
      `<h2>Checkpoints and artifacts</h2><ul>${
        [
          ...r.checkpoints.map((c) =>
            `<li>checkpoint <a href="${esc(file(c))}">${esc(c)}</a></li>`
          ),
          ...r.artifacts.map((a) => `<li>artifact <span class="mono">${esc(a)}</span></li>`),
        ].join("")
      }</ul>`,
    );
  }
  for (const g of r.shards) {
    const done = g.shards.filter((s) => s.state === "complete").length;
    parts.push(
      `<h2>Shards of ${esc(g.output)}</h2><p class="muted">${
        esc(g.tool)
      }: ${done} of ${g.count} complete, ${
        fmtDuration(g.seconds)
      } so far</p><div class="grid shards">${
        g.shards.map((s) =>
          `<div class="cell ${s.state}" title="shard ${s.index}/${g.count}: ${s.state}, ${
            fmtDuration(s.seconds)
          }${s.failure ? ` — ${esc(s.failure)}` : ""}">${s.index}</div>`
        ).join("")
      }</div>`,
    );
    const bad = g.shards.filter((s) => s.state !== "complete");
    if (bad.length) {
      parts.push(
        `<table><thead><tr><th>shard</th><th>state</th><th>duration</th><th>failure</th><th>log</th></tr></thead><tbody>${
          bad.map((s) =>
            `<tr><td class="num">${s.index}</td><td>${statusBadge(s.state)}</td><td class="num">${
              fmtDuration(s.seconds)
            }</td><td class="mono">${esc(s.failure ?? "")}</td><td>${
              s.log ? `<a href="${esc(file(s.log))}">${esc(s.log)}</a>` : ""
            }</td></tr>`
          ).join("")
        }</tbody></table>`,
      );
    }
  }
  if (o.lineage) {
    const n = neighbours(o.lineage, `run:${key}`);
    const outs = n.down.flatMap((a) => neighbours(o.lineage!, a.key).down);
    if (n.up.length || outs.length) {
      parts.push(
        `<h2>Lineage</h2><p>made from: ${
          n.up.map((x) => nodeLink(x, links)).join(", ") || "–"
        }</p>` +
          `<p>used by: ${
            [...new Map(outs.map((x) => [x.key, x])).values()].map((x) => nodeLink(x, links)).join(
              ", ",
            ) || "–"
          }</p>` +
          `<p><a href="${esc(links.lineage)}">the whole lineage graph</a></p>`,
      );
    }
  }
  const args = (r.args ?? {}) as Record<string, unknown>;
  if (Object.keys(args).length) {
    parts.push(
      `<h2>Arguments</h2><table class="args"><tbody>${
        Object.entries(args).map(([k, v]) =>
          `<tr><td class="mono"><b>${esc(k)}</b></td><td class="mono">${
            esc(JSON.stringify(v))
          }</td></tr>`
        ).join("")
      }</tbody></table>`,
    );
  }
  if (d.provenance.length) {
    parts.push(`<h2>Provenance</h2>`);
    d.provenance.forEach((pv, i) => {
      const inputs = Array.isArray(pv.inputs) ? pv.inputs as Record<string, unknown>[] : [];
      parts.push(`<h3 class="mono">${esc(r.sidecars[i] ?? "")}</h3>`);
      if (inputs.length) {
        parts.push(
          `<table><thead><tr><th>input</th><th>bytes</th><th>hash</th><th>sha256</th></tr></thead><tbody>${
            inputs.map((x) =>
              `<tr><td class="mono">${esc(String(x.path))}</td><td class="num">${
                esc(String(x.bytes ?? ""))
              }</td><td>${esc(String(x.hash ?? ""))}</td><td class="mono" title="${
                esc(String(x.sha256))
              }">${esc(String(x.sha256 ?? "").slice(0, 16))}…</td></tr>`
            ).join("")
          }</tbody></table>`,
        );
      }
      parts.push(
        `<details><summary>record</summary><pre>${
          esc(JSON.stringify(pv, null, 2))
        }</pre></details>`,
      );
    });
  }
  if (r.log) parts.push(`<h2>Log tail</h2><pre id="tail">${esc(d.tail.join("\n"))}</pre>`);
  const live = links.logApi && r.log && r.status === "running";
  const script = live
    ? RUN_SCRIPT.replace("API_URL", scriptJson(links.logApi!(key))).replace(
      "POLL_MS",
      String(o.pollMs ?? 2000),
    )
    : "";
  return page(`${r.tool} · ${r.name}`, links, parts.join("\n"), script);
}
