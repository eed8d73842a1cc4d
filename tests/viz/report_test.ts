import assert from "node:assert/strict";
import {
  base64,
  canonicalLossName,
  htmlReport,
  lossChartsSvg,
  lossCurves,
  type LossRecord,
  writeHtmlReport,
} from "../../lib/viz/html_report.ts";
import { checkHtmlInChromium, findChromium } from "../../lib/viz/browser_check.ts";
import { figurePng } from "../../lib/viz/figure.ts";
import { decodePng } from "../../lib/io/png.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { runTool } from "../_helpers.ts";
import { makeNsnDataset } from "../fixtures/metrics_dataset.ts";
import { initEngine } from "../../lib/tensor/engine.ts";

/** A log as lib/nn/trainer.ts writes it (camelCase step fields, train_/val_ epoch fields). */
function trainerLog(): LossRecord[] {
  const out: LossRecord[] = [];
  let step = 0;
  for (let e = 0; e < 3; e++) {
    for (let b = 0; b < 4; b++) {
      step++;
      out.push({
        event: "step",
        epoch: e,
        batch: b,
        step,
        lossD: 0.7 - step * 0.01,
        lossG: 40 / step,
        lossGL1: 30 / step,
        dX: 0.5,
      });
    }
    out.push({
      event: "epoch",
      epoch: e,
      step,
      train_lossD: 0.6,
      train_lossG: 10 - e,
      val_lossD: 0.65,
      val_lossG: e === 1 ? "NaN" : 11 - e,
    });
  }
  out.push({ event: "checkpoint", path: "x", epoch: 3, step });
  return out;
}

const chromium = findChromium();
if (!chromium) {
  console.warn(
    "skip: chromium is absent (apt-get install chromium): the browser checks of the HTML report do not run",
  );
}

Deno.test("report: loss records in either spelling become step and epoch curves", () => {
  assert.equal(canonicalLossName("lossD"), "loss_d");
  assert.equal(canonicalLossName("train_lossG"), "loss_g");
  assert.equal(canonicalLossName("val_lossD"), "val_loss_d");
  assert.equal(canonicalLossName("lossGL1"), "loss_g_l1");
  assert.equal(canonicalLossName("val_loss_g"), "val_loss_g");
  const c = lossCurves(trainerLog());
  assert.deepEqual(c.step.map((s) => s.name), ["loss_d", "loss_g", "loss_g_l1"]);
  assert.deepEqual(c.epoch.map((s) => s.name), ["loss_d", "loss_g", "val_loss_d", "val_loss_g"]);
  assert.deepEqual(c.step[0].x, Array.from({ length: 12 }, (_, i) => i + 1));
  const vg = c.epoch.find((s) => s.name === "val_loss_g")!;
  assert.ok(vg.dashed);
  assert.deepEqual(vg.x, [0, 1, 2]);
  assert.ok(Number.isNaN(vg.y[1]));
  // the canonical spelling, without `event`: `step` present = step record
  const d = lossCurves([
    { epoch: 1, step: 5, loss_d: 1, loss_g: 2 },
    { epoch: 1, loss_d: 0.5, val_loss_d: 0.6 },
  ]);
  assert.deepEqual(d.step.map((s) => s.name), ["loss_d", "loss_g"]);
  assert.deepEqual(d.epoch.map((s) => [s.name, s.x, s.y]), [["loss_d", [1], [0.5]], ["val_loss_d", [
    1,
  ], [0.6]]]);
  // long step series are averaged down
  const long = Array.from({ length: 5000 }, (_, i) => ({ step: i, loss_g: i }));
  const t = lossCurves(long, 1000).step[0];
  assert.equal(t.x.length, 1000);
  assert.equal(t.y[0], 2); // mean of 0…4
  // G, D and other losses get separate charts
  assert.equal(lossChartsSvg(trainerLog()).length, 4); // epoch: G, D; step: G, D
  assert.deepEqual(lossChartsSvg([]), []);
});

