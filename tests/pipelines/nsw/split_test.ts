import assert from "node:assert/strict";
import { hasPython, pyFixture, runTool } from "../../_helpers.ts";
import {
  makeImageFolder,
  makeSplit,
  parsePhases,
  PHASES,
  PyRandom,
  pyRound,
  readSplit,
  splitJsonText,
  splitSet,
} from "../../../lib/pipelines/nsw/mod.ts";

const PERMS = ["--allow-read", "--allow-write=/tmp"];

async function ref(): Promise<string | null> {
  if (!hasPython("numpy")) return null;
  return await pyFixture("nsw/split_ref");
}

Deno.test("nsw PyRandom: shuffle, random, choices equal CPython's random.Random", () => {
  if (!hasPython()) return;
  const py = new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import random,json\nout=[]\nfor s in [0,1,1234567890,2**33+7]:\n p=random.Random(s)\n" +
      " xs=list(range(30)); p.shuffle(xs)\n" +
      " out.append([xs,p.random(),p.choices('abc',k=5),p.getrandbits(7)])\nprint(json.dumps(out))",
    ],
  }).outputSync();
  const want = JSON.parse(new TextDecoder().decode(py.stdout));
  const got = [0, 1, 1234567890, 2 ** 33 + 7].map((s) => {
    const p = new PyRandom(s);
    const xs = [...Array(30).keys()];
    p.shuffle(xs);
    return [xs, p.random(), p.choices([..."abc"], 5), p.getrandbits(7)];
  });
  assert.deepEqual(got, want);
  assert.deepEqual([0.5, 1.5, 2.5, 2.4999, 2.6].map(pyRound), [0, 2, 2, 2, 3]);
});

Deno.test("nsw split: equals the original's rules on the fixture tree, same bytes", async () => {
  const dir = await ref();
  if (!dir) return;
  const cases: [string, number[], number][] = [
    ["split_default", [0.6, 0.2, 0.2], 1234567890],
    ["split_seed7", [0.6, 0.2, 0.2], 7],
    ["split_two", [0.7, 0.3], 3],
    ["split_half", [0.5, 0.25, 0.25], 11],
  ];
  for (const [name, w, seed] of cases) {
    const want = Deno.readTextFileSync(`${dir}/${name}.json`);
    assert.equal(splitJsonText(makeSplit(`${dir}/tree`, w, seed)), want, name);
  }
  const s = makeSplit(`${dir}/tree`, [0.6, 0.2, 0.2], 1234567890);
  assert.deepEqual(Object.keys(s), ["train", "val", "test"]);
  assert.equal(new Set([...s.train, ...s.val, ...s.test]).size, 28);
});

