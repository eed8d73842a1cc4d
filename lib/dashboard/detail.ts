/**
 * What a run page shows beyond the runs table: the log's records and last lines, and the
 * provenance sidecars, read fresh from the run's root (so a live training shows its new epochs).
 *
 * @example
 * ```ts
 * import { readRunDetail } from "./detail.ts";
 * const d = await readRunDetail(run);
 * d.records.length; d.tail.at(-1);
 * ```
 * @module
 */
import { logSummary, parseRecords, type RunInfo } from "./scan.ts";

/** A run with its log and provenance. */
export interface RunDetail {
  run: RunInfo;
  /** The log's records (empty without a log). */
  records: Record<string, unknown>[];
  /** The log's last lines, as text. */
  tail: string[];
  /** The parsed sidecars, in the order of `run.sidecars`. */
  provenance: Record<string, unknown>[];
}

/** Options of {@link readRunDetail}. */
export interface DetailOptions {
  /** Lines of the log tail (default 40). */
  tailLines?: number;
  /** See ScanOptions.staleSeconds (default 3600). */
  staleSeconds?: number;
  /** Skip the sidecars (the log API needs the log only). */
  logOnly?: boolean;
}

/**
 * Reads a run's log and sidecars; the run's status, duration and key metric are recomputed from
 * the log as it is now (the returned run is a copy).
 * @example `(await readRunDetail(run, { logOnly: true })).records`
 */
export async function readRunDetail(run: RunInfo, o: DetailOptions = {}): Promise<RunDetail> {
  const r: RunInfo = { ...run };
  let records: Record<string, unknown>[] = [];
  let tail: string[] = [];
  if (run.log) {
    const path = `${run.root}/${run.log}`;
    const text = await Deno.readTextFile(path).catch(() => "");
    records = parseRecords(text);
    const lines = text.split("\n").filter((l) => l.trim());
    tail = lines.slice(-(o.tailLines ?? 40));
    let age = 0;
    try {
      const m = (await Deno.stat(path)).mtime?.getTime();
      if (m !== undefined) age = (Date.now() - m) / 1000;
    } catch { /* gone */ }
    const s = logSummary(r.tool, records, age, o.staleSeconds ?? 3600);
    r.status = s.status;
    r.failure = s.failure ?? r.failure;
    r.duration = s.duration;
    r.metric = s.metric ?? r.metric;
  }
  const provenance: Record<string, unknown>[] = [];
  if (!o.logOnly) {
    for (const s of run.sidecars) {
      try {
        provenance.push(JSON.parse(await Deno.readTextFile(`${run.root}/${s}`)));
      } catch {
        provenance.push({ error: `cannot read ${s}` });
      }
    }
  }
  return { run: r, records, tail, provenance };
}
