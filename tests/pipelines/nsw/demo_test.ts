import assert from "node:assert/strict";
import { runDemo } from "../../../tools/nsw/_demo.ts";

// The demo as `deno task demo nsw` runs it (seed 0, one thread for bit-stable numbers): the phase
// classifier, trained on real frames only, must recognise the phase of the samples of each
// phase's model at least twice as often as chance.
Deno.test("nsw demo: samples are classified as their phase ≥ 2× chance; report written", async () => {
  const out = Deno.makeTempDirSync();
  try {
    const r = await runDemo(`${out}/nsw`, { quiet: true, seed: 0, threads: 1 });
    assert.ok(Deno.statSync(r.index).size > 10_000);
    assert.equal(r.summary.length, 6);
    const m = JSON.parse(Deno.readTextFileSync(`${out}/nsw/demo_metrics.json`));
    assert.equal(m.samples, 64);
    assert.ok(m.held_out_accuracy >= 0.6, `held-out real frames: ${m.held_out_accuracy}`);
    assert.ok(m.sample_accuracy >= 2 * m.chance, `samples: ${m.sample_accuracy} vs ${m.chance}`);
    assert.ok(m.fid_real_real < m.fid_real_synthetic / 5, r.summary[4]);
    const meta = JSON.parse(
      Deno.readTextFileSync(`${out}/nsw/all-synthetic-runs/synthetic-t9+/metadata.json`),
    );
    assert.equal(meta.prompt, "a grayscale microscopic image of human embryo at phase t9+");
    assert.equal(meta.model, `${out}/nsw/models/phase-t9+`);
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});
