/**
 * `dashboard [--root DIR …] [--port 8470] [--host 127.0.0.1] [--export DIR]`: the local run
 * dashboard. It scans the roots for Lumen runs (JSON-lines logs, provenance sidecars,
 * checkpoints, figures, reports, shard staging folders) and serves, on the loopback address by
 * default, the runs table (with the argument differences of selected runs), one page per run
 * (live metric curves, figures, checkpoints, shards, provenance, log tail) and the lineage graph.
 * `--export DIR` writes the same pages as static HTML instead. The work is lib/dashboard.
 *
 * @module
 */
import { defineTool, OVERWRITE, type Parsed, UsageError } from "../lib/run/flags.ts";
import { onAbort, runTool } from "../lib/run/main.ts";
import { exportDashboard, serveDashboard } from "../lib/dashboard/mod.ts";

/**
 * The tool's command line.
 * @example `usage(meta)`
 */
export const meta = defineTool({
  name: "dashboard",
  summary: "serves a local dashboard of the runs under the roots (or exports it as static HTML)",
  permissions: ["--allow-read", "--allow-write=.", "--allow-net=127.0.0.1"],
  task: "dashboard",
  flags: {
    root: {
      type: "list",
      arg: "DIR",
      help: "folder to scan (repeatable; default: runs and demo_out where present)",
    },
    port: { type: "int", min: 0, max: 65535, default: 8470, help: "port (0: any free one)" },
    host: {
      type: "string",
      default: "127.0.0.1",
      help: "address to bind (another one needs --allow-net for it)",
    },
    export: { type: "string", arg: "DIR", help: "write static HTML pages to DIR and exit" },
    overwrite: OVERWRITE,
  },
  description: `Reach a dashboard on a cluster's compute node with: ssh -L 8470:127.0.0.1:8470 NODE
The server reads the roots only; every file it serves lies inside one of them.`,
  examples: [
    "--root runs --root demo_out",
    "--root demo_out --export demo_out/dashboard --overwrite",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/**
 * The roots to scan: the named ones (each must be a folder), else runs/ and demo_out/ here.
 * @example `dashboardRoots(["demo_out"])` // ["demo_out"]
 */
export function dashboardRoots(named: readonly string[]): string[] {
  const isDir = (p: string) => {
    try {
      return Deno.statSync(p).isDirectory;
    } catch {
      return false;
    }
  };
  if (named.length) {
    for (const r of named) if (!isDir(r)) throw new UsageError("--root", `${r}: not a folder`);
    return [...named];
  }
  const found = ["runs", "demo_out"].filter(isDir);
  if (!found.length) {
    throw new UsageError("--root", "no runs/ or demo_out/ here: name a folder to scan");
  }
  return found;
}

/**
 * Runs the tool: exports, or serves until interrupted.
 * @example `await dashboard(parseFlags(meta, ["--root", "runs", "--export", "dash"]))`
 */
export async function dashboard(f: Flags): Promise<void> {
  const roots = dashboardRoots((f.root ?? []) as string[]);
  if (f.export) {
    const r = await exportDashboard(roots, f.export, { overwrite: f.overwrite });
    if (!f.quiet) console.log(`wrote ${r.pages} pages (${r.runs} runs) to ${r.dir}/index.html`);
    return;
  }
  const ac = new AbortController();
  const off = onAbort(() => ac.abort());
  let d;
  try {
    d = serveDashboard({ roots, host: f.host, port: f.port, signal: ac.signal });
  } catch (e) {
    off();
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError("--port", `${f.port} is in use (pick another, or 0 for any)`);
    }
    throw e;
  }
  if (!f.quiet) {
    console.log(`dashboard of ${roots.join(", ")} on ${d.url} (Ctrl-C stops it)`);
  }
  await d.finished;
  off();
}

if (import.meta.main) await runTool(meta, dashboard);
