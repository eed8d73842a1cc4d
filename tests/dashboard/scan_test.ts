import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { argDiff, confinePath, scanRoots } from "../../lib/dashboard/mod.ts";

Deno.test("dashboard: scan finds runs, metric, checkpoints; paths confined", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lumen-dash-" });
  const outside = await Deno.makeTempDir({ prefix: "lumen-dash-out-" });
  try {
    await Deno.mkdir(`${dir}/runs`);
    const log = [
      { tool: "train", seed: 3, time: "2026-01-01T00:00:00Z", t: 0 },
      { epoch: 1, loss_g: 0.5, t: 1 },
      { epoch: 2, loss_g: 0.25, t: 2 },
      { event: "end", t: 2.5 },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n";
    await Deno.writeTextFile(`${dir}/runs/a.log.jsonl`, log);
    await Deno.writeTextFile(`${dir}/runs/a_2.json`, "{}");
    await Deno.writeTextFile(
      `${dir}/runs/a_2.json.prov.json`,
      JSON.stringify({ tool: "train", seed: 3, commit: "abc", args: { lr: 1 }, uuid: "u1" }),
    );
    await Deno.writeTextFile(`${outside}/secret.txt`, "x");
    // Deno.symlink needs unscoped permissions; the test task allows bash.
    await new Deno.Command("bash", {
      args: ["-c", 'ln -s "$0" "$1"', outside, `${dir}/runs/escape`],
    })
      .output();
    const runs = await scanRoots([dir]);
    const r = runs.find((x) => x.log === "runs/a.log.jsonl")!;
    assertEquals(r.status, "finished");
    assertEquals(r.metric, { name: "loss_g", value: 0.25 });
    assertEquals(r.checkpoints, ["runs/a_2.json"]);
    assertEquals(r.duration, 2.5);
    assert(runs.some((x) => x.uuid === "u1" && x.commit === "abc"));
    assertEquals(argDiff({ lr: 1, b: 2 }, { lr: 2, b: 2 }), ["lr"]);
    assert(confinePath([dir], 0, "runs/a.log.jsonl"));
    assertEquals(confinePath([dir], 0, "../x"), null);
    assertEquals(confinePath([dir], 0, "/etc/passwd"), null);
    assertEquals(confinePath([dir], 0, "runs/escape/secret.txt"), null);
    assertEquals(confinePath([dir], 1, "runs/a.log.jsonl"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});
