/**
 * `deno task demo [NAME…]`: every pipeline's demo (or the named ones) end to end on data it makes
 * itself, nothing but the clone needed; each writes under `<out>/<name>/`, and one index page,
 * `<out>/index.html`, links their reports.
 *
 * @module
 */
import { existsSync, rmSync } from "node:fs";
import { defineTool, OVERWRITE, type Parsed, SEED, THREADS, UsageError } from "../lib/run/flags.ts";
import { callTool, runTool } from "../lib/run/main.ts";
import { LumenError } from "../lib/run/errors.ts";
import { type DemoResult, type DemoRun, writeDemoIndex } from "../lib/run/demo.ts";
import { exportDashboard } from "../lib/dashboard/export.ts";
import { runDemo as nostripesnet } from "./nostripesnet/_demo.ts";
import { runDemo as diffsims } from "./diffsims/_demo.ts";
import { runDemo as flair } from "./flair/_demo.ts";
import { runDemo as nsw } from "./nsw/_demo.ts";
import { runDemo as seamless } from "./seamless/_demo.ts";

/** The tool's command line. */
export const meta = defineTool({
  name: "demo",
  summary: "every pipeline end to end on embedded data (or the named ones), with one HTML index",
  permissions: ["--allow-read", "--allow-write=OUT"],
  assets: true,
  task: "demo",
  args: [{ name: "NAME", help: "pipelines to run (default: all)", optional: true, variadic: true }],
  flags: {
    out: { type: "string", default: "demo_out", arg: "OUT", help: "folder for everything" },
    epochs: { type: "int", min: 1, default: 20, help: "NoStripesNet training epochs" },
    preset: {
      type: "choice",
      choices: ["small", "tiny", "paper"],
      default: "small",
      help: "NoStripesNet model size",
    },
    threads: THREADS,
    seed: SEED,
    overwrite: OVERWRITE,
  },
});

type Flags = Parsed<typeof meta.flags>;

/** The pipelines' demos, in the order `deno task demo` runs them. */
const DEMOS: Record<string, (out: string, f: Flags) => Promise<DemoResult>> = {
  nostripesnet: (out, f) =>
    nostripesnet(out, {
      epochs: f.epochs,
      preset: f.preset,
      seed: f.seed,
      threads: f.threads,
      quiet: f.quiet,
    }),
  diffsims: (out, f) => diffsims(out, { quiet: f.quiet, seed: f.seed, threads: f.threads }),
  flair: (out, f) => flair(out, { quiet: f.quiet, seed: f.seed, threads: f.threads }),
  nsw: (out, f) => nsw(out, { quiet: f.quiet, seed: f.seed, threads: f.threads }),
  seamless: (out, f) => seamless(out, { quiet: f.quiet, seed: f.seed, threads: f.threads }),
};

async function demo(f: Flags): Promise<void> {
  const names = f._.length ? f._ : Object.keys(DEMOS);
  for (const n of names) {
    if (!DEMOS[n]) {
      throw new UsageError("NAME", `${n}: no such demo (have: ${Object.keys(DEMOS).join(", ")})`);
    }
  }
  const out = f.out;
  if (existsSync(out)) {
    if (!f.overwrite) {
      throw new LumenError(out, "", "exists; pass --overwrite to run the demo again into it");
    }
    rmSync(out, { recursive: true });
  }
  Deno.mkdirSync(out, { recursive: true });
  const runs: DemoRun[] = [];
  const t0 = performance.now();
  for (const name of names) {
    if (!f.quiet) console.log(`== ${name}`);
    const t = performance.now();
    const result = await DEMOS[name](`${out}/${name}`, f);
    const seconds = (performance.now() - t) / 1000;
    runs.push({ name, seconds, result });
    console.log(`\n${name} demo done in ${seconds.toFixed(0)} s:`);
    for (const line of result.summary) console.log(`  ${line}`);
  }
  // every run of every demo on one dashboard page (static, opens from file://)
  const t = performance.now();
  const dash = await exportDashboard([out], `${out}/dashboard`, { overwrite: true });
  runs.push({
    name: "dashboard",
    seconds: (performance.now() - t) / 1000,
    result: {
      index: `${dash.dir}/index.html`,
      summary: [`${dash.runs} runs of the demos, ${dash.pages} pages: ${dash.dir}/index.html`],
    },
  });
  const index = await writeDemoIndex(out, runs);
  const secs = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`\ndemo done in ${secs} s. index of all results: ${index}`);
}

/** Runs the demo in this process (see callTool). */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, demo, argv);

if (import.meta.main) await runTool(meta, demo);
