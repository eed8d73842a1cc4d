/**
 * Shard staging folders as the dashboard shows them: for an output `<out>`, the folders
 * `<out>.shards/<iiii>-of-<nnnn>/` of lib/run/shard.ts. A shard is `complete` when its
 * `MANIFEST.json` exists, `failed` when its own log (a `.jsonl`, `.log`, `.err` or `.out` file in
 * its folder) or its SLURM array log (`<step>_<job>_<index>.out` anywhere in the root) holds an
 * error line, `running` when its folder exists without a manifest, and `missing` otherwise.
 *
 * @example
 * ```ts
 * import { shardGroups } from "./shards.ts";
 * const groups = await shardGroups("runs", ["data/0000.shards/0000-of-0002/MANIFEST.json"]);
 * groups[0].shards.map((s) => s.state); // ["complete", "missing"]
 * ```
 * @module
 */

/** One shard of a group. */
export interface ShardState {
  index: number;
  state: "complete" | "running" | "failed" | "missing";
  /** Seconds from its first file to its last, when known. */
  seconds: number | null;
  /** The line that says why it failed. */
  failure: string | null;
  /** Its staging folder relative to the root, when present. */
  dir: string | null;
  /** The log the failure line comes from, relative to the root. */
  log: string | null;
}

/** The shards of one output. */
export interface ShardGroup {
  /** The output the shards make, relative to the root. */
  output: string;
  /** The tool named in the manifests ("?" when none is complete). */
  tool: string;
  count: number;
  shards: ShardState[];
  /** ISO time of the earliest shard file. */
  start: string | null;
  /** Seconds from the earliest shard file to the latest. */
  seconds: number | null;
}

const ERROR_LINE = /\berror\b|\bfailed\b|Traceback|Killed|CANCELLED|oom-kill|DUE TO TIME LIMIT/i;

/**
 * The line of a log that says what went wrong: the last line matching an error pattern (an
 * `error` event's message in JSON lines), or null.
 * @example `failureLine("step 1\ntrain: error: x.h5: cannot read\n")` // "train: error: x.h5: cannot read"
 */
export function failureLine(text: string): string | null {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (l.startsWith("{")) {
      try {
        const r = JSON.parse(l);
        if (r.event === "error" || r.status === "failed") {
          return String(r.message ?? r.error ?? r.problem ?? l);
        }
        continue;
      } catch { /* not JSON: test it as text */ }
    }
    if (ERROR_LINE.test(l)) return l.length > 400 ? l.slice(0, 400) + "…" : l;
  }
  return null;
}

async function mtimeOf(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

/**
 * Groups the shard folders found among a root's files (paths relative to the root).
 * @example `(await shardGroups("runs", files)).map((g) => g.output)`
 */
export async function shardGroups(root: string, files: readonly string[]): Promise<ShardGroup[]> {
  const groups = new Map<string, { count: number; dirs: Map<number, string[]> }>();
  const arrayLogs: { step: string; job: number; index: number; path: string }[] = [];
  for (const f of files) {
    const m = /^(.*)\.shards\/(\d+)-of-(\d+)\/(.+)$/.exec(f);
    if (m) {
      const [, output, i, n] = m;
      let g = groups.get(output);
      if (!g) groups.set(output, g = { count: Number(n), dirs: new Map() });
      g.count = Math.max(g.count, Number(n));
      const idx = Number(i);
      if (!g.dirs.has(idx)) g.dirs.set(idx, []);
      g.dirs.get(idx)!.push(f);
      continue;
    }
    const a = /(?:^|\/)([^/]+)_(\d+)_(\d+)\.out$/.exec(f);
    if (a) arrayLogs.push({ step: a[1], job: Number(a[2]), index: Number(a[3]), path: f });
  }
  const out: ShardGroup[] = [];
  for (const [output, g] of groups) {
    const shards: ShardState[] = [];
    let tool = "?";
    let t0 = Infinity, t1 = -Infinity;
    const base = output.slice(output.lastIndexOf("/") + 1);
    for (let index = 0; index < g.count; index++) {
      const own = g.dirs.get(index) ?? [];
      const dir = own.length ? /^(.*\.shards\/\d+-of-\d+)\//.exec(own[0])![1] : null;
      const manifest = own.find((f) => f === `${dir}/MANIFEST.json`);
      if (manifest) {
        try {
          const m = JSON.parse(await Deno.readTextFile(`${root}/${manifest}`));
          if (typeof m.tool === "string") tool = m.tool;
        } catch { /* being written */ }
      }
      let lo = Infinity, hi = -Infinity;
      for (const f of own) {
        const t = await mtimeOf(`${root}/${f}`);
        if (t !== null) (lo = Math.min(lo, t), hi = Math.max(hi, t));
      }
      t0 = Math.min(t0, lo);
      t1 = Math.max(t1, hi);
      let failure: string | null = null, log: string | null = null;
      if (!manifest) {
        const logs = [
          ...own.filter((f) => /\.(jsonl|log|err|out)$/.test(f)),
          ...arrayLogs.filter((a) => a.index === index).sort((a, b) => b.job - a.job)
            .filter((a, _i, all) =>
              all.some((x) => x.step === tool || x.step === base)
                ? a.step === tool || a.step === base
                : true
            ).map((a) => a.path),
        ];
        for (const l of logs) {
          const line = failureLine(await Deno.readTextFile(`${root}/${l}`).catch(() => ""));
          if (line) {
            failure = line;
            log = l;
            break;
          }
        }
      }
      shards.push({
        index,
        state: manifest ? "complete" : failure ? "failed" : dir ? "running" : "missing",
        seconds: Number.isFinite(lo) && hi > lo ? (hi - lo) / 1000 : null,
        failure,
        dir,
        log,
      });
    }
    out.push({
      output,
      tool,
      count: g.count,
      shards,
      start: Number.isFinite(t0) ? new Date(t0).toISOString() : null,
      seconds: Number.isFinite(t0) && t1 > t0 ? (t1 - t0) / 1000 : null,
    });
  }
  return out;
}
