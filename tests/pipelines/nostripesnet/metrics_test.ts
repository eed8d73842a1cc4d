import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { hasPython, pyFixture, runTool } from "../../_helpers.ts";
import { makeNsnDataset } from "../../fixtures/metrics_dataset.ts";
import { readTiff } from "../../../lib/io/tiff.ts";
import { initEngine } from "../../../lib/tensor/engine.ts";
import { noGrad, resetArena } from "../../../lib/tensor/tensor.ts";
import { add, mul, where } from "../../../lib/tensor/ops/mod.ts";
import {
  listPatchPairs,
  PatchSet,
  splitPairs,
} from "../../../lib/pipelines/nostripesnet/patch_loader.ts";
import { loadNoStripesNet } from "../../../lib/pipelines/nostripesnet/model.ts";
import { readNpy } from "../../../lib/io/npy.ts";
import {
  batchMetrics,
  discriminatorAccuracy,
  NSN_METRIC_NAMES,
  NSN_METRICS,
  NsnMetricsAccumulator,
  RmseAccumulator,
  selectMetrics,
  stripeRegion,
} from "../../../lib/pipelines/nostripesnet/metrics.ts";
import { psnr, ssim } from "../../../lib/metrics/image.ts";
import { LumenError } from "../../../lib/run/errors.ts";

interface Case {
  name: string;
  shape: number[];
  expected: Record<string, number | null>;
  per_image: Record<string, number | null>[];
}

function close(got: number, want: number | null, what: string, rel = 1e-5) {
  if (want === null) {
    assert.ok(Number.isNaN(got), `${what}: want NaN, got ${got}`);
    return;
  }
  const err = Math.abs(got - want);
  assert.ok(
    err <= rel * Math.max(1, Math.abs(want)),
    `${what}: got ${got}, want ${want} (err ${err})`,
  );
}

const skip = !hasPython("numpy", "torch", "skimage");

Deno.test({
  name:
    "metrics: the nine NoStripesNet metrics equal the original's torch/numpy/skimage values to 1e-5",
  ignore: skip,
  fn: async () => {
    const dir = await pyFixture("metrics_nsn");
    const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    for (const c of man.cases as Case[]) {
      const clean = (await readNpy(`${dir}/${c.name}_clean.npy`)).data as Float32Array;
      const out = (await readNpy(`${dir}/${c.name}_out.npy`)).data as Float32Array;
      assert.ok(clean instanceof Float32Array);
      const got = batchMetrics(clean, out, c.shape);
      for (const name of NSN_METRIC_NAMES) close(got[name], c.expected[name], `${c.name}.${name}`);
      // SSIM as the original ran it (float32 inside skimage): within 1e-5 as well
      close(got.structural_similarity, c.expected.ssim_f32, `${c.name}.ssim vs float32 skimage`);
      // [N, 1, H, W] is the same batch
      const got4 = batchMetrics(clean, out, [c.shape[0], 1, c.shape[1], c.shape[2]]);
      assert.deepEqual(got4, got);
    }
  },
});

Deno.test({
  name: "metrics: per batch, then the mean over batches (a small last batch weighs as a full one)",
  ignore: skip,
  fn: async () => {
    const dir = await pyFixture("metrics_nsn");
    const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    const c = (man.cases as Case[]).find((x) => x.name === "band")!;
    const clean = (await readNpy(`${dir}/band_clean.npy`)).data as Float32Array;
    const out = (await readNpy(`${dir}/band_out.npy`)).data as Float32Array;
    const [, h, w] = c.shape;
    const acc = new NsnMetricsAccumulator(selectMetrics(["0", "8", "structural_similarity"]));
    // batches of 2 and 1 images
    acc.addBatch(clean.subarray(0, 2 * h * w), out.subarray(0, 2 * h * w), [2, h, w]);
    acc.addBatch(clean.subarray(2 * h * w), out.subarray(2 * h * w), [1, 1, h, w]);
    assert.equal(acc.batches, 2);
    const m = acc.means();
    assert.deepEqual(Object.keys(m), ["l1", "psnr", "structural_similarity"]); // selection order
    const pi = c.per_image;
    close(m.psnr, ((pi[0].psnr! + pi[1].psnr!) / 2 + pi[2].psnr!) / 2, "psnr mean of batches");
    close(
      m.structural_similarity,
      ((pi[0].structural_similarity! + pi[1].structural_similarity!) / 2 +
        pi[2].structural_similarity!) / 2,
      "ssim mean of batches",
    );
  },
});

