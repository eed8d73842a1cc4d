import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hasPython, pyFixture, runPython, runTool } from "../../_helpers.ts";
import { kfoldSplit, prepareDataset } from "../../../lib/pipelines/flair/mod.ts";
import { readNifti, writeNifti } from "../../../lib/io/nifti.ts";

const noPy = !hasPython("numpy", "scipy", "skimage", "nibabel");
if (noPy) console.log("flair prepare: python3 with numpy/scipy/skimage/nibabel missing; skipped");

const COMPARE = `
import sys, json, numpy as np
e, g = sys.argv[1], sys.argv[2]
r = {}
for n in ["images", "labels", "mask", "meta"]:
    a, b = np.load(f"{e}/{n}.npy"), np.load(f"{g}/{n}.npy")
    if n == "meta":
        b = b[:, :3]
    r[n] = [str(b.dtype), list(b.shape), list(a.shape) == list(b.shape) and int((a != b).sum())]
print(json.dumps(r))
`;

async function copyInput(src: string): Promise<string> {
  const dst = await Deno.makeTempDir({ prefix: "flair_in_" });
  for (const p of Deno.readDirSync(src)) {
    await Deno.mkdir(`${dst}/${p.name}`);
    for (const f of Deno.readDirSync(`${src}/${p.name}`)) {
      await Deno.copyFile(`${src}/${p.name}/${f.name}`, `${dst}/${p.name}/${f.name}`);
    }
  }
  return dst;
}

Deno.test({
  name: "flair prepare: equals the NumPy/scikit-image reimplementation on 3 synthetic patients",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("flair/prepare");
    const out = `${await Deno.makeTempDir()}/prep`;
    const r = await prepareDataset(`${fx}/input`, out, { kfolds: 3, valid: 0.5, seed: 0 });
    assert.equal(r.slices, 15);
    const cmp = JSON.parse(runPython(`-c ${COMPARE}`, [`${fx}/expected`, out]));
    assert.deepEqual(cmp, {
      images: ["float16", [15, 2, 256, 256], 0],
      labels: ["uint8", [15, 2, 256, 256], 0],
      mask: ["uint8", [15, 256, 256], 0],
      meta: ["int32", [15, 3], 0],
    });
    // subjects.csv: the same columns as NumPy's, and the fold/valid columns of the split
    const got = (await Deno.readTextFile(`${out}/subjects.csv`)).trim().split("\n").slice(1);
    const want = (await Deno.readTextFile(`${fx}/expected/subjects.csv`)).trim().split("\n");
    const split = kfoldSplit(["P1", "P2", "P3"], 3, 0.5, 0);
    got.forEach((line, i) => {
      const g = line.split(","), w = want[i].split(",");
      assert.deepEqual([g[0], g[1], g[2]], [w[0], w[1], w[2]]);
      assert.ok(Math.abs(Number(g[5]) - Number(w[3])) < 1e-9, `volvox ${g[5]} vs ${w[3]}`);
      assert.deepEqual([Number(g[6]), g[7], g[8]], [Number(w[4]), w[5], w[6]]);
      const a = split.find((s) => s.patient === g[0])!;
      assert.deepEqual([Number(g[3]), g[4]], [a.fold, a.isValid ? "1" : "0"]);
    });
    // every fold keeps a training patient; no patient in two folds
    assert.equal(new Set(split.map((s) => s.patient)).size, 3);
    assert.ok(split.every((s) => !s.isValid));
  },
});

Deno.test({
  name: "flair prepare: the same seed gives the same bytes; the tool takes the original's flags",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("flair/prepare");
    const tmp = await Deno.makeTempDir();
    const perms = ["--allow-read", "--allow-write=/tmp"];
    for (
      const [dir, flags] of [["a", ["-k", "3", "-v", "0.2"]], [
        "b",
        ["--kfolds", "3", "--valid_proportion", "0.2"],
      ]] as const
    ) {
      const r = await runTool("flair/prepare", perms, [
        "--input",
        `${fx}/input`,
        "--out",
        `${tmp}/${dir}`,
        ...flags,
        "--seed",
        "5",
        "-q",
      ]);
      assert.equal(r.code, 0, r.stderr);
    }
    for (const f of ["images.npy", "labels.npy", "mask.npy", "meta.npy", "subjects.csv"]) {
      assert.deepEqual(
        await Deno.readFile(`${tmp}/a/${f}`),
        await Deno.readFile(`${tmp}/b/${f}`),
        f,
      );
    }
  },
});

Deno.test({
  name: "flair prepare: bad input fails with one line naming patient and file, nothing written",
  ignore: noPy,
  fn: async () => {
    const fx = await pyFixture("flair/prepare");
    const cases: [string, (d: string) => Promise<void>, RegExp, string[]?][] = [
      ["missing b1000", (d) => Deno.remove(`${d}/P2/b1000.nii.gz`), /P2\/b1000\.nii\.gz: missing/],
      ["shapes differ", async (d) => {
        const img = await readNifti(`${fx}/input/P1/b0.nii.gz`);
        await writeNifti(`${d}/P2/b1000.nii.gz`, img.data, { affine: img.affine, overwrite: true });
      }, /P2\/b1000\.nii\.gz: shape: patient P2/],
      ["ROI on another grid", async (d) => {
        const img = await readNifti(`${d}/P3/stroke_roi.nii.gz`);
        const a = img.affine.map((r) => r.slice());
        a[0][3] += 5;
        await writeNifti(`${d}/P3/stroke_roi.nii.gz`, img.data, { affine: a, overwrite: true });
      }, /P3\/stroke_roi\.nii\.gz: affine: patient P3: not on b0's grid/],
      ["truncated gzip", async (d) => {
        const b = await Deno.readFile(`${d}/P1/flairviz_roi.nii.gz`);
        await Deno.writeFile(`${d}/P1/flairviz_roi.nii.gz`, b.subarray(0, b.length >> 1));
      }, /P1\/flairviz_roi\.nii\.gz/],
      ["K too large", async () => {}, /-k\/--kfolds: 4: larger than the number of patients \(3\)/, [
        "-k",
        "4",
      ]],
    ];
    for (const [what, spoil, re, extra] of cases) {
      const d = await copyInput(`${fx}/input`);
      await spoil(d);
      const out = `${d}_out`;
      const r = await runTool("flair/prepare", ["--allow-read", "--allow-write=/tmp"], [
        "--input",
        d,
        "--out",
        out,
        ...(extra ?? ["-k", "3"]),
        "-q",
      ]);
      assert.equal(r.code, 1, `${what}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
      assert.match(lines[0], re, what);
      assert.ok(!existsSync(out), `${what}: ${out} was written`);
      assert.ok(![...Deno.readDirSync("/tmp")].some((e) => e.name.startsWith(out.slice(5) + ".")));
    }
  },
});
