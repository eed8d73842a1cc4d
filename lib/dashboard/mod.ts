/**
 * The run dashboard's library: scanning roots for runs, grouping them, their lineage, the HTML
 * pages, the local server and the static export.
 * @example
 * ```ts
 * import { groupRuns, scanRoots } from "./mod.ts";
 * const runs = groupRuns(await scanRoots(["runs"]));
 * ```
 * @module
 */
export * from "./scan.ts";
export * from "./paths.ts";
export * from "./shards.ts";
export * from "./runs.ts";
export * from "./lineage.ts";
export * from "./detail.ts";
export * from "./pages.ts";
export * from "./server.ts";
export * from "./export.ts";