Deno.test({
  name: "metrics: RMSE in uint16 units over whole / stripe region / rest equals rmse.ipynb's",
  ignore: skip,
  fn: async () => {
    const dir = await pyFixture("metrics_nsn");
    const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    const u = async (n: string) => (await readNpy(`${dir}/${n}`)).data;
    const cu = (await u("rmse_clean_u16.npy")) as Uint16Array;
    const su = (await u("rmse_stripe_u16.npy")) as Uint16Array;
    const ou = (await u("rmse_out_u16.npy")) as Float32Array;
    // as the model sees them: uint16 / 65535 → [−1, 1]
    const f = (x: ArrayLike<number>) => Float32Array.from(x, (v) => (v / 65535) * 2 - 1);
    const clean = f(cu), stripe = f(su), out = Float64Array.from(ou, (v) => (v / 65535) * 2 - 1);
    const mask = stripeRegion(clean, stripe);
    assert.equal(mask.reduce((a, b) => a + b, 0), man.rmse.stripe_pixels);
    const acc = new RmseAccumulator();
    // pooled over several adds = over the whole volume
    const half = clean.length / 2;
    acc.add(clean.subarray(0, half), out.subarray(0, half), mask.subarray(0, half));
    acc.add(clean.subarray(half), out.subarray(half), mask.subarray(half));
    const r = acc.result();
    close(r.whole, man.rmse.whole, "rmse whole", 1e-5);
    close(r.stripe, man.rmse.stripe, "rmse stripe", 1e-5);
    close(r.rest, man.rmse.rest, "rmse rest", 1e-5);
    assert.equal(r.pixels.stripe, man.rmse.stripe_pixels);
    // control: stripe vs clean, in uint16 units directly (scale 1)
    const ctl = new RmseAccumulator({ scale: 1 });
    ctl.add(Float64Array.from(cu), Float64Array.from(su), mask);
    close(ctl.result().stripe, man.rmse.control_stripe, "control stripe");
    assert.ok(Number.isNaN(new RmseAccumulator().result().stripe));
  },
});

