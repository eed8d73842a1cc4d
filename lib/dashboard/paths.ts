/**
 * Confines a requested path to the dashboard's roots: no `..`, no absolute paths, no symlinks
 * that lead out of the root. Returns the real path, or null (serve 404).
 *
 * @example
 * ```ts
 * import { confinePath } from "./paths.ts";
 * confinePath(["runs"], 0, "a/log.jsonl"); // "/abs/runs/a/log.jsonl" or null
 * ```
 * @module
 */

/**
 * The real path of `rel` inside `roots[index]`, or null when it would leave that root.
 * @example `confinePath(["runs"], 0, "../etc/passwd")` // null
 */
export function confinePath(roots: readonly string[], index: number, rel: string): string | null {
  if (index < 0 || index >= roots.length) return null;
  if (rel.startsWith("/") || rel.includes("\\") || rel.includes("\0")) return null;
  if (rel.split("/").some((s) => s === ".." || s === ".")) return null;
  try {
    const root = Deno.realPathSync(roots[index]);
    const real = Deno.realPathSync(`${root}/${rel}`);
    if (real !== root && !real.startsWith(root + "/")) return null;
    return real;
  } catch {
    return null;
  }
}
