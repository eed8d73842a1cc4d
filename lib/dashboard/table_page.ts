/**
 * The runs table page: tool, name, status, start, duration, key metric, seed and commit of every
 * run, with a filter, sortable columns, and the argument differences of the selected runs
 * (argDiff of scan.ts, run in the page itself).
 *
 * @example
 * ```ts
 * import { runsTablePage } from "./table_page.ts";
 * import { serverLinks } from "./page_layout.ts";
 * const html = runsTablePage(runs, ["runs"], serverLinks());
 * ```
 * @module
 */
import { escapeXml as esc } from "../viz/line_chart.ts";
import { argDiff, type RunInfo } from "./scan.ts";
import { runKey } from "./runs.ts";
import {
  fmtDuration,
  fmtNum,
  type Links,
  page,
  scriptJson,
  shortCommit,
  statusBadge,
} from "./page_layout.ts";

/** The client script of the runs table: filter, sort, select and compare arguments. */
const TABLE_SCRIPT = `
const data = JSON.parse(document.getElementById("runs-data").textContent);
const byKey = new Map(data.map((d) => [d.key, d]));
const tbody = document.querySelector("#runs tbody");
const rows = [...tbody.rows];
const q = document.getElementById("filter"), st = document.getElementById("status");
const count = document.getElementById("count");
function applyFilter() {
  const words = q.value.toLowerCase().split(/\\s+/).filter(Boolean), s = st.value;
  let n = 0;
  for (const r of rows) {
    const text = r.dataset.text || (r.dataset.text = r.textContent.toLowerCase());
    const ok = (!s || r.dataset.status === s) && words.every((w) => text.includes(w));
    r.classList.toggle("hidden", !ok);
    if (ok) n++;
  }
  count.textContent = n + " of " + rows.length + " runs";
}
q.addEventListener("input", applyFilter);
st.addEventListener("change", applyFilter);
let sortCol = -1, dir = 1;
for (const th of document.querySelectorAll("#runs th.sort")) {
  th.addEventListener("click", () => {
    const col = th.cellIndex;
    dir = col === sortCol ? -dir : 1;
    sortCol = col;
    for (const h of document.querySelectorAll("#runs th")) h.classList.remove("asc", "desc");
    th.classList.add(dir > 0 ? "asc" : "desc");
    const val = (r) => r.cells[col].dataset.v ?? r.cells[col].textContent;
    rows.sort((a, b) => {
      const x = val(a), y = val(b);
      const nx = Number(x), ny = Number(y);
      const c = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : String(x).localeCompare(String(y));
      return c * dir;
    });
    const frag = document.createDocumentFragment();
    for (const r of rows) frag.appendChild(r);
    tbody.appendChild(frag);
  });
}
const argDiff = ARG_DIFF;
const cmp = document.getElementById("compare"), diff = document.getElementById("diff");
const all = document.getElementById("allargs");
function selected() {
  return [...document.querySelectorAll("#runs tbody input.sel:checked")].map((c) => byKey.get(c.value));
}
function onSelect() {
  const n = selected().length;
  cmp.disabled = n < 2;
  cmp.textContent = "Compare arguments (" + n + " selected)";
}
tbody.addEventListener("change", onSelect);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
function showDiff() {
  const sel = selected();
  if (sel.length < 2) return;
  const keys = new Set();
  for (const r of sel.slice(1)) for (const k of argDiff(sel[0].args, r.args)) keys.add(k);
  const every = new Set();
  for (const r of sel) for (const k of Object.keys(r.args || {})) every.add(k);
  const shown = all.checked ? [...every].sort() : [...keys].sort();
  const cell = (r, k) => { const v = (r.args || {})[k]; return v === undefined ? "<i>absent</i>" : esc(JSON.stringify(v)); };
  let h = "<h2>Arguments of " + sel.length + " runs: " + keys.size + " differ</h2>";
  h += "<table><thead><tr><th>argument</th>" + sel.map((r) => "<th>" + esc(r.tool + " · " + r.name) + "</th>").join("") + "</tr></thead><tbody>";
  for (const k of shown) {
    h += "<tr" + (keys.has(k) ? ' class="differs"' : "") + "><td class=mono><b>" + esc(k) + "</b></td>" + sel.map((r) => "<td class=mono>" + cell(r, k) + "</td>").join("") + "</tr>";
  }
  if (!shown.length) h += '<tr><td colspan="' + (sel.length + 1) + '">all arguments are equal</td></tr>';
  diff.innerHTML = h + "</tbody></table>";
  diff.scrollIntoView();
}
cmp.addEventListener("click", showDiff);
all.addEventListener("change", () => { if (diff.innerHTML) showDiff(); });
applyFilter();
onSelect();
`;

