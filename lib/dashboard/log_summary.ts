/**
 * What a JSON-lines log says about its run: status, failure line, duration and key metric
 * ({@link logSummary}), from only the few records that decide them ({@link summaryRecords}).
 *
 * Status: `failed` (an `error` event or `status: "failed"`), `finished` (an `end` event or
 * `status: "finished"`), `killed` (an `interrupted`/`killed`/`signal` event, or a log without an
 * end that has not changed for `staleSeconds`), else `running`.
 *
 * @example
 * ```ts
 * import { logSummary, summaryRecords } from "./log_summary.ts";
 * const s = logSummary("train", summaryRecords(await Deno.readTextFile("runs/a.log.jsonl")));
 * s.status; s.metric;
 * ```
 * @module
 */
import { canonicalLossName } from "../viz/html_report.ts";

/**
 * Key metric name(s) per tool, looked up in the log's last epoch record (first present wins).
 * @example `KEY_METRICS.train[0]` // "val_loss_g"
 */
export const KEY_METRICS: Readonly<Record<string, readonly string[]>> = {
  train: ["val_loss_g", "val_loss", "loss_g", "loss"],
  test: ["psnr", "structural_similarity", "rmse", "l1"],
  default: ["val_loss", "loss", "accuracy", "rmse", "psnr"],
};

/** Where a run stands. */
export type RunStatus = "running" | "finished" | "failed" | "killed" | "unknown";

const CANON = new Map<string, string>();

/**
 * The key metric of a tool from a log record, or null. Field names are compared in the
 * canonical spelling of html_report.ts (`val_lossG` is `val_loss_g`).
 * @example `keyMetric("train", { epoch: 2, loss_g: 0.25 })` // { name: "loss_g", value: 0.25 }
 */
export function keyMetric(
  tool: string,
  rec: Record<string, unknown> | undefined,
): { name: string; value: number } | null {
  if (!rec) return null;
  const canon = new Map<string, unknown>();
  for (const [k, v] of Object.entries(rec)) {
    if (!canon.has(k)) canon.set(k, v);
    let c = CANON.get(k);
    if (c === undefined) {
      c = canonicalLossName(k);
      if (CANON.size < 10_000) CANON.set(k, c);
    }
    if (!canon.has(c)) canon.set(c, v);
  }
  for (const k of KEY_METRICS[tool] ?? KEY_METRICS.default) {
    const v = canon.get(k);
    if (typeof v === "number" && Number.isFinite(v)) return { name: k, value: v };
  }
  return null;
}

/**
 * The records of a JSON-lines text (lines that do not parse are skipped).
 * @example `parseRecords('{"epoch":1}\n{"epo')` // [{ epoch: 1 }]
 */
export function parseRecords(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      if (r && typeof r === "object" && !Array.isArray(r)) out.push(r);
    } catch { /* a line cut short */ }
  }
  return out;
}

const MARKER = /"(?:event|status)"\s*:\s*"(?:error|end|interrupted|killed|signal|failed|finished)"/;

/**
 * The records of a JSON-lines text that {@link logSummary} needs (in file order): the first, the
 * ones with an end, error or kill marker, the last epoch record, the last with a time `t`, and
 * the last. `logSummary` gives the same answer on them as on all records, with far less parsing.
 * @example `summaryRecords('{"a":1}\n{"epoch":1}\n{"epoch":2}\n').length` // 2
 */
export function summaryRecords(text: string): Record<string, unknown>[] {
  const lines = text.split("\n");
  const parsed = new Map<number, Record<string, unknown>>();
  const parse = (i: number): Record<string, unknown> | null => {
    if (parsed.has(i)) return parsed.get(i)!;
    const l = lines[i];
    if (!l.trim()) return null;
    try {
      const r = JSON.parse(l);
      if (r && typeof r === "object" && !Array.isArray(r)) {
        parsed.set(i, r);
        return r;
      }
    } catch { /* a line cut short */ }
    return null;
  };
  const keep = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    if (parse(i)) {
      keep.add(i);
      break;
    }
  }
  const marked = MARKER.test(text);
  for (let i = 0; marked && i < lines.length; i++) {
    if (MARKER.test(lines[i]) && parse(i)) keep.add(i);
  }
  let last = false, withT = false, epoch = false;
  for (let i = lines.length - 1; i >= 0 && !(last && withT && epoch); i--) {
    const r = parse(i);
    if (!r) continue;
    if (!last) (last = true, keep.add(i));
    if (!withT && typeof r.t === "number") (withT = true, keep.add(i));
    if (!epoch && typeof r.epoch === "number" && (r.event === undefined || r.event === "epoch")) {
      epoch = true;
      keep.add(i);
    }
  }
  return [...keep].sort((a, b) => a - b).map((i) => parsed.get(i)!);
}

/**
 * Status, failure line, duration and key metric of a run from its log records.
 * @example `logSummary("train", [{ epoch: 1, loss: 2 }, { event: "end", t: 3 }]).status` // "finished"
 */
export function logSummary(
  tool: string,
  recs: readonly Record<string, unknown>[],
  ageSeconds = 0,
  staleSeconds = 3600,
): {
  status: RunStatus;
  failure: string | null;
  duration: number | null;
  metric: { name: string; value: number } | null;
} {
  const err = recs.find((r) => r.event === "error" || r.status === "failed");
  const done = recs.some((r) => r.event === "end" || r.status === "finished");
  const killed = recs.some((r) => ["interrupted", "killed", "signal"].includes(String(r.event)));
  const t = recs.map((r) => r.t).filter((x): x is number => typeof x === "number");
  const epochs = recs.filter((r) =>
    typeof r.epoch === "number" && (r.event === undefined || r.event === "epoch")
  );
  const status: RunStatus = err
    ? "failed"
    : done
    ? "finished"
    : killed || ageSeconds > staleSeconds
    ? "killed"
    : "running";
  const msg = err && (err.message ?? err.error ?? err.problem ?? err.line);
  return {
    status,
    failure: err ? (msg !== undefined ? String(msg) : JSON.stringify(err)) : null,
    duration: t.length ? t[t.length - 1] : null,
    metric: keyMetric(tool, epochs[epochs.length - 1] ?? recs[recs.length - 1]),
  };
}

/**
 * A key metric from a small metrics JSON file (`metrics: [{name, value}]` or flat numbers).
 * @example `fileMetric("test", '{"metrics":[{"name":"psnr","value":24}]}')` // { name: "psnr", value: 24 }
 */
export function fileMetric(tool: string, text: string): { name: string; value: number } | null {
  try {
    const j = JSON.parse(text);
    const flat: Record<string, unknown> = {};
    if (Array.isArray(j?.metrics)) {
      for (const m of j.metrics) if (m && typeof m.name === "string") flat[m.name] = m.value;
    } else if (j && typeof j === "object") Object.assign(flat, j.metrics ?? j);
    return keyMetric(tool, flat);
  } catch {
    return null;
  }
}
