/**
 * The dashboard on the NoStripesNet demo's own outputs (a short run: tiny model, one epoch):
 * the runs table lists the demo's runs, the training's page draws a metric curve (DOM and
 * screenshot), the lineage links the model to its dataset, and `deno task dashboard --export`
 * writes pages that open from file:// with the same rows.
 */
import assert from "node:assert/strict";
import { runTool } from "../_helpers.ts";
import {
  buildLineage,
  groupRuns,
  neighbours,
  scanRoots,
  serveDashboard,
} from "../../lib/dashboard/mod.ts";
import {
  checkHtmlInChromium,
  checkUrlInChromium,
  findChromium,
} from "../../lib/viz/browser_check.ts";

Deno.test("dashboard on the demo's outputs: table, curve, model → dataset, export", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen-dash-demo-" });
  try {
    const out = `${dir}/demo`;
    const d = await runTool("demo", ["--allow-read", `--allow-write=${dir}`], [
      "nostripesnet",
      "--out",
      out,
      "--preset",
      "tiny",
      "--epochs",
      "1",
      "--quiet",
    ]);
    assert.equal(d.code, 0, d.stderr);
    const runs = groupRuns(await scanRoots([out]));
    const tools = runs.map((r) => r.tool).sort();
    assert.deepEqual(tools, ["data_generator", "demo", "generate_mask", "test", "train"]);
    const train = runs.find((r) => r.tool === "train")!;
    assert.equal(train.status, "finished");
    assert.equal(train.metric?.name, "val_loss_g");
    assert.ok(train.figures.some((f) => f.endsWith("demo.report.html")));
    assert.ok(train.artifacts.includes("nostripesnet/runs/demo_1"), train.artifacts.join());
    // the model ← its training ← the dataset folder ← the data_generator's dataset
    const g = buildLineage(runs, [out]);
    const up = neighbours(g, "run:0/nostripesnet/runs/demo.log.jsonl").up;
    assert.ok(up.some((n) => n.role === "dataset"), up.map((n) => n.key).join());
    const folder = up.find((n) => n.role === "dataset")!;
    assert.ok(neighbours(g, folder.key).up.some((n) => n.key === "art:0:nostripesnet/data/0000"));
    assert.ok(
      g.edges.some((e) =>
        e.from === "run:0/nostripesnet/runs/demo.log.jsonl" &&
        e.to === "art:0:nostripesnet/runs/demo_1"
      ),
    );

    // the tool's export
    const e = await runTool("dashboard", ["--allow-read", `--allow-write=${dir}`], [
      "--root",
      out,
      "--export",
      `${dir}/dash`,
    ]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /wrote 7 pages \(5 runs\)/);
    const again = await runTool("dashboard", ["--allow-read", `--allow-write=${dir}`], [
      "--root",
      out,
      "--export",
      `${dir}/dash`,
    ]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^dashboard: error: .*index\.html: exists; pass --overwrite/);
    const bad = await runTool("dashboard", ["--allow-read"], ["--root", `${dir}/none`]);
    assert.equal(bad.code, 2);

    if (!findChromium()) {
      console.warn("skip: no Chromium (/usr/bin/chromium): apt-get install chromium");
      return;
    }
    const ac = new AbortController();
    const srv = serveDashboard({ roots: [out], port: 0, signal: ac.signal });
    try {
      const table = await checkUrlInChromium(srv.url, {
        evaluate:
          `[...document.querySelectorAll("#runs tbody tr")].map((r) => r.cells[1].textContent)`,
      });
      assert.ok(table.ok, table.problems.join("\n"));
      assert.deepEqual((table.evaluated as string[]).sort(), tools);
      const page = await checkUrlInChromium(`${srv.url}run/0/nostripesnet/runs/demo.log.jsonl`, {
        screenshot: true,
        evaluate: `document.querySelectorAll("#charts svg path").length`,
      });
      assert.ok(page.ok, page.problems.join("\n"));
      assert.ok((page.evaluated as number) > 0, "an SVG curve");
      assert.ok(page.images.length >= 1 && page.images.every((i) => i.naturalWidth > 0));
      assert.ok(page.screenshot!.length > 10_000);
      const lineage = await checkUrlInChromium(`${srv.url}lineage`, {
        evaluate: `[...document.querySelectorAll("#edges tr")].map((r) => r.textContent)`,
      });
      assert.ok(lineage.ok, lineage.problems.join("\n"));
      const rows = lineage.evaluated as string[];
      assert.ok(rows.includes("train run: demomodel: demo_1"), rows.join(" | "));
      assert.ok(rows.some((r) => /^dataset: 0000dataset: data$/.test(r)), rows.join(" | "));
    } finally {
      ac.abort();
      await srv.finished;
    }
    const stat = await checkHtmlInChromium(`${dir}/dash/index.html`, {
      evaluate: `document.querySelectorAll("#runs tbody tr").length`,
    });
    assert.ok(stat.ok, stat.problems.join("\n"));
    assert.equal(stat.evaluated, 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
