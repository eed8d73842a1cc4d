/**
 * Scans folders for Lumen run artifacts: provenance sidecars (`*.prov.json`), JSON-lines logs
 * (`*.log.jsonl`, `*.jsonl`), checkpoints (`<name>_<epoch>.json`), figures and HTML reports
 * (`.png`, `.svg`, `.jpg`, `.html`), shard staging folders (`*.shards/<i>-of-<n>/MANIFEST.json`)
 * and SLURM array logs (`<step>_<job>_<task>.out`), and makes one run of each log and each
 * sidecar (see runs.ts for merging them by uuid).
 *
 * A run's status, duration and key metric come from its log (see log_summary.ts).
 *
 * @example
 * ```ts
 * import { scanRoots } from "./scan.ts";
 * const runs = await scanRoots(["runs", "demo_out"]);
 * console.log(runs.map((r) => `${r.tool} ${r.name} ${r.status}`));
 * ```
 * @module
 */
import { fileMetric, logSummary, type RunStatus, summaryRecords } from "./log_summary.ts";
import { type ShardGroup, shardGroups } from "./shards.ts";

export type { ShardGroup, ShardState } from "./shards.ts";
export {
  fileMetric,
  KEY_METRICS,
  keyMetric,
  logSummary,
  parseRecords,
  type RunStatus,
  summaryRecords,
} from "./log_summary.ts";

/** One run as the dashboard lists it. */
export interface RunInfo {
  /** Stable identifier (the path of its log or sidecar relative to its root). */
  id: string;
  root: string;
  tool: string;
  name: string;
  status: RunStatus;
  /** ISO start time, when known. */
  start: string | null;
  /** Seconds, when known. */
  duration: number | null;
  metric: { name: string; value: number } | null;
  seed: number | null;
  commit: string | null;
  args: unknown;
  uuid: string | null;
  inputs: { path: string; sha256: string }[];
  /** The JSON-lines log, relative to the root. */
  log: string | null;
  checkpoints: string[];
  /** Provenance sidecars of the run, relative to the root. */
  sidecars: string[];
  /** The artifacts those sidecars describe (sidecar path less `.prov.json`). */
  artifacts: string[];
  /** Figures and HTML reports that belong to the run, relative to the root. */
  figures: string[];
  /** Sharded steps of the run (staging folders still present). */
  shards: ShardGroup[];
  /** The line that says why a failed run failed. */
  failure: string | null;
}

/** Options of {@link scanRoots}. */
export interface ScanOptions {
  /** A log without an end untouched for this long counts as killed (default 3600 s). */
  staleSeconds?: number;
  /** The time to judge staleness against, ms since the epoch (default now). */
  now?: number;
}

const FIGURE = /\.(png|svg|jpe?g|gif|webp|html?)$/i;

/**
 * Files under `dir`, relative to it, sorted by name; hidden folders, node_modules and folders
 * that cannot be read are skipped.
 */
function walk(dir: string, rel = "", out: string[] = []): string[] {
  let entries: Deno.DirEntry[] = [];
  try {
    // synchronous reads: about ten times faster than awaiting each of many small files
    entries = [...Deno.readDirSync(dir + (rel ? "/" + rel : ""))];
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) {
      if (!e.name.startsWith(".") && e.name !== "node_modules") walk(dir, p, out);
    } else if (e.isFile) out.push(p);
  }
  return out;
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

function mtimeOf(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

const dirOf = (p: string) => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : "");
const baseOf = (p: string) => p.slice(p.lastIndexOf("/") + 1);
const join = (d: string, f: string) => (d ? `${d}/${f}` : f);

/** Figures named after a run (`<name>`, `<name>.…`, `<name>_…`) beside it or in figures/. */
function figuresOf(byDir: Map<string, string[]>, at: string, name: string): string[] {
  if (!byDir.size) return [];
  const d = dirOf(at);
  const dirs = [d, join(d, "figures"), join(dirOf(d), "figures")];
  const out: string[] = [];
  for (const dir of new Set(d ? dirs : dirs.slice(0, 2))) {
    for (const f of byDir.get(dir) ?? []) {
      const b = baseOf(f);
      if (b === name || (b.startsWith(name) && /[._-]/.test(b[name.length] ?? ""))) out.push(f);
    }
  }
  return out;
}

/**
 * Scans the roots and returns the runs found, one per provenance sidecar or log.
 * @example `(await scanRoots(["runs"], { staleSeconds: 600 })).filter((r) => r.status === "running")`
 */
