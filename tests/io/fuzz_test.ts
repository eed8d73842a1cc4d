/**
 * The fuzz suite in CI (tests/io/_fuzz.ts): seeded mutations of every format's seed files and
 * crafted hostile files through describe(), each in a child process with `--allow-read` alone,
 * under 10 s and 1 GiB: every file ends in a report or a one-line error: no raw exception, no
 * crash, no hang, no run over the memory limit. Every report is checked against the Python
 * reference reader of its format (tests/io/_fuzz_reference.ts): no file reported as fine that
 * the reference rejects for corruption, and the same shapes, dtypes and counts where both read it.
 *
 * LUMEN_FUZZ_COUNT (default 150 per format), LUMEN_FUZZ_SEED (default 1), LUMEN_FUZZ_FORMATS
 * (comma-separated) and LUMEN_FUZZ_TIMEOUT_S (default 30) make a larger or different run; the full run is the script:
 * `deno run … tests/io/_fuzz.ts [FORMAT…] --count 10000`. CIF (the diffsims parser) is held to
 * the same limits; its comparison with pymatgen is printed, not asserted: on garbled files the
 * two part ways without either being wrong (pymatgen reads `data_` case-sensitively and drops
 * sites whose label is garbled but whose type symbol is fine).
 */
import assert from "node:assert/strict";
import { FUZZ_FORMATS, type FuzzFormat, runFuzz } from "./_fuzz.ts";

const env = (k: string) => Deno.env.get(k);
const count = Number(env("LUMEN_FUZZ_COUNT") ?? 150);
const seed = Number(env("LUMEN_FUZZ_SEED") ?? 1);
// a hang here is a loop, not a slow file: 30 s per file on a loaded machine (the full run, the
// script, holds each file to the 10 s)
const timeoutMs = 1000 * Number(env("LUMEN_FUZZ_TIMEOUT_S") ?? 30);
const formats = (env("LUMEN_FUZZ_FORMATS")?.split(",") ??
  FUZZ_FORMATS.filter((f) => f !== "cif")) as FuzzFormat[];

async function fuzzClean(formats: FuzzFormat[], count: number): Promise<void> {
  const figures = await runFuzz({ formats, count, seed, timeoutMs });
  const failures: string[] = [];
  for (const [format, f] of Object.entries(figures)) {
    assert.ok(f.tried >= count, `${format}: ${f.tried} tried`);
    assert.equal(f.tried, f.reports + f.errors + f.raw + f.crashes + f.hangs + f.memory);
    failures.push(...f.failures.map((x) => `${format}: ${x}`));
  }
  assert.deepEqual(failures, [], failures.join("\n"));
}

Deno.test("fuzz: every mutated or crafted file ends in a report or a one-line error, and the reference agrees with each report", async () => {
  await fuzzClean(formats, count);
});

Deno.test("fuzz: CIF files through the diffsims parser: a report or a one-line error, no hang", async () => {
  const figures = await runFuzz({ formats: ["cif"], count, seed, timeoutMs });
  const f = figures.cif;
  assert.ok(f.tried >= count, `cif: ${f.tried} tried`);
  assert.deepEqual({ raw: f.raw, crashes: f.crashes, hangs: f.hangs, memory: f.memory }, {
    raw: 0,
    crashes: 0,
    hangs: 0,
    memory: 0,
  });
  assert.equal(f.tried, f.reports + f.errors);
  if (f.failures.length) console.error(`cif against pymatgen:\n${f.failures.join("\n")}`);
});
