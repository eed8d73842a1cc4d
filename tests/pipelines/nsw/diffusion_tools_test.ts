import assert from "node:assert/strict";
import { hasPython, interruptAt, runPython, runTool } from "../../_helpers.ts";
import { decodeJpeg } from "../../../lib/io/jpeg.ts";
import { readCheckpointRecord } from "../../../lib/nn/checkpoint.ts";
import { makeImageFolder, writeEmbryoTree } from "../../../lib/pipelines/nsw/mod.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp"];

async function imageFolder(tmp: string): Promise<string> {
  const t = await writeEmbryoTree(`${tmp}/ex`, {
    videos: 3,
    size: 40,
    seed: 2,
    planes: ["F+00"],
    framesPerPhase: [1, 2],
  });
  const r = await makeImageFolder({
    dataset: `${tmp}/ex`,
    videos: t.videos.map((v) => v.name),
    phases: ["t2", "t4", "t8"],
    parent: tmp,
    name: "if",
    shuffle: false,
    seed: 0,
  });
  return r.folder;
}

function train(folder: string, out: string, extra: string[] = []): string[] {
  return [
    "--image-folder",
    folder,
    "--out",
    out,
    "--steps",
    "4",
    "--batch-size",
    "2",
    "--checkpoint-steps",
    "2",
    "--validation-images",
    "1",
    "--validation-ddim-steps",
    "2",
    "--threads",
    "1",
    "--quiet",
    ...extra,
  ];
}

Deno.test("nsw-train-diffusion: interrupted run resumes to the straight run's weights", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    const folder = await imageFolder(tmp);
    let r = await runTool("nsw/train_diffusion", PERMS, train(folder, `${tmp}/a`));
    assert.equal(r.code, 0, r.stderr);
    const i = await interruptAt("nsw/train_diffusion", PERMS, train(folder, `${tmp}/b`), 3);
    assert.ok(i.paused && i.code === 130, `paused ${i.paused} code ${i.code}: ${i.stderr}`);
    r = await runTool("nsw/train_diffusion", PERMS, train(folder, `${tmp}/b`));
    assert.equal(r.code, 0, r.stderr);
    const a = await readCheckpointRecord(`${tmp}/a/model.json`);
    const b = await readCheckpointRecord(`${tmp}/b/model.json`);
    assert.equal(a.files.weights.sha256, b.files.weights.sha256);
    assert.ok(Deno.statSync(`${tmp}/a/report.html`).size > 1000);
    assert.ok(Deno.statSync(`${tmp}/a/samples/step_4.png`).isFile);
    // a different seed on the same folder is refused, naming the flag
    r = await runTool("nsw/train_diffusion", PERMS, train(folder, `${tmp}/b`, ["--seed", "3"]));
    assert.notEqual(r.code, 0);
    // the phase comes from the instance prompt; fine-tuning keeps a prior of the other phases
    r = await runTool("nsw/train_diffusion", PERMS, [
      ...train(folder, `${tmp}/t2`, ["--init", `${tmp}/a`, "--num-class-images", "4"]),
      "--instance-prompt",
      "grayscale microscopic image of a human embryo at phase t2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const ft = await readCheckpointRecord(`${tmp}/t2/model.json`);
    const m = ft.extra.meta as { phases: number[]; base: string; prompt: string };
    assert.deepEqual(m.phases, [3]);
    assert.equal(m.base, `${tmp}/a`);
    assert.equal([...Deno.readDirSync(`${tmp}/t2/class_images`)].length, 4);
    // synthesize: JPEGs and the formatted prompt
    r = await runTool("nsw/make_synthetic_dataset", PERMS, [
      "--phase",
      "t2",
      "--dataset-name",
      "new-synthetic-t2",
      "--model-path",
      `${tmp}/t2`,
      "--parent",
      tmp,
      "--count",
      "3",
      "--steps",
      "2",
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const dir = `${tmp}/new-synthetic-t2`;
    const meta = JSON.parse(Deno.readTextFileSync(`${dir}/metadata.json`));
    assert.equal(meta.prompt, "a grayscale microscopic image of human embryo at phase t2");
    assert.equal(meta.phase, "t2");
    assert.equal(meta["focal-plane"], "F+00");
    for (let k = 0; k < 3; k++) {
      const img = decodeJpeg(Deno.readFileSync(`${dir}/img${k}.jpg`), "img");
      assert.deepEqual(img.shape.slice(0, 2), [32, 32]);
    }
    if (hasPython("PIL")) {
      const out = runPython(`-c from PIL import Image; print(Image.open("${dir}/img0.jpg").size)`);
      assert.equal(out.trim(), "(32, 32)");
    }
    // a phase the model does not know, and an existing non-empty folder: one line each
    for (
      const [phase, name, re] of [["t8", "x", /not trained on phase t8/], [
        "t2",
        "new-synthetic-t2",
        /is not empty/,
      ]]
    ) {
      r = await runTool("nsw/make_synthetic_dataset", PERMS, [
        "--phase",
        phase as string,
        "--dataset-name",
        name as string,
        "--model-path",
        `${tmp}/t2`,
        "--parent",
        tmp,
        "--count",
        "1",
        "--steps",
        "1",
      ]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, re as RegExp);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
