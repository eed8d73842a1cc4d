import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hasPython, interruptAt, nsnDataset, nsnTrainArgs, runTool } from "../../_helpers.ts";

const noPy = !hasPython("numpy", "h5py");

async function dataset(): Promise<string> {
  return (await nsnDataset()).root;
}

const PERMS = ["--allow-read", "--allow-write=/tmp"];
const trainArgs = (root: string, dir: string, extra: string[]) =>
  nsnTrainArgs(root, dir, ["--save-every", "1", ...extra]);
const train = (root: string, dir: string, extra: string[]) =>
  runTool("nostripesnet/train", PERMS, trainArgs(root, dir, extra));

Deno.test({
  name:
    "train: checkpoints <name>_<epoch>, JSON-lines log, provenance; resume equals a straight run",
  ignore: noPy,
  fn: async () => {
    const root = await dataset();
    const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
    const ra = await train(root, a, ["--epochs", "3"]);
    assert.equal(ra.code, 0, ra.stderr);
    for (const e of [1, 2, 3]) {
      for (const ext of [".json", ".safetensors", ".optim.safetensors", ".prov.json"]) {
        assert.ok(existsSync(`${a}/t_${e}${ext}`), `t_${e}${ext}`);
      }
    }
    const log = (await Deno.readTextFile(`${a}/t.log.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(log[0].event, "start");
    assert.equal(log[0].train + log[0].val + log[0].test, 18); // 6 rows × 4 patches − 6 real
    const epochs = log.filter((r) => r.event === "epoch");
    assert.equal(epochs.length, 3);
    for (const r of epochs) {
      assert.ok(Number.isFinite(r.train_lossG) && Number.isFinite(r.val_lossG));
    }
    // a run stopped after epoch 1 continues from its checkpoint with the same command
    assert.equal((await train(root, b, ["--epochs", "1"])).code, 0);
    const rb = await train(root, b, ["--epochs", "3", "--verbose"]);
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /resuming from .*t_1\.json/);
    for (const ext of [".safetensors", ".optim.safetensors"]) {
      assert.deepEqual(
        await Deno.readFile(`${b}/t_3${ext}`),
        await Deno.readFile(`${a}/t_3${ext}`),
      );
    }
    // a finished run is kept
    const again = await train(root, a, ["--epochs", "3"]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /t_3\.json: this run is finished; pass --overwrite/);
    for (const d of [root, a, b]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "train: a run killed mid-epoch (at a safe point, no timing) resumes to the same bytes",
  ignore: noPy,
  fn: async () => {
    const root = await dataset();
    const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
    const extra = ["--epochs", "2", "--save-every-steps", "1"];
    assert.equal((await train(root, a, extra)).code, 0);
    // 3 steps and 1 validation batch an epoch: safe point 6 is the second step of epoch 2
    const k = await interruptAt(
      "nostripesnet/train",
      PERMS,
      trainArgs(root, b, extra),
      6,
      "SIGKILL",
    );
    assert.ok(k.paused, k.stderr);
    assert.ok(existsSync(`${b}/t_1_b2.json`) && !existsSync(`${b}/t_2.json`));
    // each checkpoint's provenance is written with it, so a killed run keeps them
    for (const c of ["t_1", "t_1_b2"]) assert.ok(existsSync(`${b}/${c}.prov.json`), c);
    const rb = await train(root, b, extra);
    assert.equal(rb.code, 0, rb.stderr);
    for (const ext of [".safetensors", ".optim.safetensors"]) {
      assert.deepEqual(
        await Deno.readFile(`${b}/t_2${ext}`),
        await Deno.readFile(`${a}/t_2${ext}`),
      );
    }
    for (const d of [root, a, b]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "train bad input: empty dataset root, checkpoint of another kind",
  ignore: noPy,
  fn: async () => {
    const empty = await Deno.makeTempDir(), out = await Deno.makeTempDir();
    const r = await train(empty, out, ["--epochs", "1"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /holds no clean\/stripe patch pairs/);
    const bogus = `${out}/other.json`;
    await Deno.writeTextFile(
      bogus,
      JSON.stringify({
        format: "lumen.checkpoint/1",
        modules: { net: { config: { type: "Conv1d" }, tensors: {} } },
        optimizers: {},
        schedulers: {},
        rngs: {},
        epoch: 0,
        step: 0,
        extra: {},
        provenance: null,
        files: { weights: { name: "other.safetensors", sha256: "", bytes: 0 } },
      }),
    );
    const root = await dataset();
    const r2 = await train(root, out, ["--epochs", "1", "--model-file", bogus]);
    assert.equal(r2.code, 1);
    assert.match(
      r2.stderr,
      /other\.json: modules: holds net: Conv1d, not a NoStripesNet patch model/,
    );
    assert.equal(r2.stderr.trim().split("\n").length, 1);
    for (const d of [root, empty, out]) await Deno.remove(d, { recursive: true });
  },
});

Deno.test({
  name: "train: resume with a new --learning-rate is refused, naming the flag and --overwrite",
  ignore: noPy,
  fn: async () => {
    const root = await dataset();
    const dir = await Deno.makeTempDir();
    assert.equal((await train(root, dir, ["--epochs", "1"])).code, 0);
    const r = await train(root, dir, ["--epochs", "2", "--learning-rate", "0.001"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--learning-rate \(0\.0002 → 0\.001\)/);
    assert.match(r.stderr, /--overwrite/);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(!existsSync(`${dir}/t_2.json`));
  },
});