/**
 * The runs table: tool, name, status, start, duration, key metric, seed, commit; filter, sort,
 * and the argument differences of the selected runs (computed with argDiff in the page).
 * @example `runsTablePage(runs, roots, serverLinks())`
 */
export function runsTablePage(
  runs: readonly RunInfo[],
  roots: readonly string[],
  links: Links,
): string {
  const statuses = ["running", "finished", "failed", "killed", "unknown"];
  const rows: string[] = [];
  const data: unknown[] = [];
  for (const r of runs) {
    const key = runKey(roots, r);
    data.push({ key, tool: r.tool, name: r.name, args: r.args ?? {} });
    const t = r.start ? Date.parse(r.start) : NaN;
    rows.push(
      `<tr data-status="${r.status}"><td><input type="checkbox" class="sel" value="${
        esc(key)
      }"></td>` +
        `<td>${esc(r.tool)}</td><td data-v="${esc(r.name)}"><a href="${esc(links.run(key))}">${
          esc(r.name)
        }</a>${
          roots.length > 1
            ? ` <span class="muted" title="${esc(r.root)}">${
              esc(r.root.replace(/\/+$/, "").split("/").pop() || r.root)
            }</span>`
            : ""
        }</td>` +
        `<td data-v="${r.status}">${statusBadge(r.status)}</td>` +
        `<td data-v="${Number.isFinite(t) ? t : ""}" class="mono">${
          esc(r.start ? r.start.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "–")
        }</td>` +
        `<td data-v="${r.duration ?? ""}" class="num">${fmtDuration(r.duration)}</td>` +
        `<td data-v="${r.metric?.value ?? ""}" class="num">${
          r.metric
            ? `<span class="muted">${esc(r.metric.name)}</span> ${fmtNum(r.metric.value)}`
            : "–"
        }</td>` +
        `<td data-v="${r.seed ?? ""}" class="num">${r.seed ?? "–"}</td>` +
        `<td class="mono" title="${esc(r.commit ?? "")}">${esc(shortCommit(r.commit))}</td></tr>`,
    );
  }
  const cols = ["tool", "name", "status", "start", "duration", "key metric", "seed", "commit"];
  const body = `<h1>Runs</h1>
<p class="muted">${runs.length} runs in ${roots.map((r) => esc(r)).join(", ")}</p>
<div class="bar"><input type="search" id="filter" placeholder="filter: words in any column">
<select id="status"><option value="">any status</option>${
    statuses.map((s) => `<option>${s}</option>`).join("")
  }</select>
<button id="compare" disabled>Compare arguments</button>
<label><input type="checkbox" id="allargs"> show equal arguments too</label>
<span id="count" class="muted"></span></div>
<table id="runs"><thead><tr><th></th>${
    cols.map((c) => `<th class="sort">${c}</th>`).join("")
  }</tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>
<section id="diff"></section>
<script type="application/json" id="runs-data">${scriptJson(data)}</script>`;
  return page("Lumen runs", links, body, TABLE_SCRIPT.replace("ARG_DIFF", argDiff.toString()));
}
