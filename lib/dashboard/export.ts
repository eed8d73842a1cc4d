/**
 * The dashboard as static HTML: `index.html` (the runs table), `lineage.html`, and one
 * `run-<name>-<hash>.html` per run, linking the runs' figures, reports, logs and checkpoints by
 * relative paths from the export folder, so the pages open from `file://` (and from a shared
 * folder holding both the export and the roots). No live updates there: the pages show the
 * runs as they were at the export.
 *
 * @example
 * ```ts
 * import { exportDashboard } from "./export.ts";
 * const r = await exportDashboard(["demo_out"], "demo_out/dashboard", { overwrite: true });
 * console.log(`${r.pages} pages in ${r.dir}`);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { relative, resolve } from "node:path";
import { LumenError } from "../run/errors.ts";
import { pathExists, writeTextAtomic } from "../run/atomic.ts";
import { groupRuns, runKey } from "./runs.ts";
import { scanRoots } from "./scan.ts";
import { readRunDetail } from "./detail.ts";
import { buildLineage } from "./lineage.ts";
import { lineagePage, type Links, runPage, runsTablePage } from "./pages.ts";

/**
 * The file name of a run's page in an export.
 * @example `exportPageName("0/runs/demo.log.jsonl")` // "run-demo.log.jsonl-1a2b3c4d.html"
 */
export function exportPageName(key: string): string {
  const base = key.slice(key.lastIndexOf("/") + 1).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 60);
  const h = createHash("sha256").update(key).digest("hex").slice(0, 8);
  return `run-${base}-${h}.html`;
}

/**
 * The links of an export written to `outDir` (files by relative path from there).
 * @example `exportLinks(["demo_out"], "demo_out/dashboard").file(0, "a/b.png")` // "../a/b.png"
 */
export function exportLinks(roots: readonly string[], outDir: string): Links {
  const out = resolve(outDir);
  const enc = (p: string) => p.split("/").map(encodeURIComponent).join("/");
  return {
    index: "index.html",
    lineage: "lineage.html",
    run: (key) => exportPageName(key),
    file: (root, rel) => enc(relative(out, resolve(roots[root], rel))),
  };
}

/** Options of {@link exportDashboard}. */
export interface ExportOptions {
  /** Replace the pages of an earlier export (default false: refuse when index.html exists). */
  overwrite?: boolean;
}

/**
 * Scans the roots and writes the static pages to `outDir`. Returns the folder and the number of
 * pages written. Runs inside `outDir` itself are not listed.
 * @example `await exportDashboard(["runs"], "/tmp/dash", { overwrite: true })`
 */
export async function exportDashboard(
  roots: readonly string[],
  outDir: string,
  o: ExportOptions = {},
): Promise<{ dir: string; pages: number; runs: number }> {
  const index = `${outDir}/index.html`;
  if (pathExists(index) && !o.overwrite) {
    throw new LumenError(index, "", "exists; pass --overwrite to replace the export");
  }
  await Deno.mkdir(outDir, { recursive: true });
  const outAbs = resolve(outDir);
  const runs = groupRuns(await scanRoots(roots)).filter((r) => {
    const p = resolve(r.root, r.id);
    return !(p === outAbs || p.startsWith(outAbs + "/"));
  });
  const links = exportLinks(roots, outDir);
  const lineage = buildLineage(runs, roots);
  const w = (name: string, text: string) =>
    writeTextAtomic(`${outDir}/${name}`, text, { overwrite: true });
  await w("index.html", runsTablePage(runs, roots, links));
  await w("lineage.html", lineagePage(lineage, links));
  for (const r of runs) {
    const key = runKey(roots, r);
    await w(exportPageName(key), runPage(await readRunDetail(r), roots, links, { lineage }));
  }
  return { dir: outDir, pages: runs.length + 2, runs: runs.length };
}
