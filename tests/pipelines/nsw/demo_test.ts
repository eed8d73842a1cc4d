import assert from "node:assert/strict";
import { runDemo } from "../../../tools/nsw/_demo.ts";

Deno.test("nsw demo: runs end to end and writes its report", async () => {
  const out = Deno.makeTempDirSync();
  try {
    const r = await runDemo(`${out}/nsw`, { quiet: true, seed: 0, threads: 1, steps: 2 });
    assert.ok(Deno.statSync(r.index).size > 10_000);
    assert.equal(r.summary.length, 5);
    const m = /real\/real ([\d.]+), real\/synthetic ([\d.]+)/.exec(r.summary[3])!;
    assert.ok(Number(m[1]) < Number(m[2]) / 10, r.summary[3]);
    const meta = JSON.parse(
      Deno.readTextFileSync(`${out}/nsw/all-synthetic-runs/synthetic-t9+/metadata.json`),
    );
    assert.equal(meta.prompt, "a grayscale microscopic image of human embryo at phase t9+");
  } finally {
    Deno.removeSync(out, { recursive: true });
  }
});
