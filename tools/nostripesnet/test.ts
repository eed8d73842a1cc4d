/**
 * `test`: evaluates a trained NoStripesNet patch model on the test split of a patch dataset
 * (NoStripesNet's `network.testing --model patch`), with the original's nine metrics and the
 * paper's RMSE table.
 *
 * The test split is the one training used (`--tvt`, the same seeded shuffle). Batches of
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
import { existsSync, mkdirSync } from "node:fs";
import {
  BACKEND,
  defineTool,
  OVERWRITE,
  type Parsed,
  provenanceArgs,
  THREADS,
} from "../../lib/run/flags.ts";
import { callTool, runTool } from "../../lib/run/main.ts";
import { TAR_ARCHITECTURE } from "../../lib/pipelines/nostripesnet/flags.ts";
import { LumenError } from "../../lib/run/errors.ts";
import { progress } from "../../lib/run/progress.ts";
import { makeProvenance, writeProvenance } from "../../lib/run/provenance.ts";
import { writeFileAtomic, writeTextAtomic } from "../../lib/run/atomic.ts";
import { writeCsv } from "../../lib/io/csv.ts";
import type { PatchBatch } from "../../lib/pipelines/nostripesnet/patch_loader.ts";
import type { NSN_PRESETS } from "../../lib/pipelines/nostripesnet/model.ts";
import type { Module } from "../../lib/nn/module.ts";
import {
  discriminatorAccuracy,
  NSN_METRICS,
  NsnMetricsAccumulator,
  RmseAccumulator,
  selectMetrics,
  stripeRegion,
} from "../../lib/pipelines/nostripesnet/metrics.ts";
import {
  finiteOrNull,
  formatTestTable,
  type NsnTestResult,
  rmseRow,
  TEST_RESULT_FORMAT,
  testResultCsvRows,
} from "../../lib/pipelines/nostripesnet/test_result.ts";
import { defaultSortingSize, removeStripeBasedSorting } from "../../lib/tomo/vo_sorting.ts";
import { figurePng, type Panel } from "../../lib/viz/figure.ts";

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
  flags: {
    mode: {
      type: "choice",
      choices: ["patch"],
      short: "m",
      default: "patch",
      help: "model kind (patch: PatchUNet + PatchDiscriminator)",
    },
    root: { type: "string", short: "r", default: "./data", arg: "ROOT", help: "dataset root" },
    modelFile: {
      type: "string",
      short: "f",
      required: true,
      arg: "FILE",
      help: "checkpoint to test (Lumen .json from train, or NoStripesNet .tar)",
    },
    tvt: { type: "list", of: "number", default: [3, 1, 1], help: "train,validate,test ratio" },
    batchSize: { type: "int", short: "B", min: 1, default: 16, help: "batch size" },
    metrics: {
      type: "list",
      short: "M",
      default: ["all"],
      help: "metrics: 'all' or indices 0–8 / names (see below)",
    },
    subset: { type: "int", min: 1, help: "test only the first N pairs of the test split" },
    baselines: {
      type: "boolean",
      default: true,
      help: "RMSE rows for the stripe input and Vo's sorting too (--no-baselines: model only)",
    },
    voSize: { type: "int", min: 1, help: "Vo sorting window (default TomoPy's rule per patch)" },
    outDir: {
      type: "string",
      short: "o",
      default: "./test_results",
      arg: "OUT_DIR",
      help: "where the JSON, CSV (and PNG) go",
    },
    name: { type: "string", short: "n", help: "output file prefix (default: model file name)" },
    displayEachBatch: { type: "boolean", help: "print the running means after every batch" },
    visualOnly: {
      type: "boolean",
      help: "no metrics: run one batch and write <name>.batch.png",
    },
    ...TAR_ARCHITECTURE,
    backend: BACKEND,
    threads: THREADS,
    verbose: { type: "boolean", short: "v", help: "print each batch", provenance: false },
    overwrite: OVERWRITE,
  },
  examples: [
    "--mode patch --root ./data --model-file ./pretrained_models/patch_example_10.json --verbose",
    "-r ./data -f wider_stripes_100.tar --metrics 0 8 --batch-size 4",
  ],
});

type Flags = Parsed<typeof meta.flags>;

/**
 * The engine and the model code, imported after the flags are read: the engine compiles its
 * WebAssembly when imported, which `--help` must not need.
 */
async function engine() {
  const [e, t, ops, data, nsn] = await Promise.all([
    import("../../lib/tensor/engine.ts"),
    import("../../lib/tensor/tensor.ts"),
    import("../../lib/tensor/ops/mod.ts"),
    import("../../lib/pipelines/nostripesnet/patch_loader.ts"),
    import("../../lib/pipelines/nostripesnet/model.ts"),
  ]);
  return { ...e, ...t, ...ops, ...data, ...nsn };
}

