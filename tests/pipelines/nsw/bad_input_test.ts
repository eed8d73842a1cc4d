import assert from "node:assert/strict";
import { runTool } from "../../_helpers.ts";
import { writeEmbryoTree } from "../../../lib/pipelines/nsw/mod.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp"];

// The acceptance list's bad inputs on a tree the test writes itself (no Python needed): each is
// refused with exit code 1 in one line naming the problem, and nothing is written.
Deno.test("nsw bad input: unknown video, unknown phase, all + phases, existing folder", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    const tree = await writeEmbryoTree(`${tmp}/tree`, {
      videos: 2,
      size: 16,
      seed: 3,
      planes: ["F+00"],
    });
    const v = tree.videos.map((x) => x.name);
    Deno.writeTextFileSync(`${tmp}/split.json`, JSON.stringify({ train: v, val: [], test: [] }));
    Deno.writeTextFileSync(`${tmp}/bad.json`, JSON.stringify({ train: [v[0], "NOPE-1"] }));
    Deno.mkdirSync(`${tmp}/parent/taken`, { recursive: true });
    const run = (split: string, more: string[]) =>
      runTool("nsw/make_image_folder", PERMS, [
        "--dataset",
        `${tmp}/tree`,
        "--split-file",
        `${tmp}/${split}`,
        "--set",
        "train",
        "--image-folder-parent",
        `${tmp}/parent`,
        ...more,
      ]);
    const cases: [string, string[], RegExp][] = [
      ["bad.json", ["--phases", "all", "--image-folder-name", "a"], /NOPE-1: video not in the/],
      ["split.json", ["--phases", "t2", "t10", "--image-folder-name", "b"], /unknown phase "t10"/],
      ["split.json", ["--phases", "t2", "all", "--image-folder-name", "c"], /all may not be given/],
      ["split.json", ["--phases", "t2", "--image-folder-name", "taken"], /already exists/],
    ];
    for (const [split, more, re] of cases) {
      const r = await run(split, more);
      assert.equal(r.code, 1, `${more.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    assert.deepEqual([...Deno.readDirSync(`${tmp}/parent`)].map((e) => e.name), ["taken"]);
    assert.equal([...Deno.readDirSync(`${tmp}/parent/taken`)].length, 0);
    // the diffusion trainer: an unknown phase, one line, nothing written
    const r = await runTool("nsw/train_diffusion", PERMS, [
      "--image-folder",
      `${tmp}/parent/taken`,
      "--phase",
      "t10",
      "--out",
      `${tmp}/model`,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /unknown phase/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.throws(() => Deno.statSync(`${tmp}/model`));
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
