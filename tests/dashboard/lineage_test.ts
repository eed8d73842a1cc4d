import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import {
  buildLineage,
  groupRuns,
  layoutLineage,
  neighbours,
  type RunInfo,
} from "../../lib/dashboard/mod.ts";

function run(p: Partial<RunInfo> & { id: string; tool: string }): RunInfo {
  return {
    root: "/r",
    name: p.id,
    status: "finished",
    start: null,
    duration: null,
    metric: null,
    seed: null,
    commit: null,
    args: null,
    uuid: null,
    inputs: [],
    log: null,
    checkpoints: [],
    sidecars: [],
    artifacts: [],
    figures: [],
    shards: [],
    failure: null,
    ...p,
  };
}

Deno.test("dashboard lineage: raw file → dataset → model → predictions, by path and uuid", () => {
  const scanned = [
    run({
      id: "scan.nxs.prov.json",
      tool: "demo",
      sidecars: ["scan.nxs.prov.json"],
      artifacts: ["scan.nxs"],
      uuid: "u0",
    }),
    run({
      id: "data/0000.prov.json",
      tool: "data_generator",
      sidecars: ["data/0000.prov.json"],
      artifacts: ["data/0000"],
      uuid: "u1",
      inputs: [{ path: "/r/scan.nxs", sha256: "s0" }, { path: "/elsewhere/raw.tif", sha256: "s9" }],
    }),
    run({ id: "runs/a.log.jsonl", tool: "train", log: "runs/a.log.jsonl", uuid: "u2" }),
    run({
      id: "runs/a_2.prov.json",
      tool: "train",
      sidecars: ["runs/a_2.prov.json"],
      artifacts: ["runs/a_2"],
      uuid: "u2",
      inputs: [{ path: "data", sha256: "tree" }],
    }),
    run({
      id: "runs/a_4.prov.json",
      tool: "train",
      sidecars: ["runs/a_4.prov.json"],
      artifacts: ["runs/a_4"],
      uuid: "u2",
      inputs: [{ path: "data", sha256: "tree" }],
    }),
    run({
      id: "pred/out.h5.prov.json",
      tool: "apply_model",
      sidecars: ["pred/out.h5.prov.json"],
      artifacts: ["pred/out.h5"],
      uuid: "u3",
      inputs: [{ path: "runs/a_4.json", sha256: "c4" }],
    }),
  ];
  const runs = groupRuns(scanned);
  assertEquals(runs.length, 4); // the log and both checkpoints make one run
  const train = runs.find((r) => r.tool === "train")!;
  assertEquals(train.log, "runs/a.log.jsonl");
  assertEquals(train.artifacts, ["runs/a_2", "runs/a_4"]);
  const g = buildLineage(runs, ["/r"], { cwd: "/r" });
  const has = (from: string, to: string) => g.edges.some((e) => e.from === from && e.to === to);
  assert(has("art:0:scan.nxs", "run:0/data/0000.prov.json"), "raw → data_generator");
  assert(has("in:s9", "run:0/data/0000.prov.json"), "an outside input keeps its own node");
  assert(has("run:0/data/0000.prov.json", "art:0:data/0000"));
  assert(has("art:0:data/0000", "in:tree"), "the dataset lies in the folder trained on");
  assert(has("in:tree", "run:0/runs/a.log.jsonl"));
  assert(has("run:0/runs/a.log.jsonl", "art:0:runs/a_4"));
  assert(has("art:0:runs/a_4", "run:0/pred/out.h5.prov.json"), "checkpoint file → its base");
  const roles = Object.fromEntries(g.nodes.map((n) => [n.key, n.role]));
  assertEquals(roles["art:0:runs/a_4"], "model");
  assertEquals(roles["art:0:pred/out.h5"], "predictions");
  assertEquals(roles["art:0:data/0000"], "dataset");
  const lay = layoutLineage(g);
  assert(lay.get("art:0:pred/out.h5")!.col > lay.get("art:0:runs/a_4")!.col);
  assert(lay.get("art:0:runs/a_4")!.col > lay.get("art:0:data/0000")!.col);
  const n = neighbours(g, "run:0/runs/a.log.jsonl");
  assertEquals(n.up.map((x) => x.key), ["in:tree"]);
  assertEquals(n.down.map((x) => x.key).sort(), ["art:0:runs/a_2", "art:0:runs/a_4"]);
});

Deno.test("dashboard lineage: a cycle does not hang the layout", () => {
  const g = {
    nodes: [
      { key: "a", kind: "run" as const, role: "run" as const, label: "a" },
      { key: "b", kind: "run" as const, role: "run" as const, label: "b" },
    ],
    edges: [{ from: "a", to: "b" }, { from: "b", to: "a" }],
  };
  assertEquals(layoutLineage(g).size, 2);
});
