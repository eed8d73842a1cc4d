/**
 * The lineage page: the graph of inputs, runs and artifacts as inline SVG (columns by depth,
 * each node a link to the run that made it) and the table of its edges.
 *
 * @example
 * ```ts
 * import { lineagePage } from "./lineage_page.ts";
 * import { serverLinks } from "./page_layout.ts";
 * const html = lineagePage(buildLineage(runs, ["runs"]), serverLinks());
 * ```
 * @module
 */
import { escapeXml as esc } from "../viz/line_chart.ts";
import { layoutLineage, type Lineage } from "./lineage.ts";
import { type Links, nodeLink, page } from "./page_layout.ts";

const ROLE_COLOR: Record<string, string> = {
  run: "#e5e7eb",
  dataset: "#bfdbfe",
  model: "#fde68a",
  predictions: "#bbf7d0",
  metrics: "#ddd6fe",
  figure: "#fbcfe8",
  input: "#f3f4f6",
  artifact: "#e0f2fe",
};

/** Options of {@link lineagePage}. */
export interface LineagePageOptions {
  /** Draw the graph only up to this many nodes (default 1500); the edge table is always there. */
  maxDrawn?: number;
}

/**
 * The lineage page: the graph as inline SVG (columns by depth, each node a link to the run that
 * made it) and a table of its edges.
 * @example `lineagePage(buildLineage(runs, roots), serverLinks())`
 */
export function lineagePage(g: Lineage, links: Links, o: LineagePageOptions = {}): string {
  const parts: string[] = [
    `<h1>Lineage</h1><p class="muted">${g.nodes.length} nodes, ${g.edges.length} edges: inputs → runs → artifacts</p>`,
  ];
  parts.push(
    `<p>${
      Object.entries(ROLE_COLOR).map(([k, c]) =>
        `<span class="st" style="background:${c};color:#111">${k}</span>`
      ).join(" ")
    }</p>`,
  );
  const byKey = new Map(g.nodes.map((n) => [n.key, n]));
  if (g.nodes.length && g.nodes.length <= (o.maxDrawn ?? 1500)) {
    const lay = layoutLineage(g);
    const W = 190, H = 34, DX = 240, DY = 48, PAD = 10;
    const cols = Math.max(...[...lay.values()].map((p) => p.col)) + 1;
    const rows = Math.max(...[...lay.values()].map((p) => p.row)) + 1;
    const w = PAD * 2 + (cols - 1) * DX + W, h = PAD * 2 + (rows - 1) * DY + H;
    const xy = (k: string) => {
      const p = lay.get(k)!;
      return [PAD + p.col * DX, PAD + p.row * DY];
    };
    const svg: string[] = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui,sans-serif" font-size="11">`,
    ];
    svg.push(
      `<defs><marker id="arr" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#6b7280"/></marker></defs>`,
    );
    for (const e of g.edges) {
      if (!lay.has(e.from) || !lay.has(e.to)) continue;
      const [x1, y1] = xy(e.from), [x2, y2] = xy(e.to);
      const ax = x1 + W, ay = y1 + H / 2, bx = x2, by = y2 + H / 2, mx = (ax + bx) / 2;
      svg.push(
        `<path class="edge" d="M${ax},${ay} C${mx},${ay} ${mx},${by} ${bx},${by}" fill="none" stroke="#6b7280" stroke-width="1.2" marker-end="url(#arr)"/>`,
      );
    }
    for (const n of g.nodes) {
      const [x, y] = xy(n.key);
      const label = n.label.length > 28 ? n.label.slice(0, 27) + "…" : n.label;
      const title = `${n.role}: ${n.path ?? n.label}${n.tool ? ` (${n.tool})` : ""}${
        n.sha256 ? `\nsha256 ${n.sha256}` : ""
      }`;
      const box =
        `<g class="node" data-key="${esc(n.key)}" data-role="${n.role}"><title>${
          esc(title)
        }</title>` +
        `<rect x="${x}" y="${y}" width="${W}" height="${H}" rx="${
          n.kind === "run" ? 14 : 3
        }" fill="${ROLE_COLOR[n.role] ?? "#fff"}" stroke="#374151"/>` +
        `<text x="${x + 8}" y="${y + 14}" font-weight="600">${esc(label)}</text>` +
        `<text x="${x + 8}" y="${y + 27}" fill="#4b5563">${
          esc(n.kind === "run" ? `run · ${n.tool ?? ""}` : n.role)
        }</text></g>`;
      svg.push(n.run ? `<a href="${esc(links.run(n.run))}">${box}</a>` : box);
    }
    svg.push("</svg>");
    parts.push(`<div class="lineage" style="overflow:auto">${svg.join("\n")}</div>`);
  } else if (g.nodes.length) {
    parts.push(
      `<p class="muted">${g.nodes.length} nodes: too many to draw; the edges are listed below.</p>`,
    );
  }
  parts.push(
    `<h2>Edges</h2><table id="edges"><thead><tr><th>from</th><th>to</th></tr></thead><tbody>${
      g.edges.map((e) => {
        const a = byKey.get(e.from), b = byKey.get(e.to);
        return a && b
          ? `<tr data-from="${a.role}" data-to="${b.role}"><td>${nodeLink(a, links)}</td><td>${
            nodeLink(b, links)
          }</td></tr>`
          : "";
      }).join("\n")
    }</tbody></table>`,
  );
  return page("Lumen lineage", links, parts.join("\n"));
}
