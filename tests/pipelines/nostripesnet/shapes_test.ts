/**
 * NoStripesNet on the shapes of real beamlines: the checkpoint records the patch size and the
 * split, so test, visualize and apply_model need neither restated; the networks' depths follow
 * the patch size; narrow figures are scaled up; Vo's window defaults to the paper's 31.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  hasPython,
  nsnDataset,
  nsnTrainArgs,
  pyFixture,
  runPython,
  runTool,
} from "../../_helpers.ts";
import { displaySize } from "../../../lib/viz/figure.ts";
import { sortingSize } from "../../../lib/tomo/vo_sorting.ts";
import { fitToPatch, NSN_PRESETS } from "../../../lib/pipelines/nostripesnet/model.ts";
import { splitPairs } from "../../../lib/pipelines/nostripesnet/patch_loader.ts";
import { sinogramFigure } from "../../../lib/pipelines/nostripesnet/figures.ts";
import { main as visualize } from "../../../tools/nostripesnet/visualize.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp"];
const noPy = !hasPython("numpy", "h5py");

const trainArgs = (root: string, dir: string, extra: string[] = [], preset = "tiny") =>
  nsnTrainArgs(root, dir, extra, { name: "s", preset });

Deno.test("fitToPatch: the paper's depths fit 1801×256; DIAD's 26 columns lower them", () => {
  assert.deepEqual(fitToPatch(NSN_PRESETS.paper, [1801, 256]).lowered, []);
  const diad = fitToPatch(NSN_PRESETS.small, [3001, 26]);
  assert.deepEqual(diad.config, { genWidth: 16, genDepth: 4, discWidth: 16, discDepth: 3 });
  assert.deepEqual(diad.lowered, ["generator depth 6 → 4", "discriminator depth 4 → 3"]);
  assert.throws(() => fitToPatch(NSN_PRESETS.tiny, [40, 3]), /narrower than 4 pixels/);
});

Deno.test("figures: narrow sinograms are scaled up to stay readable; Vo's window is 31 by default", () => {
  assert.deepEqual(displaySize([3001, 26]), [260, 130]);
  assert.deepEqual(displaySize([1801, 2560]), [768, 384]);
  assert.deepEqual(displaySize([1801, 256]), [512, 256]);
  const sino = new Float32Array(60 * 26).map((_, i) => i % 26);
  const { panels } = sinogramFigure([{ title: "raw", data: sino }], {
    shape: [60, 26],
    reconstruct: false,
  });
  assert.deepEqual(panels[0].size, [260, 130]); // 5× wider, at most twice as tall as wide
  assert.equal(sortingSize(undefined, 2560), 31);
  assert.equal(sortingSize("tomopy", 2560), 21);
  assert.equal(sortingSize("7", 100), 7);
  assert.throws(() => sortingSize("wide", 100), /--vo-size: wide: expected a window/);
});

Deno.test({
  name: "train on 12×20 patches with the small preset: depths lowered (or --disc-depth), recorded",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("nsn_integrity");
    const root = await Deno.makeTempDir(), runs = await Deno.makeTempDir();
    const g = await runTool("nostripesnet/data_generator", PERMS, [
      ...["--mode", "patch", "--root", root, "--hdf-root", `${fx}/k11.nxs`],
      ...["--mask", `${fx}/masks.npz`, "--patch-size", "12", "20", "--quiet"],
    ]);
    assert.equal(g.code, 0, g.stderr);
    const r = await runTool(
      "nostripesnet/train",
      PERMS,
      trainArgs(root, runs, ["--epochs", "1", "--verbose"], "small"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /12×20 patches: generator depth 6 → 3, discriminator depth 4 → 2/);
    const ck = JSON.parse(await Deno.readTextFile(`${runs}/s_1.json`));
    assert.equal(ck.modules.gen.config.depth, 3);
    assert.equal(ck.modules.disc.config.depth, 2);
    assert.deepEqual(ck.extra.data, {
      patchSize: [12, 20],
      tvt: [3, 1, 1],
      splitSeed: 0,
      pairs: 18,
    });
    const d1 = await runTool("nostripesnet/train", PERMS, [
      ...trainArgs(root, `${runs}/d1`, ["--epochs", "1"], "small"),
      "--disc-depth",
      "1",
    ]);
    assert.equal(d1.code, 0, d1.stderr);
    assert.equal(
      JSON.parse(await Deno.readTextFile(`${runs}/d1/s_1.json`)).modules.disc.config.depth,
      1,
    );
    for (const d of [root, runs]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name:
    "test and visualize use the split recorded in the checkpoint; visualize's footer is its own",
  ignore: noPy,
  fn: async () => {
    const { root } = await nsnDataset();
    const runs = await Deno.makeTempDir(), out = await Deno.makeTempDir();
    const t = await runTool(
      "nostripesnet/train",
      PERMS,
      trainArgs(root, runs, ["--tvt", "1", "1", "3"]),
    );
    assert.equal(t.code, 0, t.stderr);
    const r = await runTool("nostripesnet/test", PERMS, [
      ...["-r", root, "-f", `${runs}/s_1.json`, "-o", out, "-B", "4", "--threads", "1", "-q"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(await Deno.readTextFile(`${out}/s_1.metrics.json`));
    const want = splitPairs(18, [1, 1, 3], 0).test.length;
    assert.equal(res.pairs.test, want);
    assert.notEqual(want, splitPairs(18, [3, 1, 1], 0).test.length);
    // in-process (callTool), so Deno.args is the test runner's, not the tool's
    await visualize([
      ...["-r", root, "-f", `${runs}/s_1.json`, "-o", out, "--patches", "50", "--threads", "1"],
      ...["--no-real", "--sinograms", "0", "--quiet"],
    ]);
    const html = await Deno.readTextFile(`${out}/s_1.report.html`);
    assert.match(html, /test split of 1:1:3/);
    assert.ok(html.includes(`visualize --root ${root} --model-file ${runs}/s_1.json`), "footer");
    assert.ok(html.includes("--patches 50"));
    for (const d of [root, runs, out]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "train --epochs below the run's epoch says so; apply_model's Vo window defaults to 31",
  ignore: noPy,
  fn: async () => {
    const { fx, root } = await nsnDataset();
    const runs = await Deno.makeTempDir();
    const a = await runTool(
      "nostripesnet/train",
      PERMS,
      trainArgs(root, runs, ["--epochs", "2", "--save-every", "0"]),
    );
    assert.equal(a.code, 0, a.stderr);
    const b = await runTool("nostripesnet/train", PERMS, trainArgs(root, runs, ["--epochs", "1"]));
    assert.equal(b.code, 1);
    assert.match(
      b.stderr,
      /s_2\.json: this run is already past --epochs 1 \(it reached epoch 2\); give --epochs above 2/,
    );
    const vo = (extra: string[], out: string) =>
      runTool("nostripesnet/apply_model", PERMS, [
        ...["--h5", `${fx}/scan.nxs`, "--method", "vo-sorting", "-o", `${runs}/${out}`, "-q"],
        ...extra,
      ]);
    for (
      const [extra, out] of [[[], "d.npy"], [["--vo-size", "31"], "p.npy"], [[
        "--vo-size",
        "tomopy",
      ], "t.npy"]] as const
    ) {
      const r = await vo([...extra], out);
      assert.equal(r.code, 0, r.stderr);
    }
    const cmp = runPython(
      `-c import sys, numpy as np; d = sys.argv[1]; a, p, t = (np.load(f"{d}/{n}.npy") for n in "dpt"); print(np.array_equal(a, p), np.array_equal(a, t))`,
      [runs],
    );
    assert.equal(cmp.trim(), "True False");
    assert.ok(!existsSync(`${runs}/d.npy.partial`));
    for (const d of [root, runs]) await Deno.remove(d, { recursive: true });
  },
});
