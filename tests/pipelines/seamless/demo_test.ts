/**
 * The SEAMLeSS demo runs end to end on generated stacks with its own budget (six passes over 24
 * stacks of 10 sections, 1152 pair steps) and writes its page, the training report and a network;
 * on fresh stacks the network's field leaves at most 30 % of the unaligned displacement.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { runDemo } from "../../../tools/seamless/_demo.ts";

/** The demo's residual displacement as a share of the unaligned one (seeded, deterministic). */
const MAX_RATIO = 0.3; // measured 0.267 (0.380 vs 1.421 px); seeds 1, 2, 3: 0.275, 0.234, 0.188

Deno.test("seamless demo: synthetic stacks → training → alignment → report", async () => {
  const out = await Deno.makeTempDir();
  const r = await runDemo(out, { quiet: true, seed: 0 });
  assert.ok(existsSync(r.index));
  assert.ok(existsSync(`${out}/out/demo/report.html`));
  assert.ok(existsSync(`${out}/pt/demo.json`));
  assert.equal(r.summary.length, 4);
  const m = /residual displacement ([\d.]+) px vs ([\d.]+) px unaligned/.exec(r.summary[1]);
  assert.ok(m, r.summary[1]);
  const ratio = Number(m[1]) / Number(m[2]);
  assert.ok(ratio <= MAX_RATIO, `residual ${(100 * ratio).toFixed(1)} % of the unaligned one`);
  await Deno.remove(out, { recursive: true });
});
