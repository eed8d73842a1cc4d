import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { latestCheckpoint, openTrainingRun } from "../../lib/nn/run_dir.ts";

Deno.test("run folder: newest checkpoint, finished/past/overwrite policy, a model file is never deleted", async () => {
  const dir = await Deno.makeTempDir();
  const put = (f: string, args: Record<string, unknown> = { lr: 1 }) =>
    Deno.writeTextFileSync(`${dir}/${f}`, JSON.stringify({ provenance: { args } }));
  put("s_1_b3.json"); // mid-epoch 2 (epochs count from 0 inside a name with _b), before s_2
  put("s_2.json");
  put("other_9.json");
  Deno.writeTextFileSync(`${dir}/s.log.jsonl`, "");
  assert.deepEqual(latestCheckpoint(dir, "s"), { epoch: 2, batch: 0, path: `${dir}/s_2.json` });
  assert.equal(latestCheckpoint(dir, "x"), null);
  const base = { dir, name: "s", args: { lr: 1 } };
  assert.throws(() => openTrainingRun({ ...base, epochs: 2 }), /s_2\.json: this run is finished/);
  assert.throws(() => openTrainingRun({ ...base, epochs: 1 }), /already past --epochs 1/);
  assert.deepEqual(openTrainingRun({ ...base, epochs: 5 }), { resume: `${dir}/s_2.json` });
  assert.throws(
    () => openTrainingRun({ ...base, epochs: 5, args: { lr: 2 } }),
    /cannot resume: --lr \(1 → 2\) differs/,
  );
  assert.throws(
    () => openTrainingRun({ ...base, epochs: 5, overwrite: true, modelFile: `${dir}/s_2.json` }),
    /s_2\.json: is a checkpoint of run s, which --overwrite would delete/,
  );
  assert.ok(existsSync(`${dir}/s_2.json`));
  assert.deepEqual(openTrainingRun({ ...base, epochs: 5, overwrite: true }), {});
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["other_9.json"]);
  await Deno.remove(dir, { recursive: true });
});
