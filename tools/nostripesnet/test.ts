/**
 * `test`: evaluates a trained NoStripesNet patch model on the test split of a patch dataset
 * (NoStripesNet's `network.testing --model patch`), with the original's nine metrics and the
 * paper's RMSE table.
 *
 * The test split is the one training used (recorded in the checkpoint; the same seeded shuffle;
 * `--tvt` for original `.tar` models). Batches of
 * `--batch-size` pairs go through the generator in eval mode (dropout off; batch norm uses the
 * batch's statistics, as the original's layers have no running statistics), `out = gen_in +
 * mask · G(gen_in)`. Each metric is computed per batch between clean and output (both in
 * [−1, 1]) and reported as the mean over batches, as the original reports it. RMSE is in uint16
 * units, pooled over every test pixel, over the whole patches, the stripe region (pixels where
 * clean and stripe differ) and the rest, for the stripe input itself (control), Vo's sorting
 * (per patch) and the model. Discriminator accuracy (σ ≥ 0.5 counts as real) is reported when the
 * checkpoint has a discriminator.
 *
 * Writes `<out-dir>/<name>.metrics.json` (with provenance beside it) and `<name>.metrics.csv`,
 * and prints the table. `--visual-only` runs one batch and writes `<name>.batch.png` instead.
 *
 * @module
 */
import { basename, extname } from "node:path";
import { mkdirSync } from "node:fs";
import { defineTool, type Parsed, provenanceArgs } from "../../lib/run/flags.ts";
import {
  batchPrinter,
  checkpointHasDisc,
  evaluatePatchModel,
  firstBatchFigure,
  formatTestTable,
  listPatchPairs,
  loadNoStripesNet,
  NSN_METRICS,
  type NSN_PRESETS,
  type NsnTestResult,
  PatchSet,
  resolveModelFile,
  selectMetrics,
  TEST_FLAGS,
  TEST_RESULT_FORMAT,
  trainedTestSplit,
  writeTestResult,
} from "../../lib/pipelines/nostripesnet/mod.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance } from "../../lib/run/provenance.ts";
import { refuseExisting, writeFileAtomic } from "../../lib/run/atomic.ts";
import { initEngine } from "../../lib/tensor/engine.ts";
import { sortingSize } from "../../lib/tomo/vo_sorting.ts";

const METRIC_HELP = NSN_METRICS.map((m) => `${m.index} ${m.name} (${m.help})`).join("; ");

/** The tool's command line. */
export const meta = defineTool({
  name: "test",
  summary: "test a NoStripesNet patch model: the original's nine metrics and the paper's RMSE",
  description:
    `Metrics (--metrics, indices as the original's): ${METRIC_HELP}. Dice and IoU are kept for ` +
    "comparison with the original's numbers: on float images they only count pixels the model " +
    "left exactly unchanged. The original's `--metrics 1 4 5 7` (space-separated) works too.",
  permissions: ["--allow-read", "--allow-write=OUT_DIR"],
  assets: true,
  args: [{
    name: "METRIC",
    help: "more metric indices after --metrics (as in `--metrics 1 4 5 7`)",
    optional: true,
    variadic: true,
  }],
  flags: TEST_FLAGS,
  examples: [
    "--mode patch --root ./data --model-file ./pretrained_models/patch_example_10.json --verbose",
    "-r ./data -f wider_stripes_100.tar --metrics 0 8 --batch-size 4",
  ],
});

type Flags = Parsed<typeof meta.flags>;

async function test(f: Flags): Promise<void> {
  // `--metrics 1 4 5 7` (the original's form): the indices after the first are positionals
  const metricSel = f._.length ? [...f.metrics.filter((x) => x !== "all"), ...f._] : f.metrics;
  const metrics = f.visualOnly ? [] : selectMetrics(metricSel);
  const modelFile = resolveModelFile(f.modelFile);
  const name = f.name ?? basename(modelFile, extname(modelFile));
  const jsonPath = `${f.outDir}/${name}.metrics.json`, csvPath = `${f.outDir}/${name}.metrics.csv`;
  const pngPath = `${f.outDir}/${name}.batch.png`;
  refuseExisting(
    f.visualOnly ? [pngPath] : [jsonPath, csvPath],
    f.overwrite,
    "or choose another --name",
  );
  await initEngine({ backend: f.backend, threads: f.threads });
  const net = await loadNoStripesNet(modelFile, {
    preset: f.preset as keyof typeof NSN_PRESETS,
    genWidth: f.width,
    genDepth: f.depth,
  });
  const pairs = await listPatchPairs(f.root);
  const { tvt, test: split } = trainedTestSplit(pairs.length, f.tvt, net.data);
  const testIdx = f.subset !== undefined ? split.slice(0, f.subset) : split;
  if (!testIdx.length) {
    throw new LumenError(f.root, "", `${pairs.length} pairs leave no test pair at --tvt ${tvt}`);
  }
  const set = new PatchSet(pairs, testIdx, 256 << 20);
  mkdirSync(f.outDir, { recursive: true });
  if (f.visualOnly) {
    const png = await firstBatchFigure(net.gen, set, f.batchSize, `${name}: first test batch`);
    await writeFileAtomic(pngPath, png, { overwrite: f.overwrite });
    if (!f.quiet) console.log(`wrote ${pngPath}`);
    return;
  }
  const hasDisc = net.source === "torch" || await checkpointHasDisc(modelFile);
  const nBatches = Math.ceil(set.size / f.batchSize);
  const bar = progress("batches", nBatches, { quiet: f.quiet || f.verbose });
  if (f.verbose) {
    console.log(`Testing has begun. Batches: ${nBatches}, Steps/batch: ${f.batchSize}`);
  }
  const t0 = performance.now();
  const e = await evaluatePatchModel({
    gen: net.gen,
    disc: hasDisc ? net.disc : null,
    set,
    batchSize: f.batchSize,
    metrics,
    baselines: f.baselines,
    voSize: sortingSize(f.voSize, set.size ? (await set.get(0)).shape[1] : 1),
    bar,
    onBatch: batchPrinter(nBatches, { verbose: f.verbose, eachBatch: f.displayEachBatch }),
  });
  bar.done();
  const result: NsnTestResult = {
    format: TEST_RESULT_FORMAT,
    model: modelFile,
    epoch: net.epoch,
    root: f.root,
    pairs: { total: pairs.length, test: set.size },
    batchSize: f.batchSize,
    ...e,
    seconds: Math.round((performance.now() - t0) / 10) / 100,
  };
  const prov = await makeProvenance({
    tool: "test",
    args: provenanceArgs(meta, f),
    seed: null,
    inputs: [f.root, modelFile],
  });
  await writeTestResult(result, prov, { json: jsonPath, csv: csvPath }, f.overwrite);
  console.log(formatTestTable(result)); // the result itself: printed even with --quiet
  if (!f.quiet) console.log(`\nwrote ${jsonPath} and ${csvPath}`);
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, test, argv);

if (import.meta.main) await runTool(meta, test);