Deno.test("nsw-split tool: verbatim flags, eval read as val, refuses to overwrite", async () => {
  const dir = await ref();
  if (!dir) return;
  const tmp = Deno.makeTempDirSync();
  try {
    const out = `${tmp}/split.json`;
    let r = await runTool("nsw/make_split", PERMS, [
      "--dataset",
      `${dir}/tree`,
      "--out",
      out,
      "--seed",
      "1234567890",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(Deno.readTextFileSync(out), Deno.readTextFileSync(`${dir}/split_default.json`));
    r = await runTool("nsw/make_split", PERMS, ["--dataset", `${dir}/tree`, "--out", out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /exists; make_split never overwrites$/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    // space-separated weights as argparse nargs, the original's --split_file, a folder target
    Deno.mkdirSync(`${tmp}/d`);
    r = await runTool("nsw/make_split", PERMS, [
      "--dataset",
      `${dir}/tree`,
      "--split_file",
      `${tmp}/d`,
      "--weights",
      "0.7",
      "0.3",
      "--seed",
      "3",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      Deno.readTextFileSync(`${tmp}/d/split.json`),
      Deno.readTextFileSync(`${dir}/split_two.json`),
    );
    // a split file written with `eval`
    const s = JSON.parse(Deno.readTextFileSync(out));
    Deno.writeTextFileSync(
      `${tmp}/eval.json`,
      JSON.stringify({ train: s.train, eval: s.val, test: s.test }),
    );
    assert.deepEqual(splitSet(readSplit(`${tmp}/eval.json`), "eval", "x"), s.val);
    assert.deepEqual(splitSet(readSplit(`${tmp}/eval.json`), "val", "x"), s.val);
    assert.deepEqual(splitSet(readSplit(out), "eval", "x"), s.val);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

interface FolderRef {
  metadata: string;
  descriptions: string[];
  sources: string[];
}

Deno.test("nsw image folder: median frames, order and shuffle equal the original's", async () => {
  const dir = await ref();
  if (!dir) return;
  const want = JSON.parse(Deno.readTextFileSync(`${dir}/image_folders.json`)) as Record<
    string,
    FolderRef
  >;
  const split = readSplit(`${dir}/split_default.json`);
  const tmp = Deno.makeTempDirSync();
  try {
    const cases: [string, string, string[], boolean, number][] = [
      ["eval_t678_s0", "eval", ["t6", "t7", "t8"], true, 0],
      ["train_all_noshuffle", "train", ["all"], false, 0],
      ["test_all_s5", "test", ["all"], true, 5],
    ];
    for (const [name, set, phases, shuffle, seed] of cases) {
      const r = await makeImageFolder({
        dataset: `${dir}/tree`,
        videos: splitSet(split, set, "split"),
        phases: parsePhases(phases),
        parent: tmp,
        name,
        shuffle,
        seed,
      });
      const w = want[name];
      assert.equal(Deno.readTextFileSync(`${r.folder}/metadata.csv`), w.metadata, name);
      w.descriptions.forEach((d, i) => {
        assert.equal(Deno.readTextFileSync(`${r.folder}/descriptions/${i}.txt`), d);
        assert.deepEqual(
          Deno.readFileSync(`${r.folder}/images/${i}.jpeg`),
          Deno.readFileSync(`${dir}/tree/${w.sources[i]}`),
        );
      });
      assert.equal([...Deno.readDirSync(`${r.folder}/images`)].length, w.sources.length);
    }
    assert.equal(parsePhases(["all"]).length, PHASES.length);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("nsw-image-folder tool: the seed's command line; bad input is one line", async () => {
  const dir = await ref();
  if (!dir) return;
  const tmp = Deno.makeTempDirSync();
  try {
    const base = [
      "--dataset",
      `${dir}/tree`,
      "--split-file",
      `${dir}/split_default.json`,
      "--set",
      "eval",
    ];
    let r = await runTool("nsw/make_image_folder", PERMS, [
      ...base,
      "--phases",
      "t6",
      "t7",
      "t8",
      "--image-folder-parent",
      tmp,
      "--image-folder-name",
      "v6-8",
      "--shuffle",
      "--seed",
      "0",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const want = JSON.parse(Deno.readTextFileSync(`${dir}/image_folders.json`));
    assert.equal(Deno.readTextFileSync(`${tmp}/v6-8/metadata.csv`), want.eval_t678_s0.metadata);
    // no name: a random one, printed
    r = await runTool("nsw/make_image_folder", PERMS, [
      ...base,
      "--phases",
      "all",
      "--image-folder-parent",
      tmp,
      "--quiet",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const printed = r.stdout.trim();
    assert.match(printed, /\/[0-9a-f-]{36}$/);
    assert.ok(Deno.statSync(`${printed}/metadata.csv`).isFile);
    const bad: [string[], RegExp][] = [
      [["--phases", "t6", "t99", "--image-folder-parent", tmp], /unknown phase "t99"/],
      [["--phases", "all", "t6", "--image-folder-parent", tmp], /all may not be given/],
      [
        ["--phases", "t6", "--image-folder-parent", tmp, "--image-folder-name", "v6-8"],
        /already exists/,
      ],
    ];
    for (const [args, re] of bad) {
      r = await runTool("nsw/make_image_folder", PERMS, [...base, ...args]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
    Deno.writeTextFileSync(`${tmp}/s.json`, JSON.stringify({ val: ["NOPE-1"] }));
    r = await runTool("nsw/make_image_folder", PERMS, [
      "--dataset",
      `${dir}/tree`,
      "--split-file",
      `${tmp}/s.json`,
      "--set",
      "eval",
      "--phases",
      "all",
      "--image-folder-parent",
      tmp,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NOPE-1: video not in the dataset/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
