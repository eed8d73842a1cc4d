import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import {
  exportLinks,
  exportPageName,
  failureLine,
  fmtDuration,
  fmtNum,
  lineagePage,
  logSummary,
  metricChartsSvg,
  type RunInfo,
  runPage,
  runsTablePage,
  serverLinks,
  shardGroups,
  summaryRecords,
} from "../../lib/dashboard/mod.ts";

const RUN: RunInfo = {
  id: "runs/x.log.jsonl",
  root: "/r",
  tool: "train",
  name: "<script>alert(1)</script>",
  status: "running",
  start: "2026-01-01T00:00:00.000Z",
  duration: 185,
  metric: { name: "val_loss_g", value: 0.123456 },
  seed: 3,
  commit: "c".repeat(40),
  args: { note: "</script><b>x</b>", lr: 0.1 },
  uuid: null,
  inputs: [],
  log: "runs/x.log.jsonl",
  checkpoints: [],
  sidecars: [],
  artifacts: [],
  figures: ["figures/x loss.png"],
  shards: [],
  failure: null,
};

Deno.test("dashboard pages: numbers, durations, names escaped, JSON cannot end its script", () => {
  assertEquals(fmtNum(0.123456), "0.1235");
  assertEquals(fmtNum(3), "3");
  assertEquals(fmtNum(null), "–");
  assertEquals(fmtNum(1.5e-5), "1.500e-5");
  assertEquals(fmtDuration(4.21), "4.2 s");
  assertEquals(fmtDuration(185), "3m05s");
  assertEquals(fmtDuration(3720), "1h02m");
  const html = runsTablePage([RUN], ["/r"], serverLinks());
  assert(!html.includes("<script>alert"), "the name is escaped");
  assert(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  const data = /<script type="application\/json" id="runs-data">(.*?)<\/script>/s.exec(html)![1];
  assertEquals(JSON.parse(data)[0].args.note, "</script><b>x</b>");
  assert(html.includes("function argDiff"), "argDiff itself runs in the page");
  assert(html.includes("val_loss_g") && html.includes("0.1235") && html.includes("cccccccc"));
  const page = runPage({ run: RUN, records: [], tail: ['{"a":"<b>"}'], provenance: [] }, ["/r"], {
    ...serverLinks(),
  });
  assert(page.includes("no metric records yet"));
  assert(page.includes('src="/file/0/figures/x%20loss.png"'));
  assert(page.includes("&quot;&lt;b&gt;&quot;"), "log tail escaped");
  assert(page.includes("setInterval(poll"), "running: polls");
  const stat = runPage({ run: RUN, records: [], tail: [], provenance: [] }, ["/r"], {
    ...exportLinks(["/r"], "/r/dash"),
  });
  assert(!stat.includes("setInterval(poll"), "static: no polling");
  assert(stat.includes('src="../figures/x%20loss.png"'));
  assert(/^run-x\.log\.jsonl-[0-9a-f]{8}\.html$/.test(exportPageName("0/runs/x.log.jsonl")));
  assert(lineagePage({ nodes: [], edges: [] }, serverLinks()).includes("0 nodes"));
});

Deno.test("dashboard pages: metric charts from epoch and step records", () => {
  const recs = [
    { event: "step", epoch: 1, step: 1, lossG: 3 },
    { event: "step", epoch: 1, step: 2, lossG: 2 },
    { event: "epoch", epoch: 1, train_lossG: 2.5, val_lossG: 2.7, train_dX: 0.5 },
    { event: "epoch", epoch: 2, train_lossG: 1.5, val_lossG: 1.7, train_dX: 0.6 },
    { event: "lr", epoch: 2, lr_g: 0.001 },
  ];
  const svgs = metricChartsSvg(recs);
  assertEquals(svgs.length, 3); // generator per epoch, per step, other metrics
  assert(svgs[2].includes("train_dX") && svgs[2].includes("lr_g"));
  assertEquals(metricChartsSvg([]), []);
});

Deno.test("dashboard scan: the summary of a few lines equals that of the whole log", () => {
  const lines = [
    { event: "start", tool: "train", t: 0 },
    ...Array.from({ length: 50 }, (_, i) => ({ event: "step", step: i, lossG: 1 / (i + 1), t: i })),
    { event: "epoch", epoch: 1, val_lossG: 0.3, t: 50 },
    { event: "error", message: "boom", t: 51 },
    { event: "step", step: 51, lossG: 0.2 },
  ];
  const text = lines.map((l) => JSON.stringify(l)).join("\n") + "\n{cut";
  const few = summaryRecords(text);
  assert(few.length <= 5, String(few.length));
  assertEquals(logSummary("train", few), logSummary("train", lines));
  assertEquals(logSummary("train", few).status, "failed");
  assertEquals(logSummary("train", few).failure, "boom");
  assertEquals(logSummary("train", few).duration, 51);
  assertEquals(logSummary("train", [{ epoch: 1 }], 7200).status, "killed");
  assertEquals(logSummary("train", [{ event: "interrupted" }]).status, "killed");
});

Deno.test("dashboard shards: states, durations and the failure line of each shard", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen-dash-sh-" });
  try {
    const s = `${dir}/out.h5.shards`;
    await Deno.mkdir(`${s}/0000-of-0004`, { recursive: true });
    await Deno.mkdir(`${s}/0001-of-0004`, { recursive: true });
    await Deno.mkdir(`${s}/0002-of-0004`, { recursive: true });
    await Deno.writeTextFile(`${s}/0000-of-0004/MANIFEST.json`, '{"tool":"simulate"}');
    await Deno.writeTextFile(`${s}/0001-of-0004/part.npy`, "x");
    await Deno.writeTextFile(
      `${s}/0002-of-0004/shard.log.jsonl`,
      '{"event":"start"}\n{"event":"error","message":"simulate: error: cif: no cell"}\n',
    );
    await Deno.writeTextFile(
      `${dir}/simulate_77_3.out`,
      "ok\nslurmstepd: error: *** JOB 77 CANCELLED DUE TO TIME LIMIT ***\n",
    );
    const files = [
      "out.h5.shards/0000-of-0004/MANIFEST.json",
      "out.h5.shards/0001-of-0004/part.npy",
      "out.h5.shards/0002-of-0004/shard.log.jsonl",
      "simulate_77_3.out",
    ];
    const [g] = await shardGroups(dir, files);
    assertEquals(g.output, "out.h5");
    assertEquals(g.tool, "simulate");
    assertEquals(g.shards.map((x) => x.state), ["complete", "running", "failed", "failed"]);
    assertEquals(g.shards[2].failure, "simulate: error: cif: no cell");
    assert(g.shards[3].failure!.includes("TIME LIMIT"));
    assertEquals(g.shards[3].log, "simulate_77_3.out");
    assertEquals(failureLine("all good\n"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
