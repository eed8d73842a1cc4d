/**
 * The lineage graph of the runs found: which inputs each run read and which artifacts it wrote,
 * from the provenance records (inputs with their sha256, the artifacts of the sidecars, the
 * uuid shared by a training's log and its checkpoints).
 *
 * Nodes: `run:<root index>:<run id>` (one per run with provenance), `art:<root index>:<path>`
 * (an artifact with a sidecar) and `in:<sha256>` (an input no scanned sidecar describes, or a
 * folder of artifacts). Edges go from what was read to what read it, and from a run to what it
 * wrote. An input path matches an artifact when it is the artifact's path, a file of it
 * (`runs/demo_2.json` for the checkpoint `runs/demo_2`), or the artifact is a file of it
 * (`masks.npz.mscan` for `masks.npz`); a folder input holding artifacts gets an edge from each.
 *
 * @example
 * ```ts
 * import { buildLineage } from "./lineage.ts";
 * import { groupRuns } from "./runs.ts";
 * import { scanRoots } from "./scan.ts";
 * const roots = ["demo_out"];
 * const g = buildLineage(groupRuns(await scanRoots(roots)), roots);
 * g.edges.length;
 * ```
 * @module
 */
import type { RunInfo } from "./scan.ts";
import { runKey } from "./runs.ts";

/** What an artifact is, guessed from the tool that wrote it. */
export type NodeRole =
  | "run"
  | "dataset"
  | "model"
  | "predictions"
  | "metrics"
  | "figure"
  | "input"
  | "artifact";

/** A node of the graph. */
export interface LineageNode {
  key: string;
  kind: "run" | "artifact" | "input";
  role: NodeRole;
  label: string;
  /** Run nodes and artifacts: the run's key (see runKey). */
  run?: string;
  /** Artifacts: the path relative to their root; inputs: the path as recorded. */
  path?: string;
  /** Artifacts: the index of their root. */
  root?: number;
  /** Inputs: the recorded hash. */
  sha256?: string;
  /** Run nodes: the tool. */
  tool?: string;
}

/** An edge: `from` was read by, or wrote, `to`. */
export interface LineageEdge {
  from: string;
  to: string;
}

/** The graph. */
export interface Lineage {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

/**
 * The role of an artifact written by `tool` at `path`.
 * @example `artifactRole("train", "runs/demo_2")` // "model"
 */
export function artifactRole(tool: string, path: string): NodeRole {
  if (/\.(png|svg|jpe?g|gif|webp|html?)$/i.test(path)) return "figure";
  if (/train|fine_?tune/i.test(tool)) return "model";
  if (/apply|predict|infer|align|render/i.test(tool)) return "predictions";
  if (/test|eval|metric|score/i.test(tool)) return "metrics";
  if (/data|gen|extract|simul|stack|mask|split|demo|prep/i.test(tool)) return "dataset";
  return "artifact";
}

function normalize(p: string): string {
  const out: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") out.pop();
    else out.push(s);
  }
  return (p.startsWith("/") ? "/" : "") + out.join("/");
}

function absRoot(root: string, cwd: string): string {
  try {
    return Deno.realPathSync(root);
  } catch {
    return normalize(root.startsWith("/") ? root : `${cwd}/${root}`);
  }
}

function lowerBound(xs: readonly string[], x: string): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function withPrefix(xs: readonly string[], prefix: string): string[] {
  const out: string[] = [];
  for (let i = lowerBound(xs, prefix); i < xs.length && xs[i].startsWith(prefix); i++) {
    out.push(xs[i]);
  }
  return out;
}

const base = (p: string) => p.slice(p.replace(/\/$/, "").lastIndexOf("/") + 1) || p;

/** Options of {@link buildLineage}. */
export interface LineageOptions {
  /** The folder relative input paths are taken from (default: the current folder). */
  cwd?: string;
}

/**
 * Builds the graph from grouped runs (see runs.ts). Runs without provenance (no sidecar, no
 * inputs) are left out.
 * @example `buildLineage(runs, ["demo_out"]).nodes.filter((n) => n.role === "model")`
 */
