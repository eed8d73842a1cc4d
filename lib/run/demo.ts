/**
 * What a pipeline's demo returns, and the one HTML index that links every demo's results.
 *
 * @example
 * ```ts
 * import { writeDemoIndex } from "./demo.ts";
 * await writeDemoIndex("demo_out", [{
 *   name: "nostripesnet", seconds: 200,
 *   result: { index: "demo_out/nostripesnet/figures/demo.report.html", summary: ["…"] },
 * }]);
 * ```
 * @module
 */
import { relative } from "node:path";
import { writeTextAtomic } from "./atomic.ts";

/** A demo's outcome: its HTML report or index, and a few lines that say where things are. */
export interface DemoResult {
  /** Path of the demo's own HTML report or index page. */
  index: string;
  /** Lines for the terminal and the index page. */
  summary: string[];
}

/** One pipeline's demo as it ran. */
export interface DemoRun {
  name: string;
  seconds: number;
  result: DemoResult;
}

function esc(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/** The index page's HTML (links relative to `out`). */
export function demoIndexHtml(out: string, runs: readonly DemoRun[]): string {
  const rows = runs.map((r) => {
    const href = relative(out, r.result.index).split("/").map(encodeURIComponent).join("/");
    return `<section><h2><a href="${href}">${esc(r.name)}</a> <small>${r.seconds.toFixed(0)} s` +
      `</small></h2><pre>${esc(r.result.summary.join("\n"))}</pre></section>`;
  }).join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lumen demo</title>
<style>body{font:15px system-ui,sans-serif;margin:2em auto;max-width:60em}pre{background:#f4f4f4;
padding:.8em;overflow-x:auto}small{color:#666;font-weight:normal}</style></head><body>
<h1>Lumen demo</h1>
${rows}
</body></html>
`;
}

/** Writes `<out>/index.html` (atomically) and returns its path. */
export async function writeDemoIndex(out: string, runs: readonly DemoRun[]): Promise<string> {
  const path = `${out}/index.html`;
  await writeTextAtomic(path, demoIndexHtml(out, runs), { overwrite: true });
  return path;
}

/** A flag's value in {@link demoArgv}: a list is spelled as repeated values after one flag. */
export type DemoFlagValue = string | number | boolean | undefined | readonly (string | number)[];

/**
 * A tool's argument list from a record of long flags, in the record's order: `true` is the bare
 * flag, `false` and `undefined` leave it out, a list gives its values after the flag.
 *
 * @example
 * ```ts
 * demoArgv({ mode: "patch", "patch-size": "128,64", quiet: true, seed: 0 });
 * // ["--mode", "patch", "--patch-size", "128,64", "--quiet", "--seed", "0"]
 * ```
 */
export function demoArgv(flags: Record<string, DemoFlagValue>): string[] {
  const argv: string[] = [];
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || v === false) continue;
    argv.push(`--${k}`);
    if (Array.isArray(v)) argv.push(...v.map(String));
    else if (v !== true) argv.push(String(v));
  }
  return argv;
}
