/**
 * The dashboard's pages as HTML strings, self-contained (inline CSS, inline scripts, inline SVG
 * charts; nothing from a CDN): the runs table (table_page.ts), a run's page and the log API's
 * payload (run_page.ts), the lineage graph (lineage_page.ts), and what they share
 * (page_layout.ts). Links come from a {@link Links} object, so the same pages serve from the
 * local server and as a static export.
 *
 * @example
 * ```ts
 * import { runsTablePage, serverLinks } from "./pages.ts";
 * const html = runsTablePage(runs, ["runs"], serverLinks());
 * ```
 * @module
 */
export * from "./page_layout.ts";
export * from "./table_page.ts";
export * from "./run_page.ts";
export * from "./lineage_page.ts";
