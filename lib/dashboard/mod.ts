/**
 * The run dashboard's library: scanning roots for runs and confining served paths.
 * @example
 * ```ts
 * import { scanRoots } from "./mod.ts";
 * const runs = await scanRoots(["runs"]);
 * ```
 * @module
 */
export * from "./scan.ts";
export * from "./paths.ts";
