/**
 * What every tool shares: flags and --help, the entry wrapper (errors, exit codes, signals), atomic writes, progress bars, provenance, JSON-lines logs, SLURM shards.
 *
 * @example
 * ```ts
 * import { runTool, defineTool } from "./mod.ts";
 * ```
 * @module
 */
export * from "./errors.ts";
export * from "./flags.ts";
export * from "./main.ts";
export * from "./atomic.ts";
export * from "./progress.ts";
export * from "./provenance.ts";
export * from "./log.ts";
export * from "./shard.ts";
export * from "./resume.ts";
export * from "./demo.ts";
export * from "./interrupt.ts";