export function buildLineage(
  runs: readonly RunInfo[],
  roots: readonly string[],
  o: LineageOptions = {},
): Lineage {
  let cwd = o.cwd ?? "";
  if (!cwd) {
    try {
      cwd = Deno.cwd();
    } catch {
      cwd = "/";
    }
  }
  const absRoots = roots.map((r) => absRoot(r, cwd));
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const edge = (from: string, to: string) => {
    if (from !== to) edges.set(`${from}\n${to}`, { from, to });
  };
  const byAbs = new Map<string, string>(); // absolute artifact path → node key
  const withProv = runs.filter((r) => r.sidecars.length || r.inputs.length);
  for (const r of withProv) {
    const ri = roots.indexOf(r.root);
    const rk = runKey(roots, r);
    const runNode = `run:${rk}`;
    nodes.set(runNode, {
      key: runNode,
      kind: "run",
      role: "run",
      label: r.name,
      run: rk,
      tool: r.tool,
    });
    for (const a of r.artifacts) {
      const key = `art:${ri}:${a}`;
      nodes.set(key, {
        key,
        kind: "artifact",
        role: artifactRole(r.tool, a),
        label: base(a),
        run: rk,
        path: a,
        root: ri,
      });
      byAbs.set(`${absRoots[ri]}/${a}`, key);
      edge(runNode, key);
    }
  }
  const sorted = [...byAbs.keys()].sort();
  for (const r of withProv) {
    const runNode = `run:${runKey(roots, r)}`;
    const cwdOf = absRoots[roots.indexOf(r.root)];
    for (const inp of r.inputs) {
      if (!inp || typeof inp.path !== "string") continue;
      const candidates = inp.path.startsWith("/")
        ? [normalize(inp.path)]
        : [normalize(`${cwd}/${inp.path}`), normalize(`${cwdOf}/${inp.path}`)];
      let hit: string | undefined;
      let folder: string[] = [];
      for (const p of candidates) {
        hit = byAbs.get(p);
        for (let q = p; !hit && /\.[^./]+$/.test(q);) {
          q = q.replace(/\.[^./]+$/, "");
          hit = byAbs.get(q);
        }
        if (!hit) {
          const files = withPrefix(sorted, p + ".");
          if (files.length === 1) hit = byAbs.get(files[0]);
        }
        if (hit) break;
        if (!folder.length) folder = withPrefix(sorted, p + "/");
      }
      if (hit) {
        edge(hit, runNode);
        continue;
      }
      const key = inp.sha256 ? `in:${inp.sha256}` : `in:${inp.path}`;
      if (!nodes.has(key)) {
        nodes.set(key, {
          key,
          kind: "input",
          role: folder.length ? "dataset" : "input",
          label: base(inp.path),
          path: inp.path,
          sha256: inp.sha256,
        });
      }
      for (const f of folder) edge(byAbs.get(f)!, key);
      edge(key, runNode);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/**
 * Columns for drawing: each node's depth (the longest path from a node with no incoming edge;
 * edges that would close a cycle are ignored) and its row within the column.
 * @example `layoutLineage(g).get("run:0/a.log.jsonl")` // { col: 1, row: 0 }
 */
export function layoutLineage(g: Lineage): Map<string, { col: number; row: number }> {
  const incoming = new Map<string, string[]>(g.nodes.map((n) => [n.key, []]));
  const outgoing = new Map<string, string[]>(g.nodes.map((n) => [n.key, []]));
  for (const e of g.edges) {
    if (!incoming.has(e.to) || !outgoing.has(e.from)) continue;
    incoming.get(e.to)!.push(e.from);
    outgoing.get(e.from)!.push(e.to);
  }
  const depth = new Map<string, number>();
  const indeg = new Map([...incoming].map(([k, v]) => [k, v.length]));
  const queue = g.nodes.filter((n) => indeg.get(n.key) === 0).map((n) => n.key);
  for (const k of queue) depth.set(k, 0);
  for (let i = 0; i < queue.length; i++) {
    const k = queue[i];
    for (const t of outgoing.get(k)!) {
      depth.set(t, Math.max(depth.get(t) ?? 0, depth.get(k)! + 1));
      indeg.set(t, indeg.get(t)! - 1);
      if (indeg.get(t) === 0) queue.push(t);
    }
  }
  for (const n of g.nodes) if (!depth.has(n.key)) depth.set(n.key, 0); // on a cycle
  const rows = new Map<number, number>();
  const out = new Map<string, { col: number; row: number }>();
  for (const n of g.nodes) {
    const col = depth.get(n.key)!;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    out.set(n.key, { col, row });
  }
  return out;
}

/**
 * What a node was made from and what was made from it (direct neighbours).
 * @example `neighbours(g, "run:0/a.log.jsonl").up.map((n) => n.label)`
 */
export function neighbours(g: Lineage, key: string): { up: LineageNode[]; down: LineageNode[] } {
  const byKey = new Map(g.nodes.map((n) => [n.key, n]));
  const up = g.edges.filter((e) => e.to === key).map((e) => byKey.get(e.from)!).filter(Boolean);
  const down = g.edges.filter((e) => e.from === key).map((e) => byKey.get(e.to)!).filter(
    Boolean,
  );
  return { up, down };
}
