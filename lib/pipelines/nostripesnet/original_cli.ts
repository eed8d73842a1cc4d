/**
 * What NoStripesNet's original command lines name that Lumen does another way: `--ddp`
 * (multi-node PyTorch), `--force` (skip the original's pauses) and checkpoint paths ending in
 * `.tar` where Lumen's run wrote `<name>_<epoch>.json`.
 *
 * @example
 * ```ts
 * import { resolveModelFile } from "./original_cli.ts";
 * resolveModelFile("pretrained_models/patch_example_1.tar"); // ".../patch_example_1.json" when only that exists
 * ```
 * @module
 */
import { existsSync } from "node:fs";

/**
 * Prints (stderr, once) what Lumen does instead of the original's `--ddp`.
 *
 * @example
 * ```ts
 * ddpNote("train"); // "train: note: --ddp: …"
 * ```
 */
export function ddpNote(tool: string, quiet = false): void {
  if (quiet) return;
  console.error(
    `${tool}: note: --ddp: Lumen does not spread one run over nodes; it uses every core of this one (--threads) or its GPU (--backend webgpu); shard data steps with --shard or deno task slurm`,
  );
}

/**
 * The checkpoint a path names: itself when it exists; for a missing `X.tar` (the original's
 * name), Lumen's `X.json` beside it when that exists.
 *
 * @example
 * ```ts
 * resolveModelFile("runs/m_10.tar"); // "runs/m_10.json" if only the Lumen checkpoint is there
 * ```
 */
export function resolveModelFile(path: string): string {
  if (existsSync(path) || !path.endsWith(".tar")) return path;
  const json = path.replace(/\.tar$/, ".json");
  return existsSync(json) ? json : path;
}
