/**
 * The fuzz suite in CI (tests/io/_fuzz.ts): seeded mutations of every format's seed files and
 * crafted hostile files through describe(), each in a child process with `--allow-read` alone,
 * under 10 s and 1 GiB: every file ends in a report or a one-line error: no raw exception, no
 * crash, no hang, no run over the memory limit.
 *
 * LUMEN_FUZZ_COUNT (default 200 per format: about 2,800 files in 15 s on 2 cores), LUMEN_FUZZ_SEED (default 1) and
 * LUMEN_FUZZ_FORMATS (comma-separated) make a larger or different run; the full run is
 * `LUMEN_FUZZ_COUNT=10000`, or the script: `deno run … tests/io/_fuzz.ts [FORMAT…] --count N`.
 */
import assert from "node:assert/strict";
import { FUZZ_FORMATS, type FuzzFormat, runFuzz } from "./_fuzz.ts";

const env = (k: string) => Deno.env.get(k);
const count = Number(env("LUMEN_FUZZ_COUNT") ?? 200);
const seed = Number(env("LUMEN_FUZZ_SEED") ?? 1);
const formats = (env("LUMEN_FUZZ_FORMATS")?.split(",") ?? FUZZ_FORMATS) as FuzzFormat[];

Deno.test("fuzz: every mutated or crafted file ends in a report or a one-line error", async () => {
  const figures = await runFuzz({ formats, count, seed });
  const failures: string[] = [];
  for (const [format, f] of Object.entries(figures)) {
    assert.ok(f.tried >= count, `${format}: ${f.tried} tried`);
    assert.equal(f.tried, f.reports + f.errors + f.raw + f.crashes + f.hangs + f.memory);
    failures.push(...f.failures.map((x) => `${format}: ${x}`));
  }
  assert.deepEqual(failures, [], failures.join("\n"));
});
