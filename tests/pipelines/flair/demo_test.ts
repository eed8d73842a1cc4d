import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { runDemo } from "../../../tools/flair/_demo.ts";

Deno.test("flair demo: synthetic patients end to end (1 epoch per fold)", async () => {
  const out = await Deno.makeTempDir({ prefix: "flair_demo_" });
  const r = await runDemo(out, { quiet: true, seed: 0, threads: 1, epochs: 1 });
  assert.equal(r.index, `${out}/index.html`);
  assert.equal(r.summary.length, 4);
  assert.match(r.summary[0], /^4 held-out patients, mean stroke Dice \d/);
  assert.match(r.summary[1], /visible within 15 %: (met|not met)$/);
  for (
    const f of [
      "saved_models_ONNX/model1.onnx",
      "saved_models_ONNX/model2.onnx",
      "results/test_inference.csv",
      "results/S1/heatmap.nii.gz",
      "results/NEW/predictions.nii.gz",
      "results/NEW/key_slices.png",
      "saved_models/FVV-k0.run/report.html",
    ]
  ) assert.ok(existsSync(`${out}/${f}`), f);
  const html = await Deno.readTextFile(r.index);
  assert.match(html, /Held-out patients/);
  assert.match(html, /data:image\/png;base64,/);
});