/** One batch through the generator (and the discriminator): host arrays. */
async function runBatch(
  E: Awaited<ReturnType<typeof engine>>,
  gen: Module,
  disc: Module | null,
  b: PatchBatch,
): Promise<
  {
    clean: Float32Array;
    stripe: Float32Array;
    out: Float32Array;
    fake?: Float32Array;
    real?: Float32Array;
  }
> {
  const clean = await b.clean.data(), stripe = await b.stripe.data();
  return await E.noGrad(async () => {
    const genIn = E.where(b.mask, 0, b.stripe);
    const fakeB = E.add(genIn, E.mul(b.mask, gen.forward(genIn)));
    const out = await fakeB.data();
    let fake: Float32Array | undefined, real: Float32Array | undefined;
    if (disc) {
      fake = await disc.forward(E.cat([b.mask, fakeB], 1)).data();
      real = await disc.forward(E.cat([b.mask, b.clean], 1)).data();
    }
    E.resetArena(fakeB.backend);
    return { clean, stripe, out, fake, real };
  });
}

async function test(f: Flags): Promise<void> {
  if (f.tvt.length !== 3) throw new LumenError("--tvt", f.tvt.join(","), "expected 3 ratios");
  // `--metrics 1 4 5 7` (the original's form): the indices after the first are positionals
  const metricSel = f._.length ? [...f.metrics.filter((x) => x !== "all"), ...f._] : f.metrics;
  const metrics = f.visualOnly ? [] : selectMetrics(metricSel);
  const name = f.name ?? basename(f.modelFile, extname(f.modelFile));
  const jsonPath = `${f.outDir}/${name}.metrics.json`, csvPath = `${f.outDir}/${name}.metrics.csv`;
  const pngPath = `${f.outDir}/${name}.batch.png`;
  for (const p of f.visualOnly ? [pngPath] : [jsonPath, csvPath]) {
    if (existsSync(p) && !f.overwrite) {
      throw new LumenError(
        p,
        "",
        "exists; pass --overwrite to replace it, or choose another --name",
      );
    }
  }
  const E = await engine();
  const pairs = await E.listPatchPairs(f.root);
  const split = E.splitPairs(pairs.length, [f.tvt[0], f.tvt[1], f.tvt[2]], 0);
  let testIdx = split.test;
  if (f.subset !== undefined) testIdx = testIdx.slice(0, f.subset);
  if (!testIdx.length) {
    throw new LumenError(
      f.root,
      "",
      `${pairs.length} pairs leave none for testing at --tvt ${f.tvt}`,
    );
  }
  await E.initEngine({ backend: f.backend, threads: f.threads });
  const net = await E.loadNoStripesNet(f.modelFile, {
    preset: f.preset as keyof typeof NSN_PRESETS,
    genWidth: f.width,
    genDepth: f.depth,
  });
  net.gen.eval();
  net.disc.eval();
  const hasDisc = net.source === "torch" || await checkpointHasDisc(f.modelFile);
  const disc = hasDisc ? net.disc : null;
  const set = new E.PatchSet(pairs, testIdx, 256 << 20);
  const nBatches = Math.ceil(set.size / f.batchSize);
  mkdirSync(f.outDir, { recursive: true });
  const t0 = performance.now();

  if (f.visualOnly) {
    for await (const b of set.batches(f.batchSize)) {
      const r = await runBatch(E, net.gen, null, b);
      const [n, , h, w] = b.stripe.shape;
      const k = Math.min(n, 4), hw = h * w;
      const panels: Panel[] = [];
      const size = [Math.min(h, 2 * Math.min(w, 256)), Math.min(w, 256)] as const;
      for (let i = 0; i < k; i++) {
        const sl = (a: Float32Array) => a.subarray(i * hw, (i + 1) * hw);
        for (
          const [t, a] of [["stripe", r.stripe], ["model output", r.out], [
            "clean",
            r.clean,
          ]] as const
        ) {
          panels.push({ data: sl(a), shape: [h, w], title: `${t}`, range: [-1, 1], size });
        }
      }
      await writeFileAtomic(
        pngPath,
        figurePng(panels, { columns: 3, title: `${name}: first test batch` }),
        {
          overwrite: f.overwrite,
        },
      );
      if (!f.quiet) console.log(`wrote ${pngPath}`);
      return;
    }
  }

  const acc = new NsnMetricsAccumulator(metrics);
  const rm = {
    model: new RmseAccumulator(),
    input: new RmseAccumulator(),
    vo: new RmseAccumulator(),
  };
  const accs = { total: [] as number[], fake: [] as number[], real: [] as number[] };
  const bar = progress("batches", nBatches, { quiet: f.quiet || f.verbose });
  if (f.verbose) {
    console.log(`Testing has begun. Batches: ${nBatches}, Steps/batch: ${f.batchSize}`);
  }
  let i = 0;
  for await (const b of set.batches(f.batchSize)) {
    i++;
    if (f.verbose) console.log(`\tBatch [${i}/${nBatches}]`);
    const r = await runBatch(E, net.gen, disc, b);
    const [n, , h, w] = b.stripe.shape;
    if (metrics.length) acc.addBatch(r.clean, r.out, [n, h, w]);
    const region = stripeRegion(r.clean, r.stripe);
    rm.model.add(r.clean, r.out, region);
    if (f.baselines) {
      rm.input.add(r.clean, r.stripe, region);
      const hw = h * w, vo = new Float32Array(n * hw);
      const size = f.voSize ?? defaultSortingSize(w);
      for (let j = 0; j < n; j++) {
        vo.set(
          removeStripeBasedSorting(r.stripe.subarray(j * hw, (j + 1) * hw), h, w, { size }),
          j * hw,
        );
      }
      rm.vo.add(r.clean, vo, region);
    }
    if (r.fake && r.real) {
      const fa = discriminatorAccuracy(r.fake, 0), ra = discriminatorAccuracy(r.real, 1);
      accs.fake.push(fa);
      accs.real.push(ra);
      accs.total.push((fa + ra) / 2);
    }
    if (f.displayEachBatch) {
      const m = acc.means();
      for (const k of Object.keys(m)) console.log(`\t\t${k.padEnd(23)}: ${m[k]}`);
      if (r.fake) {
        console.log(
          `\t\tDiscriminator Accuracy - Total: ${accs.total.at(-1)}, Fake: ${
            accs.fake.at(-1)
          }, Real: ${accs.real.at(-1)}`,
        );
      }
    }
    bar.tick();
  }
  bar.done();
  const mean = (xs: number[]) => finiteOrNull(xs.reduce((a, v) => a + v, 0) / xs.length);
  const means = acc.means();
  const modelRmse = rm.model.result();
  const result: NsnTestResult = {
    format: TEST_RESULT_FORMAT,
    model: f.modelFile,
    epoch: net.epoch,
    root: f.root,
    pairs: { total: pairs.length, test: set.size },
    batchSize: f.batchSize,
    batches: acc.batches || nBatches,
    metrics: metrics.map((m) => ({
      index: m.index,
      name: m.name,
      label: m.label,
      value: finiteOrNull(means[m.name]),
    })),
    perBatch: Object.fromEntries(
      Object.entries(acc.perBatch).map(([k, v]) => [k, v.map(finiteOrNull)]),
    ),
    discriminatorAccuracy: accs.total.length
      ? { total: mean(accs.total), fake: mean(accs.fake), real: mean(accs.real) }
      : null,
    rmse: {
      units: "uint16",
      rows: [
        ...(f.baselines
          ? [rmseRow("stripe (input)", rm.input.result()), rmseRow("Vo sorting", rm.vo.result())]
          : []),
        rmseRow("model", modelRmse),
      ],
      pixels: modelRmse.pixels,
    },
    seconds: Math.round((performance.now() - t0) / 10) / 100,
  };
  const prov = await makeProvenance({
    tool: "test",
    args: provenanceArgs(meta, f),
    seed: null,
    inputs: [f.root, f.modelFile],
  });
  await writeTextAtomic(jsonPath, JSON.stringify({ ...result, uuid: prov.uuid }, null, 1) + "\n", {
    overwrite: f.overwrite,
  });
  await writeProvenance(jsonPath, prov);
  await writeCsv(csvPath, testResultCsvRows(result), { overwrite: f.overwrite });
  console.log(formatTestTable(result)); // the result itself: printed even with --quiet
  if (!f.quiet) console.log(`\nwrote ${jsonPath} and ${csvPath}`);
}

/** Whether a Lumen checkpoint holds a discriminator (test accuracy needs one). */
async function checkpointHasDisc(path: string): Promise<boolean> {
  try {
    const rec = JSON.parse(
      await Deno.readTextFile(path.replace(/\.(optim\.)?safetensors$/, ".json")),
    );
    return !!rec?.modules?.disc;
  } catch {
    return false;
  }
}

/** Runs the tool in this process (see callTool): errors are thrown, the process keeps running. */
export const main = (argv: readonly string[]): Promise<void> => callTool(meta, test, argv);

if (import.meta.main) await runTool(meta, test);