Deno.test("report: HTML holds the tables, charts and images, escaped; writing refuses to overwrite", async () => {
  const png = figurePng([{ data: Float32Array.from([0, 1, 2, 3]), shape: [2, 2], title: "x" }]);
  assert.equal(atob(base64(png)).length, png.length);
  const html = htmlReport({
    title: "NoStripesNet <test>",
    subtitle: "patch & model",
    meta: { model: "m_10", pixels: 1234 },
    losses: trainerLog(),
    sections: [{
      heading: "Test metrics",
      text: "first paragraph\n\nsecond <b>not bold</b>",
      tables: [{
        columns: ["metric", "value"],
        rows: [["psnr", 31.23456789], ["l1", 1.2e-7], ["nan", NaN], ["none", null], ["int", 42]],
        digits: 4,
      }],
      images: [{ title: "figure", png }, { src: "fig b.png", caption: "relative" }],
    }],
    footer: "deno run tools/nostripesnet/visualize.ts --root x",
  });
  assert.ok(html.startsWith("<!DOCTYPE html>"));
  assert.ok(html.includes("<title>NoStripesNet &lt;test&gt;</title>"));
  assert.ok(html.includes("second &lt;b&gt;not bold&lt;/b&gt;"));
  assert.ok(html.includes(">31.23<") && html.includes(">1.200e-7<") && html.includes(">42<"));
  assert.equal((html.match(/<svg /g) ?? []).length, 4);
  assert.ok(html.includes(`src="data:image/png;base64,${base64(png)}"`));
  assert.ok(html.includes(`src="fig b.png"`));
  assert.ok(!/<script/i.test(html));
  const dir = await Deno.makeTempDir({ prefix: "lumen-report-" });
  try {
    await writeHtmlReport(`${dir}/r.html`, { title: "a" });
    await assert.rejects(() => writeHtmlReport(`${dir}/r.html`, { title: "b" }), LumenError);
    await writeHtmlReport(`${dir}/r.html`, { title: "b" }, { overwrite: true });
    assert.ok((await Deno.readTextFile(`${dir}/r.html`)).includes("<title>b</title>"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "report: opens in headless Chromium: renders, every image loads, no console errors",
  ignore: !chromium,
  sanitizeResources: true,
  sanitizeOps: true,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lumen-report-" });
    try {
      const img = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i / 50));
      const png = figurePng([
        { data: img, shape: [64, 48], title: "clean" },
        { data: img, shape: [64, 48], title: "model output", colormap: "viridis", colorbar: true },
      ], { title: "sinogram 3" });
      await Deno.mkdir(`${dir}/figures`);
      await Deno.writeFile(`${dir}/figures/fig 1.png`, png);
      await writeHtmlReport(`${dir}/report.html`, {
        title: "NoStripesNet report",
        meta: { model: "demo_2" },
        losses: trainerLog(),
        sections: [{
          heading: "Figures",
          images: [{ title: "embedded", png }, {
            title: "relative file",
            src: "figures/fig 1.png",
          }],
          tables: [{ columns: ["metric", "value"], rows: [["psnr", 30.5]] }],
        }],
      });
      const r = await checkHtmlInChromium(`${dir}/report.html`, { screenshot: true });
      assert.ok(r.ok, r.problems.join("\n"));
      assert.equal(r.title, "NoStripesNet report");
      assert.equal(r.images.length, 2);
      for (const im of r.images) {
        assert.ok(im.complete && im.naturalWidth > 0, JSON.stringify(im));
      }
      const shape = decodePng(png).shape;
      assert.deepEqual([r.images[1].naturalHeight, r.images[1].naturalWidth], shape.slice(0, 2));
      assert.equal(r.svgCount, 4);
      assert.equal(r.tableCount, 1);
      assert.ok(r.textLength > 50 && r.scrollHeight > 500);
      // the screenshot is a real rendering: not one flat colour
      const shot = decodePng(r.screenshot!);
      const first = shot.data.slice(0, 3).join();
      let other = 0;
      for (let i = 0; i < shot.data.length; i += 3 * 97) {
        if (shot.data.slice(i, i + 3).join() !== first) other++;
      }
      assert.ok(other > 10, "screenshot is blank");
      assert.ok(r.browser.includes("Chrome"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "report: the Chromium check catches broken images, console errors and exceptions",
  ignore: !chromium,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lumen-report-" });
    try {
      await Deno.writeTextFile(
        `${dir}/bad.html`,
        `<!DOCTYPE html><html><head><title>bad</title><link rel="icon" href="data:,"></head><body>
<img src="missing.png"><img src="data:image/png;base64,AAAA">
<script>console.error("boom"); throw new Error("kaput");</script></body></html>`,
      );
      const r = await checkHtmlInChromium(`${dir}/bad.html`);
      assert.equal(r.ok, false);
      const all = r.problems.join("\n");
      assert.ok(all.includes("image did not load: file://") && all.includes("missing.png"), all);
      assert.ok(all.includes("image did not load: data:image/png"), all);
      assert.ok(all.includes("console.error: boom"), all);
      assert.ok(all.includes("kaput"), all);
      await assert.rejects(() => checkHtmlInChromium(`${dir}/none.html`), /no such file/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("visualize tool: sinogram figures, real-stripe figures, patch figure and a report that opens in Chromium", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen-nsn-viz-" });
  try {
    await initEngine({ threads: 1 });
    const ds = await makeNsnDataset(dir);
    const perms = ["--allow-read", `--allow-write=${dir},/tmp`];
    // test results first, where visualize looks for them by default (./test_results)
    let r = await runTool("nostripesnet/test", perms, [
      "-r",
      ds.root,
      "-f",
      ds.model,
      "-B",
      "2",
      "--threads",
      "1",
      "-q",
    ], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const args = [
      "-r",
      ds.root,
      "-f",
      ds.model,
      "-o",
      `${dir}/figs`,
      "--mask",
      ds.mask,
      "--threads",
      "1",
      "-q",
    ];
    const checkPerms = chromium
      ? [...perms, `--allow-run=${chromium}`, "--allow-net=127.0.0.1"]
      : perms;
    r = await runTool("nostripesnet/visualize", checkPerms, [
      ...args,
      ...(chromium ? ["--check"] : []),
    ], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    const files = [...Deno.readDirSync(`${dir}/figs`)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "tiny_1.report.html",
      "tiny_1_patches.png",
      "tiny_1_real_0002.png",
      "tiny_1_real_0004.png",
      "tiny_1_sino_0000.png",
      "tiny_1_sino_0003.png",
      "tiny_1_sino_0005.png",
    ]);
    for (const f of files.filter((f) => f.endsWith(".png"))) {
      const im = decodePng(await Deno.readFile(`${dir}/figs/${f}`));
      assert.equal(im.shape[2], 3);
      assert.ok(im.shape[0] > 100 && im.shape[1] > 150, `${f}: ${im.shape}`);
    }
    const html = await Deno.readTextFile(`${dir}/figs/tiny_1.report.html`);
    assert.equal((html.match(/<img src="data:image\/png;base64,/g) ?? []).length, 6);
    assert.ok(html.includes("Test metrics") && html.includes("RMSE in uint16 units"));
    assert.ok(html.includes("Generator loss per step"));
    assert.ok(html.includes("the model ran on 1 patch (mask mask.npz)"));
    // linked figures, chosen sinograms, no real-stripe figures; refusal to overwrite
    r = await runTool("nostripesnet/visualize", perms, [
      ...args,
      "--no-embed",
      "--sinograms",
      "1,2",
      "--no-real",
      "--patches",
      "0",
      "--name",
      "b",
    ], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const b = await Deno.readTextFile(`${dir}/figs/b.report.html`);
    assert.deepEqual([...b.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]), [
      "b_sino_0001.png",
      "b_sino_0002.png",
    ]);
    if (chromium) {
      const c = await checkHtmlInChromium(`${dir}/figs/b.report.html`);
      assert.ok(c.ok, c.problems.join("\n"));
      assert.equal(c.images.length, 2);
    }
    r = await runTool("nostripesnet/visualize", perms, [...args, "--name", "b"], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /b\.report\.html: exists; pass --overwrite/);
    r = await runTool("nostripesnet/visualize", perms, [
      ...args,
      "--name",
      "c",
      "--sinograms",
      "77",
    ], {
      cwd: dir,
    });
    assert.match(r.stderr, /--sinograms: 77: sample 0 has no patches of sinogram 77/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
