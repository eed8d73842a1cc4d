/**
 * The SEAMLeSS demo runs end to end on generated stacks (a short schedule) and writes its page,
 * the training report and a network.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { runDemo } from "../../../tools/seamless/_demo.ts";

Deno.test("seamless demo: synthetic stacks → training → alignment → report", async () => {
  const out = await Deno.makeTempDir();
  const r = await runDemo(out, { quiet: true, seed: 0, epochs: 2 });
  assert.ok(existsSync(r.index));
  assert.ok(existsSync(`${out}/out/demo/report.html`));
  assert.ok(existsSync(`${out}/pt/demo.json`));
  assert.equal(r.summary.length, 4);
  assert.match(r.summary[1], /residual displacement [\d.]+ px vs [\d.]+ px unaligned/);
  await Deno.remove(out, { recursive: true });
});
