/**
 * Fixture runs for the dashboard tests, written with lib/run's own log and provenance writers:
 * root A holds a dataset (data_generator), a training on it (log + checkpoint sidecar + a
 * figure), a prediction from its checkpoint, a running training, a failed one and a sharded
 * output with one failed shard (its SLURM log says why); root B holds one more run. Beside the
 * roots lies a secret file, and root A has a symlink to it.
 *
 * @module
 */
import { openLog } from "../../lib/run/log.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { encodePng } from "../../lib/io/png.ts";
import { ndarray } from "../../lib/io/array.ts";

/** Where the fixture lies. */
export interface DashFixture {
  dir: string;
  rootA: string;
  rootB: string;
  secret: string;
  /** The log of the running training, relative to root A. */
  liveLog: string;
}

const enc = new TextEncoder();

/** Writes the fixture under a new temporary folder. */
export async function makeFixture(): Promise<DashFixture> {
  const dir = await Deno.makeTempDir({ prefix: "lumen-dash-srv-" });
  const rootA = `${dir}/a`, rootB = `${dir}/b`;
  for (const d of ["data", "runs", "figures", "pred", "logs", "data/big.h5.shards"]) {
    await Deno.mkdir(`${rootA}/${d}`, { recursive: true });
  }
  await Deno.mkdir(rootB, { recursive: true });
  const secret = `${dir}/secret.txt`;
  await Deno.writeTextFile(secret, "not for the dashboard\n");
  await Deno.mkdir(`${dir}/outside`);
  await Deno.writeTextFile(`${dir}/outside/secret.txt`, "outside\n");
  await new Deno.Command("bash", {
    args: ["-c", 'ln -s "$0" "$1"', `${dir}/outside`, `${rootA}/escape`],
  }).output();

  // the raw input and the dataset made from it
  await Deno.writeTextFile(`${rootA}/raw.tif`, "raw bytes");
  await Deno.writeTextFile(`${rootA}/data/set.h5`, "dataset bytes");
  const pData = await makeProvenance({
    tool: "data_generator",
    args: { size: 64 },
    seed: 1,
    inputs: [`${rootA}/raw.tif`],
    commit: "a".repeat(40),
  });
  await writeProvenance(`${rootA}/data/set.h5`, pData);

  // a finished training on it
  const pTrain = await makeProvenance({
    tool: "train",
    args: { lr: 0.001, epochs: 3, batch: 8 },
    seed: 7,
    inputs: [`${rootA}/data/set.h5`],
    commit: "b".repeat(40),
  });
  const log = openLog(`${rootA}/runs/a.log.jsonl`, { append: false });
  log.write({ event: "start", tool: "train", uuid: pTrain.uuid, seed: 7, t: 0 });
  for (let e = 1; e <= 3; e++) {
    for (let s = 1; s <= 4; s++) {
      log.write({ event: "step", epoch: e, step: (e - 1) * 4 + s, lossG: 2 / (e + s), t: e });
    }
    log.write({ event: "epoch", epoch: e, train_lossG: 1 / e, val_lossG: 1.2 / e, t: e + 0.5 });
  }
  log.write({ event: "end", epochs: 3, t: 4 });
  log.close();
  await Deno.writeTextFile(`${rootA}/runs/a_3.json`, "{}");
  await writeProvenance(`${rootA}/runs/a_3`, pTrain);
  await Deno.writeFile(
    `${rootA}/figures/a_loss.png`,
    encodePng(ndarray(new Uint8Array(16 * 16).fill(200), [16, 16])),
  );
  await Deno.writeTextFile(`${rootA}/figures/a.report.html`, "<!DOCTYPE html><title>r</title>");

  // a prediction from its checkpoint
  await Deno.writeTextFile(`${rootA}/pred/out.h5`, "predictions");
  const pPred = await makeProvenance({
    tool: "apply_model",
    args: { model: "runs/a_3.json" },
    inputs: [`${rootA}/runs/a_3.json`],
    commit: "b".repeat(40),
  });
  await writeProvenance(`${rootA}/pred/out.h5`, pPred);

  // a training still running (lr differs from a's), and a failed one
  const live = openLog(`${rootA}/runs/live.log.jsonl`, { append: false });
  live.write({ event: "start", tool: "train", seed: 8, args: { lr: 0.01, epochs: 3 }, t: 0 });
  live.write({ event: "epoch", epoch: 1, train_lossG: 0.9, val_lossG: 1.0, t: 1 });
  live.close();
  const bad = openLog(`${rootA}/runs/bad.log.jsonl`, { append: false });
  bad.write({ event: "start", tool: "train", t: 0 });
  bad.write({ event: "error", message: "train: error: data/set.h5: cannot read (NotFound)", t: 1 });
  bad.close();

  // a sharded output: shard 0 complete, shard 1 running, shard 2 failed
  const sh = `${rootA}/data/big.h5.shards`;
  await Deno.mkdir(`${sh}/0000-of-0003`);
  await Deno.writeTextFile(`${sh}/0000-of-0003/rows.npy`, "x");
  await Deno.writeTextFile(
    `${sh}/0000-of-0003/MANIFEST.json`,
    JSON.stringify({
      tool: "data_generator",
      shard: { index: 0, count: 3 },
      range: [0, 2],
      files: [],
    }),
  );
  await Deno.mkdir(`${sh}/0001-of-0003`);
  await Deno.writeTextFile(`${sh}/0001-of-0003/rows.npy`, "x");
  await Deno.writeTextFile(
    `${rootA}/logs/data_generator_4242_2.out`,
    "starting shard 2/3\ndata_generator: error: scan.nxs: rows 4-5: cannot read (Interrupted)\n",
  );

  // root B
  const other = openLog(`${rootB}/other.log.jsonl`, { append: false });
  other.write({ event: "start", tool: "seamless/train", seed: 3, t: 0 });
  other.write({ event: "epoch", epoch: 1, loss: 0.5, t: 1 });
  other.close();
  return { dir, rootA, rootB, secret, liveLog: "runs/live.log.jsonl" };
}

/** Appends one epoch record to a log (as a training would). */
export async function appendEpoch(path: string, epoch: number): Promise<void> {
  const line = JSON.stringify({ event: "epoch", epoch, train_lossG: 1 / epoch, t: epoch }) + "\n";
  await Deno.writeFile(path, enc.encode(line), { append: true });
}
