/**
 * Runs as the dashboard lists them: the records of {@link scanRoots} merged by uuid, so that a
 * training's log and the sidecars of its checkpoints (which share the provenance uuid the log's
 * `start` record names) make one run, and the sidecars of one computation make one run.
 *
 * @example
 * ```ts
 * import { scanRoots } from "./scan.ts";
 * import { groupRuns, runKey } from "./runs.ts";
 * const roots = ["demo_out"];
 * const runs = groupRuns(await scanRoots(roots));
 * runs.map((r) => runKey(roots, r)); // ["0/nostripesnet/runs/demo.log.jsonl", …]
 * ```
 * @module
 */
import type { RunInfo } from "./scan.ts";

const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

function absorb(into: RunInfo, r: RunInfo): void {
  into.sidecars = uniq([...into.sidecars, ...r.sidecars]);
  into.artifacts = uniq([...into.artifacts, ...r.artifacts]);
  into.figures = uniq([...into.figures, ...r.figures]);
  into.checkpoints = uniq([...into.checkpoints, ...r.checkpoints]);
  into.shards = [...into.shards, ...r.shards];
  into.commit ??= r.commit;
  into.seed ??= r.seed;
  into.metric ??= r.metric;
  into.start ??= r.start;
  into.failure ??= r.failure;
  if (into.args === null || into.args === undefined) into.args = r.args;
  if (!into.inputs.length) into.inputs = r.inputs;
  if (into.tool === "?" || (!into.log && r.log)) into.tool = r.tool;
}

/**
 * Merges scanned records by (root, uuid): a log and sidecars with its uuid become the log's run;
 * sidecars with one uuid and no log become one run. Records without a uuid stay as they are.
 * The input is not changed.
 * @example `groupRuns(await scanRoots(["runs"])).length`
 */
export function groupRuns(scanned: readonly RunInfo[]): RunInfo[] {
  const out: RunInfo[] = [];
  const byUuid = new Map<string, RunInfo>();
  const copy = (r: RunInfo): RunInfo => ({ ...r, shards: [...r.shards] });
  // logs first: they own the uuid when there is one
  const ordered = [...scanned.filter((r) => r.log), ...scanned.filter((r) => !r.log)];
  for (const r of ordered) {
    const key = r.uuid ? `${r.root}\0${r.uuid}` : null;
    const owner = key ? byUuid.get(key) : undefined;
    if (owner) {
      absorb(owner, r);
      continue;
    }
    const c = copy(r);
    out.push(c);
    if (key) byUuid.set(key, c);
  }
  // back to scan order (by the first record of each run)
  const first = new Map<RunInfo, number>();
  const at = new Map(scanned.map((s, i) => [`${s.root}\0${s.id}`, i]));
  for (const r of out) first.set(r, at.get(`${r.root}\0${r.id}`) ?? 0);
  return out.sort((a, b) => first.get(a)! - first.get(b)!);
}

/**
 * The run's key in URLs and the API: `<root index>/<id>`.
 * @example `runKey(["runs"], run)` // "0/a/train.log.jsonl"
 */
export function runKey(roots: readonly string[], run: RunInfo): string {
  return `${roots.indexOf(run.root)}/${run.id}`;
}

/**
 * The run of a key, or undefined.
 * @example `findRun(runs, roots, "0/a/train.log.jsonl")?.name`
 */
export function findRun(
  runs: readonly RunInfo[],
  roots: readonly string[],
  key: string,
): RunInfo | undefined {
  const slash = key.indexOf("/");
  if (slash < 0) return undefined;
  const root = roots[Number(key.slice(0, slash))];
  const id = key.slice(slash + 1);
  return runs.find((r) => r.root === root && r.id === id);
}
