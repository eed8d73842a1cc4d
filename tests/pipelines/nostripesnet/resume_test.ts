import assert from "node:assert/strict";
import { checkResumeArgs, checkResumeSidecar, resumeDiff } from "../../../lib/run/resume.ts";
import { LumenError } from "../../../lib/run/errors.ts";
import { makeProvenance, writeProvenance } from "../../../lib/run/provenance.ts";

Deno.test("resume: resumeDiff names the differing arguments, ignoring the allowed ones", () => {
  const rec = { "patch-size": [800, 80], seed: 0, epochs: 1, _: [] };
  assert.deepEqual(resumeDiff(rec, { ...rec }), []);
  assert.deepEqual(resumeDiff(rec, { ...rec, "patch-size": [800, 100], seed: 1 }), [
    "patch-size",
    "seed",
  ]);
  assert.deepEqual(resumeDiff(rec, { ...rec, epochs: 5 }, { ignore: ["epochs"] }), []);
});

Deno.test("resume: checkResumeArgs throws one line naming the flags and --overwrite", () => {
  assert.throws(
    () => checkResumeArgs("out/ds", { seed: 0 }, { seed: 1 }),
    (e: unknown) =>
      e instanceof LumenError && !e.message.includes("\n") &&
      /--seed \(0 → 1\)/.test(e.message) && /--overwrite/.test(e.message),
  );
});

Deno.test("resume: checkResumeSidecar compares with <artifact>.prov.json when present", async () => {
  const dir = await Deno.makeTempDir();
  assert.equal(await checkResumeSidecar(`${dir}/x`, { seed: 0 }), false);
  await writeProvenance(`${dir}/x`, await makeProvenance({ tool: "t", args: { seed: 0 } }));
  assert.equal(await checkResumeSidecar(`${dir}/x`, { seed: 0 }), true);
  await assert.rejects(() => checkResumeSidecar(`${dir}/x`, { seed: 1 }), /--seed/);
});