export async function scanRoots(
  roots: readonly string[],
  opts: ScanOptions = {},
): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  const now = opts.now ?? Date.now();
  const stale = opts.staleSeconds ?? 3600;
  for (const root of roots) {
    const files = walk(root);
    // checkpoints `<dir>/<name>_<epoch>.json` by `<dir>/<name>`
    const ckpts = new Map<string, string[]>();
    for (const f of files) {
      if (!f.endsWith(".json") || f.endsWith(".prov.json")) continue;
      const m = /_\d+\.json$/.exec(f);
      if (!m) continue;
      const k = f.slice(0, m.index);
      if (!ckpts.has(k)) ckpts.set(k, []);
      ckpts.get(k)!.push(f);
    }
    const byDir = new Map<string, string[]>();
    for (const f of files) {
      if (!FIGURE.test(f)) continue;
      const d = dirOf(f);
      if (!byDir.has(d)) byDir.set(d, []);
      byDir.get(d)!.push(f);
    }
    const fileSet = new Set(files);
    const mine: RunInfo[] = [];
    for (const f of files) {
      const isProv = f.endsWith(".prov.json");
      const isLog = f.endsWith(".jsonl");
      if (!isProv && !isLog) continue;
      if (/\.shards\/[^/]+\//.test(f) && isLog) continue; // a shard's own log: see shards.ts
      const text = readText(`${root}/${f}`);
      if (isProv) {
        let p: Record<string, unknown>;
        try {
          p = JSON.parse(text);
        } catch {
          continue;
        }
        if (!p || typeof p !== "object") continue;
        const tool = String(p.tool ?? "?");
        const artifact = f.replace(/\.prov\.json$/, "");
        let metric = null;
        if (/\.metrics\.json$/.test(artifact) && fileSet.has(artifact)) {
          metric = fileMetric(tool, readText(`${root}/${artifact}`));
        }
        const name = baseOf(artifact);
        mine.push({
          id: f,
          root,
          tool,
          name,
          status: "finished",
          start: typeof p.created === "string" ? p.created : null,
          duration: null,
          metric,
          seed: typeof p.seed === "number" ? p.seed : null,
          commit: typeof p.commit === "string" ? p.commit : null,
          args: p.args ?? null,
          uuid: typeof p.uuid === "string" ? p.uuid : null,
          inputs: Array.isArray(p.inputs) ? p.inputs as { path: string; sha256: string }[] : [],
          log: null,
          checkpoints: [],
          sidecars: [f],
          artifacts: [artifact],
          figures: figuresOf(byDir, f, name.replace(/\.[^.]*$/, "") || name),
          shards: [],
          failure: null,
        });
      } else {
        const recs = summaryRecords(text);
        const first = recs[0] ?? {};
        const tool = String(first.tool ?? "train");
        const name = f.replace(/(\.log)?\.jsonl$/, "").split("/").pop()!;
        let s = logSummary(tool, recs, 0, stale);
        // the file's time only where it matters: a run without an end, a log without times
        const mtime = s.status === "running" || typeof first.time !== "string"
          ? mtimeOf(`${root}/${f}`)
          : null;
        if (s.status === "running" && mtime !== null) {
          s = logSummary(tool, recs, (now - mtime) / 1000, stale);
        }
        let start = typeof first.time === "string" ? first.time : null;
        if (!start && mtime !== null) {
          start = new Date(mtime - (s.duration ?? 0) * 1000).toISOString();
        }
        mine.push({
          id: f,
          root,
          tool,
          name,
          status: s.status,
          start,
          duration: s.duration,
          metric: s.metric,
          seed: typeof first.seed === "number" ? first.seed : null,
          commit: typeof first.commit === "string" ? first.commit : null,
          args: first.args ?? null,
          uuid: typeof first.uuid === "string" ? first.uuid : null,
          inputs: [],
          log: f,
          checkpoints: ckpts.get(join(dirOf(f), name)) ?? [],
          sidecars: [],
          artifacts: [],
          figures: figuresOf(byDir, f, name),
          shards: [],
          failure: s.failure,
        });
      }
    }
    for (const g of await shardGroups(root, files)) {
      const owner = mine.find((r) => r.artifacts.includes(g.output));
      if (owner) {
        owner.shards.push(g);
        continue;
      }
      const failed = g.shards.find((s) => s.state === "failed");
      const complete = g.shards.every((s) => s.state === "complete");
      mine.push({
        id: `${g.output}.shards`,
        root,
        tool: g.tool,
        name: baseOf(g.output),
        status: failed ? "failed" : complete ? "finished" : "running",
        start: g.start,
        duration: g.seconds,
        metric: null,
        seed: null,
        commit: null,
        args: null,
        uuid: null,
        inputs: [],
        log: null,
        checkpoints: [],
        sidecars: [],
        artifacts: [g.output],
        figures: [],
        shards: [g],
        failure: failed ? `shard ${failed.index}/${g.count}: ${failed.failure ?? "failed"}` : null,
      });
    }
    runs.push(...mine);
  }
  return runs;
}

/**
 * The argument names whose values differ between two runs, sorted.
 * @example `argDiff({ lr: 1, b: 2 }, { lr: 2, b: 2 })` // ["lr"]
 */
export function argDiff(a: unknown, b: unknown): string[] {
  const ao = (a ?? {}) as Record<string, unknown>;
  const bo = (b ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort();
  return keys.filter((k) => JSON.stringify(ao[k]) !== JSON.stringify(bo[k]));
}
