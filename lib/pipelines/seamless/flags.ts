/**
 * The original's flag spellings: train.py's argparse names use underscores
 * (`--mask_smooth_radius`); Lumen's flags are kebab-case. Flags are rewritten before parsing.
 *
 * @module
 */

/**
 * `--name_with_underscores[=v]` → `--name-with-underscores[=v]`; other arguments unchanged.
 *
 * @example
 * ```ts
 * originalFlags(["--state_archive", "pt/a", "my_run"]); // ["--state-archive", "pt/a", "my_run"]
 * ```
 */
export function originalFlags(argv: readonly string[]): string[] {
  let done = false;
  return argv.map((a) => {
    if (a === "--") done = true;
    if (done || !a.startsWith("--")) return a;
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    return name.replaceAll("_", "-") + (eq < 0 ? "" : a.slice(eq));
  });
}
