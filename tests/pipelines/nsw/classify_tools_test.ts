import assert from "node:assert/strict";
import { runTool } from "../../_helpers.ts";
import {
  makeImageFolder,
  readImageFolder,
  writeEmbryoTree,
  writeSyntheticDataset,
} from "../../../lib/pipelines/nsw/mod.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp"];

Deno.test("nsw-classify and nsw-evaluate: metrics, per-phase FID with counts, min count", async () => {
  const tmp = Deno.makeTempDirSync();
  try {
    const t = await writeEmbryoTree(`${tmp}/ex`, {
      videos: 8,
      size: 32,
      seed: 6,
      planes: ["F+00"],
      framesPerPhase: [2, 3],
    });
    const f = await makeImageFolder({
      dataset: `${tmp}/ex`,
      videos: t.videos.map((v) => v.name),
      phases: ["t2", "t4", "t8", "tB"],
      parent: tmp,
      name: "if",
      shuffle: true,
      seed: 0,
    });
    const real = await readImageFolder(f.folder, 32);
    const t2 = real.images.filter((_, i) => real.labels[i] === 3);
    const meta = { "focal-plane": "F+00", model: "-", "model-sha256": "", seed: 0, steps: 0 };
    await writeSyntheticDataset(tmp, "like-t2", t2, 32, { ...meta, prompt: "t2", phase: "t2" });
    const noise = t2.map((_, k) =>
      Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i * (k + 3)))
    );
    await writeSyntheticDataset(tmp, "noise-t2", noise, 32, { ...meta, prompt: "t2", phase: "t2" });
    let r = await runTool("nsw/classify", PERMS, [
      "--image-folder",
      f.folder,
      "--synthetic",
      `${tmp}/like-t2`,
      "--out",
      `${tmp}/cls`,
      "--epochs",
      "30",
      "--batch-size",
      "8",
      "--lr",
      "3e-3",
      "--threads",
      "1",
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const evalArgs = [
      "--real",
      f.folder,
      "--synthetic",
      `${tmp}/like-t2`,
      `${tmp}/noise-t2`,
      "--classifier",
      `${tmp}/cls`,
      "--threads",
      "1",
      "--quiet",
    ];
    r = await runTool("nsw/evaluate", PERMS, evalArgs);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /FID needs at least 64 images .* got 8/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    r = await runTool("nsw/evaluate", PERMS, [...evalArgs, "--min-count", "2"]);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(Deno.readTextFileSync(`${tmp}/cls/evaluation/metrics.json`));
    assert.ok(m.real.balancedAccuracy > 0.5, `${m.real.balancedAccuracy}`);
    assert.equal(m.real.confusion.length, 16);
    const [like, nz] = m.synthetic;
    assert.equal(like.fid.nReal, 8);
    assert.equal(like.fid.nFake, 8);
    assert.ok(like.fid.fid < nz.fid.fid, `${like.fid.fid} vs ${nz.fid.fid}`);
    assert.ok(like.accuracy > nz.accuracy || like.accuracy === 1);
    assert.ok(Deno.statSync(`${tmp}/cls/evaluation/report.html`).size > 5000);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
