/**
 * Scans folders for Lumen run artifacts: provenance sidecars (`*.prov.json`), JSON-lines logs
 * (`*.log.jsonl`, `*.jsonl`), checkpoints (`<name>_<epoch>.json`) and shard manifests
 * (`*.shards/<i>-of-<n>/MANIFEST.json`), and groups them into runs.
 *
 * @example
 * ```ts
 * import { scanRoots } from "./scan.ts";
 * const runs = await scanRoots(["runs", "demo_out"]);
 * console.log(runs.map((r) => `${r.tool} ${r.name} ${r.status}`));
 * ```
 * @module
 */

/** Key metric name(s) per tool, looked up in the log's last record (first present wins). */
export const KEY_METRICS: Readonly<Record<string, readonly string[]>> = {
  train: ["val_loss", "loss_g", "loss"],
  default: ["val_loss", "loss", "accuracy", "rmse"],
};

/** One run as the dashboard lists it. */
export interface RunInfo {
  /** Stable identifier (the path of its log or sidecar relative to its root). */
  id: string;
  root: string;
  tool: string;
  name: string;
  status: "running" | "finished" | "failed" | "unknown";
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
  /** Log records (epoch records only kept for charts). */
  log: string | null;
  checkpoints: string[];
}

async function* walk(dir: string, rel = ""): AsyncGenerator<string> {
  let entries: Deno.DirEntry[] = [];
  try {
    for await (const e of Deno.readDir(dir + (rel ? "/" + rel : ""))) entries.push(e);
  } catch {
    return;
  }
  entries = entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) yield* walk(dir, p);
    else if (e.isFile) yield p;
  }
}

/** The key metric of a tool from a log record, or null. */
export function keyMetric(
  tool: string,
  rec: Record<string, unknown> | undefined,
): { name: string; value: number } | null {
  if (!rec) return null;
  for (const k of KEY_METRICS[tool] ?? KEY_METRICS.default) {
    const v = rec[k];
    if (typeof v === "number" && Number.isFinite(v)) return { name: k, value: v };
  }
  return null;
}

function lastRecords(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch { /* a line cut short */ }
  }
  return out;
}

/** Scans the roots and returns the runs found, one per provenance sidecar or log. */
export async function scanRoots(roots: readonly string[]): Promise<RunInfo[]> {
  const runs: RunInfo[] = [];
  for (const root of roots) {
    const files: string[] = [];
    for await (const f of walk(root)) files.push(f);
    const ckpts = files.filter((f) => /_\d+\.json$/.test(f) && !f.endsWith(".prov.json"));
    for (const f of files) {
      const isProv = f.endsWith(".prov.json");
      const isLog = f.endsWith(".jsonl");
      if (!isProv && !isLog) continue;
      const text = await Deno.readTextFile(`${root}/${f}`).catch(() => "");
      if (isProv) {
        let p: Record<string, unknown>;
        try {
          p = JSON.parse(text);
        } catch {
          continue;
        }
        const tool = String(p.tool ?? "?");
        runs.push({
          id: f,
          root,
          tool,
          name: f.replace(/\.prov\.json$/, "").split("/").pop()!,
          status: "finished",
          start: typeof p.created === "string" ? p.created : null,
          duration: null,
          metric: null,
          seed: typeof p.seed === "number" ? p.seed : null,
          commit: typeof p.commit === "string" ? p.commit : null,
          args: p.args ?? null,
          uuid: typeof p.uuid === "string" ? p.uuid : null,
          inputs: Array.isArray(p.inputs) ? p.inputs as { path: string; sha256: string }[] : [],
          log: null,
          checkpoints: [],
        });
      } else {
        const recs = lastRecords(text);
        const first = recs[0] ?? {};
        const last = recs[recs.length - 1];
        const tool = String(first.tool ?? "train");
        const name = f.replace(/(\.log)?\.jsonl$/, "").split("/").pop()!;
        const failed = recs.some((r) => r.event === "error" || r.status === "failed");
        const done = recs.some((r) => r.event === "end" || r.status === "finished");
        const t = recs.map((r) => r.t).filter((x): x is number => typeof x === "number");
        const epochRecs = recs.filter((r) => typeof r.epoch === "number");
        runs.push({
          id: f,
          root,
          tool,
          name,
          status: failed ? "failed" : done ? "finished" : "running",
          start: typeof first.time === "string" ? first.time : null,
          duration: t.length ? t[t.length - 1] : null,
          metric: keyMetric(tool, epochRecs[epochRecs.length - 1] ?? last),
          seed: typeof first.seed === "number" ? first.seed : null,
          commit: typeof first.commit === "string" ? first.commit : null,
          args: first.args ?? null,
          uuid: null,
          inputs: [],
          log: f,
          checkpoints: ckpts.filter((c) => c.split("/").pop()!.startsWith(name + "_")),
        });
      }
    }
  }
  return runs;
}

/** The argument names whose values differ between two runs, sorted. */
export function argDiff(a: unknown, b: unknown): string[] {
  const ao = (a ?? {}) as Record<string, unknown>;
  const bo = (b ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort();
  return keys.filter((k) => JSON.stringify(ao[k]) !== JSON.stringify(bo[k]));
}
