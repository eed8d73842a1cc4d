/**
 * tools/demo.ts: the NoStripesNet pipeline end to end on a simulated scan (a short run: tiny
 * model, one epoch), every artifact where the demo says, with provenance; no overwrite without
 * --overwrite.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { runTool } from "../../_helpers.ts";
import { openScan } from "../../../lib/io/nexus.ts";

Deno.test("demo: scan → mask → dataset → training → test → figures, in one run", async () => {
  const dir = await Deno.makeTempDir();
  const out = `${dir}/demo`;
  const perms = ["--allow-read", `--allow-write=${dir}`];
  const args = ["nostripesnet", "--out", out, "--preset", "tiny", "--epochs", "1", "--quiet"];
  const r = await runTool("demo", perms, args);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /demo done in \d+ s\. index of all results: .*index\.html/);
  assert.ok(existsSync(`${out}/index.html`));
  // the demo ends with a static dashboard of its runs, linked from the index
  assert.ok(existsSync(`${out}/dashboard/index.html`));
  assert.match(await Deno.readTextFile(`${out}/index.html`), /dashboard\/index\.html/);
  assert.match(r.stdout, /report +.*demo\.report\.html/);
  for (
    const f of [
      "scan.nxs",
      "scan.nxs.prov.json",
      "masks.npz",
      "data/0000.prov.json",
      "runs/demo_1.json",
      "runs/demo.log.jsonl",
      "test_results/demo.metrics.json",
      "test_results/demo.metrics.csv",
      "figures/demo.report.html",
    ]
  ) assert.ok(existsSync(`${out}/nostripesnet/${f}`), f);
  const scan = await openScan(`${out}/nostripesnet/scan.nxs`);
  try {
    assert.equal(scan.layout, "i12");
    assert.deepEqual([scan.projections.count, scan.rows, scan.cols], [256, 32, 512]);
  } finally {
    scan.close();
  }
  const m = JSON.parse(
    await Deno.readTextFile(`${out}/nostripesnet/test_results/demo.metrics.json`),
  );
  const text = JSON.stringify(m);
  for (const k of ["stripe", "vo", "model"]) assert.match(text.toLowerCase(), new RegExp(k));
  const again = await runTool("demo", perms, args);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /demo: exists; pass --overwrite/);
  await Deno.remove(dir, { recursive: true });
});