Deno.test({
  name: "metrics: discriminator accuracy as network/testing.py (σ ≥ 0.5 is real)",
  ignore: skip,
  fn: async () => {
    const dir = await pyFixture("metrics_nsn");
    const man = JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`));
    const logits = (await readNpy(`${dir}/logits.npy`)).data as Float32Array;
    close(discriminatorAccuracy(logits, 0), man.accuracy["0"], "fake accuracy", 1e-12);
    close(discriminatorAccuracy(logits, 1), man.accuracy["1"], "real accuracy", 1e-12);
  },
});

Deno.test("metrics: selection by index or name, errors, definitions on hand-made images", () => {
  assert.equal(NSN_METRICS.length, 9);
  NSN_METRICS.forEach((m, i) => assert.equal(m.index, i));
  assert.deepEqual(selectMetrics("all").map((m) => m.name), [...NSN_METRIC_NAMES]);
  assert.deepEqual(selectMetrics(["all"]).length, 9);
  assert.deepEqual(selectMetrics(["0", "8"]).map((m) => m.name), ["l1", "psnr"]);
  assert.deepEqual(selectMetrics([7, "IoU"]).map((m) => m.index), [7, 5]);
  assert.throws(() => selectMetrics(["9"]), LumenError);
  assert.throws(() => selectMetrics(["ssim"]), /not a metric/);
  // shape mismatch
  assert.throws(
    () => batchMetrics(new Float32Array(10), new Float32Array(10), [2, 2, 2]),
    LumenError,
  );
  assert.throws(() => ssim(new Float32Array(36), new Float32Array(36), 6, 6), /smaller than/);
  // Dice/IoU on exact equality; PSNR of identical images is 0 (the original's choice)
  const a = Float32Array.from([0, 0.5, 1, 1]), b = Float32Array.from([0, 0.5, 1, 0.75]);
  const g = batchMetrics(a, b, [2, 2], selectMetrics([0, 1, 2, 3, 4, 5, 6, 8]));
  assert.equal(g.diceCoef, 0.75);
  assert.equal(g.IoU, 3 / 5);
  assert.equal(g.l1, 0.0625);
  assert.equal(g.mean_squared_error, 0.015625);
  assert.equal(g.l2, 0.25);
  assert.equal(psnr(a, a, 2, 2), 0);
  close(g.psnr, 10 * Math.log10(1 / 0.015625), "psnr");
  // ∂x with w = 2 is one-sided: row 0 equal, row 1 [0, 0] vs [−.25, −.25]
  assert.equal(g.sum_diff_grad, 0.5);
});

// ---------------------------------------------------------------------------------------------
// tools/nostripesnet/test.ts on a tiny dataset and an untrained tiny model

async function tinyRun(): Promise<{ dir: string; root: string; model: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lumen-nsn-test-" });
  await initEngine({ threads: 1 });
  const ds = await makeNsnDataset(dir);
  return { dir, root: ds.root, model: ds.model };
}

Deno.test("test tool: metrics, RMSE table and accuracy equal a recomputation; JSON, CSV, refusals", async () => {
  const { dir, root, model } = await tinyRun();
  try {
    const perms = ["--allow-read", `--allow-write=${dir}`];
    const args = ["-r", root, "-f", model, "-B", "2", "-o", `${dir}/out`, "--threads", "1", "-q"];
    let r = await runTool("nostripesnet/test", perms, args);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(await Deno.readTextFile(`${dir}/out/tiny_1.metrics.json`));
    assert.equal(res.format, "lumen.nsn-test/1");
    assert.equal(res.pairs.total, 16);
    assert.equal(res.pairs.test, 3);
    assert.equal(res.batches, 2);
    assert.deepEqual(res.metrics.map((m: { name: string }) => m.name), [...NSN_METRIC_NAMES]);
    assert.ok(existsSync(`${dir}/out/tiny_1.metrics.json.prov.json`));

    // recompute in-process: same split, same batches, same (deterministic, 1-thread) model
    const pairs = await listPatchPairs(root);
    const set = new PatchSet(pairs, splitPairs(pairs.length, [3, 1, 1], 0).test);
    const net = await loadNoStripesNet(model);
    net.gen.eval();
    const acc = new NsnMetricsAccumulator();
    const ctl = new RmseAccumulator();
    for await (const b of set.batches(2)) {
      const clean = await b.clean.data(), stripe = await b.stripe.data();
      const out = await noGrad(async () => {
        const genIn = where(b.mask, 0, b.stripe);
        const y = await add(genIn, mul(b.mask, net.gen.forward(genIn))).data();
        resetArena();
        return y;
      });
      acc.addBatch(clean, out, b.stripe.shape);
      ctl.add(clean, stripe, stripeRegion(clean, stripe));
    }
    const want = acc.means();
    for (const m of res.metrics) close(m.value, want[m.name], `tool ${m.name}`, 1e-6);
    // the control row, independently from the uint16 files themselves
    let se = 0, n = 0;
    for (const i of set.indices) {
      const c = (await readTiff(pairs[i].clean)).data as Uint16Array;
      const s = (await readTiff(pairs[i].stripe)).data as Uint16Array;
      for (let k = 0; k < c.length; k++) if (c[k] !== s[k]) (se += (c[k] - s[k]) ** 2, n++);
    }
    const rows = Object.fromEntries(res.rmse.rows.map((x: { method: string }) => [x.method, x]));
    assert.deepEqual(Object.keys(rows), ["stripe (input)", "Vo sorting", "model"]);
    close(rows["stripe (input)"].stripe, Math.sqrt(se / n), "control RMSE vs the TIFFs", 1e-5);
    close(rows["stripe (input)"].stripe, ctl.result().stripe, "control RMSE", 1e-9);
    assert.equal(rows["stripe (input)"].rest, 0);
    assert.equal(res.rmse.pixels.stripe, n);
    assert.ok(res.discriminatorAccuracy.total >= 0 && res.discriminatorAccuracy.total <= 1);
    assert.match(r.stdout, /Mean scores over all batches/);
    assert.match(r.stdout, /stripe region/);
    const csv = (await Deno.readTextFile(`${dir}/out/tiny_1.metrics.csv`)).trim().split("\r\n");
    assert.equal(csv[0], "kind,method,name,index,value");
    assert.equal(csv.length, 1 + 9 + 9 + 3);
    assert.ok(csv[1].startsWith("metric,model,l1,0,"));

    // refuses to overwrite; the original's `--metrics 0 8` form; bad metric; --help says why
    r = await runTool("nostripesnet/test", perms, args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /exists; pass --overwrite/);
    r = await runTool("nostripesnet/test", perms, [
      ...args,
      "--overwrite",
      "--name",
      "two",
      "--metrics",
      "0",
      "8",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const two = JSON.parse(await Deno.readTextFile(`${dir}/out/two.metrics.json`));
    assert.deepEqual(two.metrics.map((m: { index: number }) => m.index), [0, 8]);
    close(two.metrics[1].value, want.psnr, "psnr again", 1e-6);
    r = await runTool("nostripesnet/test", perms, [...args, "--name", "bad", "-M", "9"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--metrics: 9: not a metric/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    r = await runTool("nostripesnet/test", perms, ["--help"]);
    assert.match(r.stdout.replace(/\s+/g, " "), /nearly meaningless for floats/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
